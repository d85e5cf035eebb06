"""labelcorpus.py - read the three public-domain FDA label corpora in ../shared/data as one stream.

Used by tools/derive_safety_rules.py. Python 3 standard library only.

Each yielded record is a dict:
  corpus       short corpus id ("nlm2014", "dbmi2016", "splnsaid")
  setid        SPL set id (the corpus file name / field)
  title        label title as the corpus gives it
  ingredients  list of lower-case ingredient names (salts stripped; see strip_salt)
  label_type   "Rx" / "OTC" / "" (unknown)
  section      section name used in citations (LOINC name or plain-text heading)
  code         LOINC section code ("" for the plain-text corpus)
  text         the section text exactly as stored in the corpus (never edited)
"""
import glob
import json
import os
import re

# Words that name a salt / hydrate / ester form rather than the active moiety. Used only to turn a
# label's product title into the ingredient name that the lexicon matches on; no clinical meaning.
SALT_WORDS = {
    "hydrochloride", "hydrocloride", "hcl", "dihydrochloride", "besylate", "bisulfate", "sodium",
    "potassium", "calcium", "magnesium", "mesylate", "maleate", "succinate", "tartrate", "fumarate",
    "hemifumarate", "medoxomil", "cilexetil", "oxalate", "hydrobromide", "sulfate", "citrate",
    "acetate", "anhydrous", "hemihydrate", "monohydrate", "dihydrate", "trihydrate", "sesquihydrate",
    "dipropionate", "propionate", "phosphate", "bromide", "besilate", "camsylate", "tosylate", "axetil", "pivoxil",
    "olamine", "trometamol", "tromethamine", "meglumine", "hyclate", "disodium", "dipotassium",
    "monosodium", "erbumine", "arginine", "lysine", "mofetil", "etexilate", "alafenamide",
    "disoproxil", "extended", "release", "bitartrate", "kamedoxomil", "pamoate", "lactate", "decanoate", "oral",
}
KEEP_WHOLE = {"sodium chloride", "potassium chloride", "calcium chloride", "magnesium chloride",
              "sodium bicarbonate", "calcium carbonate", "valproic acid", "mycophenolic acid",
              "acetylsalicylic acid", "folic acid", "ethacrynic acid", "tranexamic acid",
              "aminocaproic acid", "fusidic acid", "zoledronic acid", "ibandronic acid"}
DOSE_FORM = re.compile(r"\b(tablets?|capsules?|injection|solution|suspension|kit|patch|powder|"
                       r"granules?|syrup|elixir|liquid|cream|gel|ointment|spray|concentrate|"
                       r"emulsion|lotion|film|suppository|aerosol|inhalant|lozenge)\b", re.I)


def strip_salt(name):
    """'clopidogrel bisulfate' -> 'clopidogrel'; keeps names that are only salt words."""
    n = re.sub(r"\s+", " ", name.strip().lower())
    n = n.strip(" .,;:-")
    if n in KEEP_WHOLE:
        return n
    words = [w for w in re.split(r"[\s]+", n) if w]
    kept = [w for w in words if w not in SALT_WORDS]
    if not kept:
        return n
    return " ".join(kept)


def split_ingredients(s):
    f = DOSE_FORM.search(s)
    if f:
        s = s[:f.start()]
    parts = re.split(r"\s+and\s+|,\s*|\s*/\s*|\s+-\s*|-(?=hydrochlorothiazide)", s, flags=re.I)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        ing = strip_salt(p)
        if ing and ing not in out and re.search(r"[a-z]", ing):
            out.append(ing)
    return out


# ---------------------------------------------------------------------------------------------
# NLM DDI corpus 2014: plain text, headings as lines
# ---------------------------------------------------------------------------------------------
HEAD_RE = re.compile(r"^(\d+(\.\d+)*\s+[A-Z][^\n]{0,80}|[A-Z][A-Z0-9 &/,()'-]{3,80})$")


def _nlm_ingredients(first, text):
    m = re.search(r"containing (.*?)\.?\s*$", first)
    if m:
        return split_ingredients(m.group(1))
    m = re.search(r"\(([^()]*)\)", first)
    if m:
        return split_ingredients(m.group(1))
    m = DOSE_FORM.search(first)
    if m:
        return split_ingredients(first[:m.start()])
    if re.search(r"SECTION|DESCRIPTION|INDICATIONS|BOXED", first):
        # title line missing (file starts at a section): use the first "NAME (generic)" line
        m = re.search(r"^[A-Z][A-Za-z0-9 ®-]{1,40}\s*\(([a-z][a-z ,-]+)\)", text[:4000], re.M)
        return split_ingredients(m.group(1)) if m else []
    return split_ingredients(first.rstrip(". "))


def nlm_records(shared):
    d = os.path.join(shared, "dailymed-nlm-ddi-corpus-2014", "txt")
    for path in sorted(glob.glob(os.path.join(d, "*.txt"))):
        setid = os.path.basename(path)[:-4]
        with open(path, encoding="utf-8", errors="strict") as f:
            text = f.read()
        lines = text.split("\n")
        first = next((ln.strip() for ln in lines if ln.strip()), "")
        ings = _nlm_ingredients(first, text)
        # Split into sections at heading lines; each record's text is the exact slice of the file.
        heads = []
        pos = 0
        for ln in lines:
            s = ln.strip()
            if s and s != first and HEAD_RE.match(s) and len(s) < 90:
                heads.append((pos, s))
            pos += len(ln) + 1
        heads.append((len(text), None))
        for i in range(len(heads) - 1):
            start, name = heads[i]
            yield {"corpus": "nlm2014", "setid": setid, "title": first, "ingredients": ings,
                   "label_type": "Rx", "section": name, "code": "",
                   "text": text[start:heads[i + 1][0]],
                   "file": "dailymed-nlm-ddi-corpus-2014/txt/%s.txt" % setid}


# ---------------------------------------------------------------------------------------------
# JSONL corpora (dbmi-annotator 2016 DailyMed pages, SPL NSAID/metformin subset)
# ---------------------------------------------------------------------------------------------
def _dbmi_ingredients(name):
    p = re.search(r"\(([^()]*)\)", name)
    if p:
        return split_ingredients(p.group(1))
    m = re.search(r"-\s*(?=[a-z])", name)   # "BRAND NAME- generic salt form ..."
    rest = name[m.end():] if m else name
    f = DOSE_FORM.search(rest)
    if f:
        rest = rest[:f.start()]
    return split_ingredients(rest)


def dbmi_records(shared):
    p = os.path.join(shared, "dailymed-ddi-labels-dbmi-annotator", "labels_sections.jsonl")
    with open(p, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if not d.get("setid"):
                continue  # archive page without a set id: nothing to cite
            ings = _dbmi_ingredients(d.get("label_name", ""))
            for sec in d["sections"]:
                yield {"corpus": "dbmi2016", "setid": d["setid"], "title": d.get("label_name", ""),
                       "ingredients": ings, "label_type": "Rx",
                       "section": sec.get("section_name") or sec.get("section_title", ""),
                       "code": sec.get("section_code", ""), "text": sec["text"],
                       "file": "dailymed-ddi-labels-dbmi-annotator/labels_sections.jsonl"}


def spl_records(shared):
    p = os.path.join(shared, "spl-xml-nsaids-metformin-fdalabel", "labels_sections.jsonl")
    with open(p, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ings = []
            gn = " ".join(d.get("generic_names") or []).lower()
            for m in d.get("active_moieties") or []:
                # moieties not named in the generic names are excipient artefacts of kits
                for i in split_ingredients(m):
                    if i not in ings and (not gn or i.split()[0] in gn):
                        ings.append(i)
            lt = "OTC" if "OTC" in d.get("doc_type", "") else ("Rx" if "PRESCRIPTION" in d.get("doc_type", "") else "")
            for sec in d["sections"]:
                yield {"corpus": "splnsaid", "setid": d["setid"], "title": d.get("title", ""),
                       "ingredients": ings, "label_type": lt,
                       "section": sec.get("section_name") or sec.get("section_title", ""),
                       "code": sec.get("section_code", ""), "text": sec["text"],
                       "file": "spl-xml-nsaids-metformin-fdalabel/labels_sections.jsonl"}


def all_records(shared):
    yield from nlm_records(shared)
    yield from dbmi_records(shared)
    yield from spl_records(shared)


# ---------------------------------------------------------------------------------------------
# Sentences: exact substrings of the section text (so quotes stay verbatim)
# ---------------------------------------------------------------------------------------------
SENT_SPLIT = re.compile(r"(?<=[.;:])\s+(?=[A-Z(\[•])")


def _is_heading_block(b):
    flat = " ".join(b.split())
    if re.match(r"^\d+(\.\d+)+\s+\S", flat) and len(flat) < 150:
        return True
    # up to 30 words: "Treatment of Deep Vein Thrombosis (DVT), Pulmonary Embolism (PE), and
    # Reduction in the Risk of Recurrence of DVT and of PE" (21 words) is a heading
    return (len(flat) < 150 and not flat.endswith((".", ",", ";")) and flat[:1].isupper()
            and len(flat.split()) <= 30 and not re.search(r"\d\s*(mg|mL|%)", flat))


def _is_heading_line(line):
    """A single line that reads as a heading inside a block (DailyMed renderings put sub-headings
    on their own line without a blank line around them): short, no closing punctuation, no
    verb of a sentence, no dose."""
    flat = " ".join(line.split())
    if not flat or len(flat) >= 150 or flat.endswith((".", ",", ";", ":")) or not flat[:1].isupper():
        return False
    if len(flat.split()) < 2 or len(flat.split()) > 30 or flat.startswith(("|", "●", "•")):
        return False
    if re.search(r"\d\s*(mg|mL|%)|\b(is|are|was|were|should|may|can|must|will)\b", flat):
        return False
    return True


def sentences(text):
    """Yield (sentence, heading, block) for each sentence of text.

    sentence: an exact substring of text (never crosses a line break, so it stays verbatim);
    heading: the nearest preceding heading-like block (blank-line separated, whitespace folded);
    block: the blank-line separated block the sentence is in (whitespace folded), for context.
    """
    for s, heading, block, _sub in sentences_ctx(text):
        yield s, heading, block


def sentences_ctx(text):
    """Like sentences(), plus subhead: the nearest preceding heading line or heading block in
    this text (a line-level heading inside a block counts: "Treatment of Deep Venous Thrombosis
    and Pulmonary Embolism" directly above its paragraph)."""
    heading = ""
    sub = ""
    for b in re.split(r"\n\s*\n", text):
        if not b.strip():
            continue
        block = " ".join(b.split())
        is_head = _is_heading_block(b) and block.lower() not in ("close", "top")
        if is_head:
            sub = block
        for para in b.split("\n"):
            p = para.strip()
            if not p:
                continue
            line_head = not is_head and _is_heading_line(p) and p.lower() not in ("close", "top")
            for s in SENT_SPLIT.split(p):
                s = s.strip()
                if 20 <= len(s) <= 600 and "\t" not in s and re.match(r"[A-Z0-9(\[•<]", s):
                    yield s, heading, block, sub
            if line_head:  # a heading line titles what follows it (it is still yielded above,
                sub = " ".join(p.split())  # as before: "Pregnancy Category D" is a statement)
        if is_head:
            heading = block
