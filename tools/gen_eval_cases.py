#!/usr/bin/env python3
"""gen_eval_cases.py - generate the shipped evaluation case sets (data/cases/*.jsonl) from sourced
data only. Python 3 standard library only. Run from the repository root:

    python3 tools/gen_eval_cases.py --shared ../shared/data --out data/cases

Every case's truth is copied from a source row and the case cites it (file:row, set id + section,
quoted sentence). Nothing here decides what is clinically right; the script only selects rows,
builds the minimal synthetic patient that has the facts the row needs, and copies the row's
statement into the case. Sets:

  cpic.jsonl   CPIC recommendations (data/pgx/cpic_recommendations.tsv, from ../shared/data/
               cpic-data): a single-gene row whose phenotype is Poor Metabolizer / Poor Function /
               risk-allele positive and whose recommendation says avoid / not recommended /
               contraindicated / alternative. Patient: that phenotype. Truth: avoid the drug (why
               = the recommendation text); acceptable = ingredients the recommendation names as
               alternatives (lexicon lookup on the recommendation text); none named -> empty.
  onc.jsonl    ONC high-priority DDI list (data/interactions/interactions.tsv rows with source
               "ONC High-Priority DDI list"): patient on drug A; indication = an indication quoted
               from the label of a partner B; truth: avoid every partner of A on the list.
  renal.jsonl  Label renal rules (data/rules/renal.tsv, quoted label sentences): avoid /
               contraindicated / not-recommended rows for one ingredient with a CrCl/eGFR band
               (not the statements for a patient already taking the drug; a statement under an
               indication heading gets that heading as the case's indication) ->
               patient whose computed value lies inside the band; truth: avoid the drug. Dose-adjust
               rows whose quote states "recommended (initial) dose ... is N mg" -> truth dose range
               [N, N] mg for that drug.
  smoke.jsonl  first case of each set (for the end-to-end test; machinery, not medical quality).

Indications: the phrase after "indicated for/as/in" in the drug's "Indications & Usage" label
section (tools/labelcorpus.py corpora), else in ../shared/data/dailymed-indications-maastricht
(matched by ingredient or brand name from data/lexicon/lexicon.tsv); else the renal rule's section
heading (e.g. "2.3 Nonvalvular Atrial Fibrillation"); else the CPIC row's population when it names
one; else the case is skipped. The phrase is quoted in the case's source.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labelcorpus  # noqa: E402

AS_OF = "2026-01-01"
MAX_PER_SET = 12


# ---------------------------------------------------------------------------------------------
# Lexicon (names -> ingredients), brands
# ---------------------------------------------------------------------------------------------
def load_lexicon(path):
    names, brands = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            if p[0] == "I":
                names[p[1]] = [p[1]]
            elif p[0] == "N":
                ings = p[2].split(";")
                names.setdefault(p[1], ings)
                if p[3] == "brand" and len(ings) == 1:
                    brands.setdefault(ings[0], []).append(p[1])
    return names, brands


def ingredients_in(text, names, exclude):
    """Ingredient names (single-ingredient lexicon entries) mentioned as whole words in text."""
    out = []
    low = text.lower()
    for w in re.findall(r"[a-z][a-z\-]{3,}", low):
        ings = names.get(w)
        if ings and len(ings) == 1 and ings[0] not in exclude and ings[0] not in out:
            out.append(ings[0])
    return out


# ---------------------------------------------------------------------------------------------
# Indications
# ---------------------------------------------------------------------------------------------
IND_RE = re.compile(r"(?<![Cc]ontra)(?<!CONTRA)indicated\s*(?:for|as|in)?\s*:?\s*(?:the\s+)?(?:use\s+)?(?:for\s+)?(?:the\s+)?"
                    r"([A-Za-z][^.;\[\(]{8,140})", re.S)


def clean(s):
    return re.sub(r"\s+", " ", s).strip(" ,:-")


def phrase_from(text, banned):
    for m in IND_RE.finditer(text):
        ph = clean(m.group(1))
        ph = re.sub(r"^for\s*:\s*", "", ph).lstrip("\u2022-* ")
        low = ph.lower()
        if any(b and b in low for b in banned):
            continue
        if len(ph.split()) < 2 or "<" in ph or "hypersensitiv" in low:
            continue
        return ph, clean(text[max(0, m.start() - 0):m.end()])
    return None, None


class Indications:
    def __init__(self, shared, brands):
        self.sections = {}
        for r in labelcorpus.all_records(shared):
            if "indication" in r["section"].lower():
                for i in r["ingredients"]:
                    self.sections.setdefault(i, []).append(r)
        self.lines = []
        p = os.path.join(shared, "dailymed-indications-maastricht", "indications_curation.jsonl")
        with open(p, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                self.lines.append((n, json.loads(line)["text"]))
        self.brands = brands

    def find(self, drug):
        banned = [drug] + [b.lower() for b in self.brands.get(drug, [])]
        for r in sorted(self.sections.get(drug, []), key=lambda r: (r["corpus"], r["setid"])):
            ph, q = phrase_from(r["text"], banned)
            if ph:
                return ph, {"citation": "FDA label set id %s, section '%s' (%s corpus)" %
                            (r["setid"], r["section"], r["corpus"]), "quote": q}
        pat = re.compile(r"\b(" + "|".join(re.escape(b) for b in banned) + r")\b", re.I)
        for n, t in self.lines:
            if pat.search(t[:300]):
                ph, q = phrase_from(t, banned)
                if ph:
                    return ph, {"citation": "dailymed-indications-maastricht/indications_curation.jsonl:%d" % n,
                                "quote": q}
        return None, None


# ---------------------------------------------------------------------------------------------
# Patients (openrx simple form, examples/patients/README.md)
# ---------------------------------------------------------------------------------------------
_PATIENT_NO = [0]


def base_patient(case_id, note):
    """The patient's id and name are neutral ("eval-007"): they reach the model through the
    summary, so they must not name the drug or the rule (the case id does, and stays out)."""
    _PATIENT_NO[0] += 1
    pid = "eval-%03d" % _PATIENT_NO[0]
    return {"openrx_patient": 1, "id": pid, "name": "Synthetic eval patient %s" % pid,
            "note": note, "birthDate": "1955-06-01", "sex": "male", "pregnant": "no",
            "lactating": "no", "labs": [], "conditions": [], "medications": [], "allergies": [],
            "pharmacogenes": []}


def renal_patient(pid, measure, value, note):
    """Male, 70 y at AS_OF, 175 cm, 70 kg (BMI 22.9: CG uses min(IBW 70.5, actual 70) = 70 kg).
    Pick serum creatinine so that CrCl (Cockcroft-Gault) or eGFR (CKD-EPI 2021) equals value."""
    age, wt = 70, 70.0
    if measure == "CrCl":
        scr = (140 - age) * wt / (72.0 * value)
    else:  # CKD-EPI 2021, male: 142 * min(S/0.9,1)^-0.302 * max(S/0.9,1)^-1.2 * 0.9938^age
        k = 142 * (0.9938 ** age)
        scr = 0.9 * (value / k) ** (-1 / 1.2)  # valid for S > 0.9 (value < ~ 92)
    scr = round(scr, 2)
    if measure == "CrCl":
        got = (140 - age) * wt / (72.0 * scr)
    else:
        got = 142 * min(scr / 0.9, 1) ** -0.302 * max(scr / 0.9, 1) ** -1.2 * 0.9938 ** age
    p = base_patient(pid, note)
    p["labs"] = [{"kind": "weight", "value": wt, "unit": "kg", "date": "2025-12-01"},
                 {"kind": "height", "value": 175, "unit": "cm", "date": "2025-12-01"},
                 {"kind": "scr", "value": scr, "unit": "mg/dL", "date": "2025-12-01"}]
    return p, got


def in_band(v, row):
    lo, hi = row["lo"], row["hi"]
    if lo and (v < float(lo) or (v == float(lo) and row["lo_incl"] != "1")):
        return False
    if hi and (v > float(hi) or (v == float(hi) and row["hi_incl"] != "1")):
        return False
    return True


def band_target(row):
    lo = float(row["lo"]) if row["lo"] else None
    hi = float(row["hi"]) if row["hi"] else None
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    if hi is not None:
        return max(hi * 0.6, 5.0)
    return lo + 20


# ---------------------------------------------------------------------------------------------
# Sets
# ---------------------------------------------------------------------------------------------
def cpic_cases(root, names, ind):
    out = []
    path = os.path.join(root, "data", "pgx", "cpic_recommendations.tsv")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    seen = set()
    for r in rows:
        gene, lk, rec = r["genes"], r["lookup_key"], r["recommendation"]
        if ";" in gene or r["population"] not in ("general", "adults", "CVI ACS PCI"):
            continue
        m = re.match(r"^[^=]+=(.*)$", lk)
        pheno = m.group(1) if m else ""
        if not (pheno in ("Poor Metabolizer", "Poor Function") or pheno.endswith("positive")):
            continue
        if not re.search(r"avoid|not recommended|contraindicated|alternative|do not use", rec, re.I):
            continue
        drug = r["drugs"]
        if drug in seen:
            continue
        phrase, isrc = ind.find(drug)
        if not phrase:
            continue
        seen.add(drug)
        acceptable = ingredients_in(rec, names, exclude={drug})
        pid = "cpic-%s-%s" % (drug, re.sub(r"[^a-z0-9]+", "", gene.lower()))
        p = base_patient(pid, "built by tools/gen_eval_cases.py from a CPIC recommendation row")
        g = {"gene": gene, "phenotype": pheno}
        if pheno.endswith("positive"):
            g = {"gene": gene + pheno.split(" ")[0].replace(gene + "=", ""), "phenotype": "positive"}
            g["gene"] = lk.split("=")[1].split(" ")[0] if gene == "HLA-B" else gene
            g["gene"] = "HLA-B" + g["gene"] if gene == "HLA-B" else g["gene"]
        p["pharmacogenes"] = [g]
        out.append({
            "id": pid, "set": "cpic", "as_of": AS_OF, "patient": p, "indication": phrase,
            "truth": {"acceptable": acceptable,
                      "avoid": [{"drug": drug, "why": "CPIC (%s, %s): %s" % (lk, r["strength"], rec[:300])}],
                      "doses": []},
            "source": {"citation": "CPIC via data/pgx/cpic_recommendations.tsv (%s, %s); %s" %
                       (r["file"], r["row"], r["guideline_url"]),
                       "quote": rec[:500], "indication": isrc}})
        if len(out) >= MAX_PER_SET:
            break
    return out


def onc_cases(root, names, ind):
    path = os.path.join(root, "data", "interactions", "interactions.tsv")
    partners = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) < 7 or p[4] != "ONC High-Priority DDI list":
                continue
            for a, b in ((p[0], p[1]), (p[1], p[0])):
                partners.setdefault(a, {}).setdefault(b, p[6])
    out, used = [], set()
    for a in sorted(partners, key=lambda x: (-len(partners[x]), x)):
        if len(out) >= MAX_PER_SET:
            break
        if a in used:
            continue
        for b in sorted(partners[a]):
            if b in used:
                continue
            phrase, isrc = ind.find(b)
            if phrase and a not in phrase.lower():
                break
        else:
            continue
        used.update((a, b))
        pid = "onc-%s-%s" % (re.sub(r"[^a-z0-9]+", "", a), re.sub(r"[^a-z0-9]+", "", b))
        p = base_patient(pid, "built by tools/gen_eval_cases.py from the ONC high-priority DDI list")
        p["medications"] = [{"text": a}]
        avoid = [{"drug": x, "why": "ONC high-priority interaction with current medicine %s (%s)" % (a, cit)}
                 for x, cit in sorted(partners[a].items())]
        out.append({
            "id": pid, "set": "onc", "as_of": AS_OF, "patient": p, "indication": phrase,
            "truth": {"acceptable": [], "avoid": avoid, "doses": []},
            "source": {"citation": "ONC High-Priority DDI list (Phansalkar 2012) via data/interactions/"
                       "interactions.tsv; pair %s + %s: %s" % (a, b, partners[a][b]),
                       "indication": isrc}})
    return out


DOSE_RE = re.compile(r"recommended (?:initial |starting )?dose(?: of [A-Z®]+)? is (\d+(?:\.\d+)?) ?mg"
                     r"(?: taken orally,?)?(?: (once|twice) daily)?")


def renal_cases(root, names, ind):
    path = os.path.join(root, "data", "rules", "renal.tsv")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out, seen = [], set()
    for r in rows:
        drug = r["ingredients"]
        if "+" in drug:
            continue
        act = r["action"]
        dose = None
        if act == "dose-adjust":
            m = DOSE_RE.search(r["quote"])
            if not m or not r["hi"]:
                continue
            dose = {"drug": drug, "min": float(m.group(1)), "max": float(m.group(1)), "unit": "mg",
                    "frequency": (m.group(2) + " daily") if m.group(2) else ""}
        elif act not in ("avoid", "contraindicated", "not-recommended") or not r["hi"] or r["lo"]:
            continue  # only "below a threshold" rows: an open lower band is a dose statement
        if r.get("phase") == "continuation":
            continue  # a statement for a patient already taking the drug: not about prescribing it
        key = (drug, act, r["measure"], r["lo"], r["hi"], r.get("indication", ""))
        if key in seen:
            continue
        sec = re.sub(r"^[\d.]+\s*", "", r["section"].split(" > ")[0])
        if r.get("indication"):  # the statement is scoped to this indication heading of the label
            phrase, isrc = r["indication"], {"citation": "label set id %s, heading of the statement (%s)"
                                             % (r["setid"], r["section"]), "quote": r["indication"]}
        else:
            phrase, isrc = ind.find(drug)
        if not phrase and re.search(r"fibrillation|thrombosis|hypertension", sec, re.I):
            phrase, isrc = sec, {"citation": "label set id %s, section heading" % r["setid"], "quote": r["section"]}
        if not phrase:
            continue
        seen.add(key)
        target = band_target(r)
        pid = "renal-%s-%s" % (re.sub(r"[^a-z0-9]+", "", drug), r["id"].lower())
        p, got = renal_patient(pid, r["measure"], target,
                               "built by tools/gen_eval_cases.py from label rule %s" % r["id"])
        if not in_band(got, r):
            continue
        truth = {"acceptable": [], "avoid": [], "doses": []}
        if dose:
            truth["doses"].append(dose)
        else:
            truth["avoid"].append({"drug": drug, "why": "label (%s): %s" % (act, r["quote"])})
        out.append({
            "id": pid, "set": "renal", "as_of": AS_OF, "patient": p, "indication": phrase,
            "truth": truth,
            "expect": {"measure": r["measure"], "value": round(got, 1)},
            "source": {"citation": "data/rules/renal.tsv %s: label set id %s (%s), section '%s'" %
                       (r["id"], r["setid"], r["corpus"], r["section"]),
                       "quote": r["quote"], "indication": isrc}})
        if len(out) >= MAX_PER_SET:
            break
    return out


def write(path, cases):
    with open(path, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    print("%s: %d cases" % (path, len(cases)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--out", default="data/cases")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    names, brands = load_lexicon(os.path.join(root, "data", "lexicon", "lexicon.tsv"))
    ind = Indications(a.shared, brands)
    os.makedirs(a.out, exist_ok=True)
    sets = {"cpic": cpic_cases(root, names, ind), "onc": onc_cases(root, names, ind),
            "renal": renal_cases(root, names, ind)}
    for k, v in sets.items():
        write(os.path.join(a.out, k + ".jsonl"), v)
    # smoke: per set, the first case with acceptable drugs, else with a dose range, else the first
    smoke = []
    for v in sets.values():
        pick = [c for c in v if c["truth"]["acceptable"]] + [c for c in v if c["truth"]["doses"]] + v
        if pick:
            smoke.append(pick[0])
    write(os.path.join(a.out, "smoke.jsonl"), smoke)


if __name__ == "__main__":
    main()
