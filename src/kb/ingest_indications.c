/*
 * ingest_indications.c — indication-only documents: *.indications.jsonl, one
 * {"line": N, "text": "<Indications & Usage section text>"} per line (the DailyMed indication
 * curation of MaastrichtU-IDS/extract-dailymed-spl; see data/labels/SOURCE.md). The upstream file
 * has no set id and no drug field: each text becomes one document with set id
 * "dailymed-indications:<N>" (N = its line in the upstream file) and a single Indications & Usage
 * section, and its drug is resolved from the text with the drug-name lexicon: the lexicon's
 * ingredients named in the sentence subject ("IDAMYCIN PFS Injection in combination with …
 * is indicated" → idarubicin), else in the first sentence. A text whose drug the lexicon cannot
 * name is kept without drug names (still searchable; never an option).
 */
#include "kb/kb.h"
#include "lexicon/lexicon.h"
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IND_CODE "34067-9"
#define MAX_LINE (4u << 20) /* one indications text */

/* ============================================================================================
 * Drug of a text
 * ========================================================================================== */
/* first case-insensitive occurrence of needle within the first lim bytes of t, or NULL */
static const char *find_ci(const char *t, const char *needle, size_t lim) {
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= lim; i++)
        if (!strncasecmp(t + i, needle, nl)) return t + i;
    return NULL;
}

/* Length of the grammatical subject: text before the first "is/are indicated", "is a", "is an",
 * ", a " … (bounded), cut at " in combination with" / " when " / " with ". 0 when none. */
static size_t subject_len(const char *t, size_t n) {
    static const char *const VERB[] = {" is indicated", " are indicated", " is an ", " is a ",
                                       " are a ", " indicated ", " is used", " are used", ", an ", ", a ", NULL};
    static const char *const CUT[] = {" in combination with", " when ", " with ", " alone or ", NULL};
    size_t lim = n < 300 ? n : 300, best = 0;
    for (int i = 0; VERB[i]; i++) {
        const char *p = find_ci(t, VERB[i], lim);
        if (p && (!best || (size_t)(p - t) < best)) best = (size_t)(p - t);
    }
    for (int i = 0; best && CUT[i]; i++) {
        const char *p = find_ci(t, CUT[i], best);
        if (p && p > t) best = (size_t)(p - t);
    }
    return best;
}

/* length of the first sentence (to ". " + capital, or the whole text, at most 400 bytes) */
static size_t first_sentence_len(const char *t, size_t n) {
    size_t lim = n < 400 ? n : 400;
    for (size_t i = 1; i + 2 < lim; i++)
        if (t[i] == '.' && t[i + 1] == ' ' && isupper((unsigned char)t[i + 2])) return i;
    return lim;
}

typedef struct drug_names {
    char generic[512]; /* "; "-separated ingredients */
    char brand[256];   /* "; "-separated brand names as matched */
    char title[160];   /* the subject phrase (display name) */
} drug_names;

static void add_name(char *dst, size_t cap, const char *name) {
    if (!*name || strstr(dst, name)) return;
    size_t l = strlen(dst);
    snprintf(dst + l, cap - l, "%s%s", l ? "; " : "", name);
}

static int lookup_span(const orx_lexicon *lex, const char *t, size_t n, orx_lex_match *m, int cap) {
    char buf[512];
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, t, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '/') buf[i] = ' '; /* "REMERON/REMERONSolTab" */
    int k = orx_lexicon_lookup(lex, buf, m, cap);
    return k > cap ? cap : k;
}

/* Other sentences that start with the subject's first word ("QUARTETTE is a combination of
 * levonorgestrel … and ethinyl estradiol"): the first of them that names an ingredient. */
static int lookup_same_subject(const orx_lexicon *lex, const char *t, size_t n, orx_lex_match *m, int cap) {
    size_t wl = 0;
    while (wl < n && isalnum((unsigned char)t[wl])) wl++;
    if (wl < 3) return 0;
    for (size_t i = 1; i + wl < n; i++) {
        if (!(t[i - 1] == ' ' && i >= 2 && t[i - 2] == '.') || strncmp(t + i, t, wl) != 0) continue;
        size_t fl = first_sentence_len(t + i, n - i);
        int k = lookup_span(lex, t + i, fl, m, cap);
        if (k > 0) return k;
    }
    return 0;
}

/* Last resort: the whole text (first 2,000 bytes, by sentences) names exactly one ingredient
 * ("ClindacinP is indicated in the treatment of acne vulgaris … clindamycin …"); a text naming
 * several (a drug and its co-medications) stays unresolved. */
static int lookup_only_one(const orx_lexicon *lex, const char *t, size_t n, orx_lex_match *m) {
    char one[ORX_LEX_NAME] = "";
    orx_lex_match found[4];
    size_t lim = n < 2000 ? n : 2000;
    for (size_t i = 0; i < lim;) {
        size_t fl = first_sentence_len(t + i, lim - i);
        int k = lookup_span(lex, t + i, fl, found, 4);
        for (int j = 0; j < k; j++) {
            if (!one[0]) {
                snprintf(one, sizeof one, "%s", found[j].ingredient);
                m[0] = found[j];
            } else if (strcmp(one, found[j].ingredient)) {
                return 0;
            }
        }
        i += fl ? fl + 1 : 1;
    }
    return one[0] ? 1 : 0;
}

static void resolve_drug(const orx_lexicon *lex, const char *t, size_t n, drug_names *d) {
    memset(d, 0, sizeof *d);
    size_t sl = subject_len(t, n), fl = first_sentence_len(t, n);
    size_t tl = sl ? sl : fl < 120 ? fl : 120;
    snprintf(d->title, sizeof d->title, "%.*s", (int)(tl < sizeof d->title - 1 ? tl : sizeof d->title - 1), t);
    if (!lex) return;
    orx_lex_match m[8];
    int k = sl ? lookup_span(lex, t, sl, m, 8) : 0;
    if (k == 0) k = lookup_span(lex, t, fl, m, 8);
    if (k == 0) k = lookup_same_subject(lex, t, n, m, 8);
    if (k == 0) k = lookup_only_one(lex, t, n, m);
    for (int i = 0; i < k; i++) {
        add_name(d->generic, sizeof d->generic, m[i].ingredient);
        if (!strcmp(m[i].matched_by, "brand")) add_name(d->brand, sizeof d->brand, m[i].matched);
    }
}

/* ============================================================================================
 * Ingest
 * ========================================================================================== */
static orx_status one_line(const char *path, long lineno, const char *line, size_t n,
                           const orx_lexicon *lex, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    if (!o) return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:%d: %s", path, lineno, je.column, je.text);
    json_t *jl = json_object_get(o, "line"), *jt = json_object_get(o, "text");
    orx_status st = ORX_OK;
    if (!json_is_integer(jl) || json_integer_value(jl) < 1)
        st = orx_fail(err, ORX_ERR_PARSE, "%s:%ld:1: field \"line\" must be a positive integer", path, lineno);
    else if (!json_is_string(jt))
        st = orx_fail(err, ORX_ERR_PARSE, "%s:%ld:1: field \"text\" must be a string", path, lineno);
    if (st == ORX_OK) {
        const char *text = json_string_value(jt);
        size_t tl = json_string_length(jt);
        drug_names d;
        resolve_drug(lex, text, tl, &d);
        char set_id[64], src[4200];
        snprintf(set_id, sizeof set_id, "dailymed-indications:%lld", (long long)json_integer_value(jl));
        snprintf(src, sizeof src, "%.4000s#%ld", path, lineno);
        orx_kb_section sec = {.code = IND_CODE, .name = "Indications & Usage", .title = "", .text = text, .len = tl};
        orx_kb_doc doc = {.set_id = set_id, .version = "", .effective_date = "", .title = d.title,
                          .generic_names = d.generic, .brand_names = d.brand, .rxcuis = "",
                          .source_file = src, .sections = &sec, .n_sections = 1, .src_bytes = n,
                          .indication_only = true};
        st = fn(ctx, &doc, err);
    }
    json_decref(o);
    return st;
}

typedef struct line_ctx {
    const char        *path;
    const orx_lexicon *lex;
    orx_kb_doc_fn      fn;
    void              *ctx;
} line_ctx;

static orx_status on_line(void *u, long lineno, char *line, size_t n, orx_error *err) {
    const line_ctx *lc = u;
    return one_line(lc->path, lineno, line, n, lc->lex, lc->fn, lc->ctx, err);
}

orx_status orx_kb_ingest_indications(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return orx_fail(err, ORX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    line_ctx lc = {path, NULL, fn, ctx};
    orx_error lerr = ORX_ERROR_INIT;
    orx_lexicon *lex = NULL;
    if (orx_lexicon_open(NULL, &lex, &lerr) != ORX_OK) lex = NULL; /* texts stay drug-less */
    lc.lex = lex;
    orx_status st = orx_each_line(f, path, MAX_LINE, true, on_line, &lc, err);
    fclose(f);
    orx_lexicon_free(lex);
    return st;
}
