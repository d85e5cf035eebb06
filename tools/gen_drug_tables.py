#!/usr/bin/env python3
"""gen_drug_tables.py — derive openrx's drug-name lexicon and interaction table from ../shared.

  python3 tools/gen_drug_tables.py [--shared ../shared] [--out data]

Writes data/lexicon/lexicon.tsv and data/interactions/interactions.tsv (see the SOURCE.md next
to each for the format, the sources, their licences and every transformation). Deterministic:
rows are sorted, so a re-run on the same inputs gives the same bytes. Python 3 stdlib only
(the ONC .xls/.xlsx lists are read with the small BIFF8/OOXML readers below).
"""
import argparse, csv, gzip, html, io, json, os, re, struct, sys, zipfile

# ------------------------------------------------------------------------------------------
# Salt rule (mirrored in src/lexicon/lexicon.c; documented in data/lexicon/SOURCE.md)
# ------------------------------------------------------------------------------------------
SALT_WORDS = """sodium potassium calcium magnesium lithium zinc aluminum ammonium
hydrochloride hcl dihydrochloride hydrobromide hydroiodide sulfate sulphate bisulfate
mesylate besylate besilate maleate fumarate hemifumarate tartrate bitartrate succinate
citrate acetate phosphate diphosphate nitrate lactate gluconate bromide chloride iodide
tosylate napsylate pamoate palmitate stearate propionate dipropionate valerate butyrate
benzoate salicylate oxalate malate mandelate embonate edisylate esylate xinafoate
trihydrate dihydrate monohydrate hemihydrate sesquihydrate hydrate anhydrous
disodium dipotassium tromethamine meglumine olamine diolamine erbumine arginine lysine
hyclate monosodium trisodium decanoate enanthate cypionate undecanoate""".split()
SALT_SET = set(SALT_WORDS)

# Prodrug esters (documented in data/lexicon/SOURCE.md): RxNorm names some ester prodrugs as an
# ingredient of their own ("dabigatran etexilate", "baloxavir marboxil") while DrugBank also lists
# the active moiety ("dabigatran"), which is never prescribed by that name. A DrugBank-only name X
# (no RxCUI of its own) is a name of the RxNorm IN "X W" when W is one of these ester words (as
# RxNorm writes them in ingredient names: olmesartan medoxomil, candesartan cilexetil, gabapentin
# enacarbil and sulopenem etzadroxil are PINs of their base; the others are INs) and exactly one
# such IN exists. The PRADAXA label says it for dabigatran: "The ester is then hydrolyzed, forming
# dabigatran, the active moiety".
ESTER_WORDS = """etexilate marboxil medoxomil cilexetil enacarbil etzadroxil axetil pivoxil proxetil
mofetil disoproxil alafenamide ethyl etabonate""".split()

def norm(s):
    s = s.replace('\xa0', ' ').strip().lower()
    s = re.sub(r'\s+', ' ', s)
    return s

def strip_salt(name):
    w = name.split(' ')
    if len(w) > 1 and w[-1] in SALT_SET:
        return ' '.join(w[:-1])
    return None

# ------------------------------------------------------------------------------------------
# Minimal readers for the ONC lists (.xls = OLE2/BIFF8, .xlsx = OOXML)
# ------------------------------------------------------------------------------------------
def _ole_stream(path):
    d = open(path, 'rb').read()
    ss = 1 << struct.unpack_from('<H', d, 30)[0]
    nfat = struct.unpack_from('<I', d, 44)[0]
    dirstart = struct.unpack_from('<I', d, 48)[0]
    difat = list(struct.unpack_from('<109I', d, 76))
    nxt = struct.unpack_from('<I', d, 68)[0]
    sec = lambda i: d[512 + i * ss:512 + (i + 1) * ss]
    while nxt not in (0xFFFFFFFE, 0xFFFFFFFF):
        vals = struct.unpack('<%dI' % (ss // 4), sec(nxt)); difat += vals[:-1]; nxt = vals[-1]
    fat = []
    for i in difat[:nfat]:
        fat += struct.unpack('<%dI' % (ss // 4), sec(i))
    def chain(s):
        out = []
        while s < 0xFFFFFFFA:
            out.append(sec(s)); s = fat[s]
        return b''.join(out)
    dd = chain(dirstart)
    for i in range(len(dd) // 128):
        e = dd[i * 128:(i + 1) * 128]
        nl = struct.unpack_from('<H', e, 64)[0]
        if e[:max(nl - 2, 0)].decode('utf-16-le') in ('Workbook', 'Book'):
            st, sz = struct.unpack_from('<II', e, 116)
            return chain(st)[:sz]
    raise SystemExit('%s: no Workbook stream' % path)

def _parse_sst(parts):
    pi, pos = 0, 8
    total = struct.unpack_from('<I', parts[0], 4)[0]
    res = []
    def rd(n):
        nonlocal pi, pos
        out = b''
        while n > 0:
            if pos >= len(parts[pi]):
                pi += 1; pos = 0
            k = min(n, len(parts[pi]) - pos); out += parts[pi][pos:pos + k]; pos += k; n -= k
        return out
    for _ in range(total):
        if pos >= len(parts[pi]):
            pi += 1; pos = 0
        cc = struct.unpack('<H', rd(2))[0]; fl = rd(1)[0]
        runs = struct.unpack('<H', rd(2))[0] if fl & 8 else 0
        ext = struct.unpack('<I', rd(4))[0] if fl & 4 else 0
        s, left, wide = '', cc, fl & 1
        while left > 0:
            if pos >= len(parts[pi]):
                pi += 1; wide = parts[pi][0] & 1; pos = 1
            k = min(left, (len(parts[pi]) - pos) // (2 if wide else 1))
            raw = parts[pi][pos:pos + k * (2 if wide else 1)]; pos += len(raw)
            s += raw.decode('utf-16-le' if wide else 'latin-1'); left -= k
        rd(runs * 4); rd(ext); res.append(s)
    return res

def xls_rows(path, sheet_index):
    w = _ole_stream(path); p = 0; recs = []
    while p + 4 <= len(w):
        t, l = struct.unpack_from('<HH', w, p); recs.append((t, w[p + 4:p + 4 + l])); p += 4 + l
    sst, cells, sheet, i = [], {}, -1, 0
    while i < len(recs):
        t, b = recs[i]
        if t == 0x00FC:
            parts = [b]; j = i + 1
            while j < len(recs) and recs[j][0] == 0x003C:
                parts.append(recs[j][1]); j += 1
            sst = _parse_sst(parts); i = j; continue
        if t == 0x0809: sheet += 1
        if t == 0x00FD and sheet == sheet_index:
            r, c, xf, k = struct.unpack_from('<HHHI', b, 0); cells.setdefault(r, {})[c] = sst[k]
        i += 1
    return [(r, cells[r]) for r in sorted(cells)]

def xlsx_rows(path):
    z = zipfile.ZipFile(path)
    ss = [html.unescape(''.join(re.findall(r'<t[^>]*>(.*?)</t>', si, re.S)))
          for si in re.findall(r'<si>(.*?)</si>', z.read('xl/sharedStrings.xml').decode(), re.S)]
    sh = z.read('xl/worksheets/sheet1.xml').decode(); out = {}
    for c in re.finditer(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', sh, re.S):
        col, row, attrs, inner = c.groups()
        v = re.search(r'<v>(.*?)</v>', inner or '')
        if not v: continue
        val = ss[int(v.group(1))] if 't="s"' in attrs else v.group(1)
        ci = 0
        for ch in col: ci = ci * 26 + ord(ch) - 64
        out.setdefault(int(row), {})[ci - 1] = val
    return [(r, out[r]) for r in sorted(out)]

def class_norm(c):
    c = norm(c).replace('\n', ' ')
    c = re.sub(r'[^a-z0-9/ ()-]+', ' ', c.replace('β', 'beta'))
    c = re.sub(r'\s+', ' ', c).strip()
    if c.endswith('s') and not c.endswith('ss'):
        c = c[:-1]
    return c

# ------------------------------------------------------------------------------------------
# Lexicon build
# ------------------------------------------------------------------------------------------
class Lex:
    def __init__(self):
        self.ingr = {}        # canonical name -> (rxcui, source)
        self.names = {}       # name -> {prio, ingrs(tuple), kind, src}
        self.rx = {}          # rxcui -> (ingrs tuple, tty, name)
        self.classes = {}     # (class, ingr) -> (citation, type)
        self.ambiguous = set()
    PRIO = {'name': 0, 'salt': 1, 'brand': 2, 'clinical-drug': 3, 'synonym': 4}
    def add_name(self, name, ingrs, kind, src):
        name = norm(name)
        if not name or '\t' in name or ';' in name or not ingrs: return
        ingrs = tuple(sorted(set(ingrs)))
        cur = self.names.get(name)
        p = self.PRIO[kind]
        if cur is None or p < cur[0]:
            self.names[name] = (p, ingrs, kind, src); self.ambiguous.discard(name)
        elif p == cur[0] and cur[1] != ingrs and kind in ('synonym',):
            self.ambiguous.add(name)
    def resolve(self, name):
        """name -> canonical ingredient tuple via names / salt rule (None when unknown)"""
        n = norm(name)
        if n in self.ingr: return (n,)
        e = self.names.get(n)
        if e and n not in self.ambiguous: return e[1]
        while True:
            s = strip_salt(n)
            if not s: return None
            if s in self.ingr: return (s,)
            n = s

def build_lexicon(shared):
    L = Lex()
    rxdir = os.path.join(shared, 'data/rxnorm-prescribe-2025-10-derived')
    # --- RxNorm ingredients
    rows = list(csv.DictReader(open(os.path.join(rxdir, 'ingredients.tsv')), delimiter='\t'))
    unii_to = {}
    ins = {r['ingredient_rxcui']: norm(r['ingredient_name']) for r in rows if r['tty'] == 'IN'}
    for r in rows:
        if r['tty'] == 'IN':
            n = norm(r['ingredient_name']); L.ingr[n] = (r['ingredient_rxcui'], 'rxnorm')
            L.rx[r['ingredient_rxcui']] = ((n,), 'IN', n)
            if r['unii']: unii_to[r['unii']] = (n,)
    # clinical drug table
    cd = list(csv.DictReader(io.TextIOWrapper(gzip.open(os.path.join(rxdir, 'ingredient_clinical_and_branded_drugs.tsv.gz'))), delimiter='\t'))
    scd_in = {}
    pin_scds = {}
    for r in cd:
        if r['ingredient_rxcui'] in ins:
            scd_in.setdefault(r['scd_rxcui'], set()).add(ins[r['ingredient_rxcui']])
        else:
            pin_scds.setdefault(r['ingredient_rxcui'], set()).add(r['scd_rxcui'])
    # PIN -> IN by RxNorm's own link: the IN(s) sharing the PIN's clinical drugs whose name
    # begins the PIN name ("warfarin sodium" -> "warfarin")
    for r in rows:
        if r['tty'] != 'PIN': continue
        n = norm(r['ingredient_name']); cands = set()
        for s in pin_scds.get(r['ingredient_rxcui'], ()):
            cands |= scd_in.get(s, set())
        pick = [c for c in cands if n.startswith(c + ' ') or n == c]
        if not pick:
            s = strip_salt(n)
            while s and s not in L.ingr: s = strip_salt(s)
            pick = [s] if s else []
        if len(pick) == 1 or (pick and len(set(pick)) == 1):
            L.add_name(n, (pick[0],), 'salt', 'PIN:' + r['ingredient_rxcui'])
            L.rx[r['ingredient_rxcui']] = ((pick[0],), 'PIN', n)
            if r['unii']: unii_to[r['unii']] = (pick[0],)
    for r in rows:
        if r['tty'] == 'IN':
            L.add_name(r['ingredient_name'], (norm(r['ingredient_name']),), 'name', 'IN:' + r['ingredient_rxcui'])
    # --- DrugBank open vocabulary (CC0): names, synonyms; fills RxNorm's missing 'A' ingredients
    fda_unii, fda_name = {}, {}
    mp = os.path.join(shared, 'data/pddi-public-merged/FDA_RXNORM_DRUGBANK_CHEBI_MAPPING_2014.tsv')
    for r in csv.DictReader(open(mp, encoding='utf-8', errors='replace'), delimiter='\t'):
        cui = r['RxNorm_CUI'] if (r['RxNorm_CUI'] or '').isdigit() else ''
        fda_unii.setdefault(r['FDA_UNII'], []).append((r['FDA_PreferredTerm'], cui))
        fda_name.setdefault(norm(r['FDA_PreferredTerm']), cui)
    db = list(csv.DictReader(open(os.path.join(shared, 'data/drugbank-open-vocabulary/drugbank_vocabulary.csv'), encoding='utf-8')))
    db_to = {}
    for r in db:
        cn = norm(r['Common name'])
        if not cn or '\t' in cn or ';' in cn: continue
        canon = unii_to.get(r['UNII']) if r['UNII'] else None
        if canon is None and cn in L.ingr: canon = (cn,)
        if canon is None:
            e = L.names.get(cn)
            if e and e[2] in ('name', 'salt'): canon = e[1]
        if canon is None:
            # not in the RxNorm extract (e.g. the missing 'A' ingredients): DrugBank name, or the
            # FDA preferred term with the same UNII when the FDA/RxNorm map gives it an RxCUI
            # (order: FDA term = DrugBank name; else an FDA term with the same UNII that is also
            # one of the entry's DrugBank synonyms, e.g. "aspirin" for acetylsalicylic acid)
            rxcui, canon_name, src = '', cn, r['DrugBank ID']
            syns = {norm(x) for x in (r['Synonyms'] or '').split(' | ')}
            cands = sorted(t for t, c in fda_unii.get(r['UNII'], ()) if c and norm(t) in syns
                           and norm(t) not in L.ingr and norm(t) not in L.names)
            if fda_name.get(cn):
                rxcui, src = fda_name[cn], r['DrugBank ID'] + '+FDA-name'
            elif r['UNII'] and cands:
                t = cands[0]
                canon_name, rxcui, src = norm(t), dict(fda_unii[r['UNII']])[t], r['DrugBank ID'] + '+FDA-UNII:' + r['UNII']
            esters = [cn + ' ' + w for w in ESTER_WORDS if L.ingr.get(cn + ' ' + w, ('', ''))[1] == 'rxnorm']
            if not rxcui and canon_name == cn and len(esters) == 1:
                canon = (esters[0],)      # the active moiety of an RxNorm ester prodrug: a name of it
                L.add_name(cn, canon, 'salt', r['DrugBank ID'] + '+ester:' + esters[0].split(' ')[-1])
                db_to[r['DrugBank ID']] = canon
                continue
            L.ingr[canon_name] = (rxcui, src); canon = (canon_name,)
            L.add_name(canon_name, canon, 'name', r['DrugBank ID'])
            if canon_name != cn:
                L.add_name(cn, canon, 'synonym', r['DrugBank ID'])
            if rxcui and rxcui not in L.rx:
                L.rx[rxcui] = (canon, 'IN', canon_name)
        else:
            L.add_name(cn, canon, 'synonym', r['DrugBank ID'])
        db_to[r['DrugBank ID']] = canon
        for syn in (r['Synonyms'] or '').split(' | '):
            syn = norm(syn)
            if re.search(r'[\[\]{}]|^\(|\d.*\d.*\d', syn): continue   # systematic chemical names
            if len(syn) >= 3 and len(syn) <= 60 and syn != cn:
                L.add_name(syn, canon, 'synonym', r['DrugBank ID'])
    # --- RxNorm MIN, clinical drugs, brands
    for r in rows:
        if r['tty'] == 'MIN':
            parts = [L.resolve(p) for p in r['ingredient_name'].split(' / ')]
            if all(parts):
                ing = tuple(sorted({x for p in parts for x in p}))
                L.rx[r['ingredient_rxcui']] = (ing, 'MIN', norm(r['ingredient_name']))
                L.add_name(r['ingredient_name'], ing, 'name', 'MIN:' + r['ingredient_rxcui'])
    def scd_components(name):
        # "amoxicillin 500 MG / clavulanate 125 MG Oral Tablet" -> ingredient names
        out = []
        for comp in norm(name).split(' / '):
            m = re.match(r'^(?:\d[\d.]* (?:ml|hr|actuat) )?(.*?) [\d.]+ ', comp + ' ')
            nm = m.group(1) if m else None
            if not nm: return None
            res = L.resolve(nm)
            if not res: return None
            out += res
        return tuple(sorted(set(out)))
    brand_ingr = {}
    scd_seen = {}
    for r in cd:
        s = r['scd_rxcui']
        if s not in scd_seen:
            comp = scd_components(r['scd_name']) or tuple(sorted(scd_in.get(s, ())))
            if not comp: continue
            scd_seen[s] = comp
            L.rx[s] = (comp, 'SCD', norm(r['scd_name']))
            L.add_name(r['scd_name'], comp, 'clinical-drug', 'SCD:' + s)
            if r['scdc_rxcui'] and r['scdc_rxcui'] not in L.rx:
                L.rx[r['scdc_rxcui']] = (comp, 'SCDC', norm(r['scdc_name']))
        comp = scd_seen.get(s)
        if comp and r['sbd_rxcui']:
            L.rx[r['sbd_rxcui']] = (comp, 'SBD', norm(r['sbd_name']))
            if r['brand_rxcui']:
                brand_ingr.setdefault((r['brand_rxcui'], r['brand_name']), set()).update(comp)
    for (bcui, bname), ing in sorted(brand_ingr.items()):
        ing = tuple(sorted(ing))
        L.rx[bcui] = (ing, 'BN', norm(bname))
        L.add_name(bname, ing, 'brand', 'BN:' + bcui)
    # --- FDA preferred terms (incl. brand names such as COUMADIN, LIPITOR) via UNII: the UNII of
    # an RxNorm IN/PIN or of a DrugBank entry; else the UNII group's other FDA terms resolved by
    # name (e.g. LIPITOR shares its UNII with "ATORVASTATIN CALCIUM" -> salt rule -> atorvastatin)
    for r in db:
        if r['UNII'] and r['UNII'] not in unii_to and r['DrugBank ID'] in db_to:
            unii_to[r['UNII']] = db_to[r['DrugBank ID']]
    for unii, terms in fda_unii.items():
        if unii in unii_to: continue
        got = {L.resolve(t) for t, c in terms} - {None}
        if len(got) == 1: unii_to[unii] = got.pop()
    mp = os.path.join(shared, 'data/pddi-public-merged/FDA_RXNORM_DRUGBANK_CHEBI_MAPPING_2014.tsv')
    for r in csv.DictReader(open(mp, encoding='utf-8', errors='replace'), delimiter='\t'):
        canon = unii_to.get(r['FDA_UNII'])
        if not canon: continue
        L.add_name(r['FDA_PreferredTerm'], canon, 'synonym', 'FDA-UNII:' + r['FDA_UNII'])
        cui = r['RxNorm_CUI']
        if cui and cui.isdigit() and cui not in L.rx:
            L.rx[cui] = (canon, 'FDA', norm(r['FDA_PreferredTerm']))
    L.unii = unii_to
    return L, db_to

# ------------------------------------------------------------------------------------------
# Classes from the ONC lists' class columns
# ------------------------------------------------------------------------------------------
ONC_HP_CITE = 'ONC high-priority DDI list (Phansalkar et al., JAMIA 2012), ONC_High_Priority_List.xls'
ONC_NI_CITE = 'ONC non-interruptive DDI list (Phansalkar et al., JAMIA 2013), ONC_Non_Interruptive_List.xlsx'

def onc_blocks_hp(path):
    """[(obj_class, [obj drugs], prec_class, [prec drugs])] per block (blank row separates)."""
    blocks, cur, last = [], None, None
    for r, c in xls_rows(path, 1):
        if r == 0: continue
        if last is None or r != last + 1:
            cur = {'oc': '', 'pc': '', 'items': []}; blocks.append(cur)
        last = r
        if c.get(1, '').strip(): cur['oc'] = c[1]
        if c.get(3, '').strip(): cur['pc'] = c[3]
        cur['items'].append((cur['oc'], c.get(2, '').strip(), cur['pc'], c.get(4, '').strip(), r + 1))
    return blocks

def onc_blocks_ni(path):
    blocks = {}
    for r, c in xlsx_rows(path):
        if r == 1 or not c.get(0): continue
        b = blocks.setdefault(c[0], {'oc': '', 'pc': '', 'items': []})
        if c.get(1, '').strip(): b['oc'] = c[1]
        if c.get(4, '').strip(): b['pc'] = c[4]
        b['items'].append((b['oc'], c.get(2, '').strip(), b['pc'], c.get(5, '').strip(), r))
    return [blocks[k] for k in sorted(blocks, key=int)]

def add_classes(L, blocks, cite, sheetname):
    pairs = {}
    for b in blocks:
        for oc, od, pc, pd, row in b['items']:
            for cls, drug in ((oc, od), (pc, pd)):
                if not cls.strip() or not drug: continue
                cn = class_norm(cls)
                ing = L.resolve(drug)
                if not ing or len(ing) != 1: continue
                if cn == class_norm(drug) or cn == ing[0]: continue   # a single drug, not a class
                key = (cn, ing[0])
                if key not in L.classes:
                    L.classes[key] = ('%s, %s row %d, class column "%s"' % (cite, sheetname, row, cls.strip().replace('\n', ' ')), 'ONC')
        # every object drug x every precipitant drug of the block (that is how the list reads)
        objs = [(oc, od, row) for oc, od, pc, pd, row in b['items'] if od]
        precs = [(pc, pd) for oc, od, pc, pd, row in b['items'] if pd]
        first = b['items'][0][4] if b['items'] else 0
        for oc, od, row in objs:
            for pc, pd in precs:
                pairs.setdefault((norm(od), norm(pd)), (oc.strip().replace('\n', ' '), pc.strip().replace('\n', ' '), first))
    return pairs

# ------------------------------------------------------------------------------------------
# Classes from DrugCentral (FDA pharmacologic classes; MeSH PA only where FDA has gaps)
# ------------------------------------------------------------------------------------------
DC_DIR = 'data/drugcentral-2016-fda-pharm-class'
DC_CITE = 'DrugCentral 2016 pharm_class.tsv:%d %s %s %s "%s"'
DC_TYPE = {'EPC': 'EPC', 'MoA': 'MoA', 'PE': 'PE', 'Chemical/Ingredient': 'CS', 'PA': 'PA'}
# MeSH Pharmacological Action umbrella classes that label text names ("other anticoagulants",
# "antiplatelet agents", "CNS depressants", "diuretics") and that have no FDA class of the same
# scope (FDA indexes the specific classes only: Vitamin K Antagonist, Factor Xa Inhibitor, ...).
# Their MeSH rows are shipped for every member; all other MeSH rows only for ingredients that
# have no FDA Established Pharmacologic Class at all (the 2016 snapshot's gaps, e.g. dabigatran,
# lisinopril, furosemide). See data/lexicon/SOURCE.md.
MESH_UMBRELLA = ('Anticoagulants', 'Platelet Aggregation Inhibitors', 'Fibrinolytic Agents',
                 'Central Nervous System Depressants', 'Diuretics', 'Antihypertensive Agents',
                 'Hypoglycemic Agents', 'Anti-Arrhythmia Agents', 'Antipsychotic Agents',
                 'Antidepressive Agents', 'Anticonvulsants', 'Immunosuppressive Agents')

def drugcentral_classes(shared, L, db_to):
    """{(class, ingredient, type): citation} from DrugCentral's pharm_class.tsv. Ingredients are
    joined by RxCUI, then UNII, then DrugBank id, then name (DrugCentral names are INN)."""
    d = os.path.join(shared, DC_DIR)
    ids = {}
    for r in csv.DictReader(open(os.path.join(d, 'identifiers_open.tsv'), encoding='utf-8'), delimiter='\t'):
        ids.setdefault(r['DRUG_ID'], []).append((r['ID_TYPE'], r['IDENTIFIER']))
    def join(did, name):
        order = ('RXNORM', 'UNII', 'DRUGBANK_ID')
        for kind in order:
            for t, v in sorted(ids.get(did, ())):
                if t != kind: continue
                got = None
                if kind == 'RXNORM' and v in L.rx and L.rx[v][1] in ('IN', 'PIN'): got = L.rx[v][0]
                elif kind == 'UNII': got = L.unii.get(v)
                elif kind == 'DRUGBANK_ID': got = db_to.get(v)
                if got and len(got) == 1: return got[0], kind
        got = L.resolve(name)
        if got and len(got) == 1: return got[0], 'name'
        return None, None
    rows = list(csv.DictReader(open(os.path.join(d, 'pharm_class.tsv'), encoding='utf-8'), delimiter='\t'))
    has_epc = set()
    for r in rows:
        if r['SOURCE'] == 'FDA' and r['TYPE'] == 'EPC': has_epc.add(r['DRUG_ID'])
    out, stats, seen_drug = {}, {}, {}
    for line, r in enumerate(rows, start=2):
        t = DC_TYPE.get(r['TYPE'])
        if not t or r['SOURCE'] not in ('FDA', 'MeSH'): continue
        if r['SOURCE'] == 'MeSH' and r['DRUG_ID'] in has_epc and r['CLASS'] not in MESH_UMBRELLA:
            stats['mesh rows not needed (FDA EPC present)'] = stats.get('mesh rows not needed (FDA EPC present)', 0) + 1
            continue
        if r['DRUG_ID'] not in seen_drug: seen_drug[r['DRUG_ID']] = join(r['DRUG_ID'], r['DRUG_NAME'])
        ing, how = seen_drug[r['DRUG_ID']]
        if not ing:
            stats['rows of unjoined ingredients'] = stats.get('rows of unjoined ingredients', 0) + 1
            continue
        cn = class_norm(r['CLASS'])
        if not cn: continue
        key = (cn, ing, t)
        if key in out: continue
        out[key] = DC_CITE % (line, r['SOURCE'], r['TYPE'], r['CLASS_SOURCE_ID'], r['CLASS'])
        stats['rows ' + t] = stats.get('rows ' + t, 0) + 1
        stats['joined by ' + how] = stats.get('joined by ' + how, 0)
    for did, (ing, how) in seen_drug.items():
        if ing: stats['joined by ' + how] = stats.get('joined by ' + how, 0) + 1
    stats['ingredients unjoined'] = sum(1 for v in seen_drug.values() if not v[0])
    return out, stats

# ------------------------------------------------------------------------------------------
# Interactions
# ------------------------------------------------------------------------------------------
def clean(s):
    return re.sub(r'\s+', ' ', (s or '').replace('\t', ' ')).strip()

def build_interactions(shared, L, db_to, hp_pairs, ni_pairs):
    out = []
    sub = os.path.join(shared, 'data/pddi-public-merged/pddi_open_subset_ONC_NDFRT_ANSM.tsv.gz')
    skipped = {}
    for r in csv.DictReader(io.TextIOWrapper(gzip.open(sub), encoding='utf-8'), delimiter='\t'):
        src = r['source']
        if src not in ('ONC-HighPriority', 'ONC-NonInteruptive', 'NDF-RT'):
            continue   # FrenchDB / World-Vista (ANSM): not shipped, see SOURCE.md
        a = db_to.get(r['drug1_drugbank']) or L.resolve(r['drug1_name'].replace('_', ' '))
        b = db_to.get(r['drug2_drugbank']) or L.resolve(r['drug2_name'].replace('_', ' '))
        if not a or not b or len(a) != 1 or len(b) != 1:
            skipped[src] = skipped.get(src, 0) + 1; continue
        a, b = a[0], b[0]
        if a == b: continue
        n1, n2 = norm(r['drug1_name'].replace('_', ' ')), norm(r['drug2_name'].replace('_', ' '))
        if src == 'ONC-HighPriority':
            ctx = hp_pairs.get((n1, n2)) or hp_pairs.get((n2, n1))
            cite = 'ONC_High_Priority_Mapped.csv: %s$%s$%s$%s' % (r['drug1_name'], r['drug1_drugbank'], r['drug2_name'], r['drug2_drugbank'])
            if ctx: cite += '; list block at row %d: %s / %s' % (ctx[2], ctx[0] or '-', ctx[1] or '-')
            out.append((a, b, 'major', '1', 'ONC High-Priority DDI list', 'high priority', cite, '', '', ''))
        elif src == 'ONC-NonInteruptive':
            ctx = ni_pairs.get((n1, n2)) or ni_pairs.get((n2, n1))
            cite = 'ONC_Non_Interruptive_Mapped.csv: %s$%s$%s$%s' % (r['drug1_name'], r['drug1_drugbank'], r['drug2_name'], r['drug2_drugbank'])
            if ctx: cite += '; list block at row %d: %s / %s' % (ctx[2], ctx[0] or '-', ctx[1] or '-')
            out.append((a, b, 'info', '0', 'ONC Non-Interruptive DDI list', 'non-interruptive', cite, '', '', ''))
        else:
            sev = r['severity']
            tier = {'Critical': 'major', 'Significant': 'moderate'}.get(sev)
            if not tier: continue
            out.append((a, b, tier, '1' if sev == 'Critical' else '0', 'VA NDF-RT drug interactions', sev,
                        r['source_uri'], clean(r['label_or_description']), '', ''))
    # HL7 PDDI-CDS IG rules (CC0): two class-level rules with the IG's own text
    ig = os.path.join(shared, 'data/cds-hooks-examples/pddi-cds-ig')
    wn = json.load(open(os.path.join(ig, 'PlanDefinition-warfarin-nsaids-cds-sign.json')))
    acts = wn['action'][0]['action']
    topical, systemic = acts[0], acts[1]
    mg = ' '.join(clean(x.get('description')) for x in systemic.get('action', [])[:2] if x.get('description'))
    desc = clean(systemic['description']).replace(' unknown. unknown.', '')
    out.append(('warfarin', 'class:nsaid', 'major', '1', 'HL7 PDDI-CDS IG', 'serious (order-sign card)',
                wn['url'] + ' action[0].action[1]', desc, mg, 'not-topical:diclofenac'))
    out.append(('warfarin', 'class:nsaid', 'info', '0', 'HL7 PDDI-CDS IG', 'no special precautions',
                wn['url'] + ' action[0].action[0]', clean(topical['description']),
                clean(topical['action'][0]['title']), 'topical:diclofenac'))
    dc = json.load(open(os.path.join(ig, 'PlanDefinition-digoxin-cyclosporine-cds-sign.json')))
    a0 = dc['action'][0]['action'][0]
    mg = '; '.join('%s: %s' % (clean(x['title']), clean(x.get('description'))) for x in a0.get('action', []))
    # the IG's description ends with placeholder sentences ("unknown. unknown.") where its
    # template had no text: left out, as for the warfarin rule
    out.append(('digoxin', 'cyclosporine', 'major', '1', 'HL7 PDDI-CDS IG', 'order-sign card',
                dc['url'] + ' action[0].action[0]', clean(a0['description']).replace(' unknown. unknown.', ''), mg, ''))
    return sorted(set(out)), skipped

# ------------------------------------------------------------------------------------------
# ONC high-priority class blocks extended to the same class in DrugCentral (FDA EPC)
# ------------------------------------------------------------------------------------------
# An ONC block names a class and lists its drugs as of 2012. Where the FDA Established
# Pharmacologic Class is the same concept, a drug of that EPC the block does not list is added
# to the block (both rows cited). Decided per class (data/interactions/SOURCE.md, "ONC class
# blocks"); classes whose ONC list is a deliberate subset are NOT extended: "Narcotic analgesics"
# (only the serotonergic opioids), "Triptans" (only those metabolised by MAO-A), "HMG Co-A
# reductase inhibitors" (only simvastatin and lovastatin), "CYP3A4 inhibitors / azoles,
# macrolides" (only the inhibiting ones), "Amphetamine derivatives", "Strong CYP3A4 inducers",
# "CYP1A2 inhibitors" (curated lists, no class of the same scope).
ONC_SAME_CLASS = {
    'tricyclic antidepressants (tcas)': [('tricyclic antidepressant', 'the FDA EPC "Tricyclic Antidepressant" is the same class')],
    'ssris': [('serotonin reuptake inhibitor', 'the block lists the SSRIs (FDA EPC "Serotonin Reuptake Inhibitor")'),
              ('serotonin and norepinephrine reuptake inhibitor', 'the block also lists the SNRIs of 2012 (FDA EPC "Serotonin and Norepinephrine Reuptake Inhibitor")')],
    'maoi': [('monoamine oxidase inhibitor', 'the FDA EPC "Monoamine Oxidase Inhibitor" is the same class')],
    'mao inhibitors': [('monoamine oxidase inhibitor', 'the FDA EPC "Monoamine Oxidase Inhibitor" is the same class')],
    'proton pump inhibitors': [('proton pump inhibitor', 'the FDA EPC "Proton Pump Inhibitor" is the same class')],
}
ONC_QT_CLASS = 'qt prolonging agents'

def onc_class_extensions(L, blocks, dc_rows, have):
    """Rows for drugs of an FDA EPC the same as an ONC block class that the block does not list,
    plus the block 'QT prolonging agents x QT prolonging agents' as an effect-role rule."""
    epc = {}
    for (c, i, t), cite in dc_rows.items():
        if t == 'EPC': epc.setdefault(c, {})[i] = cite
    out = []
    for b in blocks:
        first = b['items'][0][4] if b['items'] else 0
        oc = next((x[0] for x in b['items'] if x[0].strip()), '')
        pc = next((x[2] for x in b['items'] if x[2].strip()), '')
        head = "ONC_High_Priority_List.xls sheet \"Revised Table 2\" block at row %d: %s / %s" % (
            first, oc.replace('\n', ' ') or '-', pc.replace('\n', ' ') or '-')
        if norm(oc.replace('\n', ' ')) == ONC_QT_CLASS and norm(pc) == ONC_QT_CLASS:
            out.append(('effect:qt', 'effect:qt', 'major', '1', 'ONC High-Priority DDI list', 'high priority',
                        head + ' (the list names no drugs: members are the drugs a label names for QT prolongation, '
                        'data/interactions/effect_roles.tsv)', '', '', ''))
            continue
        sides = []
        for cls, col in ((oc, 1), (pc, 3)):
            listed = set()
            for it in b['items']:
                d = it[col]
                r = L.resolve(d) if d else None
                if r and len(r) == 1: listed.add(r[0])
            added = {}
            for epc_name, why in ONC_SAME_CLASS.get(norm(cls.replace('\n', ' ')), []):
                for ing, cite in sorted(epc.get(epc_name, {}).items()):
                    if ing not in listed and ing not in added: added[ing] = (epc_name, cite, why)
            sides.append((cls.replace('\n', ' '), listed, added))
        (ocl, ol, oa), (pcl, pl, pa) = sides
        for x in sorted(ol | set(oa)):
            for y in sorted(pl | set(pa)):
                if x == y or (x in ol and y in pl) or (x, y) in have or (y, x) in have: continue
                notes = []
                for d, cls, add in ((x, ocl, oa), (y, pcl, pa)):
                    if d in add:
                        notes.append('%s added as a member of %s (%s): %s as the ONC class "%s"'
                                     % (d, add[d][0], add[d][1], add[d][2], cls))
                out.append((x, y, 'major', '1', 'ONC High-Priority DDI list (class block extended)', 'high priority',
                            head + '; ' + '; '.join(notes), '', '', ''))
    return out

# ------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--shared', default=os.path.join(here, '..', '..', 'shared'))
    ap.add_argument('--out', default=os.path.join(here, '..', 'data'))
    a = ap.parse_args()
    L, db_to = build_lexicon(a.shared)
    pd = os.path.join(a.shared, 'data/pddi-public-merged')
    hp_blocks = onc_blocks_hp(os.path.join(pd, 'ONC_High_Priority_List.xls'))
    hp = add_classes(L, hp_blocks, ONC_HP_CITE, 'sheet "Revised Table 2"')
    ni = add_classes(L, onc_blocks_ni(os.path.join(pd, 'ONC_Non_Interruptive_List.xlsx')), ONC_NI_CITE, 'sheet1')
    ddi, skipped = build_interactions(a.shared, L, db_to, hp, ni)
    class_rows = {(c, i, t): cite for (c, i), (cite, t) in L.classes.items()}
    dc_rows, dc_stats = drugcentral_classes(a.shared, L, db_to)
    have = {(r[0], r[1]) for r in ddi if r[4] == 'ONC High-Priority DDI list'}
    ext = onc_class_extensions(L, hp_blocks, dc_rows, have)
    ddi = sorted(set(ddi) | set(ext))
    for key, cite in dc_rows.items():
        class_rows.setdefault(key, cite)
    lines = ['#openrx-lexicon\t1\tgenerated by tools/gen_drug_tables.py; format in data/lexicon/SOURCE.md']
    for n in sorted(L.ingr):
        lines.append('I\t%s\t%s\t%s' % (n, L.ingr[n][0], L.ingr[n][1]))
    for n in sorted(L.names):
        if n in L.ambiguous: continue
        p, ing, kind, src = L.names[n]
        if kind == 'name' and ing == (n,): continue       # implied by the I row
        if kind == 'clinical-drug': continue               # carried by the R row of the SCD
        lines.append('N\t%s\t%s\t%s\t%s' % (n, ';'.join(ing), kind, src))
    for cui in sorted(L.rx, key=int):
        ing, tty, name = L.rx[cui]
        if tty != 'SCD': name = ''          # only SCD names are needed (lookup by name)
        lines.append('R\t%s\t%s\t%s\t%s' % (cui, ';'.join(ing), tty, name))
    for (c, i, t) in sorted(class_rows):
        lines.append('C\t%s\t%s\t%s\t%s' % (c, i, class_rows[(c, i, t)], t))
    os.makedirs(os.path.join(a.out, 'lexicon'), exist_ok=True)
    os.makedirs(os.path.join(a.out, 'interactions'), exist_ok=True)
    with open(os.path.join(a.out, 'lexicon', 'lexicon.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    with open(os.path.join(a.out, 'interactions', 'interactions.tsv'), 'w', encoding='utf-8') as f:
        f.write('#openrx-interactions\t1\tgenerated by tools/gen_drug_tables.py; format in data/interactions/SOURCE.md\n')
        f.write('#a\tb\ttier\tinterruptive\tsource\tsource_severity\tcitation\tdescription\tmanagement\tcondition\n')
        for r in ddi:
            f.write('\t'.join(r) + '\n')
    print('ingredients %d, names %d (ambiguous dropped %d), rxcuis %d, class memberships %d (ONC %d, DrugCentral %d), interactions %d, unmapped %s'
          % (len(L.ingr), len(L.names), len(L.ambiguous), len(L.rx), len(class_rows), len(L.classes), len(dc_rows), len(ddi), skipped), file=sys.stderr)
    print('DrugCentral: %s' % ', '.join('%s %s' % (k, v) for k, v in sorted(dc_stats.items())), file=sys.stderr)

if __name__ == '__main__':
    main()
