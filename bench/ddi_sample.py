#!/usr/bin/env python3
"""ddi_sample.py — draw the hand-check sample of label-derived interaction rules.

  python3 bench/ddi_sample.py [--n 100] [--salt TEXT] [--exclude FILE] > /tmp/sample.tsv

Reads data/rules/label_ddi.tsv and prints N rule rows (kind 'rule') as TSV: the rows whose
SHA-1 of (label drug, other side, quote) is smallest — a sample that stays the same for rows
that a regeneration does not change. Columns: key (first 10 hex digits of the hash), label
drug, other side, tier, action, section, set id, quote, context. The reviewed copy with a
verdict per row is bench/ddi_hand_check.tsv (counts in its header and in the README).
--salt TEXT prefixes the hashed text, drawing a fresh sample (round 2: --salt round2, with
--exclude bench/ddi_hand_check.tsv leaving out the rows checked before, by label|other|quote);
its reviewed copy is bench/ddi_hand_check_round2.tsv.
"""
import argparse, hashlib, os

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--salt', default='')
    ap.add_argument('--exclude', default=None, help='a reviewed sample whose rows are left out')
    a = ap.parse_args()
    seen = set()
    if a.exclude:
        for line in open(a.exclude, encoding='utf-8'):
            c = line.rstrip('\n').split('\t')
            if len(c) > 9 and not line.startswith('#'):
                seen.add((c[3], c[4], c[9]))
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    with open(os.path.join(here, '..', 'data', 'rules', 'label_ddi.tsv'), encoding='utf-8') as f:
        for line in f:
            c = line.rstrip('\n').split('\t')
            if c[0] != 'rule':
                continue
            if (c[1], c[2], c[11]) in seen:
                continue
            h = hashlib.sha1(('%s%s|%s|%s' % (a.salt, c[1], c[2], c[11])).encode('utf-8')).hexdigest()
            rows.append((h, c))
    rows.sort(key=lambda r: r[0])
    print('key\tlabel_drug\tother\ttier\taction\tsection\tset_id\tquote\tcontext')
    for h, c in rows[:a.n]:
        print('\t'.join([h[:10], c[1], c[2], c[5], c[6], c[9], c[7], c[11], c[12]]))

if __name__ == '__main__':
    main()
