#!/usr/bin/env python3
"""indications_dev.py - the indication dev set, built from the labels' own indication text.

Reads a knowledge base built from data/labels (SQLite, Python stdlib) and writes
bench/indications_dev.tsv: one query per line with the labels that state it.

  1. Condition phrases are taken from the Indications & Usage sections themselves, by the
     sentence patterns labels use: "indicated for (the treatment|management|prevention|relief of)
     X", "indicated to reduce the risk of X", "indicated as an adjunct ... in (patients with) X".
     X is cut at the first comma, semicolon, "in adults/patients", "who", "due to", "caused by",
     "with", "(" and kept when it has 1-5 words and no digit-only word.
  2. A phrase's accepted labels are every label whose Indications & Usage text contains the phrase
     (case-insensitive, whole words, plural "s" allowed) in a sentence without "not indicated",
     "not recommended", "not been established", "limitations of use" before it.
  3. Phrases stated by 3-200 labels are ranked by label count; a phrase made only of words that
     say who or how ("adult patients", "mild", "relief of pain" kept: "pain" is a condition) is
     dropped; a phrase inside one already chosen (or containing it) is skipped; the first 60 are
     kept.
     The labels whose drug the knowledge base names (generic names resolved at build) are listed
     apart: an indication-only text whose drug no source names cannot be an option.
  4. Each phrase is asked twice: as written, and inside a whole clinical question made from a
     template (age, sex, a comorbidity, question words), chosen by the phrase's position.
  5. The next 40 phrases by label count (61-100, the same rules) are asked once each, only inside
     a long clinical question with common words (what a clinician types: the patient's other
     problems, current medicines, "blood pressure", "heart", "sugar"), kind "long".
No answer is picked by hand; rerunning gives the same file.

Usage: python3 bench/indications_dev.py KB.sqlite [OUT.tsv]
"""
import re
import sqlite3
import sys

IND = "34067-9"
PATTERNS = [
    r"indicated (?:for|in) (?:the )?(?:short-term |long-term |acute |chronic |symptomatic |adjunctive |initial |maintenance )?"
    r"(?:treatment|management|prevention|prophylaxis|relief|control|therapy)(?: and (?:treatment|prevention|prophylaxis|management))? of ([^.;:(]+)",
    r"indicated to (?:reduce the risk of|prevent|treat|improve) ([^.;:(]+)",
    r"indicated (?:for|in) (?:patients|adults) with ([^.;:(]+)",
    r"indicated as an adjunct[^.;:(]*? (?:in|for) (?:patients with |adults with )?([^.;:(]+)",
]
CUT = re.compile(r",| in (?:adult|patient|pediatric|children|women|men|people)| who | due to | caused by | with | when |"
                 r" associated | that | and (?:the|to|as) | or (?:the|to) | \[| as (?:an|a) | alone| in combination| following")
NEG = re.compile(r"not indicated|not recommended|not been established|limitations? of use|not been shown|should not", re.I)
LEAD = re.compile(r"^(?:the |patients with |adults with |adult patients with |moderate to severe |mild to moderate |"
                  r"signs and symptoms of |symptoms of |the signs and symptoms of )+")


def sections(db):
    """set id -> whole Indications & Usage text (chunks in order)."""
    out = {}
    for sid, text in db.execute(
            "SELECT d.set_id, c.text FROM chunks c JOIN docs d ON d.id = c.doc_id "
            "WHERE c.section_code = ? ORDER BY d.id, c.seq", (IND,)):
        out[sid] = out.get(sid, "") + "\n" + text
    return out


def phrases(text):
    found = set()
    for pat in PATTERNS:
        for m in re.finditer(pat, text, re.I):
            x = CUT.split(m.group(1).lower())[0]
            x = LEAD.sub("", " ".join(x.split())).strip(" -")
            words = x.split()
            x = x.replace("'", "")
            if 1 <= len(words) <= 5 and not any(w.isdigit() for w in words) and len(x) >= 4 and condition_like(x):
                found.add(x)
    return found


# words that say who or how, not what condition: a phrase made only of them is not a condition
GENERIC = set("""adult adults pediatric patient patients children child and or of the mild moderate severe
acute chronic relief treatment management use symptom symptoms complex signs tension adolescents
infants women men elderly with individuals intermittent local""".split())


def condition_like(p):
    return any(w not in GENERIC for w in re.findall(r"[a-z0-9']+", p))


def sentences(text):
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(\[])|\n+", text)


def states(text, phrase):
    pat = re.compile(r"\b" + r"\s+".join(re.escape(w) + "s?" for w in phrase.split()) + r"\b", re.I)
    for s in sentences(text):
        m = pat.search(s)
        if m and not NEG.search(s[: m.start()]) and not re.search(r"not been (?:established|shown|studied)", s, re.I):
            return True
    return False


TEMPLATES = [
    "{age}-year-old {sex} with {p}, what should I prescribe?",
    "What is the best drug to start for {p} in a {age} year old {sex} with chronic kidney disease?",
    "{sex_cap}, {age}, newly diagnosed {p}; on metformin; which medication is indicated?",
    "Recommend a treatment for {p} in an elderly {sex} who also has hypertension",
    "Which medicine would you use for {p}? The patient is a {age}-year-old {sex}.",
]

# long questions with common words and the patient's other problems (the "long" items)
LONG_TEMPLATES = [
    "I am seeing a {age}-year-old {sex} in clinic today; blood pressure is fine, kidney function is normal, "
    "no known drug allergies, and the main problem is {p}. What medicine would you start first and at what dose?",
    "{sex_cap} aged {age}, lives alone, drinks a little alcohol and takes aspirin for the heart; diagnosed with {p} "
    "last week. Which drug is indicated and what should I watch for?",
    "Please help me choose a therapy: {age} y/o {sex}, history of high cholesterol and low back pain, "
    "now has {p}. What are the options?",
    "Follow-up visit for a {age} year old {sex} with type 2 diabetes and obesity who now has {p}; "
    "what is the first choice of treatment given the blood sugar and weight?",
    "What can I give a {age}-year-old {sex} for {p} if the patient already takes several medicines for "
    "the heart and blood sugar, and has mild liver problems?",
]


def main():
    kb = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "bench/indications_dev.tsv"
    db = sqlite3.connect(kb)
    secs = sections(db)
    named = {r[0] for r in db.execute("SELECT set_id FROM docs WHERE generic_names <> ''")}
    cand = {}
    for sid, text in secs.items():
        for p in phrases(text):
            cand.setdefault(p, set()).add(sid)
    scored = []
    for p in sorted(cand):
        if len(cand[p]) < 2:
            continue
        acc = sorted(s for s, t in secs.items() if states(t, p))
        if 3 <= len(acc) <= 200:
            scored.append((-len(acc), p, acc))
    scored.sort()
    chosen = []
    for n, p, acc in scored:
        if any(p in q or q in p for q, _ in chosen):
            continue
        chosen.append((p, acc))
        if len(chosen) == 100:
            break
    with open(out, "w", encoding="utf-8") as f:
        f.write("# query\tkind\taccepted set ids (labels whose Indications & Usage states the phrase)\t"
                "the accepted labels whose drug the knowledge base names\n")
        f.write("# generated by bench/indications_dev.py from %s; %d phrases (60 as phrase + question, the rest as long questions)\n" % (kb.split("/")[-1], len(chosen)))
        for i, (p, acc) in enumerate(chosen):
            nm = ",".join(a for a in acc if a in named)
            age = 30 + (i * 7) % 55
            sex = "woman" if i % 2 else "man"
            if i >= 60:
                t = LONG_TEMPLATES[i % len(LONG_TEMPLATES)]
                q = t.format(p=p, age=age, sex=sex, sex_cap=sex.capitalize())
                f.write("%s\tlong\t%s\t%s\n" % (q, ",".join(acc), nm))
                continue
            f.write("%s\tphrase\t%s\t%s\n" % (p, ",".join(acc), nm))
            t = TEMPLATES[i % len(TEMPLATES)]
            q = t.format(p=p, age=age, sex=sex, sex_cap=sex.capitalize())
            f.write("%s\tquestion\t%s\t%s\n" % (q, ",".join(acc), nm))
    print("%d phrases (%d queries) -> %s" % (len(chosen), 2 * min(60, len(chosen)) + max(0, len(chosen) - 60), out))


if __name__ == "__main__":
    main()
