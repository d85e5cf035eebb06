"""derive_lab_rules.py - the label-derived tables of the lab-aware and indication-aware checks.

Imported by tools/derive_safety_rules.py (one command regenerates every table; Python 3 standard
library only). From the label corpora read by tools/labelcorpus.py it derives:

  data/rules/lab_rules.tsv       label sentences tying a drug to a lab abnormality (hyperkalaemia,
                                 hypokalaemia, QT prolongation, thrombocytopenia, hypo-/hyper-
                                 glycaemia, raised INR) with the action the sentence states
                                 (contraindicated / avoid / discontinue / monitor / reported) and,
                                 when the sentence states one, its threshold (value + unit)
  data/rules/switching.tsv       "switching from warfarin" statements that depend on the INR
                                 ("start ELIQUIS when the INR is below 2.0")
  data/pgx/warfarin_label_doses.tsv  the warfarin label's table of expected maintenance doses by
                                 CYP2C9 x VKORC1 -1639G>A genotype, cell by cell, with the table's
                                 title, header and row lines quoted
  data/pgx/warfarin_cpic.tsv     the CPIC warfarin guidance the shipped CPIC data states (PharmCAT
                                 messages, cpic-data notes, guideline URL)
  data/rules/label_index.tsv     which ingredients have a label in the shipped corpora, with which
                                 sections, so a check can say "no label in the shipped corpus"

Every number is copied from its quoted sentence / table line; tests/test_safety_labs_data.c checks
the quotes verbatim against data/labels and the numbers against the quotes. Nothing is typed in.
"""
import csv
import glob
import json
import os
import re
from collections import OrderedDict

import labelcorpus as LC

# ============================================================================================
# Lab statements
# ============================================================================================
# What names the lab abnormality (direction of concern) in a sentence. Text patterns only.
LAB_PATTERNS = OrderedDict([
    ("potassium", {
        "high": r"hyperkal\w*|(elevat\w*|increas\w*|rais\w*|high)\s+(in\s+|of\s+)?(serum\s+|plasma\s+)?potassium|"
                r"(serum|plasma)\s+potassium\s+(levels?\s+|concentrations?\s+)?(increase|rise|>|≥|greater than|above|exceed)",
        "low": r"hypokal\w*|(low|decreas\w*)\s+(serum\s+)?potassium|(serum\s+)potassium\s+(levels?\s+)?(<|less than|below)",
    }),
    ("qtc", {"high": r"\bQTc?\b[^.]{0,40}prolong\w*|prolong\w*[^.]{0,30}\bQTc?\b|long QT|torsade"}),
    ("platelets", {"low": r"thrombocytopeni\w*|platelet counts?\s+(of\s+|below\s+|less than\s+|<\s*|decrease|fall)"}),
    ("glucose", {"low": r"hypoglyc(a)?emia\b|(lower\w*|decreas\w*)\s+(blood\s+|serum\s+|plasma\s+)?glucose",
                 "high": r"hyperglyc(a)?emia\b|(rais\w*|increas\w*|elevat\w*)\s+(blood\s+|serum\s+|plasma\s+)?glucose"}),
    ("inr", {"high": r"\bINR\b[^.]{0,40}(>|≥|greater than|above|exceed\w*|increas\w*|elevat\w*)|"
                     r"(increas\w*|elevat\w*|prolong\w*)[^.]{0,20}\bINR\b"}),
])
# Thresholds the sentence states for that lab: (regex, group of the number, unit, factor to the
# patient model's canonical unit). Comparator words follow the number or precede it.
CMP_BEFORE = r"(>=|<=|≥|≤|>|<|greater than or equal to|less than or equal to|greater than|less than|above|below|exceeds?|of)"
THRESH = {
    "potassium": [(r"potassium[^.]{0,40}?" + CMP_BEFORE + r"\s*(\d+(?:\.\d+)?)\s*(?:mEq|meq|mmol)", "mmol/L", 1.0),
                  (r"(?:hypo|hyper)kal\w*\s*\(\s*" + CMP_BEFORE + r"\s*(\d+(?:\.\d+)?)\s*(?:mEq|meq|mmol)", "mmol/L", 1.0)],
    "qtc": [(r"QTc[^.]{0,25}?" + CMP_BEFORE + r"\s*(\d{3})\s*(?:msec|ms)\b", "ms", 1.0),
            (r"QTc[^.]{0,25}?\b()(\d{3})\s*(?:msec|ms)\s+or\s+(greater|more)", "ms", 1.0)],
    "platelets": [(r"platelet count[^.]{0,30}?" + CMP_BEFORE + r"\s*(\d{2,3},\d{3}|\d+)\s*(?:/mm3|/mm³|/µL|/uL|/mcL|cells)", "10*3/uL", 0.001)],
    "inr": [(r"\bINR\b[^.]{0,20}?" + CMP_BEFORE + r"\s*(\d+(?:\.\d+)?)", "", 1.0)],
    "glucose": [],
}
CMP_CODE = {">": "gt", "greater than": "gt", "above": "gt", "exceed": "gt", "exceeds": "gt",
            ">=": "ge", "≥": "ge", "greater than or equal to": "ge", "or greater": "ge", "or more": "ge",
            "<": "lt", "less than": "lt", "below": "lt", "<=": "le", "≤": "le", "less than or equal to": "le"}

STATEMENT_SEV = {"contraindicated": "contraindicated", "avoid": "major", "discontinue": "major",
                 "monitor": "moderate", "reported": "moderate"}
LAB_NEGATED = re.compile(r"\b(no (patient|patients|effect|clinically|change)|none of|did not|was not a cause|"
                         r"no causal|"
                         r"no (significant |clinically (significant |relevant )?)?(prolongation|increases?|elevations?|"
                         r"changes?|effects?|decreases?)\b|was not observed|were not observed|"
                         r"not (associated|observed|a cause)|without (an? )?(increase|change)|attenuat\w*|"
                         r"counterbalance|had no effect|is unlikely|little (or no )?(net )?effect|"
                         r"discontinued (due|because)|discontinuation of therapy in)\b", re.I)
# potassium products ("supplements") name themselves: only other labels skip those words
LAB_OTHER_PRODUCT = re.compile(r"\b(supplement\w*|salt substitutes?)\b", re.I)
LAB_SKIP = re.compile(r"\b(infants?|in utero|neonat\w*|pediatric|children|"
                      r"concomitant\w*|coadminist\w*|co-administ\w*|in combination|together with|"
                      r"with (ARBs?|ACEIs?|ACE inhibitors|NSAIDs|other drugs)|other (drugs|agents|products)|"
                      r"patients taking|concurrent\w*|solutions?|insulin|secretagogues?|sulfonylureas?|antidiabetic|hypoglycemic agents|"
                      r"digitalis|"
                      r"inhibitors?|inducers?|overdos\w*|animals?|rats?|dogs?|mice)\b", re.I)
LAB_STUDY = re.compile(r"\b(placebo|comparator|volunteers|subjects?|randomi[sz]ed|mean (increase|change)|"
                       r"study|studies|pharmacokinetic)\b", re.I)


# A "can cause" statement must tie the drug to the abnormality by a causal construction; a word in
# a list of adverse events ("... vomiting, hypoglycemia, hypotonia ...") is not such a statement.
GAP = r"(?:[^.;]|\.(?=\d)){0,%d}"  # within one clause; "5.7" is not a sentence end
CAUSAL_BEFORE = r"(cause[sd]?|causing|produce[sd]?|leads? to|result(s|ed)? in|induce[sd]?|associated with|" \
                r"risk of|increases? the risk|may raise|can raise)\b" + GAP % 50
CAUSAL_AFTER = GAP % 40 + r"\b((may|can|has been|have been|was|were|is|are)\s+(\w+\s+)?(occur\w*|develop\w*|" \
               r"reported|observed|seen|noted)|occurred|developed)\b"


def causal(lab_rx, s):
    return bool(re.search(CAUSAL_BEFORE + "(" + lab_rx + ")", s, re.I) or
                re.search("(" + lab_rx + ")" + CAUSAL_AFTER, s, re.I))


def lab_statement(s):
    """(statement, severity) of a sentence about a lab abnormality, or (None, None)."""
    if LAB_NEGATED.search(s):
        return None, None
    if re.search(r"\bcontraindicated\b", s, re.I):
        return "contraindicated", "contraindicated"
    if re.search(r"\b(avoid\w*|should not be (used|given|administered|initiated)|do not (use|initiate|give)|"
                 r"must not be used|not be used)\b", s, re.I):
        return "avoid", "major"
    if re.search(r"\b(discontinu\w*|interrupt\w*|withh[oe]ld\w*|stop\w*)\b", s, re.I):
        return "discontinue", "major"
    if re.search(r"\b(monitor\w*|determin\w*|measure\w*|check\w*|observed carefully|assess\w*|"
                 r"obtain\w*|evaluat\w*)\b", s, re.I):
        return "monitor", "moderate"
    if re.search(r"\b(cause[sd]?|can (cause|produce|lead|result|occur)|may (cause|occur|produce|lead|develop|result)|"
                 r"occur\w*|observed|reported|develop\w*|associated with|induc\w*|risk of|increases?|"
                 r"elevations?|result in|produce[sd]?)\b", s, re.I):
        return "reported", "moderate"
    return None, None


def lab_threshold(lab, s, statement):
    """(comparator, value, unit, factor, matched text) of a threshold the sentence states for the lab
    as the condition of its action; None for "reported" statements (an incidence figure such as
    "hyperkalemia (serum potassium greater than 5.7 mEq/L) occurred in 2.2%" is no action threshold),
    except for the INR ("An INR of greater than 4.0 ... is associated with a higher risk of bleeding")."""
    if statement == "reported" and lab != "inr":  # an INR figure is a level, never an incidence
        return None
    for rx, unit, factor in THRESH.get(lab, []):
        ms = list(re.finditer(rx, s, re.I))
        if len(ms) != 1:
            continue
        m = ms[0]
        cmp_word = (m.group(1) or "").lower()
        num = m.group(2).replace(",", "")
        if not cmp_word and len(m.groups()) >= 3:
            cmp_word = "or " + m.group(3).lower()
        code = CMP_CODE.get(cmp_word)
        if not code:
            continue
        return code, num, unit, factor, m.group(0)
    return None


def derive_lab_rules(records, names_other_drug, citation_section, stats):
    rows = OrderedDict()
    for rec in records:
        ings = "+".join(rec["ingredients"])
        if not ings:
            continue
        for s, heading, block in LC.sentences(rec["text"]):
            for lab, dirs in LAB_PATTERNS.items():
                hits = [d for d, rx in dirs.items() if re.search(rx, s, re.I)]
                if not hits:
                    continue
                stats["lab.candidates"] += 1
                if len(hits) != 1:
                    stats["lab.skip.both-directions"] += 1
                    continue
                own_k = any("potassium" in i for i in rec["ingredients"])
                if LAB_SKIP.search(s) or names_other_drug(s, rec["ingredients"]) or \
                        (LAB_OTHER_PRODUCT.search(s) and not own_k) or \
                        re.search(r"\b(pediatric|children|infants|neonat)", heading, re.I):
                    stats["lab.skip.other-drug-or-population"] += 1
                    continue
                if LAB_STUDY.search(s):
                    stats["lab.skip.study"] += 1
                    continue
                st, sev = lab_statement(s)
                if not st:
                    stats["lab.skip.no-statement"] += 1
                    continue
                if re.search(r"\(7(\.\d+)?\)\s*$", s):  # a Drug Interactions highlight: the other drug is left out
                    stats["lab.skip.interaction-highlight"] += 1
                    continue
                if re.match(r"^\d+(\.\d+)*\s", s) or len(s.split()) < 5:
                    stats["lab.skip.heading"] += 1
                    continue
                if st == "reported" and lab != "inr" and not causal(dirs[hits[0]], s):
                    stats["lab.skip.not-causal"] += 1
                    continue
                th = lab_threshold(lab, s, st)
                cmp_, val, unit = (th[0], th[1], th[2]) if th else ("", "", "")
                key = (ings, lab, s)
                if key in rows:
                    continue
                rows[key] = [ings, lab, hits[0], st, cmp_, val, unit, sev, rec["label_type"], rec["setid"],
                             rec["corpus"], citation_section(rec, heading), s]
                stats["lab.rows.%s" % lab] += 1
    return list(rows.values())


# ============================================================================================
# Switching from warfarin (INR-dependent start)
# ============================================================================================
SWITCH = re.compile(r"\b(start\w*|initiat\w*|begin\w*|switch\w*|convert\w*)\b", re.I)
INR_BELOW = re.compile(r"\bINR\)?\s+(?:is\s+)?(below|less than|<)\s*(\d+(?:\.\d+)?)", re.I)


def derive_switching(records, citation_section, stats):
    rows = OrderedDict()
    for rec in records:
        ings = rec["ingredients"]
        if len(ings) != 1 or ings[0] == "warfarin":
            continue
        for s, heading, block in LC.sentences(rec["text"]):
            if "warfarin" not in s.lower() or not SWITCH.search(s):
                continue
            ms = list(INR_BELOW.finditer(s))
            if len(ms) != 1:
                continue
            stats["switching.rows"] += 1
            key = (ings[0], s)
            if key not in rows:
                rows[key] = [ings[0], "warfarin", "inr", "lt", ms[0].group(2), rec["label_type"], rec["setid"],
                             rec["corpus"], citation_section(rec, heading), s]
    return list(rows.values())


# ============================================================================================
# Warfarin label: expected maintenance dose by CYP2C9 x VKORC1 genotype
# ============================================================================================
def derive_warfarin_table(records, citation_section):
    out = []
    for rec in records:
        if rec["ingredients"] != ["warfarin"]:
            continue
        lines = rec["text"].split("\n")
        for i, ln in enumerate(lines):
            if not (ln.startswith("Table") and "CYP2C9" in ln and "VKORC1" in ln and "Dose" in ln):
                continue
            title = ln
            header = None
            for j in range(i + 1, min(i + 12, len(lines))):
                cells = [c.strip() for c in lines[j].strip().strip("|").split("|")]
                if header is None and cells and all(re.fullmatch(r"\*\d+/\*\d+", c) for c in cells if c) \
                        and len([c for c in cells if c]) >= 3:
                    header = (lines[j], [c for c in cells if c])
                    continue
                if header and cells and re.fullmatch(r"[AG]{2}", cells[0]):
                    vk = cells[0]
                    vals = cells[1:]
                    if len(vals) != len(header[1]):
                        raise SystemExit("warfarin table row does not match its header: %r" % lines[j])
                    for cyp, v in zip(header[1], vals):
                        m = re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) mg", v)
                        if not m:
                            raise SystemExit("warfarin table cell not 'N-M mg': %r" % v)
                        out.append([vk, cyp, m.group(1), m.group(2), "mg", "day", rec["setid"], rec["corpus"],
                                    citation_section(rec, ""), title, header[0], lines[j]])
            if out:
                return out
    return out


def derive_warfarin_cpic(shared):
    rows = []
    base = os.path.join(shared, "pharmcat-cpic-dpwg-guidelines")
    with open(os.path.join(base, "messages.json"), encoding="utf-8") as f:
        msgs = json.load(f)
    for m in msgs:
        if "warfarin" not in (m.get("matches", {}).get("drugs") or []) or m.get("exception_type") != "note":
            continue
        text = m.get("message") or ""
        urls = re.findall(r'href="([^"]+)"', text)
        plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        if plain:
            rows.append(["note", plain, urls[0] if urls else "",
                         "pharmcat-cpic-dpwg-guidelines/messages.json rule %s" % m.get("rule_name", "")])
    mig = os.path.join(shared, "cpic-data", "migrations")
    for p in sorted(glob.glob(os.path.join(mig, "*.sql"))):
        with open(p, encoding="utf-8") as f:
            for n, ln in enumerate(f, start=1):
                m = re.search(r"notesonusage='([^']*[Ww]arfarin[^']*)'", ln)
                if m:
                    urls = re.findall(r"https?://\S+", m.group(1))
                    rows.append(["usage", m.group(1), urls[0] if urls else "",
                                 "cpic-data/migrations/%s:%d" % (os.path.basename(p), n)])
                m = re.search(r"^(\d+)\t\d+\t(CYP2C9, VKORC1[^\t]*Warfarin)\t(https://\S+)\t", ln)
                if m:
                    rows.append(["guideline", m.group(2), m.group(3),
                                 "cpic-data/migrations/%s:%d" % (os.path.basename(p), n)])
    return rows


# ============================================================================================
# Label index: which ingredients have label text in the shipped corpora
# ============================================================================================
RENAL_WORD = re.compile(r"creatinine clearance|\bCrCl\b|\beGFR\b|renal impairment|renal insufficiency", re.I)


def derive_label_index(records, shared):
    idx = OrderedDict()
    for rec in records:
        ings = "+".join(rec["ingredients"])
        if not ings:
            continue
        e = idx.setdefault((ings, rec["corpus"], rec["setid"]), {"sections": set(), "dosage": False, "renal": False})
        sec = rec["code"] or re.sub(r"^[\d.]+\s*", "", rec["section"] or "")[:40]
        e["sections"].add(sec)
        if rec["code"] == "34068-7" or re.search(r"DOSAGE", rec["section"] or "", re.I):
            e["dosage"] = True
        if RENAL_WORD.search(rec["text"]):
            e["renal"] = True
    for p in sorted(glob.glob(os.path.join(shared, "fda-ars-100-labels", "txt", "*_*.txt"))):
        b = os.path.basename(p)[:-4]
        drug, sec = b.split("_", 1)
        e = idx.setdefault((drug.lower(), "fda-ars", "fda-ars:" + drug), {"sections": set(), "dosage": False, "renal": False})
        e["sections"].add(sec)
        with open(p, encoding="utf-8", errors="replace") as f:
            if RENAL_WORD.search(f.read()):
                e["renal"] = True
    rows = []
    for (ings, corpus, setid), e in idx.items():
        rows.append([ings, corpus, setid, "1" if e["dosage"] else "0", "1" if e["renal"] else "0",
                     ";".join(sorted(e["sections"]))[:400]])
    return rows


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))
