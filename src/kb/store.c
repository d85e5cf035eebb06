/*
 * store.c — building the knowledge-base SQLite file: schema, document de-duplication (newest
 * version of a set id wins), chunk insertion, FTS5 index build, atomic replace of the target,
 * and synthetic corpora for benchmarks.
 *
 * Chunk row ids carry the section's ranking class in their low 4 bits and the chunk's weighted
 * length in 25-word buckets in the next 4 (id = seq * 256 + bucket * 16 + class), so ranking can
 * weight by section and normalise by length without reading any other row (see search.c). The FTS column
 * "anchor" repeats the drug names with ranking weight 0: it restricts a query to some drugs' labels
 * without changing scores.
 */
#define _GNU_SOURCE 1 /* nftw */
#include "kb/kb_internal.h"
#include "kb/impact.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ============================================================================================
 * Schema
 * ========================================================================================== */
static const char *SCHEMA_SQL =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE docs(id INTEGER PRIMARY KEY, set_id TEXT NOT NULL UNIQUE, version TEXT,"
    " effective_date TEXT, title TEXT, generic_names TEXT, brand_names TEXT, rxcuis TEXT,"
    " source_file TEXT, n_chunks INTEGER);"
    "CREATE TABLE chunks(id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL, section_code TEXT,"
    " section_name TEXT, section_title TEXT, seq INTEGER, start_off INTEGER, end_off INTEGER,"
    " drug TEXT, section TEXT, text TEXT NOT NULL, anchor TEXT);"
    "CREATE INDEX chunks_doc ON chunks(doc_id);"
    "CREATE TABLE duplicates(set_id TEXT, kept_version TEXT, kept_date TEXT, kept_source TEXT,"
    " dropped_version TEXT, dropped_date TEXT, dropped_source TEXT);"
    "CREATE TABLE term_stats(term TEXT PRIMARY KEY, df_all INTEGER, df_drug INTEGER) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(drug, section, text, anchor, content='chunks',"
    " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');";

static orx_status db_fail(sqlite3 *db, orx_error *err, const char *what) {
    return orx_fail(err, ORX_ERR_DB, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

static orx_status exec(sqlite3 *db, const char *sql, orx_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_DB, "sqlite: %s (in: %.60s)", msg ? msg : "?", sql);
        sqlite3_free(msg);
        return st;
    }
    return ORX_OK;
}

/* ============================================================================================
 * Builder state
 * ========================================================================================== */
typedef struct builder {
    sqlite3                   *db;        /* temp database */
    sqlite3_stmt              *find_doc;  /* set id → id, version, date, source */
    sqlite3_stmt              *ins_doc;   /* new doc row */
    sqlite3_stmt              *ins_chunk; /* new chunk row */
    sqlite3_stmt              *del_doc;   /* drop a superseded doc */
    sqlite3_stmt              *del_chunks;/* and its chunks */
    sqlite3_stmt              *ins_dup;   /* duplicate report row */
    const orx_kb_build_params *params;    /* caller's parameters */
    orx_kb_build_stats        *stats;     /* running totals */
    int64_t                    next_chunk;/* chunk sequence number */
    orx_kb_span               *spans;     /* chunker scratch */
    size_t                     spans_cap; /* capacity of spans */
    orx_progress               progress;  /* bytes-based progress bar */
    struct file_mark {
        orx_kb_build_stats stats;      /* counters before the current file (bytes_in excepted) */
        int64_t            next_chunk; /* chunk sequence before it */
    } mark;                            /* undo point for a bad file */
    uint64_t                   total_bytes; /* progress total */
} builder;


static const char *nz(const char *s) { return s ? s : ""; }

static orx_status prepare(builder *b, orx_error *err) {
    struct { sqlite3_stmt **st; const char *sql; } q[] = {
        {&b->find_doc, "SELECT id, version, effective_date, source_file FROM docs WHERE set_id=?"},
        {&b->ins_doc, "INSERT INTO docs(set_id, version, effective_date, title, generic_names,"
                      " brand_names, rxcuis, source_file, n_chunks) VALUES(?,?,?,?,?,?,?,?,0)"},
        {&b->ins_chunk, "INSERT INTO chunks(id, doc_id, section_code, section_name, section_title,"
                        " seq, start_off, end_off, drug, section, text, anchor)"
                        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?9)"},
        {&b->del_doc, "DELETE FROM docs WHERE id=?"},
        {&b->del_chunks, "DELETE FROM chunks WHERE doc_id=?"},
        {&b->ins_dup, "INSERT INTO duplicates VALUES(?,?,?,?,?,?,?)"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (sqlite3_prepare_v2(b->db, q[i].sql, -1, q[i].st, NULL) != SQLITE_OK)
            return db_fail(b->db, err, "prepare");
    return ORX_OK;
}

static void finalize_all(builder *b) {
    sqlite3_finalize(b->find_doc);
    sqlite3_finalize(b->ins_doc);
    sqlite3_finalize(b->ins_chunk);
    sqlite3_finalize(b->del_doc);
    sqlite3_finalize(b->del_chunks);
    sqlite3_finalize(b->ins_dup);
}

/* ============================================================================================
 * Document insertion
 * ========================================================================================== */
static bool doc_has_text(const orx_kb_doc *d) {
    for (size_t i = 0; i < d->n_sections; i++)
        for (size_t j = 0; j < d->sections[i].len; j++)
            if (d->sections[i].text[j] > ' ') return true;
    return false;
}

/* true when the new document should replace the stored one (reports the duplicate either way) */
static orx_status resolve_duplicate(builder *b, const orx_kb_doc *d, bool *insert, orx_error *err) {
    *insert = true;
    sqlite3_stmt *s = b->find_doc;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, d->set_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return ORX_OK;
    if (rc != SQLITE_ROW) return db_fail(b->db, err, "find doc");
    int64_t old_id = sqlite3_column_int64(s, 0);
    char over[32], oday[32], osrc[512];
    snprintf(over, sizeof over, "%s", (const char *)nz((const char *)sqlite3_column_text(s, 1)));
    snprintf(oday, sizeof oday, "%s", (const char *)nz((const char *)sqlite3_column_text(s, 2)));
    snprintf(osrc, sizeof osrc, "%s", (const char *)nz((const char *)sqlite3_column_text(s, 3)));
    sqlite3_reset(s);
    /* newer date/version wins; on a tie the later input wins (inputs are given oldest first) */
    bool new_wins = orx_kb_label_cmp(d->effective_date, d->version, oday, over, false) >= 0;
    b->stats->duplicates++;
    const char *kv = new_wins ? nz(d->version) : over, *kd = new_wins ? nz(d->effective_date) : oday;
    const char *ks = new_wins ? nz(d->source_file) : osrc;
    const char *dv = new_wins ? over : nz(d->version), *dd = new_wins ? oday : nz(d->effective_date);
    const char *ds = new_wins ? osrc : nz(d->source_file);
    orx_kb_note(b->params->note, b->params->note_ctx, b->progress.enabled,
                "duplicate set id %s: kept version %s (%s, %s), dropped version %s (%s, %s)", d->set_id,
                kv[0] ? kv : "?", kd[0] ? kd : "date ?", ks, dv[0] ? dv : "?", dd[0] ? dd : "date ?", ds);
    sqlite3_stmt *u = b->ins_dup;
    sqlite3_reset(u);
    const char *vals[7] = {d->set_id, kv, kd, ks, dv, dd, ds};
    for (int i = 0; i < 7; i++) sqlite3_bind_text(u, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    if (sqlite3_step(u) != SQLITE_DONE) return db_fail(b->db, err, "record duplicate");
    if (!new_wins) {
        *insert = false;
        return ORX_OK;
    }
    sqlite3_stmt *dc = b->del_chunks, *dd2 = b->del_doc;
    sqlite3_reset(dc);
    sqlite3_bind_int64(dc, 1, old_id);
    sqlite3_reset(dd2);
    sqlite3_bind_int64(dd2, 1, old_id);
    if (sqlite3_step(dc) != SQLITE_DONE || sqlite3_step(dd2) != SQLITE_DONE)
        return db_fail(b->db, err, "replace duplicate");
    b->stats->docs--;
    return ORX_OK;
}

static orx_status insert_chunks(builder *b, const orx_kb_doc *d, int64_t doc_id, const char *drug,
                                int64_t *n_out, orx_error *err) {
    int64_t n = 0;
    for (size_t si = 0; si < d->n_sections; si++) {
        const orx_kb_section *sec = &d->sections[si];
        size_t need = orx_kb_chunk_section(sec, b->params->max_words, &b->spans, &b->spans_cap);
        if (need == (size_t)-1) return orx_fail(err, ORX_ERR_NOMEM, "out of memory chunking %s", d->set_id);
        char section_col[320];
        orx_kb_section_col(sec, section_col, sizeof section_col);
        int klass = d->indication_only ? ORX_KB_CLASS_SUPPLEMENT : orx_kb_section_class(sec->code);
        for (size_t ci = 0; ci < need; ci++) {
            const orx_kb_span *sp = &b->spans[ci];
            sqlite3_stmt *s = b->ins_chunk;
            orx_kb_bind_chunk(s, orx_kb_chunk_row_id(++b->next_chunk, drug, section_col, sp->words, klass), doc_id, sec,
                              ci, sp, drug, section_col);
            if (sqlite3_step(s) != SQLITE_DONE) return db_fail(b->db, err, "insert chunk");
            n++;
        }
    }
    *n_out = n;
    return ORX_OK;
}

static orx_status on_doc(void *ctx, const orx_kb_doc *d, orx_error *err) {
    builder *b = ctx;
    b->stats->bytes_in += d->src_bytes;
    orx_progress_update(&b->progress, b->stats->bytes_in);
    if (!d->set_id || !*d->set_id) {
        b->stats->empty++;
        orx_kb_note(b->params->note, b->params->note_ctx, b->progress.enabled,
                    "%s: label without a set id (%s); skipped", nz(d->source_file), nz(d->title));
        return ORX_OK;
    }
    if (!doc_has_text(d)) {
        b->stats->empty++;
        orx_kb_note(b->params->note, b->params->note_ctx, b->progress.enabled,
                    "%s: label %s (%s) has no section text; skipped", nz(d->source_file), d->set_id, nz(d->title));
        return ORX_OK;
    }
    bool insert;
    orx_status st = resolve_duplicate(b, d, &insert, err);
    if (st != ORX_OK || !insert) return st;
    orx_buf drug;
    if (!orx_kb_insert_doc(b->ins_doc, d, &drug)) return db_fail(b->db, err, "insert doc");
    int64_t doc_id = sqlite3_last_insert_rowid(b->db);
    int64_t n = 0;
    st = insert_chunks(b, d, doc_id, drug.data ? drug.data : "", &n, err);
    orx_buf_clear(&drug);
    if (st != ORX_OK) return st;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE docs SET n_chunks=%lld WHERE id=%lld", (long long)n,
             (long long)doc_id);
    st = exec(b->db, sql, err);
    b->stats->docs++;
    return st;
}

/* ============================================================================================
 * Atomic build
 * ========================================================================================== */
static uint64_t g_walk_bytes; /* nftw has no user pointer; builds are not run concurrently */
static int walk_size(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)p; (void)f;
    if (flag == FTW_F && S_ISREG(sb->st_mode)) g_walk_bytes += (uint64_t)sb->st_size;
    return 0;
}

static uint64_t inputs_size(const char *const *inputs, size_t n) {
    g_walk_bytes = 0;
    for (size_t i = 0; i < n; i++) nftw(inputs[i], walk_size, 16, FTW_PHYS);
    return g_walk_bytes;
}

static void fsync_path(const char *path, bool dir) {
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void fsync_parent(const char *path) {
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash) snprintf(d, sizeof d, ".");
    else if (slash == d) d[1] = 0;
    else *slash = 0;
    fsync_path(d, true);
}

/* Index the FTS5 table and record per-term document frequencies (all columns / drug column) so
 * queries can pick anchor terms and skip very common ones without scanning postings. */
static const char *INDEX_SQL =
    "INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild');"
    "INSERT INTO chunks_fts(chunks_fts) VALUES('optimize');"
    "CREATE VIRTUAL TABLE temp.v_row USING fts5vocab(main, 'chunks_fts', 'row');"
    "CREATE VIRTUAL TABLE temp.v_col USING fts5vocab(main, 'chunks_fts', 'col');"
    "INSERT INTO term_stats SELECT term, doc, 0 FROM temp.v_row;"
    "UPDATE term_stats SET df_drug = (SELECT doc FROM temp.v_col WHERE v_col.term = term_stats.term"
    " AND col = 'drug') WHERE term IN (SELECT term FROM temp.v_col WHERE col = 'drug');"
    "DROP TABLE temp.v_row; DROP TABLE temp.v_col;"
    "INSERT OR REPLACE INTO meta SELECT 'chunks', count(*) FROM chunks;"
    "INSERT OR REPLACE INTO meta SELECT 'avg_len', avg(((id >> 4) & 15) * 25) FROM chunks;";

/* Finish a temp database and move it over out_path. */
static orx_status publish(sqlite3 *db, const char *tmp, const char *out_path, orx_error *err) {
    orx_status st = exec(db, "PRAGMA journal_mode=WAL;", err);
    if (sqlite3_close(db) != SQLITE_OK) return orx_fail(err, ORX_ERR_DB, "%s: close failed", tmp);
    if (st != ORX_OK) return st;
    fsync_path(tmp, false);
    char side[4200];
    /* a stale -wal/-shm of the old file must not be applied to the new one */
    snprintf(side, sizeof side, "%s-wal", out_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", out_path);
    unlink(side);
    if (rename(tmp, out_path) != 0)
        return orx_fail(err, ORX_ERR_IO, "%s: rename failed: %s", out_path, strerror(errno));
    fsync_parent(out_path);
    return ORX_OK;
}

/* remove "<out>.tmp.<pid>" files left by builds that were killed (their pid no longer runs) */
static void remove_stale_temps(const char *out_path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out_path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : out_path;
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    size_t pl = strlen(prefix);
    DIR *d = opendir(slash && !dir[0] ? "/" : dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, pl) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + pl, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char p[4600];
            snprintf(p, sizeof p, "%s/%s", slash && !dir[0] ? "" : dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

static orx_status open_temp(const char *out_path, char *tmp, size_t cap, sqlite3 **db,
                            orx_error *err) {
    if ((size_t)snprintf(tmp, cap, "%s.tmp.%ld", out_path, (long)getpid()) >= cap)
        return orx_fail(err, ORX_ERR_RANGE, "%s: path too long", out_path);
    remove_stale_temps(out_path);
    unlink(tmp);
    if (sqlite3_open_v2(tmp, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_DB, "%s: cannot create: %s", tmp, sqlite3_errmsg(*db));
        sqlite3_close(*db);
        *db = NULL;
        return st;
    }
    orx_status st = exec(*db,
                         /* MEMORY, not OFF: a bad input file's rows are rolled back (savepoint) */
                         "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;"
                         "PRAGMA temp_store=MEMORY;",
                         err);
    if (st == ORX_OK) st = exec(*db, SCHEMA_SQL, err);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d;", ORX_KB_SCHEMA_VERSION);
    if (st == ORX_OK) st = exec(*db, sql, err);
    return st;
}

static orx_status write_meta(sqlite3 *db, const char *inputs_desc, int max_words, orx_error *err) {
    char when[32];
    orx_utc_now(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, err, "meta");
    char mw[16];
    snprintf(mw, sizeof mw, "%d", max_words);
    const char *kv[][2] = {{"built_at", when}, {"inputs", inputs_desc}, {"max_words", mw},
                           {"openrx_version", orx_version()}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, kv[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            sqlite3_finalize(s);
            return db_fail(db, err, "meta");
        }
    }
    sqlite3_finalize(s);
    return ORX_OK;
}

/* ============================================================================================
 * Bad input files: each file's rows are inside a savepoint, undone when the file turns out bad
 * ========================================================================================== */
static orx_status file_begin(void *ctx, const char *path, orx_error *err) {
    builder *b = ctx;
    (void)path;
    b->mark.stats = *b->stats;
    b->mark.next_chunk = b->next_chunk;
    return exec(b->db, "SAVEPOINT ingest_file;", err);
}

static orx_status file_end(void *ctx, const char *path, bool ok, orx_error *err) {
    builder *b = ctx;
    (void)path;
    if (ok) return exec(b->db, "RELEASE ingest_file;", err);
    uint64_t bytes = b->stats->bytes_in;
    *b->stats = b->mark.stats;
    b->stats->bytes_in = bytes;
    b->next_chunk = b->mark.next_chunk;
    return exec(b->db, "ROLLBACK TO ingest_file; RELEASE ingest_file;", err);
}

static void bad_file(void *ctx, const char *path, const orx_error *why) {
    builder *b = ctx;
    b->stats->skipped_files++;
    if (!b->params->note) return;
    char msg[ORX_ERROR_MSG_CAP + 160];
    /* the reason usually starts with the path already ("file:line:col: what") */
    if (orx_str_starts_with(why->msg, path)) snprintf(msg, sizeof msg, "skipped bad file %s", why->msg);
    else snprintf(msg, sizeof msg, "skipped bad file %s: %s", path, why->msg[0] ? why->msg : orx_status_message(why->code));
    b->params->note(b->params->note_ctx, msg);
}

orx_kb_build_params orx_kb_build_default_params(void) {
    orx_kb_build_params p = {.max_words = 200, .progress = true, .strict = false, .note = NULL, .note_ctx = NULL};
    return p;
}

orx_status orx_kb_build(const char *out_path, const char *const *inputs, size_t n_inputs,
                        const orx_kb_build_params *params, orx_kb_build_stats *stats,
                        orx_error *err) {
    orx_kb_build_params defp = orx_kb_build_default_params();
    if (!params) params = &defp;
    orx_kb_build_stats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!out_path || !n_inputs) return orx_fail(err, ORX_ERR_USAGE, "kb build: no inputs");
    for (size_t i = 0; i < n_inputs; i++)
        if (!orx_file_exists(inputs[i]))
            return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no such file or directory", inputs[i]);
    double t0 = orx_now();
    builder b = {.params = params, .stats = stats};
    char tmp[4200];
    orx_status st = open_temp(out_path, tmp, sizeof tmp, &b.db, err);
    if (st == ORX_OK) st = prepare(&b, err);
    if (st == ORX_OK) st = exec(b.db, "BEGIN;", err);
    b.total_bytes = inputs_size(inputs, n_inputs);
    orx_progress_start(&b.progress, "kb build: ingest", b.total_bytes);
    if (!params->progress) b.progress.enabled = false;
    orx_buf desc;
    orx_buf_init(&desc);
    for (size_t i = 0; st == ORX_OK && i < n_inputs; i++) {
        orx_buf_printf(&desc, "%s%s", i ? " " : "", inputs[i]);
        orx_kb_ingest_opts io = {.strict = params->strict, .bad_file = bad_file, .file_begin = file_begin,
                                 .file_end = file_end, .ctx = &b};
        st = orx_kb_ingest_path_opts(inputs[i], on_doc, &b, &io, err);
    }
    orx_progress_finish(&b.progress);
    finalize_all(&b);
    free(b.spans);
    if (st == ORX_OK && stats->docs == 0)
        st = orx_fail(err, ORX_ERR_INVALID, "kb build: no label text found in the inputs");
    if (st == ORX_OK) {
        orx_progress p;
        orx_progress_start(&p, "kb build: index", 0);
        if (!params->progress) p.enabled = false;
        orx_progress_update(&p, 0);
        st = exec(b.db, INDEX_SQL, err);
        orx_progress_finish(&p);
    }
    if (st == ORX_OK) st = write_meta(b.db, desc.data ? desc.data : "", params->max_words, err);
    orx_buf_clear(&desc);
    if (st == ORX_OK) st = orx_kb_index_finish(b.db, out_path, true, params->progress, err);
    if (st == ORX_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(b.db, "SELECT count(*) FROM chunks", -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            stats->chunks = (uint64_t)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        st = exec(b.db, "COMMIT;", err);
    }
    if (st == ORX_OK) {
        st = publish(b.db, tmp, out_path, err);
        b.db = NULL;
        if (st == ORX_OK) orx_kb_index_cleanup(out_path);
    }
    if (st != ORX_OK) {
        if (b.db) sqlite3_close(b.db);
        unlink(tmp);
    }
    stats->seconds = orx_now() - t0;
    return st;
}

/* ============================================================================================
 * Synthetic corpora (benchmarks)
 * ========================================================================================== */
orx_status orx_kb_synthesize(const char *src_path, const char *out_path, uint64_t n_chunks,
                             bool progress, orx_error *err) {
    if (!orx_file_exists(src_path))
        return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no such knowledge base", src_path);
    char tmp[4200];
    sqlite3 *db = NULL;
    orx_status st = open_temp(out_path, tmp, sizeof tmp, &db, err);
    char *q = NULL;
    if (st == ORX_OK) {
        q = sqlite3_mprintf("ATTACH %Q AS src;", src_path);
        st = exec(db, q, err);
        sqlite3_free(q);
    }
    int64_t max_doc = 0, max_seq = 0, src_chunks = 0;
    if (st == ORX_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT (SELECT max(id) FROM src.docs), (SELECT max(id)/256 FROM"
                                   " src.chunks), (SELECT count(*) FROM src.chunks)",
                               -1, &s, NULL) != SQLITE_OK)
            st = db_fail(db, err, "read source");
        else if (sqlite3_step(s) == SQLITE_ROW) {
            max_doc = sqlite3_column_int64(s, 0);
            max_seq = sqlite3_column_int64(s, 1);
            src_chunks = sqlite3_column_int64(s, 2);
        }
        sqlite3_finalize(s);
        if (st == ORX_OK && src_chunks == 0)
            st = orx_fail(err, ORX_ERR_INVALID, "%s: no chunks to copy", src_path);
    }
    if (st == ORX_OK) st = exec(db, "BEGIN;", err);
    orx_progress p;
    orx_progress_start(&p, "kb synth", n_chunks);
    if (!progress) p.enabled = false;
    uint64_t have = 0;
    for (int64_t r = 0; st == ORX_OK && have < n_chunks; r++) {
        uint64_t take = n_chunks - have;
        q = sqlite3_mprintf(
            "INSERT INTO docs SELECT id + %lld, set_id || '~r%lld', version, effective_date, title,"
            " generic_names, brand_names, rxcuis, source_file, n_chunks FROM src.docs;"
            "INSERT INTO chunks SELECT ((id / 256) + %lld) * 256 + (id %% 256), doc_id + %lld,"
            " section_code, section_name, section_title, seq, start_off, end_off, drug, section, text,"
            " anchor FROM src.chunks ORDER BY id LIMIT %llu;",
            (long long)(r * (max_doc + 1)), (long long)r, (long long)(r * (max_seq + 1)),
            (long long)(r * (max_doc + 1)), (unsigned long long)take);
        st = exec(db, q, err);
        sqlite3_free(q);
        have += take < (uint64_t)src_chunks ? take : (uint64_t)src_chunks;
        orx_progress_update(&p, have);
    }
    orx_progress_finish(&p);
    if (st == ORX_OK)
        st = exec(db, "INSERT INTO meta SELECT * FROM src.meta;", err);
    if (st == ORX_OK) st = exec(db, INDEX_SQL, err);
    if (st == ORX_OK) st = orx_kb_index_finish(db, out_path, true, progress, err);
    if (st == ORX_OK) st = exec(db, "COMMIT; DETACH src;", err);
    if (st == ORX_OK) { /* publish closes db either way */
        st = publish(db, tmp, out_path, err);
        if (st == ORX_OK) orx_kb_index_cleanup(out_path);
        return st;
    }
    if (db) sqlite3_close(db);
    unlink(tmp);
    return st;
}
