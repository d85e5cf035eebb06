/*
 * bookkeep.c — what kb build and kb update share besides the label rows: the index's tokenizer
 * (FTS5's porter over unicode61, for exact term statistics), the bookkeeping tables (chunk
 * hashes and section codes, label sources, releases, the update log), the term-statistics
 * recount, and finishing a build or update: bookkeeping filled, impact index written and named
 * in meta, stale impact files removed.
 */
#define _GNU_SOURCE 1
#include "kb/impact.h"
#include "util/util.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* ============================================================================================
 * Scoring
 * ========================================================================================== */
double orx_kb_bm25_term(double idf, double tf, double lnorm) { return idf * (tf * 2.2) / (tf + 1.2 * lnorm); }

double orx_kb_lnorm(int64_t rowid, double avg_len) {
    double len = (double)((rowid >> 4) & 15) * 25.0;
    return avg_len > 0 ? 0.25 + 0.75 * len / avg_len : 1.0;
}

/* ============================================================================================
 * Tokenizer
 * ========================================================================================== */
struct orx_kb_tokenizer {
    fts5_tokenizer api;  /* porter's methods */
    Fts5Tokenizer *inst; /* instance over unicode61 remove_diacritics 2 */
};

fts5_api *orx_kb_fts5(sqlite3 *db) {
    fts5_api *api = NULL;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    return api;
}

orx_status orx_kb_tokenizer_create(sqlite3 *db, orx_kb_tokenizer **out, orx_error *err) {
    *out = NULL;
    fts5_api *api = orx_kb_fts5(db);
    if (!api) return orx_fail(err, ORX_ERR_UNSUPPORTED, "SQLite without FTS5");
    orx_kb_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    void *ud = NULL;
    const char *args[] = {"unicode61", "remove_diacritics", "2"};
    if (api->xFindTokenizer(api, "porter", &ud, &t->api) != SQLITE_OK ||
        t->api.xCreate(ud, args, 3, &t->inst) != SQLITE_OK) {
        free(t);
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "FTS5 porter tokenizer unavailable");
    }
    *out = t;
    return ORX_OK;
}

void orx_kb_tokenizer_free(orx_kb_tokenizer *t) {
    if (!t) return;
    if (t->inst) t->api.xDelete(t->inst);
    free(t);
}

void orx_kb_termset_init(orx_kb_termset *s) { memset(s, 0, sizeof *s); }

void orx_kb_termset_clear(orx_kb_termset *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static bool set_rehash(orx_kb_termset *s) {
    size_t nc = s->nslot ? s->nslot * 2 : 256;
    char **ns = calloc(nc, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = orx_fnv1a(s->v[i], strlen(s->v[i])) & (nc - 1);
        while (ns[j]) j = (j + 1) & (nc - 1);
        ns[j] = s->v[i];
    }
    free(s->slots);
    s->slots = ns;
    s->nslot = nc;
    return true;
}

static bool set_add(orx_kb_termset *s, const char *tok, size_t n) {
    if ((s->n + 1) * 2 > s->nslot && !set_rehash(s)) return false;
    size_t j = orx_fnv1a(tok, n) & (s->nslot - 1);
    while (s->slots[j]) {
        if (!strncmp(s->slots[j], tok, n) && s->slots[j][n] == 0) return true;
        j = (j + 1) & (s->nslot - 1);
    }
    char **nv = orx_grow(s->v, &s->cap, s->n, sizeof *nv, 64);
    if (!nv) return false;
    s->v = nv;
    char *c = malloc(n + 1);
    if (!c) return false;
    memcpy(c, tok, n);
    c[n] = 0;
    s->v[s->n++] = c;
    s->slots[j] = c;
    return true;
}

typedef struct tok_ctx {
    orx_kb_termset *set;      /* distinct tokens go here (document mode), or NULL */
    bool            oom;      /* the set could not grow */
    char          (*out)[64]; /* query mode: tokens in order */
    int             n, cap;   /* tokens seen / capacity of out */
} tok_ctx;

static int on_token(void *ctx, int flags, const char *tok, int n, int start, int end) {
    (void)flags; (void)start; (void)end;
    tok_ctx *c = ctx;
    if (c->set) {
        if (!set_add(c->set, tok, (size_t)n)) { c->oom = true; return SQLITE_NOMEM; }
    } else if (c->n < c->cap) {
        snprintf(c->out[c->n], 64, "%.*s", n, tok);
        c->n++;
    } else {
        c->n++;
    }
    return SQLITE_OK;
}

bool orx_kb_tokenize_into(orx_kb_tokenizer *t, const char *text, orx_kb_termset *s) {
    if (!text || !*text) return true;
    tok_ctx c = {.set = s};
    t->api.xTokenize(t->inst, &c, FTS5_TOKENIZE_DOCUMENT, text, (int)strlen(text), on_token);
    return !c.oom;
}

int orx_kb_tokenize_query(orx_kb_tokenizer *t, const char *phrase, char (*out)[64], int cap) {
    tok_ctx c = {.out = out, .cap = cap};
    if (phrase && *phrase) t->api.xTokenize(t->inst, &c, FTS5_TOKENIZE_QUERY, phrase, (int)strlen(phrase), on_token);
    return c.n;
}

/* ============================================================================================
 * Bookkeeping tables
 * ========================================================================================== */
orx_status orx_kb_exec(sqlite3 *db, const char *sql, const char *what, orx_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return ORX_OK;
    orx_status st = orx_fail(err, ORX_ERR_DB, "%s: %s (in: %.80s)", what, msg ? msg : "?", sql);
    sqlite3_free(msg);
    return st;
}

static orx_status sql(sqlite3 *db, const char *q, orx_error *err) { return orx_kb_exec(db, q, "sqlite", err); }

void orx_kb_note(void (*note)(void *ctx, const char *message), void *ctx, bool bar, const char *fmt, ...) {
    if (!note) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (bar) fputc('\r', stderr); /* keep notes off the bar line */
    note(ctx, msg);
}

orx_status orx_kb_aux_schema(sqlite3 *db, orx_error *err) {
    return sql(db,
               "CREATE TABLE IF NOT EXISTS chunk_meta(id INTEGER PRIMARY KEY, hash INTEGER, section_code TEXT);"
               "CREATE INDEX IF NOT EXISTS chunk_meta_hash ON chunk_meta(hash);"
               "CREATE TABLE IF NOT EXISTS doc_source(set_id TEXT PRIMARY KEY, source TEXT) WITHOUT ROWID;"
               "CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, kind TEXT, release_date TEXT,"
               " index_url TEXT, fetched_at TEXT, applied_at TEXT, files INTEGER);"
               "CREATE TABLE IF NOT EXISTS updates(applied_at TEXT, source TEXT, kind TEXT, release_date TEXT,"
               " added INTEGER, replaced INTEGER, removed INTEGER, unchanged INTEGER);",
               err);
}

uint64_t orx_kb_text_hash(const char *text, size_t len) {
    uint64_t h = 1469598103934665603ull;
    bool space = false, any = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isalnum(c) || c >= 0x80) {
            if (space && any) h = (h ^ ' ') * 1099511628211ull;
            h = (h ^ (unsigned char)tolower(c)) * 1099511628211ull;
            space = false;
            any = true;
        } else {
            space = true;
        }
    }
    return h;
}

static void hash_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    sqlite3_result_int64(ctx, (sqlite3_int64)orx_kb_text_hash(t ? t : "", t ? (size_t)n : 0));
}

orx_status orx_kb_chunk_meta_add(sqlite3 *db, int64_t id, const char *text, size_t len, const char *code,
                                 orx_error *err) {
    char *q = sqlite3_mprintf("INSERT OR REPLACE INTO chunk_meta VALUES(%lld, %lld, %Q)", (long long)id,
                              (long long)orx_kb_text_hash(text, len), code ? code : "");
    orx_status st = q ? sql(db, q, err) : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    sqlite3_free(q);
    return st;
}

orx_status orx_kb_chunk_meta_drop_doc(sqlite3 *db, int64_t doc_id, orx_error *err) {
    char q[160];
    snprintf(q, sizeof q, "DELETE FROM chunk_meta WHERE id IN (SELECT id FROM chunks WHERE doc_id = %lld)",
             (long long)doc_id);
    return sql(db, q, err);
}

orx_status orx_kb_recount_terms(sqlite3 *db, orx_error *err) {
    return sql(db,
               "DELETE FROM term_stats;"
               "CREATE VIRTUAL TABLE temp.v_row USING fts5vocab(main, 'chunks_fts', 'row');"
               "CREATE VIRTUAL TABLE temp.v_col USING fts5vocab(main, 'chunks_fts', 'col');"
               "INSERT INTO term_stats SELECT term, doc, 0 FROM temp.v_row;"
               "UPDATE term_stats SET df_drug = (SELECT doc FROM temp.v_col WHERE v_col.term = term_stats.term"
               " AND col = 'drug') WHERE term IN (SELECT term FROM temp.v_col WHERE col = 'drug');"
               "DROP TABLE temp.v_row; DROP TABLE temp.v_col;",
               err);
}

/* ============================================================================================
 * Finishing a build or update
 * ========================================================================================== */
static orx_status fill_full(sqlite3 *db, orx_error *err) {
    sqlite3_create_function(db, "orx_text_hash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, hash_fn, NULL, NULL);
    char now[32];
    orx_utc_now(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ");
    char *q = sqlite3_mprintf(
        "DELETE FROM chunk_meta;"
        "INSERT INTO chunk_meta SELECT id, orx_text_hash(text), section_code FROM chunks;"
        "INSERT OR IGNORE INTO doc_source SELECT set_id, CASE WHEN source_file LIKE '%%drug-label-%%.json%%'"
        " THEN 'openfda' WHEN source_file LIKE '%%dm_spl_%%' THEN 'dailymed' ELSE 'local' END FROM docs;"
        "INSERT OR IGNORE INTO sources(name, kind, release_date, applied_at, files) SELECT o.source, 'build',"
        " CASE WHEN length(max(d.effective_date)) = 8 THEN substr(max(d.effective_date), 1, 4) || '-' ||"
        " substr(max(d.effective_date), 5, 2) || '-' || substr(max(d.effective_date), 7, 2) ELSE '' END,"
        " %Q, count(*) FROM docs d JOIN doc_source o ON o.set_id = d.set_id GROUP BY o.source;",
        now);
    orx_status st = q ? sql(db, q, err) : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    sqlite3_free(q);
    return st;
}

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

orx_status orx_kb_index_finish(sqlite3 *db, const char *kb_path, bool full, bool progress, orx_error *err) {
    orx_status st = orx_kb_aux_schema(db, err);
    if (st == ORX_OK && full) st = fill_full(db, err);
    if (st != ORX_OK) return st;
    char path[4200];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(path, sizeof path, "%s.impact-%llx%05lx", kb_path, (unsigned long long)ts.tv_sec,
             (long)(getpid() & 0xfffff));
    st = orx_kb_impact_write(db, path, progress, err);
    if (st != ORX_OK) return st;
    char *q = sqlite3_mprintf("INSERT OR REPLACE INTO meta VALUES('impact_file', %Q)", base_of(path));
    st = sql(db, q, err);
    sqlite3_free(q);
    if (st != ORX_OK) unlink(path);
    return st;
}

/* the impact file named in kb_path's meta ("" when none) */
static void named_impact(const char *kb_path, char *out, size_t cap) {
    out[0] = 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(kb_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'impact_file'", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
}

void orx_kb_index_cleanup(const char *kb_path) {
    char keep[512], dir[4096], prefix[600];
    named_impact(kb_path, keep, sizeof keep);
    snprintf(dir, sizeof dir, "%s", kb_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    snprintf(prefix, sizeof prefix, "%s.impact-", base_of(kb_path));
    DIR *d = opendir(dir[0] ? dir : "/");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) || !strcmp(e->d_name, keep)) continue;
        char p[4700];
        snprintf(p, sizeof p, "%s/%s", dir[0] ? dir : "", e->d_name);
        unlink(p); /* open readers keep their mapping */
    }
    closedir(d);
}

orx_status orx_kb_reindex(const char *kb_path, bool progress, orx_error *err) {
    sqlite3 *db = NULL;
    if (!orx_file_exists(kb_path)) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no knowledge base", kb_path);
    if (sqlite3_open_v2(kb_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_DB, "%s: cannot open: %s", kb_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return st;
    }
    sqlite3_busy_timeout(db, 10000);
    orx_status st = sql(db, "PRAGMA cache_size=-65536; BEGIN IMMEDIATE;", err);
    if (st == ORX_OK) st = orx_kb_index_finish(db, kb_path, true, progress, err);
    if (st == ORX_OK) st = sql(db, "COMMIT;", err);
    else sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
    sqlite3_close(db);
    if (st == ORX_OK) orx_kb_index_cleanup(kb_path);
    return st;
}
