#!/usr/bin/env python3
"""ddi_ansm.py — coverage of openrx's interaction checks on a graded source it was not built from.

  python3 bench/ddi_ansm.py [--openrx build/openrx] [--shared ../shared] [--list-missed N]

DEV SET ONLY: the ANSM "Thesaurus des interactions medicamenteuses" rows of
../shared/data/pddi-public-merged (pddi_open_subset_ONC_NDFRT_ANSM.tsv.gz, sources FrenchDB and
World-Vista = the WorldVistA English translation). Its licence for redistribution is unclear, so
it is NOT shipped and NOT used to build any rule (data/interactions/SOURCE.md); this script only
measures. Levels: contre-indication (CI) and association deconseillee (AD) = major; precaution
d'emploi (PE) = moderate; a prendre en compte (PC) = minor. A pair with rows of several levels
takes the highest.

Pairs are restricted to common medicines: the ingredients of the active medicines of the Synthea
patients in ../shared (as the lexicon resolves them) plus the essential medicines listed below in
EML (names as written in the WHO Model List of Essential Medicines, 23rd list, 2023, core and
complementary lists; a selection of widely used medicines from its sections, not the whole list).

Each pair (ingredient names from DrugBank ids via the DrugBank open vocabulary and the lexicon)
is checked with `openrx rules pairs` (interaction + duplicate checks, all shipped sources: ONC
lists, VA NDF-RT, HL7 PDDI-CDS, label-derived rules). Prints coverage per ANSM level.
"""
import argparse, collections, csv, glob, gzip, io, json, os, subprocess, sys, tempfile

TIERS = ['none', 'info', 'minor', 'moderate', 'major', 'contraindicated']
LEVEL = {'CI': 'major', 'AD': 'major', 'PE': 'moderate', 'PC': 'minor'}
RANK = {'minor': 1, 'moderate': 2, 'major': 3}

# WHO Model List of Essential Medicines, 23rd list (2023): a selection of widely used medicines.
EML = """
acetylsalicylic acid; ibuprofen; paracetamol; morphine; codeine; fentanyl; hydromorphone; oxycodone;
methadone; loratadine; dexamethasone; epinephrine; hydrocortisone; prednisolone; naloxone;
acetylcysteine; carbamazepine; diazepam; lamotrigine; lorazepam; phenobarbital; phenytoin;
valproic acid; levetiracetam; midazolam; albendazole; amoxicillin; ampicillin; benzylpenicillin;
phenoxymethylpenicillin; cefalexin; cefazolin; ceftriaxone; cloxacillin; azithromycin;
clarithromycin; ciprofloxacin; doxycycline; gentamicin; metronidazole; nitrofurantoin;
sulfamethoxazole; trimethoprim; vancomycin; linezolid; clindamycin; isoniazid; rifampicin;
pyrazinamide; ethambutol; bedaquiline; fluconazole; itraconazole; voriconazole; nystatin;
aciclovir; efavirenz; lamivudine; tenofovir disoproxil fumarate; dolutegravir; ritonavir;
lopinavir; atazanavir; darunavir; zidovudine; nevirapine; artemether; lumefantrine; chloroquine;
quinine; primaquine; mefloquine; oseltamivir; sofosbuvir; methotrexate; azathioprine; ciclosporin;
tacrolimus; tamoxifen; cyclophosphamide; capecitabine; imatinib; levodopa; carbidopa; biperiden;
warfarin; heparin sodium; enoxaparin; dabigatran; apixaban; rivaroxaban; edoxaban; ferrous sulfate;
folic acid; phytomenadione; tranexamic acid; clopidogrel; amlodipine; atenolol; bisoprolol;
metoprolol; carvedilol; enalapril; lisinopril; losartan; hydrochlorothiazide; furosemide;
spironolactone; amiloride; digoxin; amiodarone; verapamil; glyceryl trinitrate; isosorbide
dinitrate; hydralazine; methyldopa; simvastatin; atorvastatin; omeprazole; metoclopramide;
ondansetron; loperamide; insulin (soluble); metformin; gliclazide; glibenclamide; empagliflozin;
levothyroxine; fludrocortisone; levonorgestrel; ethinylestradiol; medroxyprogesterone acetate;
haloperidol; chlorpromazine; fluphenazine; risperidone; olanzapine; quetiapine; clozapine;
amitriptyline; fluoxetine; lithium carbonate; clomipramine; buprenorphine; nicotine; salbutamol;
budesonide; beclometasone; ipratropium bromide; tiotropium; allopurinol
"""


def eml_names():
    return [x.strip() for x in EML.replace('\n', ' ').split(';') if x.strip()]


def lookup(openrx, texts):
    p = subprocess.run([openrx, 'lexicon', 'lookup', '--stdin'], input='\n'.join(texts) + '\n',
                       capture_output=True, text=True, check=True)
    out = {}
    for line in p.stdout.splitlines():
        t, _, ing = line.partition('\t')
        out[t] = [x for x in ing.split(';') if x]
    return out


def synthea_texts(shared):
    texts = set()
    for f in glob.glob(os.path.join(shared, 'data/synthea-r4-smart-sample/bundles/*.json')):
        if os.path.getsize(f) == 0:
            continue
        for e in json.load(open(f)).get('entry', []):
            r = e.get('resource', {})
            if r.get('resourceType') in ('MedicationRequest', 'MedicationStatement'):
                cc = r.get('medicationCodeableConcept', {})
                t = cc.get('text') or (cc.get('coding') or [{}])[0].get('display')
                if t:
                    texts.add(t)
    return sorted(texts)


def wv_level(sev):
    s = sev.lower()
    if 'contraindication' in s and 'recommended' in s:
        return None   # mixed cells ("Contraindication - Not recommended - Precaution for use")
    if 'contra' in s or 'c0ntra' in s:
        return 'CI'
    if 'recom' in s:
        return 'AD'
    if 'precaution' in s:
        return 'PE'
    if 'into account' in s:
        return 'PC'
    return None


def ansm_pairs(shared, db_name):
    rows = []
    path = os.path.join(shared, 'data/pddi-public-merged/pddi_open_subset_ONC_NDFRT_ANSM.tsv.gz')
    for r in csv.DictReader(io.TextIOWrapper(gzip.open(path), encoding='utf-8'), delimiter='\t'):
        if r['source'] == 'FrenchDB':
            lv = r['severity'] if r['severity'] in LEVEL else None
        elif r['source'] == 'World-Vista':
            # rows whose note reads "--with X" are a class-pair rule that holds only together with a
            # third drug X (e.g. "CNS depressants + sodium oxybate"), expanded into pairs of the
            # class by the merged dataset: not a pair-level grade, left out
            if (r['label_or_description'] or '').startswith('--with'):
                continue
            lv = wv_level(r['severity'])
        else:
            continue
        a, b = db_name.get(r['drug1_drugbank']), db_name.get(r['drug2_drugbank'])
        if lv and a and b:
            rows.append((a, b, lv, r['source']))
    return rows


def lexicon_classes(names):
    """{class name: set of ingredients} from the shipped lexicon's FDA EPC rows."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = {n: set() for n in names}
    for line in open(os.path.join(here, '..', 'data', 'lexicon', 'lexicon.tsv'), encoding='utf-8'):
        c = line.rstrip('\n').split('\t')
        if c[0] == 'C' and c[1] in out and c[4] == 'EPC':
            out[c[1]].add(c[2])
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--openrx', default=os.path.join(here, '..', 'build', 'openrx'))
    ap.add_argument('--shared', default=os.path.join(here, '..', '..', 'shared'))
    ap.add_argument('--list-missed', type=int, default=0)
    ap.add_argument('--list-minor-major', type=int, default=0)
    ap.add_argument('--data', default=None, help='data dir for the checker (default: the source tree)')
    ap.add_argument('--dump', default=None, help='write every pair (A, B, ANSM level, openrx tier, source) as TSV')
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.shared, 'data/pddi-public-merged')):
        sys.exit('ddi_ansm.py: %s/data/pddi-public-merged not found (pass --shared)' % a.shared)
    db_name = {}
    for r in csv.DictReader(open(os.path.join(a.shared, 'data/drugbank-open-vocabulary/drugbank_vocabulary.csv'), encoding='utf-8')):
        db_name[r['DrugBank ID']] = r['Common name']
    syn = synthea_texts(a.shared)
    eml = eml_names()
    rows = ansm_pairs(a.shared, db_name)
    names = sorted({x for r in rows for x in r[:2]})
    lex = lookup(a.openrx, syn + eml + names)
    common = set()
    for t in syn + eml:
        common.update(lex.get(t, []))
    pairs = {}
    for x, y, lv, src in rows:
        ix, iy = lex.get(x, []), lex.get(y, [])
        if len(ix) != 1 or len(iy) != 1 or ix[0] == iy[0]:
            continue
        if ix[0] not in common or iy[0] not in common:
            continue
        k = tuple(sorted((ix[0], iy[0])))
        lvl = LEVEL[lv]
        if k not in pairs or RANK[lvl] > RANK[pairs[k]]:
            pairs[k] = lvl
    with tempfile.NamedTemporaryFile('w', suffix='.tsv', delete=False) as f:
        for (x, y) in sorted(pairs):
            f.write('%s\t%s\n' % (x, y))
        pf = f.name
    try:
        p = subprocess.run([a.openrx, 'rules', 'pairs', pf] + (['--data', a.data] if a.data else []),
                           capture_output=True, text=True, check=True)
    finally:
        os.unlink(pf)
    got = {}
    for line in p.stdout.splitlines():
        c = line.split('\t')
        got[tuple(sorted((c[0], c[1])))] = (c[2], c[4] if len(c) > 4 else '')
    if a.dump:
        with open(a.dump, 'w', encoding='utf-8') as f:
            for k in sorted(pairs):
                t, src = got.get(k, ('none', ''))
                f.write('%s\t%s\t%s\t%s\t%s\n' % (k[0], k[1], pairs[k], t, src))
    print('Common medicines: %d ingredients (%d Synthea medicine texts, %d EML names); ANSM pairs among them: %d'
          % (len(common), len(syn), len(eml), len(pairs)))
    print()
    labelled = set()
    here2 = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'rules', 'label_ddi.tsv')
    for line in open(here2, encoding='utf-8'):
        c = line.split('\t')
        if c[0] == 'rule' and not c[1].startswith('class:'):
            labelled.update(c[1].split(';'))
    print('| ANSM level | pairs | flagged major or higher | moderate or higher | any finding | raised to major or higher | pairs with a label for either drug: major+ / moderate+ |')
    print('|---|---|---|---|---|---|---|')
    for lvl in ('major', 'moderate', 'minor'):
        ks = [k for k, v in pairs.items() if v == lvl]
        n = len(ks)
        if not n:
            continue
        tiers = [got.get(k, ('none', ''))[0] for k in ks]
        ge = lambda t, m: t in TIERS and TIERS.index(t) >= TIERS.index(m)
        maj = sum(ge(t, 'major') for t in tiers)
        mod = sum(ge(t, 'moderate') for t in tiers)
        anyf = sum(ge(t, 'info') for t in tiers)
        lk = [k for k in ks if k[0] in labelled or k[1] in labelled]
        lt = [got.get(k, ('none', ''))[0] for k in lk]
        lmaj = sum(ge(t, 'major') for t in lt)
        lmod = sum(ge(t, 'moderate') for t in lt)
        print('| %s (%s) | %d | %.1f %% (%d) | %.1f %% (%d) | %.1f %% (%d) | %s | %d pairs: %.1f %% / %.1f %% |' % (
            lvl, {'major': 'CI + AD', 'moderate': 'PE', 'minor': 'PC'}[lvl], n, 100.0 * maj / n, maj,
            100.0 * mod / n, mod, 100.0 * anyf / n, anyf, '%.1f %% (%d)' % (100.0 * maj / n, maj) if lvl == 'minor' else '-',
            len(lk), 100.0 * lmaj / max(len(lk), 1), 100.0 * lmod / max(len(lk), 1)))
        if lvl == 'major' and a.list_missed:
            miss = [k for k in ks if not ge(got.get(k, ('none', ''))[0], 'moderate')]
            print('\nmajor pairs not flagged moderate or higher (sample):')
            for k in miss[:a.list_missed]:
                print('  ', k, got.get(k))
            print()
        if lvl == 'minor':
            # the opioid + benzodiazepine pairs, reported apart: the FDA opioid and benzodiazepine
            # labels' 2016 Boxed Warning makes them major; ANSM grades them "a prendre en compte"
            cls = lexicon_classes(('opioid agonist', 'partial opioid agonist', 'opioid agonist/antagonist', 'benzodiazepine'))
            opi = cls['opioid agonist'] | cls['partial opioid agonist'] | cls['opioid agonist/antagonist']
            ob = lambda k: (k[0] in opi and k[1] in cls['benzodiazepine']) or (k[1] in opi and k[0] in cls['benzodiazepine'])
            hi = [k for k in ks if ge(got.get(k, ('none', ''))[0], 'major')]
            nob = sum(1 for k in hi if ob(k))
            print('\nminor pairs raised to major or higher: %d of %d (%.1f %%); opioid + benzodiazepine (FDA EPC '
                  'opioid agonist / partial agonist x "Benzodiazepine", Boxed Warning): %d; all other minor pairs raised: %d of %d (%.1f %%)\n'
                  % (len(hi), n, 100.0 * len(hi) / n, nob, len(hi) - nob, n - sum(1 for k in ks if ob(k)),
                     100.0 * (len(hi) - nob) / max(n - sum(1 for k in ks if ob(k)), 1)))
        if lvl == 'minor' and a.list_minor_major:
            hi = [k for k in ks if ge(got.get(k, ('none', ''))[0], 'major')]
            print('\nminor pairs raised to major (sample):')
            for k in hi[:a.list_minor_major]:
                print('  ', k, got.get(k))


if __name__ == '__main__':
    main()
