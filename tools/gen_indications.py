#!/usr/bin/env python3
"""gen_indications.py - the indication vocabulary in data/indications/, from sources only.

Writes (deterministic; regenerate, never edit by hand):
  data/indications/abbreviations.tsv  abbreviations that FDA label text defines itself, in the
      form "long form (ABBR)" ("community-acquired pneumonia (CAP)"), found with the
      Schwartz & Hearst (2003) rule: the ABBR's characters appear in order in the long form, the
      first one at the start of a word, and the long form has at most min(|ABBR| + 5, 2 |ABBR|)
      words. Each row: the label sentence (verbatim), its set id, section and corpus.
  data/indications/synonyms.tsv  condition synonyms from a named vocabulary: the MedDRA
      coding of the TAC 2017 ADR corpus (label text mention -> MedDRA Preferred Term and Lowest
      Level Term), one row per (term, PT); terms of one PT are synonyms.
  data/indications/excerpts.jsonl  the label paragraphs of quotes that the shipped corpus
      (data/labels) does not carry (e.g. Clinical Studies sections, dropped there for size),
      verbatim from ../shared, so every quote can be checked against shipped text.

Usage: python3 tools/gen_indications.py [--shared ../shared/data] [--out data]
Python 3 standard library only.
"""
import argparse
import collections
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labelcorpus  # noqa: E402

INDICATIONS = "34067-9"


# ---------------------------------------------------------------------------------------------
# Label text sources (every record: corpus, setid, code, section, text)
# ---------------------------------------------------------------------------------------------
def ars_records(shared):
    """fda-ars-100-labels: <DRUG>_<section>.txt, cited as fda-ars:<DRUG> (no set ids upstream)."""
    codes = {"adverse_reactions": "34084-4", "warnings_and_precautions": "43685-7",
             "boxed_warnings": "34066-1"}
    for p in sorted(glob.glob(os.path.join(shared, "fda-ars-100-labels", "txt", "*.txt"))):
        base = os.path.basename(p)[:-4]
        for suffix, code in codes.items():
            if base.endswith("_" + suffix):
                drug = base[: -len(suffix) - 1]
                with open(p, encoding="utf-8") as f:
                    yield {"corpus": "fdaars", "setid": "fda-ars:" + drug, "code": code,
                           "section": suffix.replace("_", " "), "text": f.read()}


def maastricht_records(shipped_labels):
    p = os.path.join(shipped_labels, "2023-dailymed-indications-maastricht",
                     "curation.indications.jsonl")
    with open(p, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield {"corpus": "maastricht", "setid": "dailymed-indications:%d" % d["line"],
                   "code": INDICATIONS, "section": "Indications & Usage", "text": d["text"]}


def all_label_records(shared, shipped_labels):
    for r in labelcorpus.all_records(shared):
        yield r
    yield from ars_records(shared)
    yield from maastricht_records(shipped_labels)


# ---------------------------------------------------------------------------------------------
# Shipped corpus: is a quote in data/labels? (whitespace folded, per set id)
# ---------------------------------------------------------------------------------------------
def fold(s):
    return " ".join(s.split())


def shipped_text(shipped_labels):
    """set id -> folded text of everything data/labels ships for it."""
    by = collections.defaultdict(list)
    for p in sorted(glob.glob(os.path.join(shipped_labels, "2014-nlm-ddi-corpus", "txt", "*.txt"))):
        with open(p, encoding="utf-8") as f:
            by[os.path.basename(p)[:-4]].append(f.read())
    for sub in ("2016-dailymed-ddi-labels-dbmi", "2021-spl-nsaids-metformin"):
        with open(os.path.join(shipped_labels, sub, "labels_sections.jsonl"), encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                for s in d["sections"]:
                    by[d.get("setid") or ""].append(s["text"])
    for p in sorted(glob.glob(os.path.join(shipped_labels, "2018-fda-ars-100-labels", "txt", "*.txt"))):
        drug = re.sub(r"_(adverse_reactions|warnings_and_precautions|boxed_warnings)$", "",
                      os.path.basename(p)[:-4])
        with open(p, encoding="utf-8") as f:
            by["fda-ars:" + drug].append(f.read())
    for r in maastricht_records(shipped_labels):
        by[r["setid"]].append(r["text"])
    return {k: fold("\n".join(v)) for k, v in by.items()}


# ---------------------------------------------------------------------------------------------
# Abbreviation definitions (Schwartz & Hearst 2003)
# ---------------------------------------------------------------------------------------------
PAREN = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9/\-]{1,9})\s*\)")
WORD = re.compile(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*")


def long_form(abbr, before):
    """The shortest long form ending just before '(' whose words spell abbr, or None."""
    words = list(WORD.finditer(before))
    if not words:
        return None
    letters = [c.lower() for c in abbr if c.isalnum()]
    limit = min(len(letters) + 5, len(letters) * 2)
    # take words from the right, at most limit of them
    for n in range(1, min(limit, len(words)) + 1):
        span = before[words[-n].start():]
        # the last word must end right before the parenthesis (only spaces between)
        if before[words[-1].end():].strip():
            return None
        text = span.lower()
        # Schwartz & Hearst: match abbreviation characters right to left; the first character
        # must start a word of the long form
        si = len(text) - 1
        ok = True
        for li in range(len(letters) - 1, -1, -1):
            c = letters[li]
            while si >= 0 and (text[si] != c or (li == 0 and si > 0 and text[si - 1].isalnum())):
                si -= 1
            if si < 0:
                ok = False
                break
            si -= 1
        if ok and text[0] == letters[0]:
            return before[words[-n].start():].strip()
    return None


def is_abbreviation(a):
    if not any(c.isupper() for c in a) or a.isdigit():
        return False
    letters = [c for c in a if c.isalpha()]
    return len(letters) >= 2 and len(a) <= 10


SENT_SPLIT = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z(\[])")


def folded_sentences(text):
    """Sentences of text with whitespace folded (line breaks inside a sentence become spaces);
    blank lines end a sentence. Quotes are compared whitespace-folded everywhere."""
    for block in re.split(r"\n\s*\n", text):
        b = fold(block)
        if b:
            yield from (s for s in SENT_SPLIT.split(b) if len(s) <= 1000)


def mine_abbreviations(records):
    """(abbr, expansion) -> list of (record, sentence)."""
    found = collections.defaultdict(list)
    for r in records:
        for sent in folded_sentences(r["text"]):
            for m in PAREN.finditer(sent):
                abbr = m.group(1)
                if len(abbr) > 2 and abbr.endswith("s") and abbr[:-1].isupper():
                    abbr = abbr[:-1]  # "UTIs": the plural of the abbreviation UTI
                if not is_abbreviation(abbr):
                    continue
                lf = long_form(abbr, sent[: m.start()])
                if not lf:
                    continue
                words = WORD.findall(lf)
                if not 1 <= len(words) <= 8 or lf.lower() == abbr.lower():
                    continue
                found[(abbr, " ".join(w.lower() for w in words))].append((r, sent))
    return found


def choose(rows, shipped):
    """Best citation: Indications sections first, then text the shipped corpus carries."""
    def key(rs):
        r, sent = rs
        in_ship = fold(sent) in shipped.get(r["setid"], "")
        return (r["code"] != INDICATIONS, not in_ship, r["corpus"], r["setid"], sent)
    return sorted(rows, key=key)[0]


# ---------------------------------------------------------------------------------------------
# MedDRA synonyms from the TAC 2017 ADR corpus coding
# ---------------------------------------------------------------------------------------------
def meddra_rows(shared):
    d = os.path.join(shared, "tac2017-adr-and-pediatric-onsides")
    rows = {}
    for name in ("demner-fushman-train-labels.json", "demner-fushman-test-labels.json"):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            for lab in json.load(f):
                for ae in lab["adverse_events"]:
                    mention, pt, pt_id, llt, llt_id = ae[:5]
                    if not mention or not pt or pt_id is None:
                        continue
                    pid = "%d" % int(pt_id)
                    for term, kind in ((mention, "mention"), (pt, "PT"), (llt, "LLT")):
                        if not term:
                            continue
                        t = " ".join(WORD.findall(term.lower()))
                        if len(t) < 3:
                            continue
                        k = (t, pid)
                        cite = "%s, %s: \"%s\" coded PT %s (%s), LLT %s" % (
                            name, lab["label_id"], mention, pt, pid, llt or "")
                        if k not in rows or (kind, cite) < rows[k][:2]:
                            rows[k] = (kind, cite, pt)
    return rows


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(here, "..", "data"))
    a = ap.parse_args()
    shipped_labels = os.path.join(a.out, "labels")
    outdir = os.path.join(a.out, "indications")
    os.makedirs(outdir, exist_ok=True)
    shipped = shipped_text(shipped_labels)

    found = mine_abbreviations(all_label_records(a.shared, shipped_labels))
    excerpts = {}
    rows = []
    for (abbr, exp), lst in sorted(found.items()):
        r, sent = choose(lst, shipped)
        in_ship = fold(sent) in shipped.get(r["setid"], "")
        if not in_ship:
            excerpts[(r["setid"], r["code"], sent)] = {"corpus": r["corpus"], "setid": r["setid"],
                                                       "section_code": r["code"], "text": sent}
        labels = len({x[0]["setid"] for x in lst})
        rows.append((abbr, exp, str(labels), r["setid"], r["code"], r["corpus"],
                     "shipped" if in_ship else "excerpt", sent.replace("\t", " ").replace("\n", " ")))
    with open(os.path.join(outdir, "abbreviations.tsv"), "w", encoding="utf-8") as f:
        f.write("abbr\texpansion\tlabels\tsetid\tsection_code\tcorpus\tquote_in\tquote\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    with open(os.path.join(outdir, "excerpts.jsonl"), "w", encoding="utf-8") as f:
        for k in sorted(excerpts):
            f.write(json.dumps(excerpts[k], ensure_ascii=False, sort_keys=True) + "\n")

    syn = meddra_rows(a.shared)
    groups = collections.defaultdict(set)
    for (t, pid) in syn:
        groups[pid].add(t)
    with open(os.path.join(outdir, "synonyms.tsv"), "w", encoding="utf-8") as f:
        f.write("term\tgroup\tpreferred_term\tkind\tsource\n")
        n = 0
        for (t, pid) in sorted(syn):
            if len(groups[pid]) < 2:
                continue  # a PT with one spelling adds no synonym
            kind, cite, pt = syn[(t, pid)]
            f.write("%s\tmeddra:%s\t%s\t%s\tTAC 2017 ADR corpus (MedDRA coding), %s\n" % (t, pid, pt, kind, cite))
            n += 1
    print("abbreviations: %d rows (%d quotes kept as excerpts); synonyms: %d rows in %d groups"
          % (len(rows), len(excerpts), n, sum(1 for g in groups.values() if len(g) > 1)))


if __name__ == "__main__":
    main()
