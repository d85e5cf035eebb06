/*
 * search.c — opening a knowledge base, stats, BM25 search over the FTS5 index (weighted by
 * column and by section class), snippets with highlighted terms, lexicon query expansion, and
 * the BM25 implementation of the orx_retriever interface.
 *
 * Ranking: score = BM25(columns drug 2.0, section 0.5, text 1.0, anchor 0) × class_weight(rowid & 15),
 * computed by orx_rank (an FTS5 auxiliary function: IDF from term_stats, chunk length from the row
 * id's length bucket) or, with ORX_KB_FTS5_BM25=1, by FTS5's bm25(). Drug-name query words anchor
 * the match to those drugs' labels (weight-0 anchor column); very common words are not used to
 * select rows. Two phases: the FTS query returns only row ids and scores (no snippet work for rows
 * that are not returned), then the k winners are read from the chunk table.
 */
#define _GNU_SOURCE 1 /* memmem, strcasestr */
#include "kb/kb.h"
#include "kb/impact.h"
#include "kb/kb_internal.h"
#include "util/util.h"
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("lexicon/lexicon.h")
#include "lexicon/lexicon.h"
#define ORX_KB_HAVE_LEXICON 1
#endif
#endif

#define MAX_TERMS 48  /* query terms after expansion */
#define MAX_K 100     /* results per query */

#define ANCHOR_MAX_FRAC 0.02 /* a word naming <= 2% of chunks in the drug column names a drug */
#define COMMON_FRAC 0.08     /* words in > 8% of chunks are dropped from the match (kept for
                                highlighting) when rarer words remain */

/* Tuning knobs for measurements, read from the environment once when a knowledge base is opened
 * (README "Environment variables"); the defaults are the measured configuration. */
typedef struct kb_tuning {
    bool   fts5_bm25;   /* ORX_KB_FTS5_BM25 set: rank with FTS5's bm25() instead of orx_rank */
    bool   no_impact;   /* ORX_KB_IMPACT=0: do not use the impact index */
    double common;      /* ORX_KB_COMMON: share of chunks above which a word is "common"
                           (default COMMON_FRAC) */
    bool   weights_set; /* ORX_KB_WEIGHTS given: column weights differ from the impact index's */
    double w_drug;      /* ORX_KB_WEIGHTS "drug,section": drug column weight (default 2.0) */
    double w_section;   /* section-name column weight (default 0.5) */
} kb_tuning;

/* ============================================================================================
 * Handle
 * ========================================================================================== */
struct orx_kb {
    sqlite3                  *db;       /* read-only connection */
    sqlite3_stmt             *hit;      /* chunk + doc row for one id */
    sqlite3_stmt             *df;       /* term_stats row for one stemmed term */
    sqlite3_stmt             *rank;     /* the ranked FTS query (FTS5 bm25) */
    sqlite3_stmt             *fast;     /* the ranked FTS query (orx_rank) */
    fts5_tokenizer            tok;      /* the index's tokenizer (porter over unicode61) */
    Fts5Tokenizer            *tok_inst; /* its instance, NULL when unavailable */
    int64_t                   n_chunks; /* chunks in the index */
    bool                      fast_rank; /* orx_rank() registered: BM25 without length norm */
    double                    idf[MAX_TERMS * 3]; /* per-phrase IDF of the running query */
    int                       n_idf;    /* phrases in the running query */
    double                    colw[4];  /* column weights of the running query */
    double                    avg_len;  /* mean weighted chunk length (words) */
    const struct orx_lexicon *lex;      /* query expansion, not owned unless lex_owned */
    struct orx_lexicon       *lex_owned; /* opened by orx_kb_load_lexicon */
    char                     *path;     /* file */
    struct orx_kb_impact     *impact;   /* impact-ordered index (exact top-k), NULL when absent */
    char                      ph[MAX_TERMS * 3][ORX_KB_TERM]; /* phrases of the running query */
    unsigned char             ph_group[MAX_TERMS * 3]; /* their group (PH_* below) */
    int                       group;    /* group of the phrases being added */
    bool                      use_impact; /* evaluate with the impact index when present */
    sqlite3_stmt             *dv;       /* PRAGMA data_version: another connection committed */
    int64_t                   data_version; /* its value when the statistics were read */
    sqlite3_stmt             *hash_q;   /* chunk_meta hash of a row, NULL without chunk_meta */
    sqlite3_stmt             *copies_q; /* rows with a hash, NULL without chunk_meta */
    ind_index                *ind;      /* indication sentence index, built on first use */
    orx_ind_vocab            *vocab;    /* indication vocabulary, opened on first use */
    sqlite3_stmt             *section;  /* chunk ids of one label's section */
    kb_tuning                 tune;     /* environment tuning, read once at open */
    char                      impact_note[256]; /* why the impact index is not used, "" when it is */
};

/* phrase groups of a query: scored words, scored drug-column expansions, anchors, drug filter,
 * section filter */
enum { PH_WORD = 1, PH_EXPANSION, PH_ANCHOR, PH_DRUG, PH_SECTION };

const char *orx_kb_default_path(void) {
    const char *e = getenv("ORX_KB");
    return e && *e ? e : "kb.sqlite";
}

const char *orx_kb_find_default(void) {
    const char *e = getenv("ORX_KB");
    if (e && *e) return e;
    if (orx_file_exists("kb.sqlite")) return "kb.sqlite";
    if (orx_file_exists("build/kb.sqlite")) return "build/kb.sqlite";
    return NULL;
}

static int64_t scalar_i64(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void secw_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    sqlite3_int64 id = sqlite3_value_int64(argv[0]);
    sqlite3_result_double(ctx, orx_kb_class_weight((int)(id & 15)));
}

/* orx_rank(chunks_fts): BM25 (k1 = 1.2, b = 0.75) with the chunk length taken from the bucket in
 * the row id, per-phrase IDF from the build's term statistics (set in kb->idf before the query
 * runs) instead of a counting pass over every phrase, column weights kb->colw, times the section
 * weight carried in the row id. Avoids FTS5 bm25()'s per-row document-size lookups and per-query
 * phrase scans (3-5x less CPU per query). Higher is better. */
static void orx_rank_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *res,
                        int nval, sqlite3_value **vals) {
    (void)nval; (void)vals;
    orx_kb *kb = api->xUserData(fc);
    int np = api->xPhraseCount(fc);
    sqlite3_int64 rowid = api->xRowid(fc);
    /* length normalisation (b = 0.75) from the length bucket in the row id */
    double lnorm = orx_kb_lnorm(rowid, kb->avg_len);
    double score = 0;
    for (int p = 0; p < np && p < kb->n_idf; p++) {
        if (kb->idf[p] <= 0) continue;
        Fts5PhraseIter it;
        int col, off;
        double tf = 0;
        for (api->xPhraseFirst(fc, p, &it, &col, &off); col >= 0; api->xPhraseNext(fc, &it, &col, &off))
            tf += kb->colw[col & 3];
        if (tf > 0) score += orx_kb_bm25_term(kb->idf[p], tf, lnorm); /* shared with the impact index */
    }
    score *= orx_kb_class_weight((int)(rowid & 15));
    sqlite3_result_double(res, score);
}

/* term statistics (for anchors and pruning) and the tokenizer that stems query terms the way the
 * index did; all optional: without them queries run unpruned */
static void open_term_stats(orx_kb *kb) {
    if (sqlite3_prepare_v2(kb->db, "SELECT df_all, df_drug FROM term_stats WHERE term = ?1", -1,
                           &kb->df, NULL) != SQLITE_OK)
        return;
    kb->n_chunks = scalar_i64(kb->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='chunks'");
    kb->avg_len = (double)scalar_i64(kb->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='avg_len'");
    fts5_api *api = orx_kb_fts5(kb->db);
    void *ud = NULL;
    if (!api || api->xFindTokenizer(api, "porter", &ud, &kb->tok) != SQLITE_OK) return;
    if (kb->n_chunks > 0 && !kb->tune.fts5_bm25 &&
        api->xCreateFunction(api, "orx_rank", kb, orx_rank_fn, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(kb->db, "SELECT rowid, orx_rank(chunks_fts) AS r FROM chunks_fts"
                                   " WHERE chunks_fts MATCH ?1 ORDER BY r DESC, rowid LIMIT ?2",
                           -1, &kb->fast, NULL) == SQLITE_OK)
        kb->fast_rank = true;
    const char *args[] = {"unicode61", "remove_diacritics", "2"};
    if (kb->tok.xCreate(ud, args, 3, &kb->tok_inst) != SQLITE_OK) kb->tok_inst = NULL;
}

/* the impact index and copies lookups (optional: without them search runs on FTS5 alone and
 * copies are not collapsed); an index built for other contents (chunk count, mean length) is
 * not used */
static void open_impact(orx_kb *kb) {
    if (sqlite3_prepare_v2(kb->db, "SELECT hash FROM chunk_meta WHERE id = ?1", -1, &kb->hash_q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(kb->db, "SELECT count(*) FROM chunk_meta WHERE hash = ?1", -1, &kb->copies_q, NULL) != SQLITE_OK)
        return;
    if (kb->tune.no_impact || !kb->fast_rank) {
        snprintf(kb->impact_note, sizeof kb->impact_note, "%s",
                 kb->tune.no_impact ? "ORX_KB_IMPACT=0" : "the FTS5 bm25() ranker is in use");
        return;
    }
    orx_error ierr = ORX_ERROR_INIT;
    if (orx_kb_impact_open(kb->db, kb->path, &kb->impact, &ierr) != ORX_OK) {
        snprintf(kb->impact_note, sizeof kb->impact_note, "%s", ierr.msg);
        return;
    }
    uint64_t n = 0;
    double avg = 0;
    if (kb->impact) orx_kb_impact_shape(kb->impact, &n, &avg);
    if (kb->impact && (n != (uint64_t)kb->n_chunks || avg != kb->avg_len)) {
        snprintf(kb->impact_note, sizeof kb->impact_note, "the impact index is stale (built for other contents)");
        orx_kb_impact_free(kb->impact);
        kb->impact = NULL;
    }
}

static void read_tuning(kb_tuning *t) {
    t->fts5_bm25 = getenv("ORX_KB_FTS5_BM25") != NULL;
    const char *e = getenv("ORX_KB_IMPACT");
    t->no_impact = e && !strcmp(e, "0");
    t->common = COMMON_FRAC;
    if ((e = getenv("ORX_KB_COMMON"))) t->common = atof(e);
    t->w_drug = 2.0, t->w_section = 0.5;
    if ((e = getenv("ORX_KB_WEIGHTS"))) {
        t->weights_set = true;
        sscanf(e, "%lf,%lf", &t->w_drug, &t->w_section);
    }
}

const char *orx_kb_impact_note(const orx_kb *kb) { return kb ? kb->impact_note : ""; }

orx_status orx_kb_open(const char *path, orx_kb **out, orx_error *err) {
    *out = NULL;
    if (!orx_file_exists(path))
        return orx_fail(err, ORX_ERR_NOT_FOUND,
                        "%s: no knowledge base (build one with 'openrx kb build')", path);
    orx_kb *kb = calloc(1, sizeof *kb);
    if (!kb) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    kb->path = orx_strdup(path);
    read_tuning(&kb->tune);
    orx_status st = ORX_OK;
    if (sqlite3_open_v2(path, &kb->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = orx_fail(err, ORX_ERR_DB, "%s: cannot open: %s", path, sqlite3_errmsg(kb->db));
        goto fail;
    }
    sqlite3_busy_timeout(kb->db, 2000);
    /* read through a memory map and keep hot index pages cached: query latency on large KBs */
    sqlite3_exec(kb->db, "PRAGMA mmap_size=4294967296; PRAGMA cache_size=-131072;", NULL, NULL, NULL);
    sqlite3_stmt *s = NULL;
    int uv = -1;
    if (sqlite3_prepare_v2(kb->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        uv = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (uv < 0) {
        st = orx_fail(err, ORX_ERR_DB, "%s: not a SQLite database: %s", path, sqlite3_errmsg(kb->db));
        goto fail;
    }
    if (uv != ORX_KB_SCHEMA_VERSION) {
        st = orx_fail(err, ORX_ERR_UNSUPPORTED,
                      "%s: knowledge base schema version %d, this openrx reads version %d; rebuild "
                      "it with 'openrx kb build'", path, uv, ORX_KB_SCHEMA_VERSION);
        goto fail;
    }
    if (sqlite3_prepare_v2(kb->db,
                           "SELECT c.section_code, c.section_name, c.section_title, c.start_off,"
                           " c.end_off, c.text, d.set_id, d.title, d.generic_names, d.brand_names,"
                           " d.version, d.effective_date FROM chunks c JOIN docs d ON d.id = c.doc_id"
                           " WHERE c.id = ?", -1, &kb->hit, NULL) != SQLITE_OK) {
        st = orx_fail(err, ORX_ERR_DB, "%s: not an openrx knowledge base: %s", path,
                      sqlite3_errmsg(kb->db));
        goto fail;
    }
    sqlite3_create_function(kb->db, "orx_secw", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            secw_fn, NULL, NULL);
    if (sqlite3_prepare_v2(kb->db,
                           "SELECT rowid, bm25(chunks_fts, ?3, ?4, 1.0, 0.0) * orx_secw(rowid) AS r"
                           " FROM chunks_fts WHERE chunks_fts MATCH ?1 ORDER BY r, rowid LIMIT ?2",
                           -1, &kb->rank, NULL) != SQLITE_OK) {
        st = orx_fail(err, ORX_ERR_DB, "%s: not an openrx knowledge base: %s", path,
                      sqlite3_errmsg(kb->db));
        goto fail;
    }
    open_term_stats(kb);
    open_impact(kb);
    kb->use_impact = true;
    *out = kb;
    return ORX_OK;
fail:
    orx_kb_free(kb);
    return st;
}

void orx_kb_free(orx_kb *kb) {
    if (!kb) return;
    sqlite3_finalize(kb->hit);
    sqlite3_finalize(kb->df);
    sqlite3_finalize(kb->rank);
    sqlite3_finalize(kb->fast);
    orx_kb_impact_free(kb->impact);
    sqlite3_finalize(kb->hash_q);
    sqlite3_finalize(kb->copies_q);
    sqlite3_finalize(kb->dv);
    sqlite3_finalize(kb->section);
    orx_ind_index_free(kb->ind);
    orx_ind_vocab_free(kb->vocab);
    if (kb->tok_inst) kb->tok.xDelete(kb->tok_inst);
    sqlite3_close(kb->db);
#ifdef ORX_KB_HAVE_LEXICON
    orx_lexicon_free(kb->lex_owned);
#endif
    free(kb->path);
    free(kb);
}

void orx_kb_set_lexicon(orx_kb *kb, const struct orx_lexicon *lex) { kb->lex = lex; }

bool orx_kb_use_impact(orx_kb *kb, bool on) {
    kb->use_impact = on;
    return kb->impact != NULL;
}

orx_status orx_kb_load_lexicon(orx_kb *kb, const char *data_dir, orx_error *err) {
#ifdef ORX_KB_HAVE_LEXICON
    orx_lexicon *lex = NULL;
    orx_status st = orx_lexicon_open(data_dir, &lex, err);
    if (st != ORX_OK) return st;
    orx_lexicon_free(kb->lex_owned);
    kb->lex_owned = lex;
    kb->lex = lex;
    return ORX_OK;
#else
    (void)kb;
    (void)data_dir;
    return orx_fail(err, ORX_ERR_UNSUPPORTED, "no drug-name lexicon in this build");
#endif
}

/* ============================================================================================
 * Stats
 * ========================================================================================== */
static int64_t scalar(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

orx_status orx_kb_get_stats(orx_kb *kb, orx_kb_stats *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    out->docs = (uint64_t)scalar(kb->db, "SELECT count(*) FROM docs");
    out->chunks = (uint64_t)scalar(kb->db, "SELECT count(*) FROM chunks");
    out->text_bytes = (uint64_t)scalar(kb->db, "SELECT sum(length(CAST(text AS BLOB))) FROM chunks");
    out->duplicates = (uint64_t)scalar(kb->db, "SELECT count(*) FROM duplicates");
    out->schema_version = (int)scalar(kb->db, "PRAGMA user_version");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(kb->db, "SELECT value FROM meta WHERE key='built_at'", -1, &s, NULL) ==
            SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        snprintf(out->built_at, sizeof out->built_at, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    (void)err;
    return ORX_OK;
}

/* JSON string literal of s appended to b */
static void json_str(orx_buf *b, const char *s) {
    orx_buf_puts(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') orx_buf_printf(b, "\\%c", c);
        else if (c == '\n') orx_buf_puts(b, "\\n");
        else if (c == '\t') orx_buf_puts(b, "\\t");
        else if (c < 0x20) orx_buf_printf(b, "\\u%04x", c);
        else orx_buf_append(b, s, 1);
    }
    orx_buf_puts(b, "\"");
}

/* "name":count members, one per row of sql (name, count) */
static void count_members(orx_buf *b, sqlite3 *db, const char *sql) {
    sqlite3_stmt *s;
    bool first = true;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (!first) orx_buf_puts(b, ",");
            first = false;
            json_str(b, (const char *)sqlite3_column_text(s, 0));
            orx_buf_printf(b, ":%lld", (long long)sqlite3_column_int64(s, 1));
        }
    sqlite3_finalize(s);
}

orx_status orx_kb_stats_json(orx_kb *kb, char **json_out, orx_error *err) {
    orx_kb_stats st;
    orx_kb_get_stats(kb, &st, err);
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_printf(&b, "{\"path\":");
    json_str(&b, kb->path);
    orx_buf_printf(&b, ",\"schema_version\":%d,\"built_at\":\"%s\",\"docs\":%llu,\"chunks\":%llu,"
                       "\"text_bytes\":%llu,\"duplicates_dropped\":%llu,\"sources\":{",
                   st.schema_version, st.built_at, (unsigned long long)st.docs,
                   (unsigned long long)st.chunks, (unsigned long long)st.text_bytes,
                   (unsigned long long)st.duplicates);
    /* documents per source directory */
    sqlite3_stmt *s;
    count_members(&b, kb->db, "SELECT CASE WHEN instr(source_file,'/') THEN rtrim(source_file,"
                              " replace(source_file,'/','')) ELSE '.' END AS dir, count(*) FROM docs"
                              " GROUP BY dir ORDER BY dir");
    orx_buf_puts(&b, "},\"sections\":{");
    count_members(&b, kb->db, "SELECT section_code || ' ' || section_name, count(*) FROM chunks"
                                 " GROUP BY section_code, section_name ORDER BY 2 DESC");
    orx_buf_puts(&b, "},\"releases\":[");
    /* the release of each source (kb build: newest label date; kb update: the release's date) */
    bool first = true;
    if (sqlite3_prepare_v2(kb->db, "SELECT name, kind, release_date, applied_at, (SELECT count(*) FROM doc_source o"
                                   " WHERE o.source = sources.name) FROM sources ORDER BY name",
                           -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW) {
            orx_buf_puts(&b, first ? "{\"source\":" : ",{\"source\":");
            first = false;
            json_str(&b, (const char *)sqlite3_column_text(s, 0));
            orx_buf_puts(&b, ",\"kind\":");
            json_str(&b, (const char *)sqlite3_column_text(s, 1));
            orx_buf_puts(&b, ",\"release_date\":");
            json_str(&b, (const char *)sqlite3_column_text(s, 2));
            orx_buf_puts(&b, ",\"applied_at\":");
            json_str(&b, (const char *)sqlite3_column_text(s, 3));
            orx_buf_printf(&b, ",\"labels\":%lld}", (long long)sqlite3_column_int64(s, 4));
        }
    sqlite3_finalize(s);
    orx_buf_printf(&b, "],\"impact_index\":%s}", kb->impact ? "true" : "false");
    if (!b.data) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    *json_out = orx_buf_steal(&b);
    return ORX_OK;
}

/* ============================================================================================
 * Query building
 * ========================================================================================== */
typedef struct terms {
    char   v[MAX_TERMS][ORX_KB_TERM]; /* lower-case terms (may contain spaces: phrases) */
    int    n;                         /* count */
} terms;

static bool stopword(const char *w) {
    static const char *const SW[] = {
        "a", "an", "the", "of", "and", "or", "with", "in", "on", "for", "to", "is", "are", "be",
        "by", "as", "at", "from", "that", "this", "it", "its", "what", "which", "when", "how",
        "does", "do", "should", "can", "i", "my", "me", "into", "about", "than", "then", "there",
        "was", "were", "will", "if", "not", "no", "any", "all", "has", "have", "had", "but",
        "mg", NULL};
    for (int i = 0; SW[i]; i++)
        if (!strcmp(w, SW[i])) return true;
    return false;
}

static void terms_add(terms *t, const char *w) {
    if (!*w || t->n >= MAX_TERMS) return;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->v[i], w)) return;
    snprintf(t->v[t->n++], ORX_KB_TERM, "%s", w);
}

/* split text into lower-case words (letters/digits/UTF-8), drop stop words */
static void tokenize(const char *text, terms *t, bool keep_stop) {
    char w[ORX_KB_TERM];
    size_t n = 0;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80)) {
            if (n + 1 < sizeof w) w[n++] = (char)tolower(c);
            continue;
        }
        if (n) {
            w[n] = 0;
            if ((n > 1 || isdigit((unsigned char)w[0])) && (keep_stop || !stopword(w))) terms_add(t, w);
            n = 0;
        }
        if (!c) break;
    }
}

/* lower-case words of a name joined by single spaces ("Warfarin  Sodium" → "warfarin sodium") */
static void phrase_of(const char *name, char *out, size_t cap) {
    terms t = {.n = 0};
    tokenize(name, &t, true);
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < t.n && n + 2 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", t.v[i]);
}

/* true when some label carries this name (phrase) in its drug column */
static bool drug_known(const orx_kb *kb, const char *phrase) {
    long rows = kb->impact ? orx_kb_impact_drug_rows(kb->impact, phrase) : -1;
    if (rows >= 0) return rows > 0; /* the token's drug-column list in the impact index */
    char *m = sqlite3_mprintf("{drug} : \"%w\"", phrase);
    sqlite3_stmt *s;
    bool found = false;
    if (m && sqlite3_prepare_v2(kb->db, "SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ?1 LIMIT 1",
                                -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, m, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
    }
    sqlite3_free(m);
    return found;
}

/* lexicon expansion: ingredients found in text plus their brand names (only for names no label
 * carries when only_unknown) */
static void expand(const orx_kb *kb, const char *text, terms *t, bool only_unknown) {
#ifdef ORX_KB_HAVE_LEXICON
    if (!kb->lex || !text) return;
    orx_lex_match m[8];
    int n = orx_lexicon_lookup(kb->lex, text, m, 8);
    if (n > 8) n = 8;
    for (int i = 0; i < n; i++) {
        char ph[ORX_KB_TERM];
        if (only_unknown) {
            /* the knowledge base already has labels under this name: no expansion needed */
            phrase_of(m[i].matched, ph, sizeof ph);
            if (ph[0] && drug_known(kb, ph)) continue;
        }
        phrase_of(m[i].ingredient, ph, sizeof ph);
        terms_add(t, ph);
        char (*br)[ORX_LEX_NAME] = calloc(4, sizeof *br);
        if (!br) return;
        int nb = orx_lexicon_brands(kb->lex, m[i].ingredient, br, 4);
        for (int j = 0; j < nb && j < 4; j++) {
            phrase_of(br[j], ph, sizeof ph);
            terms_add(t, ph);
        }
        free(br);
    }
#else
    (void)kb;
    (void)text;
    (void)t;
    (void)only_unknown;
#endif
}

static bool term_df(orx_kb *kb, const char *word, int64_t *df_all, int64_t *df_drug);

/* record the IDF of the next phrase of the query (0 = the phrase only filters) for orx_rank */
static void note_phrase(orx_kb *kb, const char *phrase, bool scored) {
    if (!kb || kb->n_idf >= (int)(sizeof kb->idf / sizeof kb->idf[0])) return;
    double idf = 0;
    if (scored) {
        int64_t dfa = 0, dfd = 0;
        term_df(kb, phrase, &dfa, &dfd);
        double n = (double)kb->n_chunks;
        idf = log((n - (double)dfa + 0.5) / ((double)dfa + 0.5));
        if (idf <= 0) idf = 1e-6;
    }
    snprintf(kb->ph[kb->n_idf], ORX_KB_TERM, "%s", phrase);
    kb->ph_group[kb->n_idf] = (unsigned char)kb->group;
    kb->idf[kb->n_idf++] = idf;
}

/* "a" OR "b c" … (kb non-NULL: record each phrase for orx_rank) */
static void or_group_k(orx_kb *kb, bool scored, orx_buf *b, const terms *t) {
    for (int i = 0; i < t->n; i++) {
        if (i) orx_buf_puts(b, " OR ");
        orx_buf_printf(b, "\"%s\"", t->v[i]);
        note_phrase(kb, t->v[i], scored);
    }
}
#define or_group(b, t) or_group_k(NULL, false, (b), (t))

/* ============================================================================================
 * Term statistics: anchors and pruning
 * ========================================================================================== */
typedef struct stem_ctx {
    char out[ORX_KB_TERM]; /* first token */
    int  n;                /* tokens seen */
} stem_ctx;

static int stem_cb(void *ctx, int flags, const char *tok, int n, int start, int end) {
    (void)flags; (void)start; (void)end;
    stem_ctx *c = ctx;
    if (c->n++ == 0) snprintf(c->out, sizeof c->out, "%.*s", n, tok);
    return SQLITE_OK;
}

/* document frequency of a query word in all columns / the drug column; false when unknown */
static bool term_df(orx_kb *kb, const char *word, int64_t *df_all, int64_t *df_drug) {
    *df_all = *df_drug = 0;
    if (!kb->df || !kb->tok_inst || kb->n_chunks <= 0) return false;
    stem_ctx c = {.n = 0};
    if (kb->tok.xTokenize(kb->tok_inst, &c, FTS5_TOKENIZE_QUERY, word, (int)strlen(word), stem_cb) !=
            SQLITE_OK || c.n < 1)
        return false; /* a phrase is judged by its first word */
    sqlite3_reset(kb->df);
    sqlite3_bind_text(kb->df, 1, c.out, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(kb->df) == SQLITE_ROW) {
        *df_all = sqlite3_column_int64(kb->df, 0);
        *df_drug = sqlite3_column_int64(kb->df, 1);
    }
    sqlite3_reset(kb->df);
    return true;
}

/* Split query words into kept words and drug anchors. With anchors the match is restricted to
 * those drugs' labels ("X with Y" searches X's label); very common words are pruned. Both only
 * decide which rows get scored; BM25 itself is unchanged. */
static void plan_terms(orx_kb *kb, const terms *t, terms *kept, terms *anchors) {
    kept->n = anchors->n = 0;
    int64_t n = kb->n_chunks;
    int64_t dfa[MAX_TERMS], dfd[MAX_TERMS];
    bool known = true;
    for (int i = 0; i < t->n && known; i++) known = term_df(kb, t->v[i], &dfa[i], &dfd[i]);
    if (!known || n <= 0) {
        *kept = *t;
        return;
    }
    double common = kb->tune.common;
    int rare = 0;
    for (int i = 0; i < t->n; i++) rare += dfa[i] > 0 && dfa[i] <= common * (double)n;
    bool all_anchor = true; /* a drug-column word too common to anchor: anchor nothing */
    for (int i = 0; i < t->n; i++) {
        if (dfd[i] > 0 && dfd[i] <= ANCHOR_MAX_FRAC * (double)n && !isdigit((unsigned char)t->v[i][0]))
            terms_add(anchors, t->v[i]);
        else if (dfd[i] > 0 && dfd[i] * 2 >= dfa[i] && dfa[i] <= common * (double)n)
            all_anchor = false; /* mostly a drug name, but too many labels carry it */
        if (!rare || dfa[i] <= common * (double)n) terms_add(kept, t->v[i]);
    }
    if (!all_anchor) anchors->n = 0;
}

static orx_status build_match(orx_kb *kb, const orx_kb_query *q, bool plan, orx_buf *m, terms *hl,
                              bool *anchored, orx_error *err) {
    *anchored = false;
    kb->n_idf = 0;
    terms t = {.n = 0}, x = {.n = 0};
    tokenize(q->text ? q->text : "", &t, false);
    /* expansions (ingredient, brands of drugs named in the query) match the drug column only:
     * in label text they mostly hit other labels' interaction lists */
    if (q->expand) expand(kb, q->text, &x, true);
    terms xo = {.n = 0};
    for (int i = 0; i < x.n; i++) {
        bool dup = false;
        for (int j = 0; j < t.n && !dup; j++) dup = !strcmp(t.v[j], x.v[i]);
        if (!dup) terms_add(&xo, x.v[i]);
    }
    *hl = t;
    for (int i = 0; i < xo.n; i++) tokenize(xo.v[i], hl, false);
    if (!t.n && !(q->drug && *q->drug))
        return orx_fail(err, ORX_ERR_INVALID, "query \"%s\" has no searchable words",
                        q->text ? q->text : "");
    terms kept = t, anchors = {.n = 0};
    if (plan && !(q->drug && *q->drug)) plan_terms(kb, &t, &kept, &anchors);
    if (t.n) {
        orx_buf_puts(m, "(");
        kb->group = PH_WORD;
        or_group_k(kb, true, m, &kept);
        if (xo.n) {
            orx_buf_puts(m, " OR {drug} : (");
            kb->group = PH_EXPANSION;
            or_group_k(kb, true, m, &xo);
            orx_buf_puts(m, ")");
        }
        orx_buf_puts(m, ")");
    }
    if (anchors.n || (plan && xo.n && !(q->drug && *q->drug))) {
        /* anchors and expanded names of unknown brands restrict to those drugs' labels */
        *anchored = true;
        orx_buf_puts(m, " AND {anchor} : (");
        kb->group = PH_ANCHOR;
        or_group_k(kb, false, m, &anchors);
        if (xo.n) orx_buf_printf(m, "%s", anchors.n ? " OR " : "");
        or_group_k(kb, false, m, &xo);
        orx_buf_puts(m, ")");
    }
    if (q->drug && *q->drug) {
        terms d = {.n = 0};
        char ph[ORX_KB_TERM];
        phrase_of(q->drug, ph, sizeof ph);
        if (!ph[0]) return orx_fail(err, ORX_ERR_INVALID, "--drug \"%s\" has no letters", q->drug);
        terms_add(&d, ph);
        expand(kb, q->drug, &d, false);
        orx_buf_printf(m, "%s{anchor} : (", t.n ? " AND " : "");
        kb->group = PH_DRUG;
        or_group_k(kb, false, m, &d);
        orx_buf_puts(m, ")");
    }
    if (q->section && *q->section) {
        const char *code = orx_kb_section_code_for(q->section);
        if (!code)
            return orx_fail(err, ORX_ERR_INVALID,
                            "unknown section \"%s\" (use a LOINC code or a name such as "
                            "interactions, contraindications, dosage, warnings, adverse, "
                            "pregnancy, renal, boxed)", q->section);
        char c5[16];
        snprintf(c5, sizeof c5, "%s", code);
        char *dash = strchr(c5, '-');
        if (dash) *dash = ' ';
        orx_buf_printf(m, " AND {section} : \"%s\"", c5);
        kb->group = PH_SECTION;
        note_phrase(kb, c5, false);
    }
    return m->data ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
}

/* ============================================================================================
 * Snippets
 * ========================================================================================== */
/* term matches word when the word starts with the term's first max(4, len-2) letters */
static bool word_hits(const char *w, size_t wl, const terms *t) {
    for (int i = 0; i < t->n; i++) {
        const char *tv = t->v[i];
        if (strchr(tv, ' ')) continue;
        size_t tl = strlen(tv), need = tl > 6 ? tl - 2 : tl;
        if (wl < need) continue;
        size_t k = 0;
        while (k < need && tolower((unsigned char)w[k]) == tv[k]) k++;
        if (k == need) return true;
    }
    return false;
}

typedef struct wspan {
    size_t off, len; /* word bytes in text */
    bool   hit;      /* matches a query term */
} wspan;

static char *make_snippet(const char *text, const terms *t, int width) {
    size_t len = strlen(text), nw = 0, cap = 256;
    wspan *w = malloc(cap * sizeof *w);
    if (!w) return NULL;
    for (size_t i = 0; i < len;) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        if (i >= len) break;
        size_t b = i;
        while (i < len && !isspace((unsigned char)text[i])) i++;
        if (nw == cap) {
            wspan *nw2 = realloc(w, (cap *= 2) * sizeof *w);
            if (!nw2) { free(w); return NULL; }
            w = nw2;
        }
        /* match on the alphanumeric core of the word */
        size_t cb = b, ce = i;
        while (cb < ce && !isalnum((unsigned char)text[cb])) cb++;
        w[nw] = (wspan){b, i - b, word_hits(text + cb, ce - cb, t)};
        nw++;
    }
    /* best window */
    size_t best = 0, wsz = (size_t)width < nw ? (size_t)width : nw;
    int hits = 0, best_hits = -1;
    for (size_t i = 0; i < nw; i++) {
        hits += w[i].hit;
        if (i >= wsz) hits -= w[i - wsz].hit;
        if (i + 1 >= wsz && hits > best_hits) best_hits = hits, best = i + 1 - wsz;
    }
    orx_buf b;
    orx_buf_init(&b);
    if (best > 0) orx_buf_puts(&b, "… ");
    for (size_t i = best; i < best + wsz; i++) {
        if (i > best) orx_buf_puts(&b, " ");
        if (w[i].hit) {
            /* bold only the alphanumeric core, keep punctuation outside */
            const char *s = text + w[i].off;
            size_t a = 0, e = w[i].len;
            while (a < e && !isalnum((unsigned char)s[a])) a++;
            while (e > a && !isalnum((unsigned char)s[e - 1])) e--;
            orx_buf_append(&b, s, a);
            orx_buf_puts(&b, "**");
            orx_buf_append(&b, s + a, e - a);
            orx_buf_puts(&b, "**");
            orx_buf_append(&b, s + e, w[i].len - e);
        } else {
            orx_buf_append(&b, text + w[i].off, w[i].len);
        }
    }
    if (best + wsz < nw) orx_buf_puts(&b, " …");
    free(w);
    return b.data ? orx_buf_steal(&b) : orx_strdup("");
}

/* ============================================================================================
 * Search
 * ========================================================================================== */
void orx_kb_results_clear(orx_kb_results *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->hits[i].text);
        free(r->hits[i].snippet);
    }
    free(r->hits);
    free(r->fts_query);
    memset(r, 0, sizeof *r);
}

const char *orx_kb_col(sqlite3_stmt *s, int i) {
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? v : "";
}

void orx_kb_label_cols(sqlite3_stmt *s, int i, char (*set_id)[64], char (*title)[256], char (*drugs)[256],
                       char (*version)[16], char (*date)[16]) {
    snprintf(*set_id, sizeof *set_id, "%s", orx_kb_col(s, i));
    snprintf(*title, sizeof *title, "%s", orx_kb_col(s, i + 1));
    const char *g = orx_kb_col(s, i + 2), *b = orx_kb_col(s, i + 3);
    snprintf(*drugs, sizeof *drugs, "%s%s%s", g, *g && *b ? "; " : "", b);
    snprintf(*version, sizeof *version, "%s", orx_kb_col(s, i + 4));
    snprintf(*date, sizeof *date, "%s", orx_kb_col(s, i + 5));
}

static uint64_t chunk_hash(orx_kb *kb, int64_t id);

static orx_status fill_hit(orx_kb *kb, int64_t id, double score, const terms *hl, orx_kb_hit *h,
                           orx_error *err) {
    sqlite3_stmt *s = kb->hit;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW)
        return orx_fail(err, ORX_ERR_DB, "%s: chunk %lld missing: %s", kb->path, (long long)id,
                        sqlite3_errmsg(kb->db));
    memset(h, 0, sizeof *h);
    h->chunk_id = id;
    h->score = score;
    snprintf(h->section_code, sizeof h->section_code, "%s", orx_kb_col(s, 0));
    snprintf(h->section_name, sizeof h->section_name, "%s", orx_kb_col(s, 1));
    snprintf(h->section_title, sizeof h->section_title, "%s", orx_kb_col(s, 2));
    h->start = (size_t)sqlite3_column_int64(s, 3);
    h->end = (size_t)sqlite3_column_int64(s, 4);
    h->text = orx_strdup(orx_kb_col(s, 5));
    orx_kb_label_cols(s, 6, &h->set_id, &h->title, &h->drugs, &h->version, &h->effective_date);
    snprintf(h->citation, sizeof h->citation, "%s#%s", h->set_id, h->section_code);
    sqlite3_reset(s);
    h->snippet = h->text ? make_snippet(h->text, hl, 40) : NULL;
    if (kb->copies_q) { /* same text in other chunks: collapsed into this hit */
        sqlite3_reset(kb->copies_q);
        sqlite3_bind_int64(kb->copies_q, 1, (sqlite3_int64)chunk_hash(kb, id));
        if (sqlite3_step(kb->copies_q) == SQLITE_ROW) h->copies = sqlite3_column_int(kb->copies_q, 0) - 1;
        if (h->copies < 0) h->copies = 0;
        sqlite3_reset(kb->copies_q);
    }
    if (!h->text || !h->snippet) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    return ORX_OK;
}

/* copies hash of a chunk (0 when the KB has no chunk_meta) */
static uint64_t chunk_hash(orx_kb *kb, int64_t id) {
    if (kb->impact) return orx_kb_impact_hash(kb->impact, id);
    if (!kb->hash_q) return 0;
    sqlite3_reset(kb->hash_q);
    sqlite3_bind_int64(kb->hash_q, 1, id);
    uint64_t h = sqlite3_step(kb->hash_q) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(kb->hash_q, 0) : 0;
    sqlite3_reset(kb->hash_q);
    return h;
}

/* one pass of a MATCH with the ranked statement, up to `limit` rows; with collapse, rows whose
 * text repeats an accepted row are skipped. Returns the rows stepped through in *stepped. */
static orx_status match_rows(orx_kb *kb, const char *match, int k, int limit, bool collapse, int64_t *ids,
                             double *scores, uint64_t *hashes, size_t *n, int *stepped, orx_error *err) {
    *n = 0;
    *stepped = 0;
    sqlite3_stmt *s = kb->fast_rank ? kb->fast : kb->rank;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    double wd = kb->tune.w_drug, ws = kb->tune.w_section;
    if (!kb->fast_rank) {
        sqlite3_bind_double(s, 3, wd);
        sqlite3_bind_double(s, 4, ws);
    }
    kb->colw[0] = wd, kb->colw[1] = ws, kb->colw[2] = 1.0, kb->colw[3] = 0.0;
    int rc;
    while (*n < (size_t)k && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        (*stepped)++;
        int64_t id = sqlite3_column_int64(s, 0);
        double sc = kb->fast_rank ? sqlite3_column_double(s, 1) : -sqlite3_column_double(s, 1);
        uint64_t h = collapse ? chunk_hash(kb, id) : 0;
        bool dup = false;
        for (size_t i = 0; collapse && h && i < *n && !dup; i++) dup = hashes[i] == h;
        if (dup) continue;
        ids[*n] = id, scores[*n] = sc, hashes[*n] = h;
        (*n)++;
    }
    if (*n >= (size_t)k) rc = SQLITE_DONE;
    orx_status st = ORX_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = orx_fail(err, ORX_ERR_DB, "%s: search \"%s\": %s", kb->path, match, sqlite3_errmsg(kb->db));
    sqlite3_reset(s);
    return st;
}

/* run one MATCH; fills up to k ids/scores (best first; score desc, row id asc). Copies of an
 * earlier hit are skipped unless all_copies: the row limit grows until k distinct texts are
 * found or the matches run out. */
static orx_status run_match(orx_kb *kb, const char *match, int k, bool collapse, int64_t *ids,
                            double *scores, size_t *n, orx_error *err) {
    uint64_t hashes[MAX_K];
    collapse = collapse && (kb->impact || kb->hash_q);
    for (int limit = collapse ? 4 * k + 16 : k;; limit = limit > (1 << 20) ? -1 : limit * 8) {
        int stepped;
        orx_status st = match_rows(kb, match, k, limit, collapse, ids, scores, hashes, n, &stepped, err);
        if (st != ORX_OK || *n >= (size_t)k || limit < 0 || stepped < limit) return st;
    }
}

/* the impact-index path: the unpruned query (every match a candidate), exact top-k */
static orx_status impact_match(orx_kb *kb, const orx_kb_query *q, const char *match, int k, int64_t *ids,
                               double *scores, size_t *n, orx_error *err) {
    orx_kb_iphrase ph[MAX_TERMS * 3];
    orx_kb_ifilter fl[MAX_TERMS * 3];
    int np = 0, nf = 0;
    for (int p = 0; p < kb->n_idf; p++) {
        int g = kb->ph_group[p];
        if (g == PH_WORD || g == PH_EXPANSION)
            ph[np++] = (orx_kb_iphrase){.text = kb->ph[p], .idf = kb->idf[p], .drug_only = g == PH_EXPANSION};
        else if (g == PH_ANCHOR || g == PH_DRUG) /* {anchor} : ( … ) groups, ANDed */
            fl[nf++] = (orx_kb_ifilter){.text = kb->ph[p], .group = g};
    }
    if (!np) /* nothing scored (a --drug-only query): every row scores 0, FTS5 lists them */
        return run_match(kb, match, k, !q->all_copies, ids, scores, n, err);
    const char *code = q->section && *q->section ? orx_kb_section_code_for(q->section) : NULL;
    orx_kb_iquery iq = {.phrases = ph, .n_phrases = np, .filters = fl, .n_filters = nf, .section = code, .k = k,
                        .collapse = !q->all_copies};
    return orx_kb_impact_search(kb->impact, &iq, ids, scores, n, NULL, err);
}

static orx_status search_in_txn(orx_kb *kb, const orx_kb_query *q, orx_kb_results *out, orx_error *err);

/* After a `kb update` committed by another connection (the file changes in place): corpus
 * statistics and the impact index are read again, so an open handle (the server's) never ranks
 * with stale statistics or returns rows of a superseded index. */
static void refresh_if_changed(orx_kb *kb) {
    if (!kb->dv && sqlite3_prepare_v2(kb->db, "PRAGMA data_version", -1, &kb->dv, NULL) != SQLITE_OK) return;
    sqlite3_reset(kb->dv);
    int64_t v = sqlite3_step(kb->dv) == SQLITE_ROW ? sqlite3_column_int64(kb->dv, 0) : 0;
    sqlite3_reset(kb->dv);
    if (v == kb->data_version) return;
    bool first = kb->data_version == 0;
    kb->data_version = v;
    if (first) return;
    kb->n_chunks = scalar_i64(kb->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='chunks'");
    kb->avg_len = (double)scalar_i64(kb->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='avg_len'");
    orx_kb_impact_free(kb->impact);
    kb->impact = NULL;
    sqlite3_finalize(kb->hash_q);
    sqlite3_finalize(kb->copies_q);
    kb->hash_q = kb->copies_q = NULL;
    open_impact(kb);
}

/* one read transaction per search: the term lookups, the match and the hit rows see one snapshot
 * and take the file locks once (not once per statement) */
orx_status orx_kb_search(orx_kb *kb, const orx_kb_query *q, orx_kb_results *out, orx_error *err) {
    bool txn = sqlite3_get_autocommit(kb->db) && sqlite3_exec(kb->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    refresh_if_changed(kb);
    orx_status st = search_in_txn(kb, q, out, err);
    if (txn) sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL);
    return st;
}

static orx_status search_in_txn(orx_kb *kb, const orx_kb_query *q, orx_kb_results *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    int k = q->k > 0 ? q->k : 8;
    if (k > MAX_K) k = MAX_K;
    int64_t ids[MAX_K];
    double scores[MAX_K];
    size_t n = 0;
    terms hl;
    orx_status st = ORX_OK;
    /* planned (anchored, pruned) first; when that finds nothing, score every match. Either
     * query is evaluated by the impact index when there is one (exact top-k), else by FTS5 */
    bool impact = kb->impact && kb->use_impact && !kb->tune.weights_set;
    for (int pass = q->exhaustive ? 1 : 0; pass < 2 && st == ORX_OK && n == 0; pass++) {
        orx_buf m;
        orx_buf_init(&m);
        bool anchored;
        st = build_match(kb, q, pass == 0, &m, &hl, &anchored, err);
        if (st != ORX_OK) {
            orx_buf_clear(&m);
            break;
        }
        if (out->fts_query && !strcmp(out->fts_query, m.data)) { /* same query: no second pass */
            orx_buf_clear(&m);
            break;
        }
        free(out->fts_query);
        out->fts_query = orx_buf_steal(&m);
        if (impact) st = impact_match(kb, q, out->fts_query, k, ids, scores, &n, err);
        else st = run_match(kb, out->fts_query, k, !q->all_copies, ids, scores, &n, err);
    }
    if (st == ORX_OK && n) {
        out->hits = calloc(n, sizeof *out->hits);
        if (!out->hits) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == ORX_OK && i < n; i++) {
            st = fill_hit(kb, ids[i], scores[i], &hl, &out->hits[i], err);
            out->n = i + 1;
        }
    }
    return st;
}

/* ============================================================================================
 * Indication options and label sections (the sentence index is in kb/indications.c)
 * ========================================================================================== */
static orx_status ensure_index(orx_kb *kb, orx_error *err) {
    if (kb->ind) return ORX_OK;
#ifdef ORX_KB_HAVE_LEXICON
    if (!kb->lex) {
        orx_error lerr = ORX_ERROR_INIT;
        if (orx_kb_load_lexicon(kb, NULL, &lerr) != ORX_OK)
            return orx_fail(err, lerr.code, "indication options need the drug-name lexicon: %s", lerr.msg);
    }
    return orx_ind_index_build(kb->db, kb->lex, &kb->ind, err);
#else
    return orx_fail(err, ORX_ERR_UNSUPPORTED, "indication options need the drug-name lexicon");
#endif
}

/* A concept that is only a drug's name ("on warfarin, with new atrial fibrillation") is not a
 * condition: the patient's medicines come from the record. */
static void drop_drug_names(orx_kb *kb, orx_ind_query *q) {
#ifdef ORX_KB_HAVE_LEXICON
    int k = 0;
    for (int i = 0; i < q->n; i++) {
        orx_lex_match m[2];
        bool drug = false;
        if (kb->lex && q->c[i].role != ORX_IND_FUNCTION && orx_lexicon_lookup(kb->lex, q->c[i].text, m, 2) == 1) {
            char a[ORX_LEX_NAME], b[ORX_LEX_NAME];
            snprintf(a, sizeof a, "%s", m[0].matched);
            snprintf(b, sizeof b, "%s", q->c[i].text);
            orx_str_lower(a);
            orx_str_lower(b);
            drug = !strcmp(orx_str_trim(a), orx_str_trim(b));
        }
        if (drug) {
            size_t l = strlen(q->ignored);
            snprintf(q->ignored + l, sizeof q->ignored - l, "%s%s (a drug)", l ? " " : "", q->c[i].text);
        } else {
            q->c[k++] = q->c[i];
        }
    }
    q->n = k;
#else
    (void)kb;
    (void)q;
#endif
}

bool orx_kb_ind_is_word(void *kb, const char *w) { return orx_ind_index_has_word(((orx_kb *)kb)->ind, w); }

/* An abbreviation that no source defines and no label uses ("HTN", "T2DM") is never given a
 * meaning: the query says so, with suggestions from the sources (vocabulary phrases whose
 * initials spell it; label words holding its letters in order), for the user to write out. */
static void note_unrecognised(orx_kb *kb, const orx_ind_vocab *v, orx_ind_query *q) {
    size_t n = 0;
    for (int i = 0; i < q->n; i++) {
        const orx_ind_concept *c = &q->c[i];
        if ((c->role != ORX_IND_PRIMARY && c->role != ORX_IND_COMORBID) || c->n_alts != 1 || c->alts[0].n != 1 ||
            !orx_ind_looks_abbreviation(c->text) || orx_ind_index_has_word(kb->ind, c->alts[0].words[0]))
            continue;
        char sug[6][96];
        int df[6] = {0};
        int ns = orx_ind_vocab_suggest(v, c->text, sug, 3);
        char words[3][96];
        int nw = orx_ind_index_suggest_phrases(kb->ind, c->text, words, df, 3);
        bool digits = false;
        for (const char *p = c->text; *p; p++) digits |= isdigit((unsigned char)*p) != 0;
        if (!nw && !digits) nw = orx_ind_index_suggest_words(kb->ind, c->text, words, df, 3);
        while (nw > 1 && df[nw - 1] * 4 < df[0]) nw--; /* rarely used ones add noise */
        char list[400] = "";
        size_t l = 0;
        for (int k = 0; k < ns; k++) l += (size_t)snprintf(list + l, l < sizeof list ? sizeof list - l : 0, "%s\"%s\" (vocabulary)", l ? ", " : "", sug[k]);
        for (int k = 0; k < nw && l < sizeof list; k++)
            l += (size_t)snprintf(list + l, sizeof list - l, "%s\"%s\" (in %d label sentences)", l ? ", " : "", words[k], df[k]);
        n += (size_t)snprintf(q->unrecognised + n, n < sizeof q->unrecognised ? sizeof q->unrecognised - n : 0,
                              "%s'%s' is not an abbreviation that any source defines and no label uses it, so it "
                              "was not expanded; write the condition out%s%s%s", n ? "; " : "", c->text,
                              list[0] ? " (did you mean: " : "", list, list[0] ? "?)" : "");
        if (n >= sizeof q->unrecognised) break;
    }
}

orx_status orx_kb_indication_options(orx_kb *kb, const orx_ind_vocab *v, const char *indication,
                                     bool problem, orx_ind_options *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    orx_status st = ensure_index(kb, err);
    if (st != ORX_OK) return st;
    if (!v) {
        if (!kb->vocab && (st = orx_ind_vocab_open(NULL, &kb->vocab, err)) != ORX_OK) return st;
        v = kb->vocab;
    }
    orx_ind_query q;
    orx_ind_parse(v, indication, problem, orx_kb_ind_is_word, kb, &q);
    drop_drug_names(kb, &q);
    note_unrecognised(kb, v, &q);
    return orx_ind_index_options(kb->ind, kb->lex, &q, out, err);
}

int orx_kb_labels_of(orx_kb *kb, const char *name, char (*set_ids)[64], int cap) {
    orx_error err = ORX_ERROR_INIT;
    if (ensure_index(kb, &err) != ORX_OK) return 0;
    return orx_ind_index_labels_of(kb->ind, name, set_ids, cap);
}

orx_status orx_kb_label_section(orx_kb *kb, const char *set_id, const char *code, orx_kb_results *out,
                                orx_error *err) {
    memset(out, 0, sizeof *out);
    if (!kb->section &&
        sqlite3_prepare_v2(kb->db, "SELECT c.id FROM chunks c JOIN docs d ON d.id = c.doc_id"
                                   " WHERE d.set_id = ?1 AND c.section_code = ?2 ORDER BY c.seq",
                           -1, &kb->section, NULL) != SQLITE_OK)
        return orx_fail(err, ORX_ERR_DB, "%s: %s", kb->path, sqlite3_errmsg(kb->db));
    sqlite3_stmt *s = kb->section;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, set_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, code, -1, SQLITE_TRANSIENT);
    int64_t ids[MAX_K];
    size_t n = 0;
    while (n < MAX_K && sqlite3_step(s) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (!n) return ORX_OK;
    out->hits = calloc(n, sizeof *out->hits);
    if (!out->hits) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    terms none = {.n = 0};
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < n; i++) {
        st = fill_hit(kb, ids[i], 0, &none, &out->hits[i], err);
        out->n = i + 1;
    }
    return st;
}

/* ============================================================================================
 * Dev-set evaluation
 * ========================================================================================== */
orx_status orx_kb_eval_questions(orx_kb *kb, const char *tsv_path, bool expand, bool exhaustive,
                                 orx_kb_eval *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(tsv_path, 64u << 20, &data, &len, err);
    if (st != ORX_OK) return st;
    double t0 = orx_now();
    static const int KS[3] = {1, 5, 10};
    int lineno = 0;
    for (char *line = data, *nl; st == ORX_OK && line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        lineno++;
        if (line[0] == '#' || !line[0]) continue;
        char *f[3] = {line, NULL, NULL};
        for (int i = 1; i < 3; i++) {
            f[i] = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
            if (f[i]) *f[i]++ = 0;
        }
        if (!f[1] || !f[2]) {
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%d:1: expected 3 tab-separated fields", tsv_path,
                          lineno);
            break;
        }
        orx_kb_results r;
        orx_kb_query q = {.text = f[0], .k = 10, .expand = expand, .exhaustive = exhaustive};
        st = orx_kb_search(kb, &q, &r, err);
        if (st != ORX_OK) break;
        out->questions++;
        size_t first = (size_t)-1;
        for (size_t i = 0; i < r.n && first == (size_t)-1; i++)
            if (orx_list_has(f[1], ',', r.hits[i].set_id) && strcasestr(r.hits[i].text, f[2])) first = i;
        for (int j = 0; j < 3; j++)
            if (first != (size_t)-1 && first < (size_t)KS[j]) out->hits_at[j]++;
        orx_kb_results_clear(&r);
    }
    free(data);
    out->seconds = orx_now() - t0;
    for (int j = 0; j < 3; j++)
        out->recall_at[j] = out->questions ? (double)out->hits_at[j] / out->questions : 0;
    return st;
}

/* ============================================================================================
 * Retriever: BM25
 * ========================================================================================== */
/* The retriever's state: one knowledge-base handle shared by every caller, one call at a time
 * (a SQLite connection and the per-query ranking state are not for concurrent use). */
typedef struct bm25_retriever {
    orx_kb         *kb; /* the handle */
    pthread_mutex_t mu; /* serialises calls */
} bm25_retriever;

static orx_status r_search(void *self, const orx_kb_query *q, orx_kb_results *out, orx_error *err) {
    bm25_retriever *r = self;
    pthread_mutex_lock(&r->mu);
    orx_status st = orx_kb_search(r->kb, q, out, err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

static orx_status r_retrieve(void *self, const orx_retrieval_request *req, orx_kb_results *out,
                             orx_error *err) {
    bm25_retriever *r = self;
    pthread_mutex_lock(&r->mu);
    orx_status st = orx_kb_channels(r->kb, req, out, err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

static orx_status r_options(void *self, const char *indication, bool problem, orx_ind_options *out,
                            orx_error *err) {
    bm25_retriever *r = self;
    pthread_mutex_lock(&r->mu);
    orx_status st = orx_kb_indication_options(r->kb, NULL, indication, problem, out, err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

static void r_free(void *self) {
    bm25_retriever *r = self;
    if (!r) return;
    orx_kb_free(r->kb);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

orx_status orx_kb_retriever_bm25(const char *kb_path, orx_retriever *out, orx_error *err) {
    return orx_kb_retriever_bm25_lex(kb_path, NULL, out, err);
}

orx_status orx_kb_retriever_bm25_lex(const char *kb_path, const struct orx_lexicon *lex, orx_retriever *out,
                                     orx_error *err) {
    memset(out, 0, sizeof *out);
    orx_kb *kb = NULL;
    orx_status st = orx_kb_open(kb_path, &kb, err);
    if (st != ORX_OK) return st;
    orx_error lerr = ORX_ERROR_INIT;
    if (lex) orx_kb_set_lexicon(kb, lex);
    else orx_kb_load_lexicon(kb, NULL, &lerr); /* optional: expansion works without it */
    bm25_retriever *r = calloc(1, sizeof *r);
    if (!r) {
        orx_kb_free(kb);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    r->kb = kb;
    pthread_mutex_init(&r->mu, NULL);
    out->name = "bm25";
    out->self = r;
    out->search = r_search;
    out->retrieve = r_retrieve;
    out->options = r_options;
    out->free = r_free;
    return ORX_OK;
}
