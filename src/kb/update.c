/*
 * update.c — `openrx kb update`: apply a release (or a DailyMed weekly/monthly update, or plain
 * label files) to an existing knowledge base in one SQLite transaction. Each label is upserted by
 * set id: a newer version (effective date, then version number) replaces the stored label, its
 * chunks and their FTS entries; an older or equal one leaves it. A full release of a source drops
 * that source's set ids it no longer carries. Term statistics are maintained exactly (per-term
 * deltas from the index's own tokenizer, or a recount when most of the index changed), then the
 * derived indexes (copy hashes, impact index) are rebuilt and the release is recorded. A killed
 * update rolls back: the previous knowledge base stays as it was.
 *
 * Chunks are formed exactly as `kb build` forms them (same chunker, drug/section columns, row-id
 * length bucket and class), so build(A + B) and build(A) + update(B) hold the same chunks.
 */
#include "kb/fetch.h"
#include "kb/kb_internal.h"
#include "kb/impact.h"
#include "util/util.h"
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

orx_kb_update_params orx_kb_update_default_params(void) {
    orx_kb_update_params p = {.max_words = 0, .progress = true};
    return p;
}

/* ============================================================================================
 * State
 * ========================================================================================== */
typedef struct term_delta {
    char   *term;  /* stemmed token (owned), NULL = empty slot */
    int64_t all;   /* change of df_all */
    int64_t drug;  /* change of df_drug */
} term_delta;

typedef struct updater {
    sqlite3                    *db;         /* the knowledge base, in a transaction */
    const orx_kb_update_params *p;          /* parameters */
    orx_kb_update_report       *rep;        /* running report */
    int                         max_words;  /* chunk budget (the KB's) */
    int64_t                     next_seq;   /* next chunk sequence number */
    const char                 *source;     /* source name of the input being applied */
    sqlite3_stmt *find, *ins_doc, *ins_chunk, *ins_fts, *del_fts, *del_chunks, *del_doc, *set_n,
        *seen, *origin, *doc_chunks;        /* prepared statements */
    orx_kb_span                *spans;      /* chunker scratch */
    size_t                      spans_cap;  /* its capacity */
    orx_kb_tokenizer           *tok;        /* the index's tokenizer (term deltas) */
    term_delta                 *td;         /* open-addressing table of term deltas */
    size_t                      td_cap;     /* slots (power of two) */
    size_t                      td_n;       /* used slots */
    orx_progress                prog;       /* bytes-based progress */
} updater;


static orx_status dbfail(sqlite3 *db, orx_error *err, const char *what) {
    return orx_fail(err, ORX_ERR_DB, "kb update: %s: %s", what, sqlite3_errmsg(db));
}

static orx_status run_sql(sqlite3 *db, const char *sql, orx_error *err) { return orx_kb_exec(db, sql, "kb update", err); }

static const char *nz(const char *s) { return s ? s : ""; }

/* ============================================================================================
 * Term deltas (exact df maintenance)
 * ========================================================================================== */
static bool td_add(updater *u, const char *term, int64_t all, int64_t drug) {
    if ((u->td_n + 1) * 2 > u->td_cap) {
        size_t nc = u->td_cap ? u->td_cap * 2 : 4096;
        term_delta *nt = calloc(nc, sizeof *nt);
        if (!nt) return false;
        for (size_t i = 0; i < u->td_cap; i++) {
            if (!u->td[i].term) continue;
            size_t j = orx_fnv1a_str(u->td[i].term) & (nc - 1);
            while (nt[j].term) j = (j + 1) & (nc - 1);
            nt[j] = u->td[i];
        }
        free(u->td);
        u->td = nt;
        u->td_cap = nc;
    }
    size_t j = orx_fnv1a_str(term) & (u->td_cap - 1);
    while (u->td[j].term && strcmp(u->td[j].term, term)) j = (j + 1) & (u->td_cap - 1);
    if (!u->td[j].term) {
        if (!(u->td[j].term = orx_strdup(term))) return false;
        u->td_n++;
    }
    u->td[j].all += all;
    u->td[j].drug += drug;
    return true;
}

/* distinct terms of one chunk (all columns) and of its drug column: ±1 each */
static orx_status chunk_terms(updater *u, const char *drug, const char *section, const char *text,
                              const char *anchor, int sign, orx_error *err) {
    orx_kb_termset all, dr;
    orx_kb_termset_init(&all);
    orx_kb_termset_init(&dr);
    bool ok = orx_kb_tokenize_into(u->tok, drug, &all) && orx_kb_tokenize_into(u->tok, drug, &dr) &&
              orx_kb_tokenize_into(u->tok, section, &all) && orx_kb_tokenize_into(u->tok, text, &all) &&
              orx_kb_tokenize_into(u->tok, anchor, &all);
    for (size_t i = 0; ok && i < all.n; i++) ok = td_add(u, all.v[i], sign, 0);
    for (size_t i = 0; ok && i < dr.n; i++) ok = td_add(u, dr.v[i], 0, sign);
    orx_kb_termset_clear(&all);
    orx_kb_termset_clear(&dr);
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "kb update: out of memory (term statistics)");
}

static orx_status apply_deltas(updater *u, orx_error *err) {
    sqlite3_stmt *up = NULL, *del = NULL;
    if (sqlite3_prepare_v2(u->db, "INSERT INTO term_stats(term, df_all, df_drug) VALUES(?1, ?2, ?3)"
                                  " ON CONFLICT(term) DO UPDATE SET df_all = df_all + ?2, df_drug = df_drug + ?3",
                           -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(u->db, "DELETE FROM term_stats WHERE term = ?1 AND df_all <= 0", -1, &del, NULL) != SQLITE_OK) {
        sqlite3_finalize(up);
        return dbfail(u->db, err, "term statistics");
    }
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < u->td_cap; i++) {
        term_delta *t = &u->td[i];
        if (!t->term || (!t->all && !t->drug)) continue;
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, t->term, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 2, t->all);
        sqlite3_bind_int64(up, 3, t->drug);
        sqlite3_reset(del);
        sqlite3_bind_text(del, 1, t->term, -1, SQLITE_STATIC);
        if (sqlite3_step(up) != SQLITE_DONE || sqlite3_step(del) != SQLITE_DONE) st = dbfail(u->db, err, "term statistics");
    }
    sqlite3_finalize(up);
    sqlite3_finalize(del);
    return st;
}

static void td_free(updater *u) {
    for (size_t i = 0; i < u->td_cap; i++) free(u->td[i].term);
    free(u->td);
    u->td = NULL;
    u->td_cap = u->td_n = 0;
}

/* ============================================================================================
 * Statements
 * ========================================================================================== */
static orx_status prepare_all(updater *u, orx_error *err) {
    struct { sqlite3_stmt **st; const char *sql; } q[] = {
        {&u->find, "SELECT id, version, effective_date FROM docs WHERE set_id = ?"},
        {&u->ins_doc, "INSERT INTO docs(set_id, version, effective_date, title, generic_names, brand_names,"
                      " rxcuis, source_file, n_chunks) VALUES(?,?,?,?,?,?,?,?,0)"},
        {&u->ins_chunk, "INSERT INTO chunks(id, doc_id, section_code, section_name, section_title, seq,"
                        " start_off, end_off, drug, section, text, anchor) VALUES(?,?,?,?,?,?,?,?,?,?,?,?9)"},
        {&u->ins_fts, "INSERT INTO chunks_fts(rowid, drug, section, text, anchor) VALUES(?1, ?2, ?3, ?4, ?2)"},
        {&u->del_fts, "INSERT INTO chunks_fts(chunks_fts, rowid, drug, section, text, anchor)"
                      " SELECT 'delete', id, drug, section, text, anchor FROM chunks WHERE doc_id = ?"},
        {&u->del_chunks, "DELETE FROM chunks WHERE doc_id = ?"},
        {&u->del_doc, "DELETE FROM docs WHERE id = ?"},
        {&u->set_n, "UPDATE docs SET n_chunks = ?2 WHERE id = ?1"},
        {&u->seen, "INSERT OR IGNORE INTO temp.seen(set_id) VALUES(?)"},
        {&u->origin, "INSERT OR REPLACE INTO doc_source(set_id, source) VALUES(?, ?)"},
        {&u->doc_chunks, "SELECT drug, section, text, anchor FROM chunks WHERE doc_id = ?"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (sqlite3_prepare_v2(u->db, q[i].sql, -1, q[i].st, NULL) != SQLITE_OK) return dbfail(u->db, err, "prepare");
    return ORX_OK;
}

static void finalize_all(updater *u) {
    sqlite3_stmt *all[] = {u->find, u->ins_doc, u->ins_chunk, u->ins_fts, u->del_fts, u->del_chunks,
                           u->del_doc, u->set_n, u->seen, u->origin, u->doc_chunks};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
}

/* ============================================================================================
 * Removing and inserting one label
 * ========================================================================================== */
static orx_status remove_doc(updater *u, int64_t doc_id, orx_error *err) {
    sqlite3_stmt *s = u->doc_chunks;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, doc_id);
    orx_status st = ORX_OK;
    int rc;
    while (st == ORX_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        st = chunk_terms(u, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                         (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3), -1, err);
        u->rep->chunks_removed++;
    }
    sqlite3_reset(s);
    if (st != ORX_OK) return st;
    if (orx_kb_chunk_meta_drop_doc(u->db, doc_id, err) != ORX_OK) return ORX_ERR_DB;
    sqlite3_stmt *steps[] = {u->del_fts, u->del_chunks, u->del_doc};
    for (int i = 0; i < 3; i++) {
        sqlite3_reset(steps[i]);
        sqlite3_bind_int64(steps[i], 1, doc_id);
        if (sqlite3_step(steps[i]) != SQLITE_DONE) return dbfail(u->db, err, "remove label");
    }
    return ORX_OK;
}

/* one chunk row + its FTS entry + term deltas; the row id carries class and length bucket as in
 * kb build (seq * 256 + bucket * 16 + class) */
static orx_status insert_chunk(updater *u, int64_t doc_id, const orx_kb_section *sec, const orx_kb_span *sp,
                               size_t ci, const char *drug, const char *section_col, orx_error *err) {
    int64_t id = orx_kb_chunk_row_id(u->next_seq++, drug, section_col, sp->words, orx_kb_section_class(sec->code));
    sqlite3_stmt *s = u->ins_chunk;
    orx_kb_bind_chunk(s, id, doc_id, sec, ci, sp, drug, section_col);
    if (sqlite3_step(s) != SQLITE_DONE) return dbfail(u->db, err, "insert chunk");
    sqlite3_stmt *f = u->ins_fts;
    sqlite3_reset(f);
    sqlite3_bind_int64(f, 1, id);
    sqlite3_bind_text(f, 2, drug, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(f, 3, section_col, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(f, 4, sec->text + sp->off, (int)sp->len, SQLITE_TRANSIENT);
    if (sqlite3_step(f) != SQLITE_DONE) return dbfail(u->db, err, "index chunk");
    orx_status hs = orx_kb_chunk_meta_add(u->db, id, sec->text + sp->off, sp->len, sec->code, err);
    if (hs != ORX_OK) return hs;
    orx_buf tb;
    orx_buf_init(&tb);
    orx_buf_append(&tb, sec->text + sp->off, sp->len);
    orx_status st = chunk_terms(u, drug, section_col, tb.data ? tb.data : "", drug, +1, err);
    orx_buf_clear(&tb);
    u->rep->chunks_added++;
    return st;
}

static orx_status insert_doc(updater *u, const orx_kb_doc *d, orx_error *err) {
    orx_buf drug;
    if (!orx_kb_insert_doc(u->ins_doc, d, &drug)) return dbfail(u->db, err, "insert label");
    int64_t doc_id = sqlite3_last_insert_rowid(u->db);
    const char *dg = drug.data ? drug.data : "";
    int64_t n = 0;
    orx_status st = ORX_OK;
    for (size_t si = 0; st == ORX_OK && si < d->n_sections; si++) {
        const orx_kb_section *sec = &d->sections[si];
        size_t need = orx_kb_chunk_section(sec, u->max_words, &u->spans, &u->spans_cap);
        if (need == (size_t)-1) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory chunking %s", d->set_id); break; }
        char section_col[320];
        orx_kb_section_col(sec, section_col, sizeof section_col);
        for (size_t ci = 0; st == ORX_OK && ci < need; ci++, n++)
            st = insert_chunk(u, doc_id, sec, &u->spans[ci], ci, dg, section_col, err);
    }
    orx_buf_clear(&drug);
    if (st != ORX_OK) return st;
    sqlite3_reset(u->set_n);
    sqlite3_bind_int64(u->set_n, 1, doc_id);
    sqlite3_bind_int64(u->set_n, 2, n);
    if (sqlite3_step(u->set_n) != SQLITE_DONE) return dbfail(u->db, err, "label chunk count");
    return ORX_OK;
}

/* ============================================================================================
 * One incoming label
 * ========================================================================================== */
static bool has_text(const orx_kb_doc *d) {
    for (size_t i = 0; i < d->n_sections; i++)
        for (size_t j = 0; j < d->sections[i].len; j++)
            if ((unsigned char)d->sections[i].text[j] > ' ') return true;
    return false;
}

/* the label belongs to the source being applied (a later full release of it that lacks the label
 * removes it); plain label files own only the labels they inserted */
static orx_status set_origin(updater *u, const char *set_id, bool inserted, orx_error *err) {
    if (!strcmp(u->source, "local") && !inserted) return ORX_OK;
    sqlite3_reset(u->origin);
    sqlite3_bind_text(u->origin, 1, set_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(u->origin, 2, u->source, -1, SQLITE_STATIC);
    return sqlite3_step(u->origin) == SQLITE_DONE ? ORX_OK : dbfail(u->db, err, "label source");
}

static orx_status on_doc(void *ctx, const orx_kb_doc *d, orx_error *err) {
    updater *u = ctx;
    u->rep->bytes_in += d->src_bytes;
    orx_progress_update(&u->prog, u->rep->bytes_in);
    if (!d->set_id || !*d->set_id || !has_text(d)) {
        u->rep->empty++;
        return ORX_OK;
    }
    sqlite3_reset(u->seen);
    sqlite3_bind_text(u->seen, 1, d->set_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(u->seen) != SQLITE_DONE) return dbfail(u->db, err, "seen set ids");
    sqlite3_stmt *f = u->find;
    sqlite3_reset(f);
    sqlite3_bind_text(f, 1, d->set_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(f);
    orx_status st = ORX_OK;
    if (rc == SQLITE_ROW) {
        int64_t old = sqlite3_column_int64(f, 0);
        char over[32], oday[32];
        snprintf(over, sizeof over, "%s", nz((const char *)sqlite3_column_text(f, 1)));
        snprintf(oday, sizeof oday, "%s", nz((const char *)sqlite3_column_text(f, 2)));
        sqlite3_reset(f);
        if (orx_kb_label_cmp(d->effective_date, d->version, oday, over, true) <= 0) {
            u->rep->unchanged++;
            return set_origin(u, d->set_id, false, err); /* the source carries it now */
        }
        orx_kb_note(u->p->note, u->p->note_ctx, u->prog.enabled, "replaced %s: version %s (%s) -> %s (%s)", d->set_id,
                    over[0] ? over : "?", oday[0] ? oday : "?", nz(d->version)[0] ? d->version : "?",
                    nz(d->effective_date)[0] ? d->effective_date : "?");
        st = remove_doc(u, old, err);
        u->rep->replaced++;
    } else if (rc == SQLITE_DONE) {
        sqlite3_reset(f);
        u->rep->added++;
    } else {
        return dbfail(u->db, err, "find label");
    }
    if (st == ORX_OK) st = insert_doc(u, d, err); /* a dry run rolls everything back */
    if (st == ORX_OK) st = set_origin(u, d->set_id, true, err);
    return st;
}

/* set ids of `source` that the full release just applied did not carry */
static orx_status drop_missing(updater *u, const char *source, orx_error *err) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(u->db, "SELECT d.id, d.set_id FROM docs d JOIN doc_source o ON o.set_id = d.set_id"
                                  " WHERE o.source = ?1 AND d.set_id NOT IN (SELECT set_id FROM temp.seen)",
                           -1, &s, NULL) != SQLITE_OK)
        return dbfail(u->db, err, "removed labels");
    sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
    int64_t *ids = NULL;
    size_t n = 0;
    orx_status st = ORX_OK;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t *ni = realloc(ids, (n + 1) * sizeof *ni);
        if (!ni) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        ids = ni;
        ids[n++] = sqlite3_column_int64(s, 0);
        orx_kb_note(u->p->note, u->p->note_ctx, u->prog.enabled, "removed %s: not in this %s release",
                    (const char *)sqlite3_column_text(s, 1), source);
    }
    sqlite3_finalize(s);
    for (size_t i = 0; st == ORX_OK && i < n; i++) st = remove_doc(u, ids[i], err);
    free(ids);
    u->rep->removed += n;
    if (st == ORX_OK)
        st = run_sql(u->db, "DELETE FROM doc_source WHERE set_id NOT IN (SELECT set_id FROM docs)", err);
    return st;
}

/* ============================================================================================
 * Inputs: a fetch directory (manifest.json) or label files
 * ========================================================================================== */
typedef struct input_desc {
    char   source[32];       /* "openfda", "dailymed", "local" */
    char   kind[16];         /* "full", "weekly", "monthly", "daily", "files" */
    char   date[16];         /* release date, "" unknown */
    char   index_url[1024];  /* where the manifest's index came from */
    char   fetched_at[32];   /* manifest fetch time */
    char **files;            /* paths to ingest (owned) */
    size_t n_files;          /* count */
} input_desc;

static void input_free(input_desc *in) {
    for (size_t i = 0; i < in->n_files; i++) free(in->files[i]);
    free(in->files);
    memset(in, 0, sizeof *in);
}

static orx_status describe_input(const char *path, input_desc *in, orx_error *err) {
    memset(in, 0, sizeof *in);
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", path);
    if (!orx_is_dir(path) || !orx_file_exists(mpath)) {
        snprintf(in->source, sizeof in->source, "local");
        snprintf(in->kind, sizeof in->kind, "files");
        in->files = calloc(1, sizeof *in->files);
        if (!in->files || !(in->files[0] = orx_strdup(path))) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        in->n_files = 1;
        return ORX_OK;
    }
    json_error_t je;
    json_t *m = json_load_file(mpath, 0, &je);
    if (!m) return orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: %s", mpath, je.line, je.column, je.text);
    const char *src = json_string_value(json_object_get(m, "source"));
    const char *kind = json_string_value(json_object_get(m, "kind"));
    json_t *files = json_object_get(m, "files");
    orx_status st = ORX_OK;
    if (!src || !kind || !json_is_array(files)) {
        st = orx_fail(err, ORX_ERR_INVALID, "%s: needs \"source\", \"kind\" and \"files\" (written by 'openrx kb fetch')", mpath);
        goto done;
    }
    snprintf(in->source, sizeof in->source, "%s", src);
    snprintf(in->kind, sizeof in->kind, "%s", kind);
    snprintf(in->date, sizeof in->date, "%s", json_string_value(json_object_get(m, "release_date")) ?: "");
    snprintf(in->index_url, sizeof in->index_url, "%s", json_string_value(json_object_get(m, "index_url")) ?: "");
    snprintf(in->fetched_at, sizeof in->fetched_at, "%s", json_string_value(json_object_get(m, "fetched_at")) ?: "");
    in->files = calloc(json_array_size(files) + 1, sizeof *in->files);
    if (!in->files) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < json_array_size(files); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(files, i), "name"));
        if (!name || strchr(name, '/') || name[0] == '.') {
            st = orx_fail(err, ORX_ERR_INVALID, "%s: files[%zu] has no usable \"name\"", mpath, i);
            goto done;
        }
        char fp[4200];
        snprintf(fp, sizeof fp, "%s/%s", path, name);
        if (!orx_file_exists(fp)) {
            st = orx_fail(err, ORX_ERR_NOT_FOUND, "%s: listed in %s but missing (rerun 'openrx kb fetch')", fp, mpath);
            goto done;
        }
        in->files[in->n_files++] = orx_strdup(fp);
    }
done:
    json_decref(m);
    return st;
}

static orx_status record_release(updater *u, const input_desc *in, orx_error *err) {
    char now[32];
    orx_utc_now(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(u->db, "INSERT OR REPLACE INTO sources(name, kind, release_date, index_url, fetched_at,"
                                  " applied_at, files) VALUES(?,?,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
        return dbfail(u->db, err, "record release");
    const char *v[6] = {in->source, in->kind, in->date, in->index_url, in->fetched_at, now};
    for (int i = 0; i < 6; i++) sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (int64_t)in->n_files);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return dbfail(u->db, err, "record release");
    char *q = sqlite3_mprintf("INSERT INTO updates(applied_at, source, kind, release_date, added, replaced, removed,"
                              " unchanged) VALUES(%Q, %Q, %Q, %Q, %llu, %llu, %llu, %llu)", now, in->source, in->kind,
                              in->date, (unsigned long long)u->rep->added, (unsigned long long)u->rep->replaced,
                              (unsigned long long)u->rep->removed, (unsigned long long)u->rep->unchanged);
    orx_status st = run_sql(u->db, q, err);
    sqlite3_free(q);
    return st;
}

static orx_status apply_input(updater *u, const char *path, orx_error *err) {
    input_desc in;
    orx_status st = describe_input(path, &in, err);
    if (st != ORX_OK) { input_free(&in); return st; }
    u->source = in.source;
    st = run_sql(u->db, "DELETE FROM temp.seen;", err);
    for (size_t i = 0; st == ORX_OK && i < in.n_files; i++) st = orx_kb_ingest_path(in.files[i], on_doc, u, err);
    if (st == ORX_OK && !strcmp(in.kind, "full")) st = drop_missing(u, in.source, err);
    snprintf(u->rep->source, sizeof u->rep->source, "%s", in.source);
    snprintf(u->rep->kind, sizeof u->rep->kind, "%s", in.kind);
    snprintf(u->rep->release_date, sizeof u->rep->release_date, "%s", in.date);
    if (st == ORX_OK && strcmp(in.source, "local")) st = record_release(u, &in, err);
    input_free(&in);
    u->source = NULL;
    return st;
}

/* ============================================================================================
 * The update
 * ========================================================================================== */
static int64_t scalar(sqlite3 *db, const char *sql, int64_t dflt) {
    sqlite3_stmt *s;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static orx_status open_rw(const char *kb_path, sqlite3 **db, orx_error *err) {
    if (!orx_file_exists(kb_path))
        return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no knowledge base to update (build one with 'openrx kb build')", kb_path);
    if (sqlite3_open_v2(kb_path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_DB, "%s: cannot open for update: %s", kb_path, sqlite3_errmsg(*db));
        sqlite3_close(*db);
        *db = NULL;
        return st;
    }
    sqlite3_busy_timeout(*db, 10000);
    int uv = (int)scalar(*db, "PRAGMA user_version", -1);
    if (uv != ORX_KB_SCHEMA_VERSION)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: knowledge base schema version %d, this openrx updates version %d;"
                        " rebuild it with 'openrx kb build'", kb_path, uv, ORX_KB_SCHEMA_VERSION);
    return run_sql(*db, "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;", err);
}

/* term statistics: exact deltas when little changed, else a recount from the FTS index */
static orx_status finish_terms(updater *u, orx_error *err) {
    int64_t total = scalar(u->db, "SELECT count(*) FROM chunks INDEXED BY chunks_doc", 0);
    uint64_t changed = u->rep->chunks_added + u->rep->chunks_removed;
    if ((double)changed > 0.25 * (double)(total > 0 ? total : 1)) return orx_kb_recount_terms(u->db, err);
    return apply_deltas(u, err);
}

static orx_status run_update(updater *u, const char *kb_path, const char *const *inputs, size_t n, orx_error *err) {
    orx_status st = run_sql(u->db, "BEGIN IMMEDIATE;", err);
    if (st == ORX_OK) st = orx_kb_aux_schema(u->db, err);
    if (st == ORX_OK) st = run_sql(u->db, "CREATE TEMP TABLE IF NOT EXISTS seen(set_id TEXT PRIMARY KEY) WITHOUT ROWID;", err);
    if (st == ORX_OK) st = prepare_all(u, err);
    if (st == ORX_OK) st = orx_kb_tokenizer_create(u->db, &u->tok, err);
    u->next_seq = scalar(u->db, "SELECT max(id) FROM chunks", 0) / 256 + 1;
    orx_progress_start(&u->prog, "kb update: labels read (bytes)", 0);
    if (!u->p->progress) u->prog.enabled = false;
    for (size_t i = 0; st == ORX_OK && i < n; i++) st = apply_input(u, inputs[i], err);
    orx_progress_finish(&u->prog);
    if (st == ORX_OK) st = finish_terms(u, err);
    if (st == ORX_OK) st = run_sql(u->db, "INSERT OR REPLACE INTO meta SELECT 'chunks', count(*) FROM chunks INDEXED BY chunks_doc;"
                                          "INSERT OR REPLACE INTO meta SELECT 'avg_len', avg(((id >> 4) & 15) * 25)"
                                          " FROM chunks INDEXED BY chunks_doc;", err);
    if (st == ORX_OK && scalar(u->db, "SELECT count(*) FROM docs", 0) == 0)
        st = orx_fail(err, ORX_ERR_INVALID, "kb update: the update would leave no labels; not applied");
    /* a KB built before chunk_meta existed gets it whole (the impact index needs every chunk's) */
    bool full = scalar(u->db, "SELECT count(*) FROM chunk_meta", 0) !=
                scalar(u->db, "SELECT count(*) FROM chunks INDEXED BY chunks_doc", 0);
    if (st == ORX_OK && !u->p->dry_run) st = orx_kb_index_finish(u->db, kb_path, full, u->p->progress, err);
    finalize_all(u);
    if (st == ORX_OK && !u->p->dry_run) st = run_sql(u->db, "COMMIT;", err);
    if (st != ORX_OK || u->p->dry_run) sqlite3_exec(u->db, "ROLLBACK;", NULL, NULL, NULL);
    return st;
}

orx_status orx_kb_update(const char *kb_path, const char *const *inputs, size_t n_inputs,
                         const orx_kb_update_params *p, orx_kb_update_report *report,
                         orx_error *err) {
    orx_kb_update_params defp = orx_kb_update_default_params();
    if (!p) p = &defp;
    orx_kb_update_report local;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    if (!kb_path || !n_inputs) return orx_fail(err, ORX_ERR_USAGE, "kb update: no inputs");
    for (size_t i = 0; i < n_inputs; i++)
        if (!orx_file_exists(inputs[i]))
            return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no such file or directory", inputs[i]);
    double t0 = orx_now();
    updater u = {.p = p, .rep = report};
    orx_status st = open_rw(kb_path, &u.db, err);
    if (st == ORX_OK) {
        u.max_words = (int)scalar(u.db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_words'", 200);
        if (p->max_words > 0 && p->max_words != u.max_words)
            st = orx_fail(err, ORX_ERR_USAGE, "kb update: --max-words %d differs from the knowledge base's %d "
                          "(chunks must be formed alike; rebuild to change it)", p->max_words, u.max_words);
    }
    if (st == ORX_OK) st = run_update(&u, kb_path, inputs, n_inputs, err);
    free(u.spans);
    td_free(&u);
    orx_kb_tokenizer_free(u.tok);
    if (u.db) {
        if (st == ORX_OK && !p->dry_run) sqlite3_wal_checkpoint_v2(u.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(u.db);
    }
    if (st == ORX_OK && !p->dry_run) orx_kb_index_cleanup(kb_path);
    report->seconds = orx_now() - t0;
    return st;
}
