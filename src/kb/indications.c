/*
 * indications.c — the indication options: a sentence index over every Indications & Usage
 * section (LOINC 34067-9) of the knowledge base, built on first use, and the search that turns
 * a parsed indication (kb/ind_query.c) into options: drugs (ingredient sets, resolved with the
 * drug-name lexicon) whose label states the indication, each with its best sentence.
 *
 *   sentences    every line / sentence of every Indications section, as word ids, with its
 *                polarity: a "Limitations of Use" sentence, or the words after a negation
 *                ("not indicated for", "should not be used in") or a whole sentence whose
 *                statement is negated ("safety and effectiveness … have not been established")
 *                never state an indication;
 *   postings     word id -> sentences;
 *   groups       ingredient set ("amlodipine / olmesartan") -> labels (any section).
 * A phrasing matches a sentence when all its words occur within a short window; a query concept
 * that no sentence states in full is backed off to its longest run of words that some sentence
 * states (the option is then marked partial). Scores: each concept weighs ln(1 + S / df) (S
 * sentences, df sentences stating it), times the phrasing's quality, times 0.9 when the label
 * names a narrower condition (a content word right before the phrase: "pulmonary arterial
 * hypertension" for "hypertension"), times 1.05 when the sentence says "indicated" before it;
 * refinements count 0.2, function words 0.1, a drug class named in the query 0.5 of the
 * strongest condition for its members.
 */
#include "kb/ind_internal.h"
#include "kb/kb_internal.h"
#include "lexicon/lexicon.h"
#include "util/util.h"
#include <ctype.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IND_CODE "34067-9"
#define MAX_SENT_TOKS 400   /* words indexed per sentence */
#define MAX_DOC_INGR 6

/* ============================================================================================
 * Index
 * ========================================================================================== */
typedef struct ind_doc {
    char     set_id[64];      /* label set id */
    char     title[256];      /* label title */
    char     drugs[256];      /* "generic; brand" */
    char     version[16];     /* SPL version */
    char     date[16];        /* effective date */
    int32_t  group;           /* ingredient-set group, -1 when the lexicon names no ingredient */
    int32_t  n_chunks;        /* chunks of the label */
    bool     full;            /* has sections besides Indications & Usage */
} ind_doc;

typedef struct ind_group {
    char     name[200];                 /* " / "-joined sorted ingredients */
    char     ingr[MAX_DOC_INGR][96];    /* ingredients */
    int      n_ingr;                    /* count */
    int32_t *docs;                      /* label indexes, most chunks first */
    int      n_docs;                    /* count */
    bool     full;                      /* some label has more than Indications */
} ind_group;

typedef struct ind_sent {
    int32_t doc;        /* label index */
    int64_t chunk_id;   /* chunk row id */
    uint32_t chunk_off; /* chunk start in the section text */
    uint32_t off, len;  /* sentence bytes within the chunk text */
    uint32_t w0;        /* first word id in ind_index.words */
    uint16_t nw;        /* words */
    int16_t  neg_at;    /* token index of the first negation cue, -1 none */
    bool     neg_all;   /* the negation covers the whole sentence ("have not been established") */
    bool     limit;     /* a "Limitations of Use" sentence */
    bool     indicated; /* says "indicated" (preferred as the quote on a tie) */
    int16_t  ind_at;    /* token index of the first "indicated", -1 none */
    int16_t  risk_at;   /* token index of "risk factor(s)", -1 none: a condition after it is a
                           risk factor of the indication, not the indication */
    char    *text;      /* the chunk text (shared by the chunk's sentences; owned by chunk_texts) */
} ind_sent;

struct ind_index {
    ind_doc   *docs;     /* [n_docs] */
    size_t     n_docs;
    ind_group *groups;   /* [n_groups] */
    size_t     n_groups;
    ind_map    group_of; /* group name -> index */
    ind_sent  *sents;    /* [n_sents] */
    size_t     n_sents;
    int32_t   *words;    /* word ids of all sentences, back to back */
    uint8_t   *wflag;    /* [n_words] WF_* flags of each word */
    size_t     n_words;
    ind_map    vocab;    /* normalised word -> id */
    char     **vocab_str;/* id -> word (borrowed from the map's keys) */
    int32_t   *post_off; /* [n_vocab + 1] postings offsets */
    int32_t   *post;     /* sentence ids by word */
    size_t     n_vocab;
    char     **chunk_texts; /* [n_chunks] owned chunk texts */
    size_t     n_chunk_texts;
    int        labels;   /* labels with an Indications section */
    int32_t    id_example, id_such, id_as, id_include; /* word ids of example cues (-1 absent) */
};

void orx_ind_index_free(ind_index *x) {
    if (!x) return;
    for (size_t i = 0; i < x->n_groups; i++) free(x->groups[i].docs);
    for (size_t i = 0; i < x->n_chunk_texts; i++) free(x->chunk_texts[i]);
    free(x->chunk_texts);
    free(x->groups);
    free(x->docs);
    free(x->sents);
    free(x->words);
    free(x->wflag);
    free(x->vocab_str);
    free(x->post_off);
    free(x->post);
    orx_ind_map_clear(&x->group_of);
    orx_ind_map_clear(&x->vocab);
    free(x);
}

/* grow *p (element size es) to hold n + 1 elements */
static bool reserve(void **p, size_t *cap, size_t n, size_t es) {
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc <= n) nc *= 2;
    void *q = realloc(*p, nc * es);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

/* ---- labels and their ingredient groups ------------------------------------------------- */
static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static int32_t group_for(ind_index *x, const orx_lexicon *lex, const char *names, size_t *gcap) {
    if (!lex || !names || !*names) return -1;
    orx_lex_match m[MAX_DOC_INGR + 2];
    int k = orx_lexicon_lookup(lex, names, m, MAX_DOC_INGR + 2);
    if (k <= 0) return -1;
    if (k > MAX_DOC_INGR) k = MAX_DOC_INGR;
    char ing[MAX_DOC_INGR][96];
    int n = 0;
    for (int i = 0; i < k; i++) {
        bool dup = false;
        for (int j = 0; j < n && !dup; j++) dup = !strcmp(ing[j], m[i].ingredient);
        if (!dup) snprintf(ing[n++], sizeof ing[0], "%s", m[i].ingredient);
    }
    qsort(ing, (size_t)n, sizeof ing[0], cmp_name);
    char name[200] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(name);
        snprintf(name + l, sizeof name - l, "%s%s", i ? " / " : "", ing[i]);
    }
    int32_t g = orx_ind_map_get(&x->group_of, name);
    if (g >= 0) return g;
    if (!reserve((void **)&x->groups, gcap, x->n_groups, sizeof *x->groups)) return -1;
    g = (int32_t)x->n_groups++;
    ind_group *gr = &x->groups[g];
    memset(gr, 0, sizeof *gr);
    snprintf(gr->name, sizeof gr->name, "%s", name);
    for (int i = 0; i < n; i++) snprintf(gr->ingr[i], sizeof gr->ingr[i], "%s", ing[i]);
    gr->n_ingr = n;
    return orx_ind_map_put(&x->group_of, name, g) ? g : -1;
}

static orx_status load_docs(ind_index *x, sqlite3 *db, const orx_lexicon *lex, ind_map *doc_of, orx_error *err) {
    sqlite3_stmt *s;
    const char *sql = "SELECT d.id, d.set_id, d.title, d.generic_names, d.brand_names, d.version,"
                      " d.effective_date, d.n_chunks, EXISTS(SELECT 1 FROM chunks c WHERE c.doc_id = d.id"
                      " AND c.section_code <> '" IND_CODE "') FROM docs d ORDER BY d.id";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return orx_fail(err, ORX_ERR_DB, "indication index: %s", sqlite3_errmsg(db));
    size_t cap = 0, gcap = 0;
    orx_status st = ORX_OK;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!reserve((void **)&x->docs, &cap, x->n_docs, sizeof *x->docs)) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        ind_doc *d = &x->docs[x->n_docs];
        memset(d, 0, sizeof *d);
        orx_kb_label_cols(s, 1, &d->set_id, &d->title, &d->drugs, &d->version, &d->date);
        const char *g = orx_kb_col(s, 3), *b = orx_kb_col(s, 4);
        d->n_chunks = sqlite3_column_int(s, 7);
        d->full = sqlite3_column_int(s, 8) != 0;
        d->group = group_for(x, lex, *g ? g : *b ? b : d->title, &gcap);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(s, 0));
        if (!orx_ind_map_put(doc_of, key, (int32_t)x->n_docs)) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        x->n_docs++;
    }
    sqlite3_finalize(s);
    return st;
}

/* labels of a group: full labels first, then most chunks, then set id */
static bool doc_before(const ind_index *x, int32_t a, int32_t b) {
    const ind_doc *p = &x->docs[a], *q = &x->docs[b];
    if (p->full != q->full) return p->full;
    if (p->n_chunks != q->n_chunks) return p->n_chunks > q->n_chunks;
    return strcmp(p->set_id, q->set_id) < 0;
}

static bool fill_groups(ind_index *x) {
    for (size_t i = 0; i < x->n_docs; i++) {
        int32_t g = x->docs[i].group;
        if (g < 0) continue;
        ind_group *gr = &x->groups[g];
        int32_t *nd = realloc(gr->docs, (size_t)(gr->n_docs + 1) * sizeof *nd);
        if (!nd) return false;
        gr->docs = nd;
        gr->docs[gr->n_docs++] = (int32_t)i;
        gr->full |= x->docs[i].full;
    }
    for (size_t g = 0; g < x->n_groups; g++) { /* insertion sort: groups hold few labels */
        int32_t *d = x->groups[g].docs;
        for (int i = 1; i < x->groups[g].n_docs; i++)
            for (int j = i; j > 0 && doc_before(x, d[j], d[j - 1]); j--) {
                int32_t t = d[j];
                d[j] = d[j - 1], d[j - 1] = t;
            }
    }
    return true;
}

/* ---- sentences ----------------------------------------------------------------------------- */
/* end of the sentence starting at i: a line break, a list bullet, or [.?!] + spaces + a capital,
 * digit or '(' */
static bool bullet(const char *t, size_t i, size_t n) {
    /* "•" U+2022, "●" U+25CF, "▪" U+25AA */
    return i + 2 < n && (unsigned char)t[i] == 0xE2 &&
           (((unsigned char)t[i + 1] == 0x80 && (unsigned char)t[i + 2] == 0xA2) ||
            ((unsigned char)t[i + 1] == 0x97 && (unsigned char)t[i + 2] == 0x8F) ||
            ((unsigned char)t[i + 1] == 0x96 && (unsigned char)t[i + 2] == 0xAA));
}

static size_t sentence_end(const char *t, size_t i, size_t n) {
    size_t start = i;
    for (; i < n; i++) {
        if (t[i] == '\n') return i;
        if (i > start && bullet(t, i, n)) return i; /* a list item starts a new statement */
        if ((t[i] == '.' || t[i] == '?' || t[i] == '!') && i + 1 < n && t[i + 1] == ' ') {
            size_t j = i + 1;
            while (j < n && t[j] == ' ') j++;
            if (j < n && (isupper((unsigned char)t[j]) || isdigit((unsigned char)t[j]) || t[j] == '(' || t[j] == '['))
                return i + 1;
        }
    }
    return n;
}

static int32_t word_id(ind_index *x, const char *w, size_t *vcap) {
    int32_t id = orx_ind_map_get(&x->vocab, w);
    if (id >= 0) return id;
    if (!reserve((void **)&x->vocab_str, vcap, x->n_vocab, sizeof *x->vocab_str)) return -1;
    id = (int32_t)x->n_vocab;
    if (!orx_ind_map_put(&x->vocab, w, id)) return -1;
    x->vocab_str[x->n_vocab++] = NULL; /* filled after the map stops moving keys */
    return id;
}

/* polarity of a sentence from its normalised tokens */
static void polarity(ind_sent *s, const ind_tok *t, int n) {
    s->neg_at = -1;
    s->risk_at = -1;
    s->ind_at = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(t[i].norm, "indicated") && !s->indicated) s->indicated = true, s->ind_at = (int16_t)(i < 32000 ? i : 32000);
        if (s->risk_at < 0 && i + 1 < n && !strcmp(t[i].norm, "risk") && !strcmp(t[i + 1].norm, "factor"))
            s->risk_at = (int16_t)(i < 32000 ? i : 32000);
    }
    /* "Limitations of Use": what follows it limits; at the start it limits the whole sentence */
    for (int i = 0; i + 2 < n && s->neg_at < 0; i++)
        if (!strcmp(t[i].norm, "limitation") && !strcmp(t[i + 1].norm, "of") && !strcmp(t[i + 2].norm, "use")) {
            if (i == 0) s->limit = true;
            s->neg_at = (int16_t)(i < 32000 ? i : 32000);
        }
    static const char *const WHOLE[] = {"established", "studied", "evaluated", "shown", "proven",
                                        "demonstrated", "determined", NULL};
    for (int i = 0; i < n; i++) {
        const char *w = t[i].norm;
        if (strcmp(w, "not") && strcmp(w, "no") && strcmp(w, "never") && strcmp(w, "ineffectiv")) continue;
        if (s->neg_at < 0 || i < s->neg_at) s->neg_at = (int16_t)(i < 32000 ? i : 32000);
        for (int j = i + 1; j < n && j <= i + 3; j++)
            for (int k = 0; WHOLE[k]; k++)
                if (!strcmp(t[j].norm, WHOLE[k])) s->neg_all = true;
    }
}

static orx_status add_sentences(ind_index *x, int32_t doc, int64_t chunk_id, uint32_t chunk_off,
                                char *text, size_t *scap, size_t *wcap, size_t *fcap, size_t *vcap,
                                ind_tok *tk, orx_error *err) {
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        size_t e = sentence_end(text, i, n);
        size_t b = i;
        i = e < n && (text[e] == '\n' || text[e] == ' ' || text[e] == '.') ? e + 1 : e;
        if (i == b) i++; /* never stall */
        while (b < e && isspace((unsigned char)text[b])) b++;
        size_t l = e - b;
        while (l && isspace((unsigned char)text[b + l - 1])) l--;
        if (!l) continue;
        int nt = orx_ind_tokens(text + b, l, tk, MAX_SENT_TOKS);
        if (nt > MAX_SENT_TOKS) nt = MAX_SENT_TOKS;
        int k = 0;
        bool sep = false;
        for (int j = 0; j < nt; j++) {
            if (tk[j].kind == 'p') sep = true;
            if (tk[j].kind == 'w' && tk[j].norm[0]) {
                tk[k] = tk[j];
                tk[k++].kind = sep ? 's' : 'w'; /* 's': a word after punctuation */
                sep = false;
            }
        }
        if (!k) continue;
        if (!reserve((void **)&x->sents, scap, x->n_sents, sizeof *x->sents) ||
            !reserve((void **)&x->words, wcap, x->n_words + (size_t)k, sizeof *x->words) ||
            !reserve((void **)&x->wflag, fcap, x->n_words + (size_t)k, sizeof *x->wflag))
            return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        ind_sent *s = &x->sents[x->n_sents++];
        memset(s, 0, sizeof *s);
        s->doc = doc, s->chunk_id = chunk_id, s->chunk_off = chunk_off;
        s->off = (uint32_t)b, s->len = (uint32_t)l, s->text = text;
        s->w0 = (uint32_t)x->n_words;
        s->nw = (uint16_t)k;
        for (int j = 0; j < k; j++) {
            int32_t id = word_id(x, tk[j].norm, vcap);
            if (id < 0) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
            x->wflag[x->n_words] = tk[j].kind == 's' && j > 0 ? IND_WF_SEP : 0;
            x->words[x->n_words++] = id;
        }
        polarity(s, tk, k);
    }
    return ORX_OK;
}

static orx_status load_sentences(ind_index *x, sqlite3 *db, const ind_map *doc_of, orx_error *err) {
    sqlite3_stmt *s;
    const char *sql = "SELECT c.id, c.doc_id, c.start_off, c.text FROM chunks c WHERE c.section_code = '"
                      IND_CODE "' ORDER BY c.doc_id, c.seq";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return orx_fail(err, ORX_ERR_DB, "indication index: %s", sqlite3_errmsg(db));
    ind_tok *tk = malloc(MAX_SENT_TOKS * sizeof *tk);
    size_t scap = 0, wcap = 0, fcap = 0, vcap = 0, ccap = 0;
    orx_status st = tk ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    int32_t last_doc = -1;
    while (st == ORX_OK && sqlite3_step(s) == SQLITE_ROW) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(s, 1));
        int32_t doc = orx_ind_map_get(doc_of, key);
        if (doc < 0) continue;
        if (doc != last_doc) x->labels++, last_doc = doc;
        if (!reserve((void **)&x->chunk_texts, &ccap, x->n_chunk_texts, sizeof *x->chunk_texts)) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        char *text = orx_strdup(orx_kb_col(s, 3));
        if (!text) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        x->chunk_texts[x->n_chunk_texts++] = text;
        st = add_sentences(x, doc, sqlite3_column_int64(s, 0), (uint32_t)sqlite3_column_int64(s, 2), text,
                           &scap, &wcap, &fcap, &vcap, tk, err);
    }
    free(tk);
    sqlite3_finalize(s);
    return st;
}

/* word -> sentence postings (each sentence once per word) */
static bool build_postings(ind_index *x) {
    for (size_t i = 0; i < x->vocab.cap; i++)
        if (x->vocab.keys[i]) x->vocab_str[x->vocab.vals[i]] = x->vocab.keys[i];
    x->post_off = calloc(x->n_vocab + 1, sizeof *x->post_off);
    int32_t *last = malloc((x->n_vocab + 1) * sizeof *last);
    if (!x->post_off || !last) return free(last), false;
    for (size_t v = 0; v < x->n_vocab; v++) last[v] = -1;
    for (size_t s = 0; s < x->n_sents; s++)
        for (uint32_t j = 0; j < x->sents[s].nw; j++) {
            int32_t w = x->words[x->sents[s].w0 + j];
            if (last[w] != (int32_t)s) last[w] = (int32_t)s, x->post_off[w + 1]++;
        }
    for (size_t v = 0; v < x->n_vocab; v++) x->post_off[v + 1] += x->post_off[v];
    x->post = malloc((size_t)(x->post_off[x->n_vocab] + 1) * sizeof *x->post);
    int32_t *fillp = malloc((x->n_vocab + 1) * sizeof *fillp);
    if (!x->post || !fillp) return free(last), free(fillp), false;
    for (size_t v = 0; v < x->n_vocab; v++) fillp[v] = x->post_off[v], last[v] = -1;
    for (size_t s = 0; s < x->n_sents; s++)
        for (uint32_t j = 0; j < x->sents[s].nw; j++) {
            int32_t w = x->words[x->sents[s].w0 + j];
            if (last[w] != (int32_t)s) last[w] = (int32_t)s, x->post[fillp[w]++] = (int32_t)s;
        }
    free(last);
    free(fillp);
    return true;
}

orx_status orx_ind_index_build(sqlite3 *db, const orx_lexicon *lex, ind_index **out, orx_error *err) {
    *out = NULL;
    ind_index *x = calloc(1, sizeof *x);
    if (!x) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    ind_map doc_of = {0};
    orx_status st = load_docs(x, db, lex, &doc_of, err);
    if (st == ORX_OK && !fill_groups(x)) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) st = load_sentences(x, db, &doc_of, err);
    if (st == ORX_OK && !build_postings(x)) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) {
        x->id_example = orx_ind_map_get(&x->vocab, "exampl");
        x->id_such = orx_ind_map_get(&x->vocab, "such");
        x->id_as = orx_ind_map_get(&x->vocab, "as");
        x->id_include = orx_ind_map_get(&x->vocab, "including");
    }
    orx_ind_map_clear(&doc_of);
    if (st != ORX_OK) {
        orx_ind_index_free(x);
        return st;
    }
    *out = x;
    return ORX_OK;
}

bool orx_ind_index_has_word(const ind_index *x, const char *w) { return x && orx_ind_map_get(&x->vocab, w) >= 0; }

/* ============================================================================================
 * Matching one phrasing
 * ========================================================================================== */
typedef struct phrase_ids {
    int32_t id[ORX_IND_MAX_WORDS]; /* word ids (-1 unknown) */
    int     n;                     /* count */
} phrase_ids;

static bool phrase_to_ids(const ind_index *x, const orx_ind_phrase *p, phrase_ids *ids) {
    ids->n = p->n;
    for (int i = 0; i < p->n; i++)
        if ((ids->id[i] = orx_ind_map_get(&x->vocab, p->words[i])) < 0) return false;
    return p->n > 0;
}

/* positions of the phrase in sentence s: all words within a window, first and last token */
static bool match_in(const ind_index *x, const ind_sent *s, const phrase_ids *p, int *first, int *last) {
    const int32_t *w = x->words + s->w0;
    int win = 2 * p->n + 3;
    for (int a = 0; a < s->nw; a++) {
        if (w[a] != p->id[0]) continue;
        int lo = a, hi = a;
        bool all = true;
        for (int k = 1; k < p->n && all; k++) {
            int best = -1;
            for (int b = a - win < 0 ? 0 : a - win; b < s->nw && b <= a + win; b++)
                if (w[b] == p->id[k] && (best < 0 || abs(b - a) < abs(best - a))) best = b;
            if (best < 0) all = false;
            else lo = best < lo ? best : lo, hi = best > hi ? best : hi;
        }
        if (all) {
            *first = lo, *last = hi;
            return true;
        }
    }
    return false;
}

/* the phrase is an example of a population or a list ("patients who are at higher risk … (for
 * example, patients with diabetes or hyperlipidemia)", "risk factors such as …"): an example
 * cue within the 8 words before it */
static bool example_at(const ind_index *x, const ind_sent *s, int first) {
    const int32_t *w = x->words + s->w0;
    for (int i = first - 1; i >= 0 && i >= first - 8; i--) {
        if (w[i] == x->id_example && x->id_example >= 0) return true;
        if (i + 1 < s->nw && w[i] == x->id_such && w[i + 1] == x->id_as && x->id_such >= 0) return true;
    }
    return false;
}

static bool positive_at(const ind_sent *s, int last) {
    if (s->limit) return false;
    if (s->neg_at < 0) return true;
    return !s->neg_all && last < s->neg_at;
}

/* the label names a narrower condition: a content word right before the phrase that the
 * query does not have */
static bool narrower_at(const ind_index *x, const ind_sent *s, int first, const orx_ind_query *q) {
    if (first == 0) return false;
    const char *w = x->vocab_str[x->words[s->w0 + first - 1]];
    if (orx_ind_is_stop(w) || orx_ind_is_function(w) || orx_ind_is_drop(w)) return false;
    for (int i = 0; i < q->n; i++)
        for (int a = 0; a < q->c[i].n_alts; a++)
            for (int k = 0; k < q->c[i].alts[a].n; k++)
                if (!strcmp(q->c[i].alts[a].words[k], w)) return false;
    return true;
}

/* sentences stating p: sentence ids (all, any polarity) intersected from the postings */
static size_t candidates_of(const ind_index *x, const phrase_ids *p, int32_t **out) {
    int rare = 0;
    for (int i = 1; i < p->n; i++)
        if (x->post_off[p->id[i] + 1] - x->post_off[p->id[i]] < x->post_off[p->id[rare] + 1] - x->post_off[p->id[rare]])
            rare = i;
    const int32_t *base = x->post + x->post_off[p->id[rare]];
    size_t nb = (size_t)(x->post_off[p->id[rare] + 1] - x->post_off[p->id[rare]]);
    int32_t *r = malloc((nb + 1) * sizeof *r);
    if (!r) return *out = NULL, 0;
    size_t n = 0;
    for (size_t i = 0; i < nb; i++) {
        bool all = true;
        for (int k = 0; k < p->n && all; k++) {
            if (k == rare) continue;
            const int32_t *pl = x->post + x->post_off[p->id[k]];
            size_t lo = 0, hi = (size_t)(x->post_off[p->id[k] + 1] - x->post_off[p->id[k]]);
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (pl[mid] < base[i]) lo = mid + 1;
                else hi = mid;
            }
            all = lo < (size_t)(x->post_off[p->id[k] + 1] - x->post_off[p->id[k]]) && pl[lo] == base[i];
        }
        if (all) r[n++] = base[i];
    }
    *out = r;
    return n;
}

/* ============================================================================================
 * Matching a query
 * ========================================================================================== */
typedef struct doc_match {
    float   q[ORX_IND_MAX_CONCEPTS];   /* best quality per concept in a positive sentence */
    int32_t best_sent;                 /* sentence with the highest score */
    float   best_sent_score;           /* its score */
    bool    narrower;                  /* the best sentence names a narrower condition */
    bool    excluded;                  /* a dropped query word is negated in this label */
    int8_t  occ[ORX_IND_MAX_CONCEPTS]; /* best ind_occ + 1 per concept (0: not stated) */
    char    via[160];                  /* phrasing of the best sentence when not as written */
} doc_match;

typedef struct match_state {
    const ind_index *x;
    const struct orx_lexicon *lex; /* class membership for class concepts */
    const orx_ind_query *q;
    doc_match *dm;          /* [n_docs] */
    float   *sent_score;    /* [n_sents] per query: score of each sentence (scratch) */
    int8_t  *sent_seen;     /* [n_sents] last concept (+1) added to each sentence's score */
    float    weight[ORX_IND_MAX_CONCEPTS]; /* concept weights */
    int      df[ORX_IND_MAX_CONCEPTS];     /* positive sentences per concept */
    bool     partial[ORX_IND_MAX_CONCEPTS];/* concept backed off */
    char     sites[12][IND_WORD];          /* body-site words of the query */
    int      n_sites;                      /* count */
} match_state;

static float role_factor(orx_ind_role r) {
    return r == ORX_IND_PRIMARY ? 1.0f : r == ORX_IND_CLASS ? 0.5f : r == ORX_IND_REFINE || r == ORX_IND_COMORBID ? 0.2f : 0.1f;
}

/* count positive sentences that state phrasing p (for backoff and weights) */
static int positive_count(const ind_index *x, const orx_ind_phrase *p) {
    phrase_ids ids;
    if (!phrase_to_ids(x, p, &ids)) return 0;
    int32_t *c = NULL;
    size_t n = candidates_of(x, &ids, &c), pos = 0;
    for (size_t i = 0; i < n; i++) {
        int f, l;
        if (match_in(x, &x->sents[c[i]], &ids, &f, &l) && positive_at(&x->sents[c[i]], l)) pos++;
    }
    free(c);
    return (int)pos;
}

/* A primary concept no sentence states: its longest run of words that some sentence states,
 * the rightmost on a tie (the head of an English noun phrase comes last: "viral sinusitis" ->
 * "sinusitis"); the left-out words become a refinement. */
static int back_off(const ind_index *x, orx_ind_query *q, int ci, bool *partial) {
    orx_ind_concept *c = &q->c[ci];
    for (int a = 0; a < c->n_alts; a++)
        if (positive_count(x, &c->alts[a]) > 0) return -1;
    const orx_ind_phrase *p0 = &c->alts[0];
    for (int len = p0->n - 1; len >= 1; len--) {
        int best = -1;
        for (int s = p0->n - len; s >= 0; s--) {
            orx_ind_phrase sub = *p0;
            sub.n = len;
            for (int k = 0; k < len; k++) memcpy(sub.words[k], p0->words[s + k], sizeof sub.words[k]);
            if (len == 1 && (orx_ind_is_numeric(sub.words[0]) || orx_ind_is_generic(sub.words[0]) ||
                             orx_ind_is_degree(sub.words[0]) || orx_ind_is_site(sub.words[0])))
                continue; /* "syndrome" of "Metabolic syndrome X", "pregnancy" of "Tubal pregnancy" */
            if (orx_ind_is_drop(sub.words[0]) || orx_ind_is_function(sub.words[len - 1])) continue;
            /* the named condition's general head left out ("metabolic" of "Metabolic syndrome
             * X"): the words before it name a kind of it, not a condition */
            bool head_dropped = false;
            for (int k = s + len; k < p0->n; k++) head_dropped |= orx_ind_is_generic(p0->words[k]);
            if (head_dropped) continue;
            if (best < 0 && positive_count(x, &sub) > 0) best = s;
        }
        if (best < 0) continue;
        orx_ind_phrase kept = *p0, dropped;
        memset(&dropped, 0, sizeof dropped);
        dropped.quality = 1.0f;
        kept.n = len;
        for (int k = 0; k < len; k++) memcpy(kept.words[k], p0->words[best + k], sizeof kept.words[k]);
        for (int k = 0; k < p0->n; k++)
            if (k < best || k >= best + len) memcpy(dropped.words[dropped.n++], p0->words[k], sizeof dropped.words[0]);
        kept.quality = p0->quality * 0.8f;
        c->alts[0] = kept;
        c->n_alts = 1;
        *partial = true;
        if (dropped.n && q->n < ORX_IND_MAX_CONCEPTS) {
            orx_ind_concept *r = &q->c[q->n++];
            memset(r, 0, sizeof *r);
            r->role = ORX_IND_REFINE;
            size_t l = 0;
            for (int k = 0; k < dropped.n; k++) l += (size_t)snprintf(r->text + l, sizeof r->text - l, "%s%s", k ? " " : "", dropped.words[k]);
            r->alts[0] = dropped;
            r->n_alts = 1;
            return q->n - 1;
        }
        return -1;
    }
    return -1;
}

/* how sentence s states the phrase (the best over its occurrences) and whether the label puts
 * it at another body site than the query: the primary concept's quality factor, 0 = skip */
static float occurrence_factor(const match_state *m, const ind_sent *s, const phrase_ids *p, ind_occ *occ) {
    const ind_index *x = m->x;
    ind_view v = {.ids = x->words + s->w0, .flags = x->wflag + s->w0, .str = x->vocab_str, .n = s->nw};
    int a = -1, f, l;
    bool any = false, conflict = true;
    *occ = IND_OCC_POP;
    while (orx_ind_match_ids(v.ids, v.n, p->id, p->n, a + 1, &a, &f, &l)) {
        if (!positive_at(s, l)) continue;
        any = true;
        ind_occ o = orx_ind_occurrence(&v, f, l);
        if (o < *occ) *occ = o;
        if (!orx_ind_site_conflict(&v, f, l, (const char (*)[IND_WORD])m->sites, m->n_sites)) conflict = false;
    }
    if (!any) *occ = IND_OCC_FULL; /* the caller found it; keep its reading */
    if (any && conflict) return 0.0f;
    return *occ == IND_OCC_FULL ? 1.0f : *occ == IND_OCC_ASSOC ? 0.95f : 0.5f;
}

/* every sentence stating concept ci: update the labels' per-concept quality and sentence scores */
static void match_concept(match_state *m, int ci) {
    const ind_index *x = m->x;
    const orx_ind_concept *c = &m->q->c[ci];
    if (c->role == ORX_IND_CLASS) return; /* met by class membership (collect), not by text */
    for (int a = 0; a < c->n_alts; a++) {
        phrase_ids ids;
        if (!phrase_to_ids(x, &c->alts[a], &ids)) continue;
        int32_t *cand = NULL;
        size_t n = candidates_of(x, &ids, &cand);
        for (size_t i = 0; i < n; i++) {
            const ind_sent *s = &x->sents[cand[i]];
            int f, l;
            if (!match_in(x, s, &ids, &f, &l)) continue;
            doc_match *d = &m->dm[s->doc];
            if (!positive_at(s, l)) {
                /* a word the query had to leave out is negated here ("not for viral infections") */
                if (c->role == ORX_IND_REFINE && m->partial[ci]) d->excluded = true;
                continue;
            }
            float qv = c->alts[a].quality;
            ind_occ occ = IND_OCC_FULL;
            if (c->role == ORX_IND_PRIMARY) {
                float of = occurrence_factor(m, s, &ids, &occ);
                if (of <= 0) continue; /* the label's condition is at another body site */
                qv *= of;
            }
            if (!d->occ[ci] || (int)occ + 1 < d->occ[ci]) d->occ[ci] = (int8_t)(occ + 1);
            bool narrow = c->role == ORX_IND_PRIMARY && narrower_at(x, s, f, m->q);
            if (narrow) qv *= 0.9f;
            if (s->risk_at >= 0 && s->risk_at < f) qv *= 0.7f; /* "risk factors … such as hypertension" */
            else if (example_at(x, s, f)) qv *= 0.7f;            /* "(for example, patients with …)" */
            if (s->ind_at >= 0 && s->ind_at < f) qv *= 1.05f;  /* "… is indicated for the treatment of X" */
            if (qv > d->q[ci]) d->q[ci] = qv;
            if (m->sent_seen[cand[i]] == ci + 1) continue; /* one phrasing per concept and sentence */
            m->sent_seen[cand[i]] = (int8_t)(ci + 1);
            float before = m->sent_score[cand[i]];
            m->sent_score[cand[i]] = before + m->weight[ci] * role_factor(c->role) * qv;
            /* the best sentence states a condition; refinements met in it raise it */
            bool primary = c->role == ORX_IND_PRIMARY;
            /* the quote: a sentence that says "indicated" over a bare heading ("Atrial Fibrillation:") */
            float rank = m->sent_score[cand[i]] * (s->nw < 5 ? 0.8f : 1.0f) + (s->indicated ? 0.01f : 0.0f);
            if ((primary || before > 0) && rank > d->best_sent_score) {
                d->best_sent_score = rank;
                if (d->best_sent != cand[i] || primary) {
                    d->narrower = primary ? narrow : d->narrower;
                    if (primary) snprintf(d->via, sizeof d->via, "%s", c->alts[a].via);
                }
                d->best_sent = cand[i];
            }
        }
        free(cand);
    }
}

static float concept_weight(const ind_index *x, const orx_ind_concept *c, int *df) {
    int n = 0;
    for (int a = 0; a < c->n_alts; a++) n += positive_count(x, &c->alts[a]);
    *df = n;
    return n ? (float)log(1.0 + (double)x->n_sents / n) : 0.0f;
}

/* ============================================================================================
 * Options
 * ========================================================================================== */
void orx_ind_options_clear(orx_ind_options *o) {
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].quote.text);
        free(o->v[i].quote.snippet);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

static double doc_score(const match_state *m, const doc_match *d, bool *any_primary) {
    double sc = 0;
    *any_primary = false;
    for (int i = 0; i < m->q->n; i++) {
        if (d->q[i] <= 0) continue;
        if (m->q->c[i].role == ORX_IND_PRIMARY) *any_primary = true;
        sc += m->weight[i] * role_factor(m->q->c[i].role) * d->q[i];
    }
    return sc;
}

static void fill_quote(const ind_index *x, int32_t si, double score, orx_kb_hit *h) {
    const ind_sent *s = &x->sents[si];
    const ind_doc *d = &x->docs[s->doc];
    memset(h, 0, sizeof *h);
    snprintf(h->set_id, sizeof h->set_id, "%s", d->set_id);
    snprintf(h->section_code, sizeof h->section_code, "%s", IND_CODE);
    snprintf(h->section_name, sizeof h->section_name, "Indications & Usage");
    snprintf(h->citation, sizeof h->citation, "%s#%s", d->set_id, IND_CODE);
    snprintf(h->title, sizeof h->title, "%s", d->title);
    snprintf(h->drugs, sizeof h->drugs, "%s", d->drugs);
    snprintf(h->version, sizeof h->version, "%s", d->version);
    snprintf(h->effective_date, sizeof h->effective_date, "%s", d->date);
    h->chunk_id = s->chunk_id;
    h->start = s->chunk_off + s->off;
    h->end = h->start + s->len;
    h->score = score;
    h->text = malloc(s->len + 1);
    if (h->text) {
        memcpy(h->text, s->text + s->off, s->len);
        h->text[s->len] = 0;
    }
}

static int cmp_option(const void *a, const void *b) {
    const orx_ind_option *p = a, *q = b;
    if (fabs(p->score - q->score) > 1e-9) return p->score > q->score ? -1 : 1;
    if ((p->n_ingr == 1) != (q->n_ingr == 1)) return p->n_ingr == 1 ? -1 : 1;
    if (p->full_label != q->full_label) return p->full_label ? -1 : 1;
    return strcmp(p->name, q->name);
}

/* a drug class named in the query ("what anticoagulant"): its members rank higher, by half the
 * weight of the strongest condition (membership from the lexicon's sourced classes) */
static double class_bonus(const match_state *m, const ind_group *gr, unsigned *bits) {
    double wmax = 0, bonus = 0;
    for (int i = 0; i < m->q->n; i++)
        if (m->q->c[i].role == ORX_IND_PRIMARY && m->weight[i] > wmax) wmax = m->weight[i];
    for (int i = 0; i < m->q->n && m->lex; i++) {
        if (m->q->c[i].role != ORX_IND_CLASS) continue;
        bool in = false;
        for (int k = 0; k < gr->n_ingr && !in; k++) {
            char first[96];
            snprintf(first, sizeof first, "%s", gr->ingr[k]);
            char *sp = strchr(first, ' ');
            if (sp) *sp = 0;
            in = orx_lexicon_in_class(m->lex, gr->ingr[k], m->q->c[i].text) ||
                 orx_lexicon_in_class(m->lex, first, m->q->c[i].text);
        }
        if (in) bonus += 0.5 * wmax, *bits |= i < 32 ? 1u << i : 0;
    }
    return bonus;
}

/* how the label states the query's conditions: the best reading over its primary concepts */
static orx_ind_statement option_statement(const match_state *m, const doc_match *d) {
    int best = 0;
    for (int i = 0; i < m->q->n; i++)
        if (m->q->c[i].role == ORX_IND_PRIMARY && d->occ[i] && (!best || d->occ[i] < best)) best = d->occ[i];
    return best == 1 + IND_OCC_ASSOC ? ORX_IND_STATED_ASSOCIATED : best == 1 + IND_OCC_POP ? ORX_IND_STATED_POPULATION
                                                                                            : ORX_IND_STATED;
}

/* one option per ingredient group: its best label */
static orx_status collect(const match_state *m, orx_ind_options *out, orx_error *err) {
    const ind_index *x = m->x;
    int32_t *best = malloc((x->n_groups + 1) * sizeof *best);
    double *bs = malloc((x->n_groups + 1) * sizeof *bs);
    int *nl = calloc(x->n_groups + 1, sizeof *nl);
    if (!best || !bs || !nl) return free(best), free(bs), free(nl), orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (size_t g = 0; g < x->n_groups; g++) best[g] = -1, bs[g] = 0;
    size_t n_opt = 0;
    for (size_t i = 0; i < x->n_docs; i++) {
        const doc_match *d = &m->dm[i];
        int32_t g = x->docs[i].group;
        bool prim;
        double sc = doc_score(m, d, &prim);
        if (g < 0 || !prim || d->excluded || d->best_sent_score <= 0) continue;
        nl[g]++;
        bool better = best[g] < 0 || sc > bs[g] + 1e-9 ||
                      (fabs(sc - bs[g]) <= 1e-9 && x->docs[i].full && !x->docs[best[g]].full);
        if (best[g] < 0) n_opt++;
        if (better) best[g] = (int32_t)i, bs[g] = sc;
    }
    out->v = calloc(n_opt + 1, sizeof *out->v);
    orx_status st = out->v ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (size_t g = 0; st == ORX_OK && g < x->n_groups; g++) {
        if (best[g] < 0) continue;
        const ind_group *gr = &x->groups[g];
        const doc_match *d = &m->dm[best[g]];
        orx_ind_option *o = &out->v[out->n++];
        snprintf(o->name, sizeof o->name, "%s", gr->name);
        for (int k = 0; k < gr->n_ingr && k < 6; k++) snprintf(o->ingr[k], sizeof o->ingr[k], "%s", gr->ingr[k]);
        o->n_ingr = gr->n_ingr < 6 ? gr->n_ingr : 6;
        o->score = bs[g] + class_bonus(m, gr, &o->concepts);
        for (int i = 0; i < m->q->n && i < 32; i++)
            if (d->q[i] > 0) o->concepts |= 1u << i;
        for (int i = 0; i < m->q->n; i++)
            if (d->q[i] > 0 && m->partial[i]) o->partial = true;
        o->narrower = d->narrower;
        o->stated = option_statement(m, d);
        o->full_label = gr->full;
        o->n_labels = nl[g];
        /* the labels stating it: the best first, then the others in label order */
        int nid = 0;
        snprintf(o->label_ids[nid++], sizeof o->label_ids[0], "%s", x->docs[best[g]].set_id);
        for (int k = 0; k < gr->n_docs && nid < 48; k++) {
            int32_t di = gr->docs[k];
            if (di == best[g] || x->docs[di].group != (int32_t)g) continue;
            bool prim;
            doc_score(m, &m->dm[di], &prim);
            if (prim && !m->dm[di].excluded && m->dm[di].best_sent_score > 0)
                snprintf(o->label_ids[nid++], sizeof o->label_ids[0], "%s", x->docs[di].set_id);
        }
        snprintf(o->via, sizeof o->via, "%s", d->via);
        fill_quote(x, d->best_sent, o->score, &o->quote);
        if (!o->quote.text) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    free(best);
    free(bs);
    free(nl);
    if (st == ORX_OK && out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_option);
    return st;
}

orx_status orx_ind_index_options(const ind_index *x, const struct orx_lexicon *lex, orx_ind_query *q,
                             orx_ind_options *out, orx_error *err) {
    match_state m = {.x = x, .lex = lex, .q = q};
    /* a concept that names a drug class ranks the class's members */
    for (int i = 0; i < q->n && lex; i++) {
        char one[ORX_LEX_NAME];
        if (q->c[i].role == ORX_IND_PRIMARY && q->c[i].alts[0].n <= 4 &&
            orx_lexicon_class_members(lex, q->c[i].text, (char (*)[ORX_LEX_NAME])one, 1) > 0)
            q->c[i].role = ORX_IND_CLASS;
    }
    int n0 = q->n;
    for (int i = 0; i < n0; i++)
        if (q->c[i].role == ORX_IND_PRIMARY) {
            bool partial = false;
            int r = back_off(x, q, i, &partial);
            m.partial[i] = partial;
            if (r >= 0) m.partial[r] = true; /* the refinement of the left-out words */
        }
    for (int i = 0; i < q->n; i++)
        if (q->c[i].role != ORX_IND_CLASS) m.weight[i] = concept_weight(x, &q->c[i], &m.df[i]);
    /* where the asked-for conditions are ("rectal polyp", "of hip"): the primary concepts and
     * their refinements, not the patient's other conditions ("… with chronic kidney disease") */
    for (int i = 0; i < q->n; i++)
        if (q->c[i].role == ORX_IND_PRIMARY || q->c[i].role == ORX_IND_REFINE)
            for (int k = 0; k < q->c[i].alts[0].n && m.n_sites < 12; k++)
                if (orx_ind_is_site(q->c[i].alts[0].words[k]))
                    memcpy(m.sites[m.n_sites++], q->c[i].alts[0].words[k], IND_WORD);
    m.dm = calloc(x->n_docs + 1, sizeof *m.dm);
    m.sent_score = calloc(x->n_sents + 1, sizeof *m.sent_score);
    m.sent_seen = calloc(x->n_sents + 1, sizeof *m.sent_seen);
    orx_status st = m.dm && m.sent_score && m.sent_seen ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == ORX_OK && i < x->n_docs; i++) m.dm[i].best_sent = -1;
    /* primary concepts first so that a sentence's best score includes its refinements only when
     * they are met in the same sentence after the condition */
    for (int pass = 0; st == ORX_OK && pass < 2; pass++)
        for (int i = 0; i < q->n; i++)
            if ((q->c[i].role == ORX_IND_PRIMARY) == (pass == 0)) match_concept(&m, i);
    out->query = *q;
    out->sentences = (int)x->n_sents;
    out->labels = x->labels;
    if (st == ORX_OK) st = collect(&m, out, err);
    free(m.dm);
    free(m.sent_score);
    free(m.sent_seen);
    return st;
}

/* The letters of abbr (digits too when digits), lower-cased, into want[16]; their count. */
static size_t abbr_key(const char *abbr, bool digits, char want[16]) {
    size_t n = 0;
    for (const char *p = abbr; *p && n + 1 < 16; p++)
        if (digits ? isalnum((unsigned char)*p) : isalpha((unsigned char)*p)) want[n++] = (char)tolower((unsigned char)*p);
    want[n] = 0;
    return n;
}

/* label words that hold the letters of abbr in order and start with its first letter ("HTN" ->
 * "hypertension"), the most used first: suggestions for an abbreviation no source defines */
static bool letters_in_order(const char *w, const char *letters) {
    if (*w != *letters) return false;
    for (const char *l = letters; *l; l++) {
        w = strchr(w, *l);
        if (!w) return false;
        w++;
    }
    return true;
}

int orx_ind_index_suggest_words(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap) {
    char want[16];
    size_t n = abbr_key(abbr, false, want);
    if (n < 2 || cap <= 0) return 0;
    int k = 0;
    for (size_t v = 0; v < x->n_vocab; v++) {
        const char *w = x->vocab_str[v];
        if (strlen(w) < n + 3 || !letters_in_order(w, want)) continue;
        int c = x->post_off[v + 1] - x->post_off[v];
        int at = k < cap ? k++ : cap; /* insertion by sentence count, most first */
        if (at == cap && c <= df[cap - 1]) continue;
        if (at == cap) at = cap - 1;
        while (at > 0 && df[at - 1] < c) {
            memcpy(out[at], out[at - 1], sizeof out[0]);
            df[at] = df[at - 1];
            at--;
        }
        snprintf(out[at], sizeof out[0], "%s", w);
        df[at] = c;
    }
    return k;
}

/* label phrases whose words' initials spell abbr ("T2DM" -> "type 2 diabetes mellitus", "HFrEF"
 * -> "heart failure with reduced ejection fraction"; "with", "of", "and", "the", "in" skipped,
 * a number counts as itself), the most used first */
static bool small_word(const char *w, size_t n) {
    static const char *const SKIP[] = {"with", "of", "and", "the", "in", "to", "or", "for", "a", NULL};
    for (int i = 0; SKIP[i]; i++)
        if (strlen(SKIP[i]) == n && !strncasecmp(w, SKIP[i], n)) return true;
    return false;
}

/* the phrase of sentence text t starting at word b whose initials spell want: its end, 0 none */
static size_t initials_at(const char *t, size_t n, size_t b, const char *want) {
    size_t i = b;
    for (const char *l = want; *l;) {
        while (i < n && !isalnum((unsigned char)t[i])) {
            if (t[i] != ' ' && t[i] != '-') return 0; /* punctuation ends the phrase */
            i++;
        }
        size_t wb = i;
        while (i < n && isalnum((unsigned char)t[i])) i++;
        if (i == wb) return 0;
        if (l != want && small_word(t + wb, i - wb)) continue;
        if (isdigit((unsigned char)*l)) {
            size_t k = 0;
            while (l[k] && isdigit((unsigned char)l[k])) k++;
            if (i - wb != k || strncmp(t + wb, l, k)) return 0;
            l += k;
        } else {
            if (tolower((unsigned char)t[wb]) != *l || isdigit((unsigned char)t[wb])) return 0;
            l++;
        }
    }
    return i;
}

int orx_ind_index_suggest_phrases(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap) {
    char want[16];
    if (abbr_key(abbr, true, want) < 2 || cap <= 0) return 0;
    char seen[32][96];
    int cnt[32], ns = 0;
    for (size_t si = 0; si < x->n_sents; si++) {
        const ind_sent *s = &x->sents[si];
        const char *t = s->text + s->off;
        for (size_t i = 0; i < s->len; i++) {
            if (!isalnum((unsigned char)t[i]) || (i > 0 && isalnum((unsigned char)t[i - 1]))) continue;
            size_t e = initials_at(t, s->len, i, want);
            if (!e || e - i >= 96) continue;
            char ph[96];
            size_t k = 0;
            for (size_t j = i; j < e; j++) ph[k++] = (char)tolower((unsigned char)t[j]);
            ph[k] = 0;
            int at = -1;
            for (int q = 0; q < ns && at < 0; q++)
                if (!strcmp(seen[q], ph)) at = q;
            if (at < 0 && ns < 32) memcpy(seen[at = ns++], ph, sizeof ph), cnt[at] = 0;
            if (at >= 0) cnt[at]++;
        }
    }
    int k = 0;
    for (; k < cap; k++) { /* the most used first */
        int b = -1;
        for (int q = 0; q < ns; q++)
            if (cnt[q] > 0 && (b < 0 || cnt[q] > cnt[b])) b = q;
        if (b < 0) break;
        snprintf(out[k], 96, "%s", seen[b]);
        df[k] = cnt[b];
        cnt[b] = 0;
    }
    return k;
}

int orx_ind_index_labels_of(const ind_index *x, const char *name, char (*set_ids)[64], int cap) {
    int32_t g = orx_ind_map_get(&x->group_of, name);
    if (g < 0) return 0;
    const ind_group *gr = &x->groups[g];
    for (int i = 0; i < gr->n_docs && i < cap; i++) snprintf(set_ids[i], 64, "%s", x->docs[gr->docs[i]].set_id);
    return gr->n_docs;
}
