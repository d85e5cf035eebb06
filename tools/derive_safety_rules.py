#!/usr/bin/env python3
"""derive_safety_rules.py - derive openrx's label-rule tables from the public data in ../shared/data.

Usage:  python3 tools/derive_safety_rules.py [--shared /work/shared/data] [--out DATA_DIR]

Writes (all TSV with a header row, UTF-8, one rule per line, no tabs/newlines inside fields):
  data/rules/renal.tsv            renal thresholds/dose bands from label sentences (quoted)
  data/rules/hepatic.tsv          hepatic-impairment and liver-lab (x ULN) statements (quoted)
  data/rules/pregnancy.tsv        pregnancy / lactation statements (quoted)
  data/rules/dose_limits.tsv      maximum-dose sentences with amount + unit + period (quoted)
  data/rules/organ_impairment.tsv FDA Organ Impairment DIDB exposure changes (Yeung 2015)
  data/rules/label_excerpts.jsonl the exact label paragraphs that the quotes come from
  data/dili/dilirank.tsv          FDA DILIrank concern levels
  data/pgx/cpic_pairs.tsv         CPIC gene-drug pairs with level where the snapshot states it
  data/pgx/cpic_recommendations.tsv CPIC recommendation rows (PharmGKB export via PharmCAT)
  data/pgx/diplotype_phenotype.tsv  CPIC diplotype -> phenotype tables

Every number in these tables is copied from the source text or table; nothing is typed in by hand.
The extraction is pattern-based and conservative: sentences whose applicability depends on
another drug, a trial population, body weight or age are skipped (counts printed at the end).
"""
import argparse
import csv
import glob
import json
import os
import re
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labelcorpus as LC  # noqa: E402
import derive_lab_rules as LR  # noqa: E402

STATS = Counter()

# ============================================================================================
# Shared sentence classifiers
# ============================================================================================
CONTRA = re.compile(r"\bcontraindicated\b", re.I)
MAJOR = re.compile(r"\b(avoid|not recommended|interrupt|withhold|consider discontinuing|should not (normally )?be treated|should not be (used|administered|given|initiated|started)|"
                   r"do not (use|administer|initiate|start|give)|discontinue|must not|is not to be used|"
                   r"should not (use|receive|take))\b", re.I)
MODERATE = re.compile(r"\b(cannot be provided|no (dose|dosage|dosing) recommendations?|"
                      r"(reduce|reduced|reducing|adjust|adjusted|decrease|decreased|lower|lowered)\b[^.]{0,40}\b(dose|dosage|dosing)|"
                      r"(dose|dosage|dosing) (reduction|adjustment|modification)s?|"
                      r"recommended (starting |initial |maintenance |maximum )?(dose|dosage)|"
                      r"should be reduced|titrate)\b", re.I)
STUDY = re.compile(r"\b(studied|study|studies|trial|trials|excluded|subjects|enrolled|half-life|Cmax|"
                   r"RE-COVER|RE-LY|ROCKET|volunteers|pharmacokinetics (of|were|was))\b", re.I)
OTHER_DRUG = re.compile(r"\b(inhibitors?|inducers?|concomitant(ly)?|coadminist\w*|co-administ\w*|"
                        r"in combination with|combination therapy|aliskiren|together with|when (taken|used|given) with|"
                        r"with (ARBs?|ACEIs?|ACE inhibitors)|iodinated contrast|contrast (imaging|agent|media))\b", re.I)
# a sentence conditional on the drug CAUSING liver injury (monitoring), not on pre-existing disease
MONITORING = re.compile(r"\b(develops?|occurs?|persist|worsen|if (clinical )?signs)\b", re.I)
ALL_INGREDIENTS = set()  # filled in main(): single-word ingredient names of every label read


def names_other_drug(s, ings):
    """True when the sentence names an ingredient (of some corpus label) that this label lacks."""
    own = set()
    for i in ings:
        own.update(i.split())
    for w in re.findall(r"[A-Za-z]{5,}", s):
        lw = w.lower()
        if lw in ALL_INGREDIENTS and lw not in own:
            return True
    return False
NEGATED = re.compile(r"\b(no (initial )?(dose|dosage|dosing) adjustments?|adjustments? (is|are) not (required|necessary|needed|recommended)|"
                     r"not (required|necessary|needed) to adjust|need not be adjusted|without (dose|dosage) adjustment)", re.I)
# a heading that makes the sentences under it conditional (another drug, a population)
HEADING_SKIP = re.compile(r"\b(taking|concomitant|coadminist\w*|inhibitors?|inducers?|pediatric|children|"
                          r"infants|neonat\w*|adolescents?)\b", re.I)
# ... and for maximum doses also a heading about organ function or age (population-specific limits)
DOSE_HEADING_SKIP = re.compile(r"\b(elderly|geriatric|impairment|insufficiency|renal|hepatic|kidney|liver|"
                               r"dialysis|years of age)\b", re.I)
SEV_NAMES = ["info", "minor", "moderate", "major", "contraindicated"]


def action_of(s):
    """(action, severity) for a sentence, or (None, None) when it states no action."""
    if NEGATED.search(s):
        return None, None
    if CONTRA.search(s):
        return "contraindicated", "contraindicated"
    if MAJOR.search(s):
        m = MAJOR.search(s).group(0).lower()
        return ("avoid" if m.startswith("avoid") else
                "discontinue" if m.startswith("discontinue") or m.startswith("consider discontinuing") else
                "interrupt" if m.startswith("interrupt") or m.startswith("withhold") else "not-recommended"), "major"
    if MODERATE.search(s):
        m = MODERATE.search(s).group(0).lower()
        if "cannot be provided" in m or "no do" in m or "established" in m:
            return "no-dosing-recommendation", "moderate"
        return "dose-adjust", "moderate"
    return None, None


def citation_section(rec, heading):
    sec = rec["section"] or ""
    if rec["code"]:
        sec = "%s (LOINC %s)" % (sec, rec["code"])
    if heading and heading not in sec:
        sec = "%s > %s" % (sec, heading)
    return clean_field(sec)


def clean_field(s):
    return re.sub(r"[\t\r\n]+", " ", s or "").strip()


# ============================================================================================
# Renal
# ============================================================================================
MEASURE = re.compile(r"(creatinine clearance|\bCrCl\b|\bClCr\b|\bCLcr\b|\bCL\s?cr\b|\beGFR\b|\bGFR\b|"
                     r"glomerular filtration rate)", re.I)
NUM = r"(\d+(?:\.\d+)?)"
UNIT = r"\s*(?:mL|ml)\s*/\s*min(?:ute)?(?:\s*/\s*1\.73\s*m\s*2|\s*/\s*1\.73\s*m²|\s*/\s*1\.73m2)?"
COMP = (r"(<=|>=|≤|≥|<|>|less than or equal to|greater than or equal to|less than|greater than|"
        r"below|above|at least|lower than|higher than|falls below|under)")
RANGE1 = re.compile(NUM + r"\s*(?:mL/min\S*\s*)?(?:to|-|–|and)\s*(?:<|≤|less than)?\s*" + NUM + UNIT, re.I)
RANGE2 = re.compile(r"(?:≥|>=|greater than or equal to)\s*" + NUM + r"\s*(?:mL/min\S*\s*)?(?:and|to)\s*(?:<|less than)\s*" + NUM + UNIT, re.I)
BETWEEN = re.compile(r"between\s+" + NUM + r"\s+and\s+" + NUM + UNIT, re.I)
SINGLE = re.compile(COMP + r"\s*(?:or equal to\s*)?" + NUM + UNIT, re.I)
COMP_MAP = {"<": ("lt"), "<=": "le", "≤": "le", "less than or equal to": "le", "less than": "lt",
            "below": "lt", "falls below": "lt", "lower than": "lt", "under": "lt",
            ">": "gt", ">=": "ge", "≥": "ge", "greater than or equal to": "ge", "greater than": "gt",
            "above": "gt", "higher than": "gt", "at least": "ge"}


def renal_thresholds(s):
    """List of (lo, lo_incl, hi, hi_incl, matched text) for every threshold in the sentence."""
    out = []
    taken = []

    def free(a, b):
        return all(b <= x or a >= y for x, y in taken)
    for rx, kind in ((RANGE2, "r2"), (BETWEEN, "b"), (RANGE1, "r1"), (SINGLE, "s")):
        for m in rx.finditer(s):
            if not free(m.start(), m.end()):
                continue
            if kind in ("r1", "r2", "b"):
                lo, hi = m.group(1), m.group(2)
                if float(lo) >= float(hi):
                    continue
                hi_incl = "0" if re.search(r"(<|less than)\s*" + re.escape(hi), m.group(0)) else "1"
                out.append((lo, "1", hi, hi_incl, m.group(0)))
            else:
                c = COMP_MAP.get(m.group(1).lower(), None)
                if c is None:
                    continue
                v = m.group(2)
                if "or equal to" in m.group(0).lower() and c == "lt":
                    c = "le"
                if "or equal to" in m.group(0).lower() and c == "gt":
                    c = "ge"
                if c in ("lt", "le"):
                    out.append(("", "0", v, "1" if c == "le" else "0", m.group(0)))
                else:
                    out.append((v, "1" if c == "ge" else "0", "", "0", m.group(0)))
            taken.append((m.start(), m.end()))
    return out


# Continuation statements ("assess the benefit and risk of continuing") have no action word of
# their own; they are what the label says for a patient already taking the drug.
CONTINUING = re.compile(r"\b(assess\w*|weigh\w*|evaluat\w*)\b[^.]{0,40}\b(benefits?|risks?)\b[^.]{0,20}"
                        r"\bcontinu\w*|\brisk/benefit of continuing", re.I)
INITIATION = re.compile(r"\b(initiat\w*|initial therapy|starting|prior to starting|before starting)\b", re.I)
CONTINUATION = re.compile(r"\b(continu\w*|(later )?falls? below|whose (e?GFR|CrCl|creatinine clearance)|"
                          r"while (on|taking|receiving)|patients (taking|receiving) \w+|develops?)\b", re.I)


def phase_of(s):
    """initiation (a new start), continuation (a patient already taking it), or any."""
    ini, cont = INITIATION.search(s), CONTINUATION.search(s)
    if ini and not cont:
        return "initiation"
    if cont and not ini:
        return "continuation"
    return "any"


# Words that make a heading generic (about dosing, a population, a section) rather than naming
# what the drug is given for. Used only to decide whether a heading is an indication heading.
IND_GENERIC = set("""dose doses dosage dosing recommended recommendation recommendations administration adjustment
adjustments adjust renal hepatic impairment insufficiency function patients patient use specific populations
population warnings precautions warning precaution general information important instructions missed switching
converting conversion discontinuation temporary interruption overview table usual adults adult initial
maintenance starting therapy clinical monitoring laboratory tests considerations other interventions options
elderly geriatric pediatric children with from that this have been into when than also their those these
which after before during about under over""".split())


def content_words(t):
    return [w for w in re.findall(r"[a-z]{4,}", t.lower()) if w not in IND_GENERIC]


class Indications:
    """The Indications & Usage text of every label (by set id, and by ingredient as a fallback)."""

    def __init__(self, records):
        self.by_setid, self.by_ingr = {}, {}
        for rec in records:
            sec = rec["section"] or ""
            if rec["code"] == "34067-9" or re.match(r"^(1(\.\d+)?\s|INDICATIONS)", sec, re.I):
                t = (sec + "\n" + rec["text"]).lower()
                self.by_setid[rec["setid"]] = self.by_setid.get(rec["setid"], "") + "\n" + t
                k = "+".join(rec["ingredients"])
                self.by_ingr[k] = self.by_ingr.get(k, "") + "\n" + t

    def heading_is_indication(self, rec, heading):
        """True when the heading's content words are (75 %+) words of the label's indications."""
        words = content_words(re.sub(r"^[\d.]+\s*", "", heading))
        if not words:
            return False
        text = self.by_setid.get(rec["setid"]) or self.by_ingr.get("+".join(rec["ingredients"]), "")
        if not text:
            return False
        have = set(re.findall(r"[a-z]{4,}", text))
        return sum(1 for w in words if w in have) >= 0.75 * len(words)

    def of_sentence(self, rec, heading, sub):
        """The nearest heading above the sentence that names an indication ("" when none)."""
        for h in (sub, heading, rec["section"] or ""):
            h = " ".join((h or "").split())
            if h and len(h) < 160 and self.heading_is_indication(rec, h):
                return re.sub(r"^[\d.]+\s*", "", h)
        return ""


def derive_renal(records, ind):
    rows = OrderedDict()
    for rec in records:
        for s, heading, block, sub in LC.sentences_ctx(rec["text"]):
            if not MEASURE.search(s) or "mL" not in s and "ml" not in s:
                continue
            STATS["renal.candidates"] += 1
            if STUDY.search(s):
                STATS["renal.skip.study"] += 1
                continue
            if OTHER_DRUG.search(s) or HEADING_SKIP.search(heading) or names_other_drug(s, rec["ingredients"]):
                STATS["renal.skip.other-drug-or-heading"] += 1
                continue
            if re.search(r"\b(pediatric|children|infants|neonates|kg\b)", s, re.I):
                STATS["renal.skip.population"] += 1
                continue
            act, sev = action_of(s)
            if not act and CONTINUING.search(s):
                act, sev = "assess-continuation", "moderate"
            if not act:
                STATS["renal.skip.no-action"] += 1
                continue
            th = renal_thresholds(s)
            if len(th) != 1:
                STATS["renal.skip.%s-thresholds" % ("no" if not th else "multiple")] += 1
                continue
            lo, lo_incl, hi, hi_incl, mtxt = th[0]
            ctx = s[max(0, s.find(mtxt) - 80): s.find(mtxt) + len(mtxt)]
            mm = list(MEASURE.finditer(ctx))
            if not mm:
                STATS["renal.skip.measure-far"] += 1
                continue
            mword = mm[-1].group(0).lower()
            measure = "eGFR" if ("gfr" in mword or "glomerular" in mword or "1.73" in mtxt) else "CrCl"
            if lo and not hi:
                sev = "info"  # a statement about preserved function: shown as the label's band only
            ings = "+".join(rec["ingredients"])
            if not ings:
                STATS["renal.skip.no-ingredient"] += 1
                continue
            key = (ings, s)
            if key in rows:
                continue
            comparator = ("range" if lo and hi else ("le" if hi_incl == "1" else "lt") if hi
                          else ("ge" if lo_incl == "1" else "gt"))
            indication = ind.of_sentence(rec, heading, sub)
            phase = "continuation" if act == "assess-continuation" else phase_of(s)
            rows[key] = [ings, measure, comparator, lo, lo_incl, hi, hi_incl, act, sev, indication, phase,
                         rec["label_type"], rec["setid"], rec["corpus"],
                         citation_section(rec, sub if sub and sub != heading and sub not in (rec["section"] or "")
                                          and indication == re.sub(r"^[\d.]+\s*", "", sub) else heading), s]
    return list(rows.values())


# ============================================================================================
# Hepatic
# ============================================================================================
HEP = re.compile(r"(hepatic impairment|hepatic insufficiency|hepatic disease|hepatic dysfunction|"
                 r"liver disease|liver impairment|hepatic failure|liver failure|cirrhosis|Child-Pugh|"
                 r"hepatic function impairment|impaired hepatic function|impaired liver function)", re.I)
NUMWORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "ten": "10", "twenty": "20"}
ULN = re.compile(r"(?:(?:>|≥|greater than|more than|above|exceeds?|exceeding|in excess of|at least)\s*)?"
                 r"(\d+(?:\.\d+)?|one|two|three|four|five|ten|twenty)\s*(?:x|×|X|times|-fold)?\s*(?:the\s+)?"
                 r"(?:upper limit of (?:the )?normal|ULN)", re.I)
LAB = re.compile(r"\b(ALT|AST|SGPT|SGOT|alanine aminotransferase|aspartate aminotransferase|"
                 r"aminotransferases?|transaminases?|bilirubin|liver enzymes?|liver tests?)\b", re.I)


def hep_grades(s):
    g = []
    low = s.lower()
    for w in ("mild", "moderate", "severe"):
        if re.search(r"\b" + w + r"\b[^.]{0,40}(hepatic|liver|child-pugh)", low) or \
           re.search(r"\b(mild|moderate|severe)[^.]{0,25}\b(or|to|and)\s+" + w + r"\b[^.]{0,40}(hepatic|liver)", low):
            g.append(w)
    for letter, w in (("a", "mild"), ("b", "moderate"), ("c", "severe")):
        if re.search(r"child-pugh (class |score )?" + letter + r"\b", low) or \
           re.search(r"child-pugh (class )?[abc]?\s*(or|and|to)\s*" + letter + r"\b", low):
            if w not in g:
                g.append(w)
    if re.search(r"\bactive liver disease|\bacute liver", low):
        g.append("active")
    if re.search(r"decompensated", low):
        g.append("decompensated")
    return g or ["any"]


def lab_kind(word):
    w = word.lower()
    if "bilirubin" in w:
        return "bilirubin"
    if w in ("ast", "sgot") or "aspartate" in w:
        return "AST"
    if w in ("alt", "sgpt") or "alanine" in w:
        return "ALT"
    return "ALT|AST"


def derive_hepatic(records):
    rows = OrderedDict()
    for rec in records:
        for s, heading, block in LC.sentences(rec["text"]):
            hep = HEP.search(s)
            ul = list(ULN.finditer(s))
            if not hep and not ul:
                continue
            STATS["hepatic.candidates"] += 1
            if (STUDY.search(s) or OTHER_DRUG.search(s) or HEADING_SKIP.search(heading)
                    or names_other_drug(s, rec["ingredients"])):
                STATS["hepatic.skip.study-other-drug-or-heading"] += 1
                continue
            if re.search(r"\b(pediatric|children|infants)\b", s, re.I):
                STATS["hepatic.skip.population"] += 1
                continue
            act, sev = action_of(s)
            if not act:
                STATS["hepatic.skip.no-action"] += 1
                continue
            ings = "+".join(rec["ingredients"])
            if not ings:
                continue
            if ul:
                if re.search(r"restart|re-?treat|resum|return of|less than or equal", s, re.I):
                    STATS["hepatic.skip.restart-criteria"] += 1
                    continue
                gaps = [s[ul[i - 1].end():ul[i].start()] for i in range(1, len(ul))]
                if any(re.search(r"\band\b", g) and not re.search(r"and/or", g) for g in gaps):
                    STATS["hepatic.skip.combined-uln"] += 1
                    continue
                prev = 0
                for u in ul:
                    labs = list(LAB.finditer(s[prev:u.start()]))
                    prev = u.end()
                    if not labs:
                        STATS["hepatic.skip.uln-no-lab"] += 1
                        continue
                    kinds = {lab_kind(x.group(0)) for x in labs}
                    kind = lab_kind(labs[-1].group(0))
                    if kind in ("ALT", "AST") and ({"ALT", "AST"} <= kinds or "ALT|AST" in kinds):
                        kind = "ALT|AST"
                    mult = NUMWORDS.get(u.group(1).lower(), u.group(1))
                    key = (ings, s, kind, mult)
                    if key in rows:
                        continue
                    rows[key] = [ings, "lab", "", kind, "gt", mult, u.group(0), act, sev, rec["label_type"],
                                 rec["setid"], rec["corpus"], citation_section(rec, heading), s]
                continue
            else:
                if MONITORING.search(s):
                    STATS["hepatic.skip.monitoring"] += 1
                    continue
                if act == "dose-adjust" and not re.search(r"\b(mild|moderate|severe|child-pugh)", s, re.I):
                    STATS["hepatic.skip.vague-dose"] += 1
                    continue
                row = [ings, "condition", ",".join(hep_grades(s)), "", "", "", "", act, sev]
            key = (ings, s)
            if key in rows:
                continue
            rows[key] = row + [rec["label_type"], rec["setid"], rec["corpus"],
                               citation_section(rec, heading), s]
    return list(rows.values())


# ============================================================================================
# Pregnancy and lactation
# ============================================================================================
PREG = re.compile(r"(pregnan\w*|fetal|fetus|foetal|teratogen\w*|embryo-fetal)", re.I)
LACT = re.compile(r"(nursing|breast[- ]?fe\w*|breastfe\w*|lactat\w*|human milk|breast milk)", re.I)
ANIMAL = re.compile(r"\b(rats?|rabbits?|mice|animal|monkeys?|dogs?)\b", re.I)


def preg_rule(s, heading):
    low = s.lower()
    m = re.search(r"pregnancy category\s*:?\s*([abcdx])\b", low)
    cat = m.group(1).upper() if m else ""
    if cat == "X" or (CONTRA.search(s) and re.search(r"pregnan", low)):
        return cat, "contraindicated", "contraindicated"
    if ANIMAL.search(s) and not cat:
        return None
    if re.search(r"not known whether|unknown whether", low) and not cat:
        return None  # "it is not known whether X can cause fetal harm" states no harm
    if re.match(r"^\d+(\.\d+)*\s", s) and len(s) < 60:
        return None  # a numbered heading ("5.1 Fetal Toxicity"), not a statement
    if cat == "D" or re.search(r"can cause fetal (harm|toxicity|death)|fetal toxicity|"
                               r"(should|must) not be used (during|in) pregnancy|avoid (use )?(during|in) pregnancy|"
                               r"discontinue[^.]{0,60}as soon as (possible|pregnancy)|when pregnancy is detected", low):
        return cat, "avoid", "major"
    if cat == "C":
        return cat, "weigh-risk", "minor"
    return None


def lact_rule(s):
    low = s.lower()
    if ANIMAL.search(s) and "human" not in low:
        return None
    if CONTRA.search(s):
        return "", "contraindicated", "contraindicated"
    if re.search(r"(breast[- ]?feeding|nursing) (is|are) not recommended|not (to )?breast[- ]?feed|"
                 r"should not (breast[- ]?feed|nurse)|discontinue nursing|not recommended[^.]{0,40}(nursing|breast)|"
                 r"decision should be made whether to discontinue|avoid (breast[- ]?feeding|nursing)", low):
        return "", "avoid", "major"
    if re.search(r"caution should be exercised", low):
        return "", "caution", "minor"
    if re.search(r"(is|are) (excreted|present|secreted) in (human|breast) milk", low) and "not known" not in low:
        return "", "excreted-in-milk", "minor"
    return None


def derive_pregnancy(records):
    rows = OrderedDict()
    for rec in records:
        for s, heading, block in LC.sentences(rec["text"]):
            p, l = PREG.search(s), LACT.search(s)
            hl = (heading + " " + (rec["section"] or "")).lower()
            if not p and not l:
                continue
            STATS["pregnancy.candidates"] += 1
            if re.search(r"\b(pediatric|children|infants)\b", s, re.I) and not l:
                continue
            hl_lact = "nursing" in hl or "lactation" in hl
            hl_preg = "pregnan" in hl
            pops = []
            if l and (hl_lact or not p or not hl_preg):
                pops.append(("lactation", lact_rule(s)))
            if p and (hl_preg or not l or not hl_lact):
                pops.append(("pregnancy", preg_rule(s, heading)))
            ings = "+".join(rec["ingredients"])
            for pop, r in pops:
                if not r:
                    STATS["pregnancy.skip.no-action"] += 1
                    continue
                if not ings:
                    continue
                key = (ings, pop, s)
                if key in rows:
                    continue
                cat, act, sev = r
                rows[key] = [ings, pop, cat, act, sev, rec["label_type"], rec["setid"], rec["corpus"],
                             citation_section(rec, heading), s]
    return list(rows.values())


# ============================================================================================
# Maximum doses
# ============================================================================================
AMT = r"(\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?)\s*(mg|g|mcg|µg|grams?|milligrams?)\b"
PERIOD = (r"\s*(per day|/day|a day|daily|each day|in 24 hours|in any 24[- ]hour period|per 24 hours|"
          r"in a 24[- ]hour period|over 24 hours|per dose|/dose|as a single dose|per week|/week|a week|weekly|once daily)?")
DOSE_A = re.compile(r"(?:do not|should not|not to|must not|never|cannot)\s+(?:be\s+)?exceed(?:ed)?\s+(?:a\s+|the\s+)?"
                    r"(?:total\s+)?(?:daily\s+|single\s+)?(?:dose\s+|dosage\s+)?(?:of\s+)?" + AMT + PERIOD, re.I)
DOSE_B = re.compile(r"maximum (?:recommended )?(total )?(daily |single |)(?:oral )?(?:dose|dosage)"
                    r"(?: of [A-Za-z]+)?\s+(?:is|of|should not exceed|=)\s+(?:[A-Za-z]+\s+)?" + AMT + PERIOD, re.I)
DOSE_SKIP = re.compile(r"(/\s*kg|per kg|mg/m|/m2|m²|\bpediatric|\bchildren|\binfants|\bneonat|years of age|"
                       r"\belderly|\bgeriatric|\brenal|\bhepatic|creatinine|\btablets?\b|\bcapsules?\b|caplets?|"
                       r"in combination|inhibitor|inducer|concomitant|coadminist|co-administ|\bwhen (used|given|taken) with|"
                       r"loading dose|\bbolus|\binfusion rate|\bbegin|\binitial|\bstarting|in these patients|"
                       r"in patients (with|taking|receiving|who)|metabolizers?|Drug Interactions \(7|while taking|"
                       r"hemodialysis|dialysis|patient population|will result)", re.I)


def period_of(word, whole, group_daily):
    w = (word or "").lower().strip()
    if w in ("per day", "/day", "a day", "daily", "each day", "once daily") or "24" in w or group_daily:
        return "day"
    if w in ("per dose", "/dose", "as a single dose"):
        return "dose"
    if w in ("per week", "/week", "a week", "weekly"):
        return "week"
    if re.search(r"\bsingle dose\b", whole, re.I):
        return "dose"
    return ""


def norm_unit(u):
    u = u.lower()
    return {"grams": "g", "gram": "g", "µg": "mcg", "milligrams": "mg", "milligram": "mg"}.get(u, u)


def form_of(title):
    m = LC.DOSE_FORM.search(title or "")
    return m.group(1).lower() if m else ""


def derive_doses(records):
    rows = OrderedDict()
    for rec in records:
        if rec["code"] and rec["code"] not in ("34068-7", "34066-1", "34071-1", "43685-7", "34070-3"):
            continue  # dosage, boxed warning, warnings, warnings & precautions, contraindications
        if len(rec["ingredients"]) != 1:
            continue  # combination products: the limit's ingredient is ambiguous
        for s, heading, block in LC.sentences(rec["text"]):
            ms = list(DOSE_A.finditer(s)) + list(DOSE_B.finditer(s))
            if not ms:
                continue
            STATS["dose.candidates"] += 1
            if len(ms) != 1:
                STATS["dose.skip.multiple"] += 1
                continue
            if (DOSE_SKIP.search(s) or HEADING_SKIP.search(heading) or DOSE_HEADING_SKIP.search(heading)
                    or names_other_drug(s, rec["ingredients"])
                    or HEADING_SKIP.search(block) or DOSE_HEADING_SKIP.search(block)):
                STATS["dose.skip.population-or-form"] += 1
                continue
            m = ms[0]
            if m.re is DOSE_B:
                amount, unit, per = m.group(3), m.group(4), m.group(5)
                group_daily = bool(m.group(2) and "daily" in m.group(2).lower())
                if m.group(2) and "single" in m.group(2).lower():
                    per = per or "per dose"
            else:
                amount, unit, per = m.group(1), m.group(2), m.group(3)
                group_daily = bool(re.search(r"daily (dose|dosage)|total daily", m.group(0), re.I))
            period = period_of(per, s, group_daily)
            if not period:
                STATS["dose.skip.no-period"] += 1
                continue
            ings = rec["ingredients"][0]
            key = (ings, s)
            if key in rows:
                continue
            rows[key] = [ings, amount.replace(",", ""), norm_unit(unit), period, form_of(rec["title"]),
                         rec["label_type"], rec["setid"], rec["corpus"], citation_section(rec, heading), s]
    return list(rows.values())


# ============================================================================================
# FDA Organ Impairment DIDB (Yeung et al. 2015 supplement)
# ============================================================================================
def derive_oi(shared):
    d = os.path.join(shared, "pddi-public-merged", "fda-organ-impairment-didb")
    rows = []
    with open(os.path.join(d, "FDA-OI-DIDB-2015-sd1.tsv"), encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    # header rows 2-3 of sheet 1: col 18-20 hepatic dAUC% mild/moderate/severe (Child-Pugh), col 24 ref;
    # col 26-29 renal dAUC% mild/moderate/severe/ESRD (GFR bands), col 34 ref (0-based)
    hdr = lines[2].split("\t")
    assert hdr[18].strip().startswith("mild") and hdr[20].strip().startswith("severe"), "sd1 layout changed"
    assert hdr[26].strip().startswith("mild") and hdr[29].strip().startswith("ESRD"), "sd1 layout changed"
    for i, ln in enumerate(lines[3:], start=4):
        c = ln.split("\t")
        if len(c) < 35 or not c[1].strip():
            continue
        name = c[1].strip().lower()
        hep = [x.strip() for x in c[18:21]]
        ren = [x.strip() for x in c[26:30]]
        if any(hep):
            rows.append([name, "hepatic", "dAUC%", hep[0], hep[1], hep[2], "", c[24].strip(), "sd1:%d" % i])
        if any(ren):
            rows.append([name, "renal", "dAUC%", ren[0], ren[1], ren[2], ren[3], c[34].strip(), "sd1:%d" % i])
    with open(os.path.join(d, "FDA-OI-DIDB-2015-sd3_renal.tsv"), encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for i, ln in enumerate(lines[2:], start=3):
        c = ln.split("\t")
        if len(c) < 7 or not c[1].strip():
            continue
        rows.append([c[1].strip().lower(), "renal", "AUC-ratio", c[3].strip(), c[4].strip(), c[5].strip(),
                     c[6].strip(), "", "sd3:%d" % i])
    return [[clean_field(x) for x in r] for r in rows]


# ============================================================================================
# DILIrank
# ============================================================================================
def derive_dili(shared):
    p = os.path.join(shared, "fda-dilirank", "DILIrank.tsv")
    with open(p, encoding="utf-8", errors="replace") as f:
        r = list(csv.reader(f, delimiter="\t"))
    while r and "LTKBID" not in r[0]:
        r = r[1:]  # title line(s) above the header
    hdr = [h.strip() for h in r[0]]
    out = []
    for i, row in enumerate(r[1:], start=3):
        if len(row) < 5 or not row[1].strip():
            continue
        d = dict(zip(hdr, [x.strip() for x in row]))
        out.append([clean_field(d.get("Compound Name", row[1])).lower(), clean_field(row[0]),
                    clean_field(d.get("vDILIConcern", "")), clean_field(d.get("Severity Class", "")),
                    clean_field(d.get("Label Section", "")), clean_field(d.get("Version", "")), "DILIrank.tsv:%d" % i])
    return hdr, out


# ============================================================================================
# CPIC pairs, recommendations, diplotype -> phenotype
# ============================================================================================
def derive_cpic_pairs(shared):
    """Pairs with a CPIC level where the cpic-data migrations state one (insert/update statements)."""
    d = os.path.join(shared, "cpic-data", "migrations")
    drugs = {}
    with open(os.path.join(shared, "cpic-data", "cpic_drugs_from_migrations.tsv"), encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            drugs[row["drugid"]] = row["name"].lower()
    pairs = OrderedDict()

    def vfile(p):
        m = re.match(r"V(\d+)__", os.path.basename(p))
        return int(m.group(1)) if m else 0
    for p in sorted(glob.glob(os.path.join(d, "*.sql")), key=vfile):
        fn = os.path.basename(p)
        with open(p, encoding="utf-8") as f:
            for ln_no, ln in enumerate(f, start=1):
                if "cpiclevel" not in ln.lower() or ln.lower().lstrip().startswith(("create", "constraint", "--")):
                    continue
                gene = re.search(r"genesymbol\s*=\s*'([^']+)'", ln, re.I) or re.search(r"values \('([^']+)'", ln) \
                    or re.search(r"select '([^']+)',", ln)
                lvl = re.search(r"cpiclevel\s*=\s*'([^']+)'", ln, re.I) or \
                    re.search(r"select '[^']+',\s*d\.drugid,\s*g\.id,\s*'([^']+)'", ln) or \
                    re.search(r"values \('[^']+',\s*'([^']+)'", ln)
                dn = re.search(r"drugid\s*=\s*'([^']+)'", ln, re.I)
                drug = drugs.get(dn.group(1)) if dn else None
                if not drug:
                    dm = re.search(r"(?:d\.name|drug where name)\s*=\s*'([^']+)'", ln)
                    drug = dm.group(1).lower() if dm else None
                if not (gene and lvl and drug):
                    STATS["cpic.pair-line-unparsed"] += 1
                    continue
                g = gene.group(1)
                guide = re.search(r"g\.name\s*=\s*'([^']+)'|name\s*=\s*'([^']+ and [^']+)'\)", ln)
                pairs[(g, drug)] = [g, drug, lvl.group(1), (guide.group(1) or guide.group(2)) if guide else "",
                                    "cpic-data/migrations/%s:%d" % (fn, ln_no)]
    return list(pairs.values())


def derive_cpic_recs(shared):
    p = os.path.join(shared, "pharmcat-cpic-dpwg-guidelines", "recommendations_flat.tsv")
    out = []
    with open(p, encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f, delimiter="\t"), start=2):
            if row["source"] != "CPIC":
                continue
            out.append([clean_field(row[k]) for k in ("drugs", "genes", "lookup_key", "population",
                                                       "classification", "implications", "recommendation",
                                                       "dosing_information", "alternate_drug", "guideline",
                                                       "guideline_url", "file")] + ["recommendations_flat.tsv:%d" % i])
    return out


def derive_diplotypes(shared):
    d = os.path.join(shared, "cpic-diplotype-phenotype-tables", "cpic_translation_tables")
    out = []
    for p in sorted(glob.glob(os.path.join(d, "*_Diplotype_Phenotype_Table.csv"))):
        gene_file = os.path.basename(p).split("_Diplotype")[0]
        with open(p, encoding="utf-8-sig") as f:
            r = csv.reader(f)
            hdr = next(r)
            for row in r:
                if len(row) < 3 or not row[0].strip():
                    continue
                gene = hdr[0].replace(" Diplotype", "").strip() or gene_file
                summary = row[2].strip()
                phen = summary[len(gene):].strip() if summary.startswith(gene) else summary
                out.append([gene, row[0].strip(), phen, row[1].strip()])
    return out


# ============================================================================================
# Output
# ============================================================================================
def write_tsv(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            r = [clean_field(str(x)) for x in r]
            f.write("\t".join(r) + "\n")
    print("%-40s %6d rows" % (os.path.relpath(path), len(rows)))


def add_ids(prefix, rows):
    return [["%s%04d" % (prefix, i + 1)] + r for i, r in enumerate(rows)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    a = ap.parse_args()
    # patient-facing sections (Medication Guide 42231-1, Patient Package Insert 42230-3) restate the
    # professional label in lay terms; rules are taken from the professional sections only
    recs = [r for r in LC.all_records(a.shared) if r["code"] not in ("42231-1", "42230-3")]
    for r in recs:
        for i in r["ingredients"]:
            if re.fullmatch(r"[a-z]{5,}", i):
                ALL_INGREDIENTS.add(i)
    ind = Indications(recs)
    renal = add_ids("R", derive_renal(recs, ind))
    labs = add_ids("L", LR.derive_lab_rules(recs, names_other_drug, citation_section, STATS))
    switching = add_ids("S", LR.derive_switching(recs, citation_section, STATS))
    hep = add_ids("H", derive_hepatic(recs))
    preg = add_ids("P", derive_pregnancy(recs))
    dose = add_ids("D", derive_doses(recs))
    tail = ["label_type", "setid", "corpus", "section", "quote"]
    write_tsv(os.path.join(a.out, "rules", "renal.tsv"),
              ["id", "ingredients", "measure", "comparator", "lo", "lo_incl", "hi", "hi_incl", "action", "severity",
               "indication", "phase"] + tail,
              renal)
    write_tsv(os.path.join(a.out, "rules", "lab_rules.tsv"),
              ["id", "ingredients", "lab", "direction", "statement", "comparator", "threshold", "unit",
               "severity"] + tail, labs)
    write_tsv(os.path.join(a.out, "rules", "switching.tsv"),
              ["id", "ingredient", "from", "lab", "comparator", "threshold"] + tail, switching)
    warf = LR.derive_warfarin_table(recs, citation_section)
    if len(warf) != 18:
        raise SystemExit("warfarin genotype table: expected 3 x 6 cells, got %d" % len(warf))
    write_tsv(os.path.join(a.out, "pgx", "warfarin_label_doses.tsv"),
              ["vkorc1", "cyp2c9", "low", "high", "unit", "per", "setid", "corpus", "section", "title",
               "header_line", "row_line"], warf)
    write_tsv(os.path.join(a.out, "pgx", "warfarin_cpic.tsv"), ["kind", "text", "url", "source"],
              LR.derive_warfarin_cpic(a.shared))
    write_tsv(os.path.join(a.out, "rules", "label_index.tsv"),
              ["ingredients", "corpus", "setid", "has_dosage", "mentions_renal", "sections"],
              LR.derive_label_index(recs, a.shared))
    write_tsv(os.path.join(a.out, "rules", "hepatic.tsv"),
              ["id", "ingredients", "kind", "grades", "lab", "comparator", "uln_multiple", "uln_text", "action",
               "severity"] + tail, hep)
    write_tsv(os.path.join(a.out, "rules", "pregnancy.tsv"),
              ["id", "ingredients", "population", "category", "action", "severity"] + tail, preg)
    write_tsv(os.path.join(a.out, "rules", "dose_limits.tsv"),
              ["id", "ingredient", "amount", "unit", "period", "form"] + tail, dose)
    write_tsv(os.path.join(a.out, "rules", "organ_impairment.tsv"),
              ["ingredient", "organ", "metric", "mild", "moderate", "severe", "esrd", "ref", "row"], derive_oi(a.shared))
    # the exact section texts quoted, so the quotes can be verified from the repository alone
    quoted = set()
    for rows, qcol in ((renal, -1), (hep, -1), (preg, -1), (dose, -1), (labs, -1), (switching, -1)):
        for r in rows:
            quoted.add((r[-4], r[-3], r[qcol]))
    by_label = {}
    for (setid, corpus, q) in quoted:
        by_label.setdefault((setid, corpus), set()).add(q)
    need = OrderedDict()   # the paragraph (one line of the section text) holding each quote
    for rec in recs:
        for q in sorted(by_label.get((rec["setid"], rec["corpus"]), ())):
            for para in rec["text"].split("\n"):
                if q in para:
                    need.setdefault((rec["corpus"], rec["setid"], para), (rec["section"], rec["code"], rec["file"]))
                    break
    lt = os.path.join(a.out, "rules", "label_excerpts.jsonl")
    with open(lt, "w", encoding="utf-8", newline="\n") as f:
        for (corpus, setid, para), (sec, code, src) in sorted(need.items()):
            f.write(json.dumps({"corpus": corpus, "setid": setid, "section": sec, "code": code,
                                "source_file": src, "paragraph": para}, ensure_ascii=False) + "\n")
    print("%-40s %6d paragraphs" % (os.path.relpath(lt), len(need)))
    hdr, dili = derive_dili(a.shared)
    write_tsv(os.path.join(a.out, "dili", "dilirank.tsv"),
              ["compound", "ltkbid", "concern", "severity_class", "label_section", "version", "row"], dili)
    write_tsv(os.path.join(a.out, "pgx", "cpic_pairs.tsv"), ["gene", "drug", "cpic_level", "guideline", "source"],
              derive_cpic_pairs(a.shared))
    write_tsv(os.path.join(a.out, "pgx", "cpic_recommendations.tsv"),
              ["drugs", "genes", "lookup_key", "population", "strength", "implications", "recommendation",
               "dosing_information", "alternate_drug", "guideline", "guideline_url", "file", "row"],
              derive_cpic_recs(a.shared))
    write_tsv(os.path.join(a.out, "pgx", "diplotype_phenotype.tsv"), ["gene", "diplotype", "phenotype", "activity_score"],
              derive_diplotypes(a.shared))
    for k in sorted(STATS):
        print("  %-40s %d" % (k, STATS[k]))


if __name__ == "__main__":
    main()
