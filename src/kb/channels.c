/*
 * channels.c — the evidence of the recommend pipeline, in channels with budgets (the BM25
 * retriever's retrieve()):
 *
 *   indication   the options' indication sentences                    30 % of items, 20 % of words
 *   dosing       per option, its Dosage & Administration paragraphs    30 % of items, 40 % of words
 *                for the patient's band: renal and hepatic impairment,
 *                age group; the best paragraph first
 *   safety       per option, its Boxed Warning and Contraindications   20 % of items, 20 % of words
 *   interaction  each option's label about each current medicine and   the rest,     20 % of words
 *                the medicine's label about the option
 * A channel's unused items and words pass to the channels after it. Patient facts choose
 * sections and paragraphs; they are never search words. Without options the indication alone is
 * searched (BM25), over every label.
 */
#define _GNU_SOURCE 1 /* strcasestr */
#include "kb/ind_internal.h"
#include "kb/kb_internal.h"
#include "util/util.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_OPT_CH 6     /* options that get dosing / safety / interaction evidence */
#define MAX_LABELS 4     /* labels tried per option */
#define MAX_LINES 256    /* paragraphs scored per label section */

const char *orx_kb_channel_name(int channel) {
    static const char *const N[] = {"", "indication", "dosing", "safety", "interaction", "search"};
    return channel >= 0 && channel <= ORX_KB_CH_SEARCH ? N[channel] : "";
}

/* ============================================================================================
 * Items
 * ========================================================================================== */
typedef struct item_list {
    orx_kb_hit *v;   /* candidate hits of one channel, in priority order */
    size_t      n;   /* count */
    size_t      cap; /* allocated */
} item_list;

static void hit_release(orx_kb_hit *h) {
    free(h->text);
    free(h->snippet);
    h->text = h->snippet = NULL;
}

static void list_free(item_list *l) {
    for (size_t i = 0; i < l->n; i++) hit_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool list_push(item_list *l, orx_kb_hit *h) {
    orx_kb_hit *nv = orx_grow(l->v, &l->cap, l->n, sizeof *nv, 16);
    if (!nv) return false;
    l->v = nv;
    l->v[l->n++] = *h;
    return true;
}

static int count_words(const char *s) {
    int n = 0;
    bool in = false;
    for (; s && *s; s++) {
        bool sp = isspace((unsigned char)*s);
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

/* cut text to at most max words, at a sentence end when one is in the last third */
static void trim_words(orx_kb_hit *h, int max) {
    if (!h->text || max <= 0) return;
    int n = 0;
    bool in = false;
    size_t cut = 0, last_sent = 0;
    for (size_t i = 0; h->text[i]; i++) {
        bool sp = isspace((unsigned char)h->text[i]);
        if (!sp && !in && ++n > max) { cut = i; break; }
        if (i > 0 && sp && (h->text[i - 1] == '.' || h->text[i - 1] == ';')) last_sent = i;
        in = !sp;
    }
    if (!cut) return;
    if (last_sent > cut * 2 / 3) cut = last_sent;
    while (cut && isspace((unsigned char)h->text[cut - 1])) cut--;
    h->text[cut] = 0;
    h->end = h->start + cut;
}

/* ============================================================================================
 * Dosing paragraphs for the patient's band
 * ========================================================================================== */
static bool has_any(const ind_tok *t, int n, const char *const *words) {
    char w[IND_WORD];
    for (int k = 0; words[k]; k++) {
        if (!orx_ind_norm(words[k], strlen(words[k]), w)) continue;
        for (int i = 0; i < n; i++)
            if (t[i].kind == 'w' && !strcmp(t[i].norm, w)) return true;
    }
    return false;
}

static bool has_dose_number(const char *s, size_t n) {
    for (size_t i = 0; i + 2 < n; i++)
        if (isdigit((unsigned char)s[i])) {
            size_t j = i + 1;
            while (j < n && (isdigit((unsigned char)s[j]) || s[j] == '.' || s[j] == ',')) j++;
            while (j < n && s[j] == ' ') j++;
            if (j + 1 < n && (!strncasecmp(s + j, "mg", 2) || !strncasecmp(s + j, "mcg", 3) ||
                              !strncasecmp(s + j, "unit", 4) || !strncasecmp(s + j, "mL", 2) ||
                              !strncasecmp(s + j, "g ", 2)))
                return true;
        }
    return false;
}

/* Does a renal range in the paragraph hold v? +1 yes, -1 ranges but none holds it, 0 none.
 * Reads "CrCl 15 to 30", "CrCl 15-30", "CrCl <30", "CrCl ≤30", "CrCl >30", "CrCl ≥ 30",
 * "CrCl below/less than 30", "CrCl above/greater than 30" (also after "creatinine clearance",
 * "eGFR"). */
static int renal_range(const char *s, size_t n, double v) {
    static const char *const KEYS[] = {"CrCl", "creatinine clearance", "eGFR", "CLcr", NULL};
    int found = 0;
    for (int k = 0; KEYS[k]; k++) {
        size_t kl = strlen(KEYS[k]);
        for (size_t i = 0; i + kl < n; i++) {
            if (strncasecmp(s + i, KEYS[k], kl) != 0) continue;
            const char *p = s + i + kl, *e = s + n;
            while (p < e && (*p == ' ' || *p == ':' || *p == '(')) p++;
            int op = 0; /* 1 below, 2 above */
            if (p < e && *p == '<') op = 1, p++;
            else if (p < e && *p == '>') op = 2, p++;
            else if (e - p >= 3 && !memcmp(p, "\xe2\x89\xa4", 3)) op = 1, p += 3; /* ≤ */
            else if (e - p >= 3 && !memcmp(p, "\xe2\x89\xa5", 3)) op = 2, p += 3; /* ≥ */
            else if (e - p >= 5 && !strncasecmp(p, "below", 5)) op = 1, p += 5;
            else if (e - p >= 9 && !strncasecmp(p, "less than", 9)) op = 1, p += 9;
            else if (e - p >= 5 && !strncasecmp(p, "above", 5)) op = 2, p += 5;
            else if (e - p >= 12 && !strncasecmp(p, "greater than", 12)) op = 2, p += 12;
            while (p < e && (*p == ' ' || *p == '=')) p++;
            if (p >= e || !isdigit((unsigned char)*p)) continue;
            double a = strtod(p, NULL), b = -1;
            while (p < e && (isdigit((unsigned char)*p) || *p == '.')) p++;
            while (p < e && *p == ' ') p++;
            if (!op && p < e && (*p == '-' || (e - p >= 2 && !strncmp(p, "to", 2)))) {
                p += *p == '-' ? 1 : 2;
                while (p < e && *p == ' ') p++;
                if (p < e && isdigit((unsigned char)*p)) b = strtod(p, NULL);
            }
            bool in = op == 1 ? v < a + 1e-9 : op == 2 ? v > a - 1e-9 : b >= a ? v >= a && v <= b : false;
            if (!op && b < a) continue; /* a single value, not a range */
            if (in) return 1;
            found = -1;
        }
    }
    return found;
}

/* score of one paragraph: the indication's words, the patient's band, a dose in it */
static int line_score(const char *s, size_t n, const orx_retrieval_request *rq, const ind_tok *ind, int n_ind,
                      ind_tok *tk) {
    static const char *const RENAL[] = {"renal", "kidney", "creatinine", "CrCl", "clearance", "dialysis", "eGFR", NULL};
    static const char *const HEPATIC[] = {"hepatic", "liver", "Child-Pugh", "Pugh", "cirrhosis", NULL};
    static const char *const OLD[] = {"elderly", "geriatric", "older", "age", "aged", NULL};
    static const char *const CHILD[] = {"pediatric", "children", "child", "adolescents", "infants", NULL};
    static const char *const ADULT_ONLY[] = {"pediatric", "children", NULL};
    int nt = orx_ind_tokens(s, n, tk, MAX_LINES);
    if (nt > MAX_LINES) nt = MAX_LINES;
    int sc = 0, hits = 0;
    for (int i = 0; i < n_ind; i++)
        for (int j = 0; j < nt; j++)
            if (tk[j].kind == 'w' && !strcmp(tk[j].norm, ind[i].norm)) { hits++; break; }
    sc += hits > 3 ? 6 : 2 * hits;
    const orx_retrieval_band *b = &rq->band;
    if (b->renal_impaired && has_any(tk, nt, RENAL)) sc += b->renal_severe ? 5 : 4;
    if (b->renal_ml_min > 0) sc += 4 * renal_range(s, n, b->renal_ml_min);
    if (b->hepatic_impaired && has_any(tk, nt, HEPATIC)) sc += 4;
    if (b->geriatric && has_any(tk, nt, OLD)) sc += 2;
    if (b->pediatric && has_any(tk, nt, CHILD)) sc += 4;
    if (!b->pediatric && has_any(tk, nt, ADULT_ONLY)) sc -= 2;
    if (has_dose_number(s, n)) sc += 2;
    else sc -= 2; /* a heading or a general remark: the dose itself first */
    return sc;
}

static bool bullet_at(const char *t, size_t i, size_t n) {
    while (i < n && (t[i] == ' ' || t[i] == '\t')) i++;
    if (i >= n) return false;
    unsigned char c = (unsigned char)t[i];
    return c == '-' || c == '*' || c == 0xE2 /* • ● ▪ … */ || c == 0xC2 /* · */;
}

/* end of the paragraph at i: a line end, unless the line is a heading (no closing '.', at most
 * 15 words: "Reduction of Risk of Stroke … Atrial Fibrillation" + its dose sentence), ends with ':'
 * or is a bare list bullet, or the next line is a list item ("… any 2 of the following:" + "•" +
 * "age ≥80 years" …); table rows ("| …") and prose never share one; at most ~90 words */
static size_t para_end(const char *t, size_t i, size_t n) {
    size_t e = i;
    int words = 0;
    for (;;) {
        size_t b = e;
        int lw = 0;
        bool in_word = false;
        while (e < n && t[e] != '\n') {
            bool sp = isspace((unsigned char)t[e]);
            if (!sp && !in_word) lw++;
            in_word = !sp;
            e++;
        }
        words += lw;
        if (e >= n || words > 90) return e;
        size_t last = e;
        while (last > b && isspace((unsigned char)t[last - 1])) last--;
        char end_c = last > b ? t[last - 1] : 0;
        bool heading = lw > 0 && lw <= 15 && end_c != '.' && end_c != ';' && end_c != ')';
        bool bare_bullet = lw == 1 && bullet_at(t, b, last);
        if (!(end_c == ':' || heading || bare_bullet || lw == 0 || bullet_at(t, e + 1, n))) return e;
        /* a table's rows ("| CrCl 15 to 30 mL/min: | 75 mg twice daily") stay apart from prose */
        size_t nb = e + 1;
        while (nb < n && (t[nb] == ' ' || t[nb] == '\n')) nb++;
        size_t cb = b;
        while (cb < last && t[cb] == ' ') cb++;
        if (lw > 0 && nb < n && (t[cb] == '|') != (t[nb] == '|')) return e;
        e++;
    }
}

typedef struct line_span {
    size_t off, len; /* paragraph bytes in the joined text */
    int    score;    /* line_score */
    int    words;    /* words */
} line_span;

/* the dosing hit of one label: its D&A chunks' paragraphs, the best for this patient first,
 * then the others that fit in max_words, in document order */
static orx_status dosing_of(orx_kb *kb, const char *set_id, const orx_retrieval_request *rq, const ind_tok *ind,
                            int n_ind, int max_words, orx_kb_hit *out, bool *found, orx_error *err) {
    *found = false;
    orx_kb_results r;
    orx_status st = orx_kb_label_section(kb, set_id, "34068-7", &r, err);
    if (st != ORX_OK || r.n == 0) return orx_kb_results_clear(&r), st;
    orx_buf all;
    orx_buf_init(&all);
    for (size_t i = 0; i < r.n; i++) orx_buf_printf(&all, "%s%s", i ? "\n" : "", r.hits[i].text);
    line_span *ls = calloc(MAX_LINES, sizeof *ls);
    ind_tok *tk = malloc(MAX_LINES * sizeof *tk);
    size_t nl = 0;
    for (size_t i = 0; all.data && i < all.len && nl < MAX_LINES && ls && tk;) {
        size_t e = para_end(all.data, i, all.len);
        size_t b = i;
        while (b < e && isspace((unsigned char)all.data[b])) b++;
        if (e > b && count_words(all.data + b) > 0) {
            ls[nl] = (line_span){b, e - b, line_score(all.data + b, e - b, rq, ind, n_ind, tk), 0};
            for (size_t k = b; k < e; k++)
                if (!isspace((unsigned char)all.data[k]) && (k == b || isspace((unsigned char)all.data[k - 1]))) ls[nl].words++;
            nl++;
        }
        i = e + 1;
    }
    size_t best = 0;
    for (size_t i = 1; i < nl; i++)
        if (ls[i].score > ls[best].score) best = i;

    orx_buf txt;
    orx_buf_init(&txt);
    if (nl && ls[best].score > 0) {
        orx_buf_append(&txt, all.data + ls[best].off, ls[best].len);
        int used = ls[best].words;
        for (size_t i = 0; i < nl; i++) {
            if (i == best || ls[i].score <= 1 || used + ls[i].words > max_words) continue;
            orx_buf_puts(&txt, "\n\n");
            orx_buf_append(&txt, all.data + ls[i].off, ls[i].len);
            used += ls[i].words;
        }
        *out = r.hits[0];
        r.hits[0].text = r.hits[0].snippet = NULL;
        free(out->snippet);
        out->snippet = NULL;
        free(out->text);
        out->text = orx_buf_steal(&txt);
        out->score = ls[best].score;
        *found = out->text != NULL;
        if (!out->text) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    orx_buf_clear(&txt);
    orx_buf_clear(&all);
    free(ls);
    free(tk);
    orx_kb_results_clear(&r);
    return st;
}

/* ============================================================================================
 * Channels
 * ========================================================================================== */
typedef struct channels {
    item_list ch[5];   /* by orx_kb_channel - 1: indication, dosing, safety, interaction, search */
} channels;

static orx_status push(channels *c, int channel, int option, orx_kb_hit *h, orx_error *err) {
    h->channel = channel;
    h->option = option;
    if (!list_push(&c->ch[channel - 1], h)) {
        hit_release(h);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    return ORX_OK;
}

static orx_status indication_items(const orx_retrieval_request *rq, channels *c, orx_error *err) {
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < rq->n_options; i++) {
        const orx_kb_hit *src = rq->options[i].indication;
        if (!src || !src->text) continue;
        orx_kb_hit h = *src;
        h.text = orx_strdup(src->text);
        h.snippet = NULL;
        if (!h.text) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        st = push(c, ORX_KB_CH_INDICATION, (int)i, &h, err);
    }
    return st;
}

static orx_status dosing_items(orx_kb *kb, const orx_retrieval_request *rq, channels *c, orx_error *err) {
    ind_tok ind[64];
    int n_ind = 0;
    if (rq->indication) {
        ind_tok t[64];
        int n = orx_ind_tokens(rq->indication, strlen(rq->indication), t, 64);
        for (int i = 0; i < n && i < 64; i++)
            if (t[i].kind == 'w' && t[i].norm[0] && !orx_ind_is_stop(t[i].norm) && !orx_ind_is_drop(t[i].norm) &&
                !orx_ind_is_function(t[i].norm))
                ind[n_ind++] = t[i];
    }
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < rq->n_options && i < MAX_OPT_CH; i++) {
        char ids[MAX_LABELS][64];
        int nl = orx_kb_labels_of(kb, rq->options[i].name, ids, MAX_LABELS);
        bool found = false;
        for (int l = 0; st == ORX_OK && l < nl && l < MAX_LABELS && !found; l++) {
            orx_kb_hit h;
            st = dosing_of(kb, ids[l], rq, ind, n_ind, 150, &h, &found, err);
            if (st == ORX_OK && found) st = push(c, ORX_KB_CH_DOSING, (int)i, &h, err);
        }
    }
    return st;
}

static orx_status safety_items(orx_kb *kb, const orx_retrieval_request *rq, channels *c, orx_error *err) {
    static const char *const CODES[2] = {"34066-1", "34070-3"}; /* Boxed Warning, Contraindications */
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < rq->n_options && i < MAX_OPT_CH; i++) {
        char ids[MAX_LABELS][64];
        int nl = orx_kb_labels_of(kb, rq->options[i].name, ids, MAX_LABELS);
        for (int k = 0; st == ORX_OK && k < 2; k++)
            for (int l = 0; st == ORX_OK && l < nl && l < MAX_LABELS; l++) {
                orx_kb_results r;
                st = orx_kb_label_section(kb, ids[l], CODES[k], &r, err);
                bool got = st == ORX_OK && r.n > 0;
                if (got) {
                    orx_kb_hit h = r.hits[0];
                    r.hits[0].text = r.hits[0].snippet = NULL;
                    free(h.snippet);
                    h.snippet = NULL;
                    st = push(c, ORX_KB_CH_SAFETY, (int)i, &h, err);
                }
                orx_kb_results_clear(&r);
                if (got) break;
            }
    }
    return st;
}

/* the text mentions name (case-insensitive, whole word) */
static bool mentions(const char *text, const char *name) {
    size_t n = strlen(name);
    if (!n || !text) return false;
    for (const char *p = text; (p = strcasestr(p, name)); p++) {
        bool left = p == text || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[n]);
        if (left && right) return true;
    }
    return false;
}

/* label sections read once per retrieve() call (a medicine's label is read for every option) */
typedef struct section_cache {
    char           key[MAX_OPT_CH * 24][96]; /* "<set id>#<code>" */
    orx_kb_results res[MAX_OPT_CH * 24];     /* its chunks */
    int            n;                        /* entries */
} section_cache;

static const orx_kb_results *cached_section(orx_kb *kb, section_cache *c, const char *set_id, const char *code) {
    char key[96];
    snprintf(key, sizeof key, "%s#%s", set_id, code);
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->key[i], key)) return &c->res[i];
    if (c->n == (int)(sizeof c->key / sizeof c->key[0])) return NULL;
    orx_error e2 = ORX_ERROR_INIT;
    orx_kb_results *r = &c->res[c->n];
    if (orx_kb_label_section(kb, set_id, code, r, &e2) != ORX_OK) orx_kb_results_clear(r);
    snprintf(c->key[c->n++], sizeof c->key[0], "%s", key);
    return r;
}

static void cache_free(section_cache *c) {
    for (int i = 0; i < c->n; i++) orx_kb_results_clear(&c->res[i]);
    c->n = 0;
}

/* drug's label text about other: the first chunk of its Drug Interactions, Warnings and
 * Precautions, Precautions or Warnings section that names other */
static orx_status about(orx_kb *kb, section_cache *cache, const char *drug, const char *other, int option,
                        channels *c, orx_error *err) {
    static const char *const CODES[] = {"34073-7", "43685-7", "42232-9", "34071-1", NULL};
    char ids[2][64];
    int nl = orx_kb_labels_of(kb, drug, ids, 2);
    for (int l = 0; l < nl && l < 2; l++)
        for (int k = 0; CODES[k]; k++) {
            const orx_kb_results *r = cached_section(kb, cache, ids[l], CODES[k]);
            for (size_t i = 0; r && i < r->n; i++) {
                if (!mentions(r->hits[i].text, other)) continue;
                orx_kb_hit h = r->hits[i];
                h.text = orx_strdup(r->hits[i].text);
                h.snippet = NULL;
                if (!h.text) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
                return push(c, ORX_KB_CH_INTERACTION, option, &h, err);
            }
        }
    return ORX_OK;
}

static orx_status interaction_items(orx_kb *kb, const orx_retrieval_request *rq, channels *c, orx_error *err) {
    section_cache *cache = calloc(1, sizeof *cache);
    if (!cache) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < rq->n_options && i < MAX_OPT_CH; i++)
        for (size_t j = 0; st == ORX_OK && j < rq->n_drugs && j < 16; j++) {
            const char *opt = rq->options[i].name, *med = rq->drugs[j];
            if (!strcmp(opt, med)) continue;
            st = about(kb, cache, opt, med, (int)i, c, err);
            if (st == ORX_OK) st = about(kb, cache, med, opt, (int)i, c, err);
        }
    cache_free(cache);
    free(cache);
    return st;
}

/* ============================================================================================
 * Budgets
 * ========================================================================================== */
/* the same chunk for the same channel, or the same text from another label (a repackager's copy) */
static bool same_evidence(const orx_kb_hit *a, const orx_kb_hit *b) {
    if (a->chunk_id == b->chunk_id && a->start == b->start && a->channel == b->channel) return true;
    return a->text && b->text && strcmp(a->text, b->text) == 0;
}

static orx_status take(orx_kb_results *out, orx_kb_hit *h, orx_error *err) {
    for (size_t i = 0; i < out->n; i++)
        if (same_evidence(&out->hits[i], h) || (h->channel == ORX_KB_CH_INTERACTION && out->hits[i].chunk_id == h->chunk_id)) {
            hit_release(h);
            return ORX_OK;
        }
    orx_kb_hit *nh = realloc(out->hits, (out->n + 1) * sizeof *nh);
    if (!nh) return hit_release(h), orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    out->hits = nh;
    out->hits[out->n++] = *h;
    memset(h, 0, sizeof *h);
    return ORX_OK;
}

/* fill out from the channels: each its share of items and words, leftovers passed on */
static orx_status allocate(channels *c, int k, int words, orx_kb_results *out, orx_error *err) {
    static const double ITEM_SHARE[4] = {0.3, 0.3, 0.2, 0.2}, WORD_SHARE[4] = {0.2, 0.4, 0.2, 0.2};
    static const int ITEM_WORDS[4] = {80, 150, 120, 100};
    size_t used[4] = {0};
    int item_left = 0, word_left = 0;
    orx_status st = ORX_OK;
    for (int round = 0; round < 2 && st == ORX_OK; round++)
        for (int ch = 0; ch < 4 && st == ORX_OK; ch++) {
            int items = round == 0 ? (int)(k * ITEM_SHARE[ch] + 0.5) + item_left : k - (int)out->n;
            int wb = round == 0 ? (int)(words * WORD_SHARE[ch]) + word_left : word_left;
            if (round == 0 && ch == 3) items = k - (int)out->n;
            while (items > 0 && used[ch] < c->ch[ch].n && (int)out->n < k && wb >= 20) {
                orx_kb_hit *h = &c->ch[ch].v[used[ch]++];
                trim_words(h, wb < ITEM_WORDS[ch] ? wb : ITEM_WORDS[ch]);
                int w = count_words(h->text);
                size_t before = out->n;
                st = take(out, h, err);
                if (st != ORX_OK) break;
                if (out->n > before) items--, wb -= w;
            }
            item_left = items > 0 && round == 0 ? items : 0;
            word_left = wb > 0 ? wb : 0;
        }
    /* keep the channel order in the result (the allocation's second round appends) */
    for (size_t i = 1; i < out->n; i++)
        for (size_t j = i; j > 0 && out->hits[j].channel < out->hits[j - 1].channel; j--) {
            orx_kb_hit t = out->hits[j];
            out->hits[j] = out->hits[j - 1], out->hits[j - 1] = t;
        }
    return st;
}

static orx_status search_items(orx_kb *kb, const orx_retrieval_request *rq, int k, channels *c, orx_error *err) {
    if (!rq->indication || !*rq->indication) return ORX_OK;
    /* only the words that name the condition: no patient or question words */
    ind_tok t[64];
    int n = orx_ind_tokens(rq->indication, strlen(rq->indication), t, 64);
    orx_buf q;
    orx_buf_init(&q);
    for (int i = 0; i < n && i < 64; i++)
        if (t[i].kind == 'w' && t[i].norm[0] && !orx_ind_is_stop(t[i].norm) && !orx_ind_is_drop(t[i].norm))
            orx_buf_printf(&q, "%s%.*s", q.len ? " " : "", (int)t[i].len, rq->indication + t[i].off);
    orx_status st = ORX_OK;
    if (q.data) {
        orx_kb_query kq = {.text = q.data, .k = k, .expand = true};
        orx_kb_results r;
        orx_error e2 = ORX_ERROR_INIT;
        if (orx_kb_search(kb, &kq, &r, &e2) == ORX_OK)
            for (size_t i = 0; st == ORX_OK && i < r.n; i++) {
                orx_kb_hit h = r.hits[i];
                r.hits[i].text = r.hits[i].snippet = NULL;
                st = push(c, ORX_KB_CH_SEARCH, -1, &h, err);
            }
        orx_kb_results_clear(&r);
    }
    orx_buf_clear(&q);
    return st;
}

orx_status orx_kb_channels(orx_kb *kb, const orx_retrieval_request *rq, orx_kb_results *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    int k = rq->k > 0 ? rq->k : 10, words = rq->words > 0 ? rq->words : 1200;
    channels c;
    memset(&c, 0, sizeof c);
    orx_status st = ORX_OK;
    if (rq->n_options == 0) {
        st = search_items(kb, rq, k, &c, err);
        for (size_t i = 0; st == ORX_OK && i < c.ch[4].n && (int)out->n < k; i++) {
            trim_words(&c.ch[4].v[i], 200);
            st = take(out, &c.ch[4].v[i], err);
        }
    } else {
        st = indication_items(rq, &c, err);
        if (st == ORX_OK) st = dosing_items(kb, rq, &c, err);
        if (st == ORX_OK) st = safety_items(kb, rq, &c, err);
        if (st == ORX_OK) st = interaction_items(kb, rq, &c, err);
        if (st == ORX_OK) st = allocate(&c, k, words, out, err);
    }
    for (int i = 0; i < 5; i++) list_free(&c.ch[i]);
    if (st != ORX_OK) orx_kb_results_clear(out);
    return st;
}
