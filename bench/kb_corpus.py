#!/usr/bin/env python3
"""Regenerate data/labels/ (the default knowledge-base corpus) from ../shared/data.

All label text is US FDA Structured Product Labeling (public domain). Transformations (documented
in data/labels/SOURCE.md): the two labels_sections.jsonl files are copied line by line keeping only
clinically used sections (Medication Guides, patient package inserts, clinical studies, nonclinical
toxicology, animal pharmacology, references, package-label and product-data sections are dropped to
keep the repository small) and the trailing page-chrome word "Close" of the dbmi HTML renderings is
removed; text files are copied unchanged. Folders carry the snapshot year first so that directory
order is oldest -> newest (a duplicate set id without version/date keeps the later copy).

Usage: bench/kb_corpus.py [SHARED_DATA_DIR] [OUT_DIR]
"""
import json, os, re, shutil, sys

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', '..', 'shared', 'data')
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, '..', 'data', 'labels')
DROP = {'42231-1', '42230-3', '34092-7', '43680-8', '34091-9', '34093-5', '51945-4', '48780-1',
        '88436-1'}

def jsonl(src, dst, strip_close):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(src, encoding='utf-8') as f, open(dst, 'w', encoding='utf-8') as o:
        for line in f:
            d = json.loads(line)
            secs = []
            for s in d['sections']:
                if s.get('section_code') in DROP:
                    continue
                s.pop('subsections', None)
                if strip_close:
                    s['text'] = re.sub(r'\s*\bClose\s*$', '', s['text'])
                secs.append(s)
            d['sections'] = secs
            o.write(json.dumps(d, ensure_ascii=False) + '\n')

def copydir(src, dst, pattern=None):
    os.makedirs(dst, exist_ok=True)
    for n in sorted(os.listdir(src)):
        if pattern is None or re.search(pattern, n):
            shutil.copyfile(os.path.join(src, n), os.path.join(dst, n))

keep = None  # SOURCE.md is written by hand: kept across regenerations
if os.path.isdir(out):
    if os.path.exists(os.path.join(out, 'SOURCE.md')):
        keep = open(os.path.join(out, 'SOURCE.md'), encoding='utf-8').read()
    shutil.rmtree(out)
os.makedirs(out)
if keep is not None:
    with open(os.path.join(out, 'SOURCE.md'), 'w', encoding='utf-8') as f:
        f.write(keep)
D = lambda *p: os.path.join(data, *p)
O = lambda *p: os.path.join(out, *p)
copydir(D('dailymed-nlm-ddi-corpus-2014', 'txt'), O('2014-nlm-ddi-corpus', 'txt'), r'\.txt$')
shutil.copyfile(D('dailymed-nlm-ddi-corpus-2014', 'SOURCE.txt'), O('2014-nlm-ddi-corpus', 'SOURCE.txt'))
# label drug names per set id from the corpus annotations (many txt files have no title line)
import tarfile
with tarfile.open(D('dailymed-nlm-ddi-corpus-2014', 'annotated_xml.tar.gz')) as tf, \
        open(O('2014-nlm-ddi-corpus', 'names.tsv'), 'w', encoding='utf-8') as o:
    o.write('# set_id\tlabel_drug\tgeneric  (from annotated_xml.tar.gz: labelDrug/@name, generic/@name)\n')
    rows = []
    for m in tf.getmembers():
        if m.isfile() and m.name.endswith('.xml'):
            x = tf.extractfile(m).read().decode('utf-8')
            sid = re.search(r'setID="([^"]+)"', x).group(1)
            ld = re.search(r'<labelDrug name="([^"]*)"', x)
            g = re.search(r'<generic name="([^"]*)"', x)
            rows.append((sid, ld.group(1) if ld else '', g.group(1) if g else ''))
    for r in sorted(rows):
        o.write('\t'.join(r) + '\n')
jsonl(D('dailymed-ddi-labels-dbmi-annotator', 'labels_sections.jsonl'),
      O('2016-dailymed-ddi-labels-dbmi', 'labels_sections.jsonl'), True)
shutil.copyfile(D('dailymed-ddi-labels-dbmi-annotator', 'SOURCE.txt'), O('2016-dailymed-ddi-labels-dbmi', 'SOURCE.txt'))
copydir(D('fda-ars-100-labels', 'txt'), O('2018-fda-ars-100-labels', 'txt'), r'\.txt$')
shutil.copyfile(D('fda-ars-100-labels', 'SOURCE.txt'), O('2018-fda-ars-100-labels', 'SOURCE.txt'))
jsonl(D('spl-xml-nsaids-metformin-fdalabel', 'labels_sections.jsonl'),
      O('2021-spl-nsaids-metformin', 'labels_sections.jsonl'), False)
shutil.copyfile(D('spl-xml-nsaids-metformin-fdalabel', 'SOURCE.txt'), O('2021-spl-nsaids-metformin', 'SOURCE.txt'))
copydir(D('openfda-spl-samples'), O('2024-openfda-spl-xml'), r'^(lipitor-orig|cough)\.xml$')
# TAC 2017 ADR corpus, test half (the train half is the fda-ars set above): the boxed-warning and
# warnings-and-precautions texts, one file per label section in the fda-ars layout
# <LABEL>_<section>.txt (adverse-reaction sections left out to keep the repository small)
tac = json.load(open(D('tac2017-adr-and-pediatric-onsides', 'demner-fushman-test-labels.json'), encoding='utf-8'))
os.makedirs(O('2018-tac2017-test-labels', 'txt'))
for x in sorted(tac, key=lambda x: (x['label_id'], x['section_name'])):
    if x['section_name'] not in ('boxed warnings', 'warnings and precautions'):
        continue
    name = '%s_%s.txt' % (x['label_id'], x['section_name'].replace(' ', '_'))
    with open(O('2018-tac2017-test-labels', 'txt', name), 'w', encoding='utf-8') as f:
        f.write(x['section_text'])
for n in ('SOURCE.txt', 'LICENSE_onsides_MIT.txt'):
    shutil.copyfile(D('tac2017-adr-and-pediatric-onsides', n), O('2018-tac2017-test-labels', n))
shutil.copyfile(D('openfda-spl-samples', 'SOURCE.txt'), O('2024-openfda-spl-xml', 'SOURCE.txt'))
# DailyMed "Indications & Usage" texts (MaastrichtU-IDS/extract-dailymed-spl, MIT; label text public
# domain): no set id or drug field upstream. Written as one JSON object per distinct text,
# {"line": N, "text": T}, N = the 1-based line of its first occurrence in the upstream
# curation.jsonl (the citation); exact duplicate texts (same text on several lines) are left out.
# `openrx kb build` reads *.indications.jsonl files as indication-only documents and resolves each
# text's drug with the drug-name lexicon.
MA = 'dailymed-indications-maastricht'
os.makedirs(O('2023-' + MA))
seen = set()
with open(D(MA, 'indications_curation.jsonl'), encoding='utf-8') as f, \
        open(O('2023-' + MA, 'curation.indications.jsonl'), 'w', encoding='utf-8') as o:
    for n, line in enumerate(f, 1):
        t = json.loads(line)['text']
        if t in seen:
            continue
        seen.add(t)
        o.write(json.dumps({'line': n, 'text': t}, ensure_ascii=False) + '\n')
for n in ('SOURCE.txt', 'LICENSE_MIT.txt', 'README_upstream.md'):
    shutil.copyfile(D(MA, n), O('2023-' + MA, n))
