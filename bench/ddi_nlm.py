#!/usr/bin/env python3
"""ddi_nlm.py — precision and recall of openrx's label interaction extractor on the NLM DDI corpus.

  python3 bench/ddi_nlm.py [--openrx build/openrx] [--shared ../shared] [--show-errors N]

Dev set: the NLM "DDI in SPL" corpus (LHNCBC, 2014; ../shared/data/dailymed-nlm-ddi-corpus-2014):
182 FDA labels whose sentences carry annotated interaction pairs (<pair ddi="true">). The
unit of evaluation is a (label, sentence, precipitant) triple where the pair involves the
label's own drug (the label drug x precipitant pairs the checker needs); pairs between two other
drugs are counted and left out.

openrx side: `openrx rules ddi --from <shared>/.../txt` (the same label text, see
data/labels/SOURCE.md) writes every rule with its verbatim sentence. A predicted pair is the rule's
other side as written (other_text) and each ingredient of its example list. It matches a gold
pair when it comes from the same label and sentence (the gold sentence and the quote contain one
another, whitespace normalised) and the precipitant names agree: equal or one contains the other
(lower case, plural 's' dropped), or the lexicon resolves the gold text to the rule's ingredient.
Predicted pairs from sentences the corpus did not annotate are reported as unjudged.

Prints the table for the README: all rules, and rules at moderate or higher.
Reads ../shared only; writes only to a temp directory. Python 3 stdlib.
"""
import argparse, collections, io, os, re, subprocess, sys, tarfile, tempfile
import xml.etree.ElementTree as ET

TIERS = ['info', 'minor', 'moderate', 'major', 'contraindicated']


def norm(s):
    s = re.sub(r'\s+', ' ', (s or '').lower()).strip(' .,;:()[]')
    return s


def sing(s):
    w = norm(s)
    return w[:-1] if len(w) > 3 and w.endswith('s') and not w.endswith('ss') else w


def gold_pairs(shared):
    """{setid: {sentence_norm: set(precipitant texts)}}, sentence lists, skipped count."""
    tgz = os.path.join(shared, 'data/dailymed-nlm-ddi-corpus-2014/annotated_xml.tar.gz')
    gold, sents, skipped, total = {}, {}, 0, 0
    named = set()   # (setid, sentence) where an entity names the label drug
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            if not m.name.endswith('.xml'):
                continue
            root = ET.parse(tf.extractfile(m)).getroot()
            setid = root.get('setID')
            ld = root.find('labelDrug')
            gen = root.find('generic')
            names = set()
            for n in ((ld.get('name') if ld is not None else ''), (gen.get('name') if gen is not None else '')):
                n = norm(n)
                if n:
                    names.add(n)
                    names.update(w for w in n.split() if len(w) > 4)
            g = gold.setdefault(setid, {})
            sl = sents.setdefault(setid, [])
            for s in root.iter('sentence'):
                text = norm(s.get('text'))
                sl.append(text)
                ents = {e.get('id'): e for e in s.findall('entity') if e.get('text') is not None}
                for e in ents.values():
                    te = norm(e.get('text'))
                    if any(n == te or n in te.split() or te in names for n in names):
                        named.add((setid, text))
                for p in s.iter('pair'):
                    if p.get('ddi') != 'true':
                        continue
                    e1, e2 = ents.get(p.get('e1')), ents.get(p.get('e2'))
                    if e1 is None or e2 is None:
                        continue
                    t1, t2 = norm(e1.get('text')), norm(e2.get('text'))
                    l1 = any(n == t1 or n in t1.split() or t1 in names for n in names)
                    l2 = any(n == t2 or n in t2.split() or t2 in names for n in names)
                    total += 1
                    if l1 == l2:
                        skipped += 1
                        continue
                    g.setdefault(text, set()).add(e2.get('text') if l1 else e1.get('text'))
    return gold, sents, skipped, total, named


def run_openrx(openrx, shared, tmp):
    # absolute: the links below live in a temp directory (a relative --shared would dangle)
    txt = os.path.join(os.path.abspath(shared), 'data/dailymed-nlm-ddi-corpus-2014/txt')
    # the ingester needs names.tsv next to txt/ (label drug names); data/labels ships one
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.join(tmp, 'nlm')
    os.makedirs(os.path.join(d, 'txt'))
    for f in os.listdir(txt):
        os.symlink(os.path.join(txt, f), os.path.join(d, 'txt', f))
    names = os.path.join(here, '..', 'data', 'labels', '2014-nlm-ddi-corpus', 'names.tsv')
    with open(names, 'rb') as a, open(os.path.join(d, 'names.tsv'), 'wb') as b:
        b.write(a.read())
    out = os.path.join(tmp, 'nlm_rules.tsv')
    subprocess.run([openrx, 'rules', 'ddi', '--keep-repeats', '--from', d, '--out', out], check=True,
                   stdout=subprocess.DEVNULL)
    rows = []
    with open(out, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#'):
                continue
            c = line.rstrip('\n').split('\t')
            if c[0] != 'rule':
                continue
            unesc = lambda x: re.sub(r'\\([tnr\\])', lambda m: {'t': '\t', 'n': '\n', 'r': '\r', '\\': '\\'}[m.group(1)], x)
            rows.append({'other': c[2], 'other_text': c[3], 'examples': [e for e in c[4].split(';') if e],
                         'tier': c[5], 'set_id': c[7], 'quote': norm(unesc(c[11]))})
    return rows


def lexicon_map(openrx, texts):
    p = subprocess.run([openrx, 'lexicon', 'lookup', '--stdin'], input='\n'.join(texts) + '\n',
                       capture_output=True, text=True, check=True)
    out = {}
    for line in p.stdout.splitlines():
        t, _, ing = line.partition('\t')
        out[t] = set(x for x in ing.split(';') if x)
    return out


def squash(s):
    return re.sub(r'[^a-z0-9]', '', s.lower())


def find_sentence(sent_list, quote):
    """Annotated sentences that the quote contains or is part of (letters and digits only: the
    corpus XML drops the brackets of "[see ...]" that the label text has)."""
    q = squash(quote)
    for s in sent_list:
        k = squash(s)
        if k and (k == q or (len(k) > 20 and k in q) or (len(q) > 20 and q in k)):
            yield s


def names_agree(gtext, ptext):
    a, b = sing(gtext), sing(ptext)
    return bool(a) and bool(b) and (a == b or (len(a) > 3 and a in b) or (len(b) > 3 and b in a))


def evaluate(gold, sents, rows, lex, min_tier, named=None):
    """named: only predictions from sentences that name the label drug (the corpus annotates a
    pair only between two mentions of one sentence; 'Do not use with ARBs' names no label drug)."""
    tp = fp = unjudged = 0
    found = set()
    fps, judged_rows = [], 0
    for r in rows:
        if TIERS.index(r['tier']) < TIERS.index(min_tier):
            continue
        sl = sents.get(r['set_id'])
        if sl is None:
            continue
        hits = list(find_sentence(sl, r['quote']))
        if named is not None and hits:
            hits = [h for h in hits if (r['set_id'], h) in named]
            if not hits:
                continue
        preds = [('text', r['other_text'], r['other'])] + [('ingr', e, e) for e in r['examples']]
        if not hits:
            unjudged += len(preds)
            continue
        g = gold.get(r['set_id'], {})
        for kind, ptext, key in preds:
            ok = False
            for s in hits:
                for gt in g.get(s, ()):
                    if names_agree(gt, ptext) or key in lex.get(gt, set()):
                        found.add((r['set_id'], s, gt))
                        ok = True
            if ok:
                tp += 1
            else:
                fp += 1
                fps.append((r['set_id'], ptext, r['quote'][:160]))
    ngold = sum(len(v) for d in gold.values() for v in d.values())
    fn = [(sid, s, gt) for sid, d in gold.items() for s, v in d.items() for gt in v if (sid, s, gt) not in found]
    return tp, fp, unjudged, len(found), ngold, fps, fn


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--openrx', default=os.path.join(here, '..', 'build', 'openrx'))
    ap.add_argument('--shared', default=os.path.join(here, '..', '..', 'shared'))
    ap.add_argument('--show-errors', type=int, default=0)
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.shared, 'data/dailymed-nlm-ddi-corpus-2014')):
        sys.exit('ddi_nlm.py: %s/data/dailymed-nlm-ddi-corpus-2014 not found (pass --shared)' % a.shared)
    gold, sents, skipped, total, named = gold_pairs(a.shared)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_openrx(a.openrx, a.shared, tmp)
    texts = sorted({gt for d in gold.values() for v in d.values() for gt in v})
    lex = lexicon_map(a.openrx, texts)
    ngold = sum(len(v) for d in gold.values() for v in d.values())
    print('NLM DDI corpus: %d labels, %d annotated interaction pairs (%d between two other drugs left out), '
          '%d distinct (label, sentence, precipitant) gold pairs' % (len(sents), total, skipped, ngold))
    print()
    print('| rules | predicted pairs judged | precision | recall | F1 | precision where the sentence names the label drug | unjudged (sentence not annotated) |')
    print('|---|---|---|---|---|---|---|')
    for label, t in (('all tiers', 'minor'), ('moderate or higher', 'moderate'), ('major or higher', 'major')):
        tp, fp, unj, found, ng, fps, fn = evaluate(gold, sents, rows, lex, t)
        tp2, fp2, _, _, _, fps2, _ = evaluate(gold, sents, rows, lex, t, named)
        p = tp / (tp + fp) if tp + fp else 0.0
        p2 = tp2 / (tp2 + fp2) if tp2 + fp2 else 0.0
        r = found / ng if ng else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print('| %s | %d | %.3f | %.3f | %.3f | %.3f (%d) | %d |' % (label, tp + fp, p, r, f, p2, tp2 + fp2, unj))
        if t == 'minor':
            fps = fps2
        if a.show_errors and t == 'minor':
            print('\nfalse positives (sample):')
            for x in fps[:a.show_errors]:
                print('  FP', x)
            print('\nmissed gold pairs (sample):')
            for x in fn[:a.show_errors]:
                print('  FN', x[0][:8], '|', x[2], '|', x[1][:160])
            print()


if __name__ == '__main__':
    main()
