/*
 * lexicon.c — the drug-name lexicon: loads data/lexicon/lexicon.tsv into hash maps and normalises
 * names, codes and free text to ingredients. Row kinds (data/lexicon/SOURCE.md):
 *   I  name  rxcui  source                 base ingredient
 *   N  name  ingr[;ingr]  kind  source     other name (salt, brand, synonym, multi-ingredient)
 *   R  rxcui ingr[;ingr]  tty  name        RxCUI of any kind (name only for SCDs)
 *   C  class ingr  citation  [type]         sourced class membership; type ONC (default), EPC,
 *                                           MoA, PE, CS, PA (DrugCentral: FDA classes, MeSH PA)
 */
#include "lexicon/lexicon.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define LEX_MAX_BYTES (64u * 1024u * 1024u) /* refuse a lexicon file larger than this (bytes) */

/* ============================================================================================
 * Hash map: string key -> uint32 value (open addressing, linear probing)
 * ========================================================================================== */
typedef struct lex_map {
    const char **keys; /* cap slots, NULL = empty */
    uint32_t    *vals; /* value per slot */
    size_t       cap;  /* power of two */
    size_t       n;    /* used slots */
} lex_map;

static bool map_init(lex_map *m, size_t expect) {
    m->cap = 16;
    while (m->cap < expect * 2) m->cap <<= 1;
    m->n = 0;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    return m->keys && m->vals;
}

static void map_free(lex_map *m) {
    free(m->keys);
    free(m->vals);
}

/* Insert if absent (first writer wins). Returns false only when full. */
static bool map_put(lex_map *m, const char *key, uint32_t val) {
    if (m->n * 2 >= m->cap) return false;
    size_t i = orx_fnv1a_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return true;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return true;
}

static bool map_get(const lex_map *m, const char *key, uint32_t *val) {
    size_t i = orx_fnv1a_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) {
            *val = m->vals[i];
            return true;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return false;
}

/* ============================================================================================
 * The lexicon
 * ========================================================================================== */
typedef struct lex_ingr {
    const char *name;   /* canonical ingredient name */
    const char *rxcui;  /* RxNorm IN RxCUI or "" */
    const char *source; /* "rxnorm" or DrugBank id */
} lex_ingr;

typedef struct lex_entry {      /* an N or R row */
    const char *key;            /* name or RxCUI */
    const char *kind;           /* N: salt/brand/synonym/name/clinical-drug; R: tty */
    const char *label;          /* N: source; R: name ("" when none) */
    uint32_t    ingr_off;       /* first ingredient index in ingr_pool */
    uint32_t    n_ingr;         /* count */
} lex_entry;

typedef struct lex_class {
    const char *cls;            /* normalised class name */
    uint32_t    ingr;           /* member */
    const char *citation;       /* source row */
    unsigned    type;           /* one ORX_CLASS_* bit */
} lex_class;

struct orx_lexicon {
    char      *text;                         /* the file, split in place */
    lex_ingr  *ingr;    size_t n_ingr;       /* base ingredients */
    lex_entry *names;   size_t n_names;      /* N rows + SCD names from R rows */
    lex_entry *rx;      size_t n_rx;         /* R rows */
    lex_class *cls;     size_t n_cls;        /* C rows, sorted by (ingredient, class, type) */
    uint32_t  *cls_start;                    /* n_ingr + 1 offsets: ingredient i's rows are
                                                cls[cls_start[i] .. cls_start[i + 1]) */
    lex_map    cls_map;                      /* class name -> ORX_CLASS_* bits of its rows */
    uint32_t  *ingr_pool; size_t n_pool, cap_pool; /* ingredient index lists */
    lex_map    ingr_map, name_map, rx_map;   /* name -> ingr / names / rx index */
    size_t     n_classes;                    /* distinct classes */
};

/* ============================================================================================
 * Text normalisation: lower-case (Unicode), collapse whitespace, trim
 * ========================================================================================== */
static void lex_norm(const char *in, char *out, size_t cap) {
    size_t o = 0;
    bool space = false;
    const uint8_t *p = (const uint8_t *)in;
    while (*p && o + 5 < cap) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k <= 0) { p++; continue; }
        p += k;
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0) {
            space = o > 0;
            continue;
        }
        if (space) { out[o++] = ' '; space = false; }
        cp = utf8proc_tolower(cp);
        o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + o);
    }
    out[o] = 0;
}

static void class_norm(const char *in, char *out, size_t cap) {
    char tmp[ORX_LEX_NAME * 2];
    lex_norm(in, tmp, sizeof tmp);
    size_t o = 0;
    bool space = false;
    for (const char *p = tmp; *p && o + 6 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == 0xCE && (unsigned char)p[1] == 0xB2) { /* β */
            if (space && o) out[o++] = ' ';
            space = false;
            memcpy(out + o, "beta", 4); o += 4; p++;
            continue;
        }
        if (isalnum(c) || c == '/' || c == '(' || c == ')' || c == '-') {
            if (space && o) out[o++] = ' ';
            space = false;
            out[o++] = (char)c;
        } else {
            space = true;
        }
    }
    out[o] = 0;
    if (o > 1 && out[o - 1] == 's' && out[o - 2] != 's') out[o - 1] = 0;
}

/* ============================================================================================
 * Salt rule
 * ========================================================================================== */
static const char *const SALT_WORDS[] = {
    "sodium", "potassium", "calcium", "magnesium", "lithium", "zinc", "aluminum", "ammonium",
    "hydrochloride", "hcl", "dihydrochloride", "hydrobromide", "hydroiodide", "sulfate",
    "sulphate", "bisulfate", "mesylate", "besylate", "besilate", "maleate", "fumarate",
    "hemifumarate", "tartrate", "bitartrate", "succinate", "citrate", "acetate", "phosphate",
    "diphosphate", "nitrate", "lactate", "gluconate", "bromide", "chloride", "iodide", "tosylate",
    "napsylate", "pamoate", "palmitate", "stearate", "propionate", "dipropionate", "valerate",
    "butyrate", "benzoate", "salicylate", "oxalate", "malate", "mandelate", "embonate",
    "edisylate", "esylate", "xinafoate", "trihydrate", "dihydrate", "monohydrate", "hemihydrate",
    "sesquihydrate", "hydrate", "anhydrous", "disodium", "dipotassium", "tromethamine",
    "meglumine", "olamine", "diolamine", "erbumine", "arginine", "lysine", "hyclate",
    "monosodium", "trisodium", "decanoate", "enanthate", "cypionate", "undecanoate", NULL};

static bool is_salt_word(const char *w) {
    for (int i = 0; SALT_WORDS[i]; i++)
        if (strcmp(w, SALT_WORDS[i]) == 0) return true;
    return false;
}

bool orx_lexicon_strip_salt(const char *name, char *out, size_t cap) {
    if (!out || cap == 0) return false;
    lex_norm(name ? name : "", out, cap);
    char *sp = strrchr(out, ' ');
    if (!sp || !is_salt_word(sp + 1)) return false;
    *sp = 0;
    return true;
}

/* ============================================================================================
 * Loading
 * ========================================================================================== */
static bool pool_push(orx_lexicon *L, uint32_t v) {
    uint32_t *slot = orx_push((void **)&L->ingr_pool, &L->n_pool, &L->cap_pool, sizeof *slot, 65536);
    if (slot) *slot = v;
    return slot != NULL;
}

/* Parse "a;b" into the pool (in place: ';' -> NUL). */
static orx_status parse_ingr_list(orx_lexicon *L, char *list, lex_entry *e, const char *path,
                                  size_t line, orx_error *err) {
    e->ingr_off = (uint32_t)L->n_pool;
    e->n_ingr = 0;
    for (char *s = list; s && *s;) {
        char *semi = strchr(s, ';');
        if (semi) *semi = 0;
        uint32_t idx;
        if (!map_get(&L->ingr_map, s, &idx))
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown ingredient '%s'", path, line, s);
        if (!pool_push(L, idx)) return orx_fail(err, ORX_ERR_NOMEM, "lexicon: out of memory");
        e->n_ingr++;
        s = semi ? semi + 1 : NULL;
    }
    if (e->n_ingr == 0)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: row without ingredients", path, line);
    return ORX_OK;
}

static orx_status lex_row(orx_lexicon *L, char *p, const char *path, size_t line,
                          orx_error *err) {
    char kind = p[0];
    if (p[1] != '\t') return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: malformed row", path, line);
    char *f[4] = {NULL};
    orx_tsv_split(p + 2, f, 4);
    char *a = f[0], *b = f[1], *c = f[2], *d = f[3];
    if (!a || !b || !c || (kind != 'I' && kind != 'C' && !d))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: too few fields", path, line);
    if (kind == 'I') {
        lex_ingr *g = &L->ingr[L->n_ingr];
        g->name = a; g->rxcui = b; g->source = c;
        if (!map_put(&L->ingr_map, a, (uint32_t)L->n_ingr))
            return orx_fail(err, ORX_ERR_NOMEM, "lexicon: map full");
        L->n_ingr++;
    } else if (kind == 'N' || kind == 'R') {
        lex_entry *e = kind == 'N' ? &L->names[L->n_names] : &L->rx[L->n_rx];
        e->key = a; e->kind = c; e->label = d;
        orx_status st = parse_ingr_list(L, b, e, path, line, err);
        if (st) return st;
        lex_map *m = kind == 'N' ? &L->name_map : &L->rx_map;
        size_t *n = kind == 'N' ? &L->n_names : &L->n_rx;
        if (!map_put(m, a, (uint32_t)*n)) return orx_fail(err, ORX_ERR_NOMEM, "lexicon: map full");
        (*n)++;
    } else if (kind == 'C') {
        uint32_t idx;
        if (!map_get(&L->ingr_map, b, &idx))
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown ingredient '%s'", path, line, b);
        unsigned type = d && *d ? orx_class_type_parse(d) : ORX_CLASS_ONC;
        if (!type) return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown class type '%s'", path, line, d);
        lex_class *k = &L->cls[L->n_cls++];
        k->cls = a; k->ingr = idx; k->citation = c; k->type = type;
    } else {
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown row kind '%c'", path, line, kind);
    }
    return ORX_OK;
}

static int cls_cmp(const void *a, const void *b) {
    const lex_class *x = a, *y = b;
    if (x->ingr != y->ingr) return x->ingr < y->ingr ? -1 : 1;
    int c = strcmp(x->cls, y->cls);
    if (c) return c;
    return x->type < y->type ? -1 : x->type > y->type;
}

/* Sort memberships by ingredient (stable order within: class, type) and index them. */
static bool index_classes(orx_lexicon *L) {
    qsort(L->cls, L->n_cls, sizeof *L->cls, cls_cmp);
    L->cls_start = calloc(L->n_ingr + 1, sizeof *L->cls_start);
    if (!L->cls_start || !map_init(&L->cls_map, L->n_cls + 1)) return false;
    size_t k = 0;
    for (size_t i = 0; i <= L->n_ingr; i++) {
        while (k < L->n_cls && L->cls[k].ingr < i) k++;
        L->cls_start[i] = (uint32_t)k;
    }
    for (size_t i = 0; i < L->n_cls; i++) {
        size_t before = L->cls_map.n;
        if (!map_put(&L->cls_map, L->cls[i].cls, 0)) return false;
        L->n_classes += L->cls_map.n > before;
        size_t j = orx_fnv1a_str(L->cls[i].cls) & (L->cls_map.cap - 1);
        while (strcmp(L->cls_map.keys[j], L->cls[i].cls) != 0) j = (j + 1) & (L->cls_map.cap - 1);
        L->cls_map.vals[j] |= L->cls[i].type; /* value: union of the class's membership kinds */
    }
    return true;
}

static orx_status lex_parse(orx_lexicon *L, const char *path, orx_error *err) {
    size_t counts[4] = {0};
    for (char *p = L->text; *p; p++) {
        if (p == L->text || p[-1] == '\n') {
            switch (*p) {
            case 'I': counts[0]++; break;
            case 'N': counts[1]++; break;
            case 'R': counts[2]++; break;
            case 'C': counts[3]++; break;
            default: break;
            }
        }
    }
    L->ingr = calloc(counts[0] + 1, sizeof *L->ingr);
    L->names = calloc(counts[1] + counts[2] + 1, sizeof *L->names);
    L->rx = calloc(counts[2] + 1, sizeof *L->rx);
    L->cls = calloc(counts[3] + 1, sizeof *L->cls);
    if (!L->ingr || !L->names || !L->rx || !L->cls ||
        !map_init(&L->ingr_map, counts[0] + 1) ||
        !map_init(&L->name_map, counts[1] + counts[2] + 1) || !map_init(&L->rx_map, counts[2] + 1))
        return orx_fail(err, ORX_ERR_NOMEM, "lexicon: out of memory");

    /* Split into lines, then two passes: I rows first (N/R/C rows reference ingredients). */
    size_t n_lines = orx_str_count(L->text, '\n');
    char **lines = calloc(n_lines + 2, sizeof *lines);
    if (!lines) return orx_fail(err, ORX_ERR_NOMEM, "lexicon: out of memory");
    size_t nl_count = 0;
    for (char *p = L->text, *row; (row = orx_tsv_next_line(&p, &nl_count));) lines[nl_count - 1] = row;
    orx_status st = ORX_OK;
    for (int pass = 0; pass < 2 && st == ORX_OK; pass++)
        for (size_t li = 0; li < nl_count && st == ORX_OK; li++) {
            char *p = lines[li];
            char kind = p[0];
            if (kind == '#' || kind == 0 || (pass == 0) != (kind == 'I')) continue;
            st = lex_row(L, p, path, li + 1, err);
        }
    free(lines);
    if (st) return st;
    /* SCD names from R rows become "clinical-drug" names */
    for (size_t i = 0; i < L->n_rx; i++) {
        lex_entry *r = &L->rx[i];
        if (strcmp(r->kind, "SCD") != 0 || !r->label[0]) continue;
        lex_entry *e = &L->names[L->n_names];
        *e = *r;
        e->key = r->label;
        e->kind = "clinical-drug";
        e->label = r->key; /* the SCD RxCUI */
        uint32_t dummy;
        if (map_get(&L->name_map, e->key, &dummy)) continue;
        if (!map_put(&L->name_map, e->key, (uint32_t)L->n_names))
            return orx_fail(err, ORX_ERR_NOMEM, "lexicon: map full");
        L->n_names++;
    }
    return index_classes(L) ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "lexicon: out of memory");
}

const char *orx_lexicon_default_data_dir(void) {
    const char *e = getenv("ORX_DATA_DIR");
    if (e && *e) return e;
#ifdef ORX_SOURCE_DIR
    return ORX_SOURCE_DIR "/data";
#else
    return "data";
#endif
}

orx_status orx_lexicon_open(const char *data_dir, orx_lexicon **out, orx_error *err) {
    if (!out) return orx_fail(err, ORX_ERR_USAGE, "orx_lexicon_open: out is NULL");
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/lexicon/lexicon.tsv",
             data_dir ? data_dir : orx_lexicon_default_data_dir());
    orx_lexicon *L = calloc(1, sizeof *L);
    if (!L) return orx_fail(err, ORX_ERR_NOMEM, "lexicon: out of memory");
    size_t len = 0;
    orx_status st = orx_read_file(path, LEX_MAX_BYTES, &L->text, &len, err);
    if (st == ORX_OK && (len < 16 || strncmp(L->text, "#openrx-lexicon\t", 16) != 0))
        st = orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx lexicon (missing header)", path);
    if (st == ORX_OK) st = lex_parse(L, path, err);
    if (st) {
        orx_lexicon_free(L);
        return st;
    }
    *out = L;
    return ORX_OK;
}

void orx_lexicon_free(orx_lexicon *L) {
    if (!L) return;
    map_free(&L->ingr_map);
    map_free(&L->name_map);
    map_free(&L->rx_map);
    map_free(&L->cls_map);
    free(L->cls_start);
    free(L->ingr);
    free(L->names);
    free(L->rx);
    free(L->cls);
    free(L->ingr_pool);
    free(L->text);
    free(L);
}

/* ============================================================================================
 * Lookup
 * ========================================================================================== */
typedef struct lk_ctx {
    const orx_lexicon *L;
    orx_lex_match     *out;
    int                cap;
    int                n;
    uint32_t           seen[64]; /* ingredient indices already reported */
    int                n_seen;
} lk_ctx;

static void add_match(lk_ctx *c, uint32_t ingr, const char *how, const char *matched) {
    for (int i = 0; i < c->n_seen; i++)
        if (c->seen[i] == ingr) return;
    if (c->n_seen < 64) c->seen[c->n_seen++] = ingr;
    if (c->n < c->cap && c->out) {
        orx_lex_match *m = &c->out[c->n];
        snprintf(m->ingredient, sizeof m->ingredient, "%s", c->L->ingr[ingr].name);
        snprintf(m->rxcui, sizeof m->rxcui, "%s", c->L->ingr[ingr].rxcui);
        snprintf(m->matched_by, sizeof m->matched_by, "%s", how);
        snprintf(m->matched, sizeof m->matched, "%s", matched);
    }
    c->n++;
}

static void add_entry(lk_ctx *c, const lex_entry *e, const char *how) {
    for (uint32_t i = 0; i < e->n_ingr; i++) add_match(c, c->L->ingr_pool[e->ingr_off + i], how, e->key);
}

/* Exact match of a normalised name (ingredient, other name, then the salt rule). */
static bool match_name(lk_ctx *c, const char *t) {
    uint32_t idx;
    if (map_get(&c->L->ingr_map, t, &idx)) {
        add_match(c, idx, "name", c->L->ingr[idx].name);
        return true;
    }
    if (map_get(&c->L->name_map, t, &idx)) {
        const lex_entry *e = &c->L->names[idx];
        add_entry(c, e, e->kind);
        return true;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", t);
    for (;;) {
        char *sp = strrchr(buf, ' ');
        if (!sp || !is_salt_word(sp + 1)) return false;
        *sp = 0;
        if (map_get(&c->L->ingr_map, buf, &idx)) {
            add_match(c, idx, "salt", t);
            return true;
        }
        if (map_get(&c->L->name_map, buf, &idx)) {
            add_entry(c, &c->L->names[idx], "salt");
            return true;
        }
    }
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* Words that never start a free-text match on their own (dose, route, form, frequency). */
static const char *const STOP_WORDS[] = {
    "mg", "mcg", "g", "ml", "unit", "units", "tablet", "tablets", "tab", "capsule", "capsules",
    "oral", "orally", "by", "mouth", "po", "iv", "im", "every", "hours", "hour", "daily", "day",
    "days", "week", "weekly", "twice", "once", "times", "take", "for", "with", "and", "as",
    "needed", "prn", "the", "of", "to", "in", "on", "at", "bedtime", "solution", "injection",
    "injectable", "suspension", "topical", "gel", "cream", "ointment", "patch", "extended",
    "release", "delayed", "chewable", "film", "coated", "hr", "actuat", "inhaler", "dose",
    "doses", "per", "a", "an", "or", "q", "qd", "bid", "tid", "qid", "qhs", "sc", "subcutaneous",
    "intravenous", "intravenously", "intramuscular", "then", "morning", "evening", "night",
    "nightly", "meals", "food", "kit", "pack", "spray", "drops", "drop", "product", "disintegrating",
    "pen", "syringe", "prefilled", "auto-injector", "vial", "metered", "powder", "inhalant",
    "nasal", "ophthalmic", "otic", "rectal", "vaginal", "transdermal", "sublingual", "buccal",
    "system", "liquid", "syrup", "elixir", "lotion", "foam", "shampoo", "granules", "packet",
    "wafer", "lozenge", "troche", "implant", "insert", "suppository", "enema", "mouthwash",
    "paste", "strip", "bar", "pad", "sponge", "swab", "tape", "towelette", "jelly", "oil",
    "water", "salt", "acid", "base", NULL};

static bool is_stop(const char *w) {
    if (strlen(w) < 4 && !(strlen(w) == 3 && isalpha((unsigned char)w[0]))) return true;
    for (int i = 0; STOP_WORDS[i]; i++)
        if (strcmp(w, STOP_WORDS[i]) == 0) return true;
    if (is_salt_word(w)) return true;
    bool digit = true;
    for (const char *p = w; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.' && *p != '-' && *p != '/') digit = false;
    return digit;
}

#define LK_MAX_TOK 64
#define LK_SPAN 6

/* Free-text scan: longest span of up to LK_SPAN words that is a known name. */
static void scan_text(lk_ctx *c, const char *t) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", t);
    char *tok[LK_MAX_TOK];
    int nt = 0;
    for (char *p = buf; *p && nt < LK_MAX_TOK;) {
        while (*p && strchr(" ,;:()[]{}+\"'", *p)) *p++ = 0;
        if (!*p) break;
        tok[nt++] = p;
        while (*p && !strchr(" ,;:()[]{}+\"'", *p)) p++;
    }
    for (int i = 0; i < nt;) {
        int found = 0;
        for (int j = (i + LK_SPAN < nt ? i + LK_SPAN : nt); j > i && !found; j--) {
            if (j == i + 1 && is_stop(tok[i])) break;
            char span[512];
            size_t o = 0;
            for (int k = i; k < j && o < sizeof span - 1; k++)
                o += (size_t)snprintf(span + o, sizeof span - o, "%s%s", k > i ? " " : "", tok[k]);
            if (o >= sizeof span) continue;
            uint32_t idx;
            /* a one-word synonym shorter than 5 characters is not matched inside free text */
            if (j == i + 1 && !map_get(&c->L->ingr_map, span, &idx)) {
                if (map_get(&c->L->name_map, span, &idx)) {
                    const lex_entry *e = &c->L->names[idx];
                    if (strcmp(e->kind, "synonym") == 0 && strlen(span) < 5) continue;
                }
            }
            /* resolve into a scratch context; a match to ingredients without an RxCUI (mostly
             * non-prescribable DrugBank entries: pesticides, metabolites, "monitor" ->
             * methamidophos) is accepted inside free text only at its start */
            lk_ctx tmp = {.L = c->L, .out = NULL, .cap = 0};
            orx_lex_match tm[8];
            tmp.out = tm;
            tmp.cap = 8;
            if (!match_name(&tmp, span) || tmp.n == 0) continue;
            bool coded = true;
            for (int k = 0; k < tmp.n_seen; k++) coded &= c->L->ingr[tmp.seen[k]].rxcui[0] != 0;
            if (!coded && i > 0) continue;
            for (int k = 0; k < tmp.n_seen && k < 8; k++) add_match(c, tmp.seen[k], tm[k].matched_by, tm[k].matched);
            found = j - i;
        }
        i += found ? found : 1;
    }
}

/* Is t[a..b) a name the lexicon knows (ingredient or other name) that resolves only to
 * prescribable ingredients (with an RxNorm RxCUI)? "tmp" (a DrugBank chemical) is not. */
static bool known_span(const orx_lexicon *L, const char *t, size_t a, size_t b) {
    char w[ORX_LEX_NAME * 2];
    if (b <= a || b - a >= sizeof w) return false;
    memcpy(w, t + a, b - a);
    w[b - a] = 0;
    uint32_t idx;
    if (map_get(&L->ingr_map, w, &idx)) return L->ingr[idx].rxcui[0] != 0;
    if (!map_get(&L->name_map, w, &idx)) return false;
    const lex_entry *e = &L->names[idx];
    for (uint32_t i = 0; i < e->n_ingr; i++)
        if (!L->ingr[L->ingr_pool[e->ingr_off + i]].rxcui[0]) return false;
    return e->n_ingr > 0;
}

/* Rewrite "a/b" (letters on both sides of the slash) and "a-b" (both halves known names) as
 * "a / b" in place, so the combination path below splits them. Dose strengths ("800 mg/160 mg",
 * "mg/kg": a digit or a unit next to the slash) are left alone because they are never names. */
static void spread_combination(const orx_lexicon *L, char *t, size_t cap) {
    char out[1024];
    size_t o = 0, n = strlen(t);
    for (size_t i = 0; i < n && o + 4 < sizeof out; i++) {
        char c = t[i];
        if ((c == '/' || c == '-') && i > 0 && i + 1 < n && isalpha((unsigned char)t[i - 1]) &&
            isalpha((unsigned char)t[i + 1])) {
            size_t a = i, b = i + 1;
            while (a > 0 && (isalpha((unsigned char)t[a - 1]) || t[a - 1] == ' ')) a--;
            while (b < n && isalpha((unsigned char)t[b])) b++;
            size_t ws = i; /* start of the word left of the separator */
            while (ws > 0 && isalpha((unsigned char)t[ws - 1])) ws--;
            bool left = known_span(L, t, ws, i) || known_span(L, t, a, i);
            bool right = known_span(L, t, i + 1, b);
            if (left && right) {
                out[o++] = ' ';
                out[o++] = '/';
                out[o++] = ' ';
                continue;
            }
        }
        out[o++] = c;
    }
    out[o] = 0;
    if (o < cap) memcpy(t, out, o + 1);
}

int orx_lexicon_lookup(const orx_lexicon *L, const char *text, orx_lex_match *out, int cap) {
    if (!L || !text) return 0;
    lk_ctx c = {.L = L, .out = out, .cap = cap < 0 ? 0 : cap};
    char t[1024];
    lex_norm(text, t, sizeof t);
    if (!t[0]) return 0;
    uint32_t idx;
    if (all_digits(t)) {
        if (map_get(&L->rx_map, t, &idx)) add_entry(&c, &L->rx[idx], "rxcui");
        return c.n;
    }
    if (match_name(&c, t)) return c.n;
    /* branded drug "... [Brand]": the brand, else the part before it */
    char *lb = strrchr(t, '[');
    if (lb && strchr(lb, ']')) {
        char brand[256];
        snprintf(brand, sizeof brand, "%.*s", (int)(strchr(lb, ']') - lb - 1), lb + 1);
        *lb = 0;
        char *head = orx_str_trim(t);
        if (match_name(&c, head)) return c.n;
        if (match_name(&c, brand)) return c.n;
    }
    /* combination written without spaces: "a/b" -> "a / b"; "a-b" -> "a / b" when both halves
     * are names the lexicon knows ("sulfamethoxazole-trimethoprim", not "co-trimoxazole") */
    spread_combination(L, t, sizeof t);
    /* combination: split on " / " and scan each part */
    if (strstr(t, " / ")) {
        char *s = t;
        while (s) {
            char *sep = strstr(s, " / ");
            if (sep) *sep = 0;
            if (!match_name(&c, s)) scan_text(&c, s);
            s = sep ? sep + 3 : NULL;
        }
        return c.n;
    }
    scan_text(&c, t);
    return c.n;
}

int orx_lexicon_lookup_exact(const orx_lexicon *L, const char *name, orx_lex_match *out, int cap) {
    if (!L || !name) return 0;
    lk_ctx c = {.L = L, .out = out, .cap = cap < 0 ? 0 : cap};
    char t[1024];
    lex_norm(name, t, sizeof t);
    if (!t[0] || all_digits(t)) return 0;
    match_name(&c, t);
    return c.n;
}

bool orx_lexicon_is_ingredient(const orx_lexicon *L, const char *name) {
    if (!L || !name) return false;
    char t[512];
    lex_norm(name, t, sizeof t);
    uint32_t idx;
    return map_get(&L->ingr_map, t, &idx);
}

/* ============================================================================================
 * Expansion
 * ========================================================================================== */
static bool ingr_index(const orx_lexicon *L, const char *ingredient, uint32_t *idx) {
    char t[512];
    lex_norm(ingredient ? ingredient : "", t, sizeof t);
    return map_get(&L->ingr_map, t, idx);
}

static bool entry_is_single(const orx_lexicon *L, const lex_entry *e, uint32_t idx) {
    return e->n_ingr == 1 && L->ingr_pool[e->ingr_off] == idx;
}

/* The single-ingredient names of an ingredient: those of kind `kind` (brands), or of any kind but
 * `kind` (synonyms: every name but clinical-drug strings). */
static int names_of(const orx_lexicon *L, const char *ingredient, const char *kind, bool is_kind,
                    char (*out)[ORX_LEX_NAME], int cap) {
    uint32_t idx;
    if (!L || !ingredient || !ingr_index(L, ingredient, &idx)) return 0;
    int n = 0;
    for (size_t i = 0; i < L->n_names; i++) {
        const lex_entry *e = &L->names[i];
        if ((strcmp(e->kind, kind) == 0) != is_kind || !entry_is_single(L, e, idx)) continue;
        if (n < cap && out) snprintf(out[n], ORX_LEX_NAME, "%s", e->key);
        n++;
    }
    return n;
}

int orx_lexicon_synonyms(const orx_lexicon *L, const char *ingredient, char (*out)[ORX_LEX_NAME],
                         int cap) {
    return names_of(L, ingredient, "clinical-drug", false, out, cap);
}

int orx_lexicon_brands(const orx_lexicon *L, const char *ingredient, char (*out)[ORX_LEX_NAME],
                       int cap) {
    return names_of(L, ingredient, "brand", true, out, cap);
}

int orx_lexicon_clinical_drugs(const orx_lexicon *L, const char *ingredient, char (*out)[16],
                               int cap) {
    uint32_t idx;
    if (!L || !ingredient || !ingr_index(L, ingredient, &idx)) return 0;
    int n = 0;
    for (size_t i = 0; i < L->n_rx; i++) {
        const lex_entry *e = &L->rx[i];
        if (strcmp(e->kind, "SCD") != 0 || !entry_is_single(L, e, idx)) continue;
        if (n < cap && out) snprintf(out[n], 16, "%s", e->key);
        n++;
    }
    return n;
}

/* ============================================================================================
 * Classes
 * ========================================================================================== */
static const struct { unsigned type; const char *name; } CLASS_TYPES[] = {
    {ORX_CLASS_ONC, "ONC"}, {ORX_CLASS_EPC, "EPC"}, {ORX_CLASS_MOA, "MoA"},
    {ORX_CLASS_PE, "PE"},   {ORX_CLASS_CS, "CS"},   {ORX_CLASS_PA, "PA"},
};

unsigned orx_class_type_parse(const char *name) {
    for (size_t i = 0; name && i < sizeof CLASS_TYPES / sizeof CLASS_TYPES[0]; i++)
        if (strcmp(name, CLASS_TYPES[i].name) == 0) return CLASS_TYPES[i].type;
    return 0;
}

const char *orx_class_type_name(unsigned type) {
    for (size_t i = 0; i < sizeof CLASS_TYPES / sizeof CLASS_TYPES[0]; i++)
        if (type & CLASS_TYPES[i].type) return CLASS_TYPES[i].name;
    return "";
}

/* The ingredient's membership rows in class cn (normalised): [*lo, *hi). */
static bool class_rows(const orx_lexicon *L, const char *ingredient, const char *class_name,
                       size_t *lo, size_t *hi) {
    uint32_t idx;
    if (!L || !ingredient || !class_name || !L->cls_start || !ingr_index(L, ingredient, &idx)) return false;
    char cn[ORX_LEX_NAME * 2];
    class_norm(class_name, cn, sizeof cn);
    size_t a = L->cls_start[idx], b = L->cls_start[idx + 1];
    while (a < b && strcmp(L->cls[a].cls, cn) != 0) a++;
    if (a == b) return false;
    size_t e = a;
    while (e < b && strcmp(L->cls[e].cls, cn) == 0) e++;
    *lo = a;
    *hi = e;
    return true;
}

const char *orx_lexicon_class_source_typed(const orx_lexicon *L, const char *ingredient,
                                           const char *class_name, unsigned types) {
    size_t lo, hi;
    if (!class_rows(L, ingredient, class_name, &lo, &hi)) return NULL;
    for (size_t i = lo; i < hi; i++)
        if (L->cls[i].type & types) return L->cls[i].citation;
    return NULL;
}

unsigned orx_lexicon_class_types(const orx_lexicon *L, const char *ingredient,
                                 const char *class_name) {
    size_t lo, hi;
    unsigned t = 0;
    if (!class_rows(L, ingredient, class_name, &lo, &hi)) return 0;
    for (size_t i = lo; i < hi; i++) t |= L->cls[i].type;
    return t;
}

const char *orx_lexicon_class_source(const orx_lexicon *L, const char *ingredient,
                                     const char *class_name) {
    return orx_lexicon_class_source_typed(L, ingredient, class_name, ORX_CLASS_ANY);
}

bool orx_lexicon_in_class(const orx_lexicon *L, const char *ingredient, const char *class_name) {
    return orx_lexicon_class_source(L, ingredient, class_name) != NULL;
}

unsigned orx_lexicon_class_kinds(const orx_lexicon *L, const char *class_name) {
    if (!L || !class_name || !L->cls_map.keys) return 0;
    char cn[ORX_LEX_NAME * 2];
    class_norm(class_name, cn, sizeof cn);
    uint32_t v;
    return map_get(&L->cls_map, cn, &v) ? v : 0;
}

bool orx_lexicon_is_class(const orx_lexicon *L, const char *class_name) {
    return orx_lexicon_class_kinds(L, class_name) != 0;
}

int orx_lexicon_classes_typed(const orx_lexicon *L, const char *ingredient, unsigned types,
                              char (*out)[ORX_LEX_NAME], int cap) {
    uint32_t idx;
    if (!L || !ingredient || !L->cls_start || !ingr_index(L, ingredient, &idx)) return 0;
    int n = 0;
    const char *last = NULL;
    for (size_t i = L->cls_start[idx]; i < L->cls_start[idx + 1]; i++) {
        if (!(L->cls[i].type & types) || (last && strcmp(last, L->cls[i].cls) == 0)) continue;
        last = L->cls[i].cls;
        if (n < cap && out) snprintf(out[n], ORX_LEX_NAME, "%s", L->cls[i].cls);
        n++;
    }
    return n;
}

int orx_lexicon_classes(const orx_lexicon *L, const char *ingredient, char (*out)[ORX_LEX_NAME],
                        int cap) {
    return orx_lexicon_classes_typed(L, ingredient, ORX_CLASS_ANY, out, cap);
}

int orx_lexicon_class_members(const orx_lexicon *L, const char *class_name,
                              char (*out)[ORX_LEX_NAME], int cap) {
    if (!L || !class_name) return 0;
    char cn[ORX_LEX_NAME * 2];
    class_norm(class_name, cn, sizeof cn);
    int n = 0;
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < L->n_cls; i++) {
        if (strcmp(L->cls[i].cls, cn) != 0 || L->cls[i].ingr == last) continue;
        last = L->cls[i].ingr;
        if (n < cap && out) snprintf(out[n], ORX_LEX_NAME, "%s", L->ingr[L->cls[i].ingr].name);
        n++;
    }
    return n;
}

void orx_lexicon_get_stats(const orx_lexicon *L, orx_lexicon_stats *st) {
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!L) return;
    st->ingredients = L->n_ingr;
    st->names = L->n_ingr + L->n_names;
    st->rxcuis = L->n_rx;
    st->classes = L->n_classes;
    st->class_members = L->n_cls;
}
