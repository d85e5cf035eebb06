/*
 * impact.c — the impact-ordered index beside the knowledge-base file, and exact top-k search
 * over it.
 *
 * File "<kb>.impact-<generation>" (little-endian, memory-mapped):
 *   header | term dictionary (sorted by term bytes) | term strings | per-term posting lists |
 *   per-chunk arrays indexed by chunk sequence number (row id >> 8): low row-id byte (length
 *   bucket, section class), copies hash, section-code id | section codes.
 * A posting list is the chunks holding a term, in row-id order, in blocks of 128: each block
 * header has the block's last sequence number, its data offset and an upper bound of
 * f = BM25 term weight / idf × class weight over the block (rounded up to float); data are
 * varints (sequence delta, weighted term frequency × 2: drug 4, section 1, text 2 per occurrence,
 * the column weights 2 / 0.5 / 1 / anchor 0 of orx_rank).
 *
 * Search is document-at-a-time MaxScore: query terms sorted by bound; the terms whose bounds
 * together cannot beat the current k-th score are non-essential and only probed for candidates;
 * block bounds are checked before probing. A candidate that survives is scored exactly as
 * orx_rank scores it (phrases in query order, the shared orx_kb_bm25_term), so the top-k equals
 * scoring every match. Phrases of several tokens and drug-column-only phrases are evaluated by
 * FTS5 itself (rows + weighted frequency) and join as in-memory lists. Every drug-column token also
 * has a list of its own (key "\1" + token, frequency = drug-column occurrences × 4): drug-column
 * phrases and drug-name filters (the anchor column repeats the drug column) read it.
 */
#define _GNU_SOURCE 1
#include "kb/impact.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 128
#define MAGIC "ORXIMP2" /* 2: posting lists 4-byte aligned */

typedef struct ihdr {
    char     magic[8];    /* MAGIC */
    uint64_t n_chunks;    /* chunks indexed (meta 'chunks') */
    double   avg_len;     /* mean weighted length the bounds were computed with (meta 'avg_len') */
    uint64_t max_seq;     /* largest chunk sequence number; arrays hold max_seq + 1 entries */
    uint64_t n_terms;     /* dictionary entries */
    uint64_t dict_off;    /* ientry[n_terms] */
    uint64_t str_off;     /* term bytes */
    uint64_t low_off;     /* uint8_t[max_seq + 1]: row id & 255 */
    uint64_t hash_off;    /* uint64_t[max_seq + 1]: copies hash */
    uint64_t sec_off;     /* uint16_t[max_seq + 1]: section-code id (0 = none) */
    uint64_t n_secs;      /* section codes */
    uint64_t secs_off;    /* char[n_secs][16] */
    uint64_t size;        /* file size (a truncated file is refused) */
} ihdr;

typedef struct ientry {
    uint32_t str_off;  /* offset of the term in the strings */
    uint32_t str_len;  /* bytes */
    uint32_t df;       /* postings */
    uint32_t n_blocks; /* blocks */
    uint64_t post_off; /* file offset of the block headers; data follow them */
    float    max_ub;   /* largest block bound */
    uint32_t pad;      /* zero */
} ientry;

typedef struct iblock {
    uint32_t last_seq; /* sequence number of the block's last posting */
    uint32_t data_off; /* offset of its varints after the block headers */
    float    ub;       /* bound of f × class weight over the block */
} iblock;

/* ============================================================================================
 * Writing
 * ========================================================================================== */
typedef struct iwriter {
    FILE     *f;        /* temp file */
    uint32_t *dseq;     /* drug-column postings of the current term */
    uint32_t *dtf;      /* their drug-column occurrences × 4 */
    size_t    dn, dcap2;/* count / capacity */
    uint64_t  off;      /* bytes written */
    uint8_t  *low;      /* per seq: row id & 255 */
    double    avg_len;  /* meta avg_len */
    uint32_t *seq;      /* postings of the current term */
    uint32_t *tf2;      /* their weighted frequency × 2 */
    size_t    n, cap;   /* postings / capacity */
    ientry   *dict;     /* entries so far */
    size_t    nd, dcap; /* count / capacity */
    orx_buf   strs;     /* term bytes */
    orx_buf   blk;      /* encoding scratch */
} iwriter;

static bool put(iwriter *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f) != n) return false;
    w->off += n;
    return true;
}

static void varint(orx_buf *b, uint32_t v) {
    uint8_t t[5];
    int n = 0;
    while (v >= 128) { t[n++] = (uint8_t)(v | 128); v >>= 7; }
    t[n++] = (uint8_t)v;
    orx_buf_append(b, t, (size_t)n);
}

static float round_up(double d) {
    float f = (float)d;
    if ((double)f < d) f = nextafterf(f, INFINITY);
    return f;
}

static double posting_bound(const iwriter *w, uint32_t seq, uint32_t tf2) {
    int64_t rowid = (int64_t)seq * 256 + w->low[seq];
    return orx_kb_bm25_term(1.0, tf2 * 0.5, orx_kb_lnorm(rowid, w->avg_len)) * orx_kb_class_weight((int)(rowid & 15));
}

static bool flush_term(iwriter *w, const char *term, size_t tlen) {
    if (!w->n) return true;
    ientry *nd = orx_grow(w->dict, &w->dcap, w->nd, sizeof *nd, 4096);
    if (!nd) return false;
    w->dict = nd;
    uint32_t nb = (uint32_t)((w->n + BLOCK - 1) / BLOCK);
    static const uint8_t zero[4] = {0};
    if (!put(w, zero, (4 - w->off % 4) % 4)) return false; /* block headers are 4-byte aligned */
    ientry *e = &w->dict[w->nd++];
    *e = (ientry){.str_off = (uint32_t)w->strs.len, .str_len = (uint32_t)tlen, .df = (uint32_t)w->n,
                  .n_blocks = nb, .post_off = w->off, .max_ub = 0, .pad = 0};
    if (!orx_buf_append(&w->strs, term, tlen)) return false;
    iblock *hdrs = calloc(nb, sizeof *hdrs);
    if (!hdrs) return false;
    orx_buf_reset(&w->blk);
    uint32_t prev = 0;
    for (uint32_t b = 0; b < nb; b++) {
        size_t lo = (size_t)b * BLOCK, hi = lo + BLOCK < w->n ? lo + BLOCK : w->n;
        double ub = 0;
        hdrs[b].data_off = (uint32_t)w->blk.len;
        for (size_t i = lo; i < hi; i++) {
            varint(&w->blk, w->seq[i] - prev);
            varint(&w->blk, w->tf2[i]);
            prev = w->seq[i];
            double s = posting_bound(w, w->seq[i], w->tf2[i]);
            if (s > ub) ub = s;
        }
        hdrs[b].last_seq = prev;
        hdrs[b].ub = round_up(ub);
        if (hdrs[b].ub > e->max_ub) e->max_ub = hdrs[b].ub;
    }
    bool ok = w->blk.data != NULL && put(w, hdrs, nb * sizeof *hdrs) && put(w, w->blk.data, w->blk.len);
    free(hdrs);
    w->n = 0;
    return ok;
}

/* Append (s, t) to the parallel arrays *seq and *tf of *n pairs (*cap allocated, first capacity
 * first). */
static bool push_posting(uint32_t **seq, uint32_t **tf, size_t *n, size_t *cap, size_t first, uint32_t s, uint32_t t) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : first;
        uint32_t *a = realloc(*seq, nc * sizeof *a), *b = a ? realloc(*tf, nc * sizeof *b) : NULL;
        if (a) *seq = a;
        if (!a || !b) return false;
        *tf = b;
        *cap = nc;
    }
    (*seq)[*n] = s;
    (*tf)[(*n)++] = t;
    return true;
}

static bool add_drug_posting(iwriter *w, uint32_t seq, uint32_t tf2) {
    return push_posting(&w->dseq, &w->dtf, &w->dn, &w->dcap2, 1 << 12, seq, tf2);
}

/* the drug-column list of the term just flushed, under "\1" + term */
static bool flush_drug(iwriter *w, const char *term, size_t tlen) {
    if (!w->dn) return true;
    char key[4100];
    key[0] = 1;
    memcpy(key + 1, term, tlen);
    uint32_t *s = w->seq, *t = w->tf2;
    size_t n = w->n, cap = w->cap;
    w->seq = w->dseq, w->tf2 = w->dtf, w->n = w->dn, w->cap = w->dcap2;
    bool ok = flush_term(w, key, tlen + 1);
    w->dseq = w->seq, w->dtf = w->tf2, w->dcap2 = w->cap;
    w->seq = s, w->tf2 = t, w->n = n, w->cap = cap;
    w->dn = 0;
    return ok;
}

static bool add_posting(iwriter *w, uint32_t seq, uint32_t tf2) {
    return push_posting(&w->seq, &w->tf2, &w->n, &w->cap, 1 << 16, seq, tf2);
}

static int64_t scalar64(sqlite3 *db, const char *q) {
    sqlite3_stmt *s;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* per-chunk arrays from chunk_meta; section codes into secs */
static orx_status read_chunk_meta(sqlite3 *db, iwriter *w, uint64_t max_seq, uint64_t *hash, uint16_t *sec,
                                  char (**secs)[16], size_t *n_secs, orx_error *err) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT id, hash, section_code FROM chunk_meta", -1, &s, NULL) != SQLITE_OK)
        return orx_fail(err, ORX_ERR_DB, "impact index: %s", sqlite3_errmsg(db));
    orx_status st = ORX_OK;
    *secs = calloc(1, sizeof **secs); /* id 0: no code */
    *n_secs = 1;
    uint64_t rows = 0;
    while (st == ORX_OK && sqlite3_step(s) == SQLITE_ROW) {
        rows++;
        int64_t id = sqlite3_column_int64(s, 0);
        uint64_t seq = (uint64_t)id >> 8;
        if (seq > max_seq) continue;
        w->low[seq] = (uint8_t)(id & 255);
        hash[seq] = (uint64_t)sqlite3_column_int64(s, 1);
        const char *code = (const char *)sqlite3_column_text(s, 2);
        if (!code || !*code) continue;
        size_t j = 1;
        while (j < *n_secs && strncmp((*secs)[j], code, 15)) j++;
        if (j == *n_secs) {
            if (j >= 65535) continue;
            char (*ns)[16] = realloc(*secs, (j + 1) * sizeof *ns);
            if (!ns) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
            *secs = ns;
            snprintf((*secs)[j], 16, "%s", code);
            (*n_secs)++;
        }
        sec[seq] = (uint16_t)j;
    }
    sqlite3_finalize(s);
    if (st == ORX_OK && rows != (uint64_t)scalar64(db, "SELECT count(*) FROM chunks INDEXED BY chunks_doc"))
        st = orx_fail(err, ORX_ERR_INVALID, "impact index: chunk_meta does not cover every chunk (run 'openrx kb index')");
    return st;
}

/* every (term, chunk) of the FTS index in term order, from fts5vocab's instance table */
static orx_status write_postings(sqlite3 *db, iwriter *w, uint64_t max_seq, bool progress, orx_error *err) {
    char *msg = NULL;
    sqlite3_exec(db, "DROP TABLE IF EXISTS temp.v_inst;", NULL, NULL, NULL);
    if (sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.v_inst USING fts5vocab(main, 'chunks_fts', 'instance');", NULL,
                     NULL, &msg) != SQLITE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_DB, "impact index: %s", msg ? msg : "fts5vocab");
        sqlite3_free(msg);
        return st;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT term, doc, col FROM temp.v_inst", -1, &s, NULL) != SQLITE_OK)
        return orx_fail(err, ORX_ERR_DB, "impact index: %s", sqlite3_errmsg(db));
    orx_progress prog;
    orx_progress_start(&prog, "kb index: impacts", max_seq);
    if (!progress) prog.enabled = false;
    char term[4096] = "";
    size_t tlen = 0;
    int64_t doc = -1;
    uint32_t tf2 = 0, dtf = 0;
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        size_t l = (size_t)sqlite3_column_bytes(s, 0);
        int64_t d = sqlite3_column_int64(s, 1);
        const char *col = (const char *)sqlite3_column_text(s, 2);
        if (l >= sizeof term) continue; /* a token of 4 KB+: no query word can name it */
        bool same_term = l == tlen && !memcmp(t, term, l);
        if (!same_term || d != doc) {
            if (doc >= 0) ok = add_posting(w, (uint32_t)((uint64_t)doc >> 8), tf2);
            if (ok && doc >= 0 && dtf) ok = add_drug_posting(w, (uint32_t)((uint64_t)doc >> 8), dtf);
            if (ok && !same_term) {
                ok = flush_term(w, term, tlen) && flush_drug(w, term, tlen);
                tlen = l;
                memcpy(term, t, tlen);
            }
            doc = d;
            tf2 = dtf = 0;
            orx_progress_update(&prog, (uint64_t)d >> 8);
        }
        tf2 += col[0] == 'd' ? 4 : col[0] == 's' ? 1 : col[0] == 't' ? 2 : 0;
        dtf += col[0] == 'd' ? 4 : 0;
    }
    if (ok && doc >= 0) {
        uint32_t seq = (uint32_t)((uint64_t)doc >> 8);
        ok = add_posting(w, seq, tf2) && (!dtf || add_drug_posting(w, seq, dtf)) && flush_term(w, term, tlen) &&
             flush_drug(w, term, tlen);
    }
    orx_progress_finish(&prog);
    sqlite3_finalize(s);
    sqlite3_exec(db, "DROP TABLE IF EXISTS temp.v_inst;", NULL, NULL, NULL);
    if (!ok) return orx_fail(err, ORX_ERR_IO, "impact index: write failed: %s", strerror(errno ? errno : ENOMEM));
    return ORX_OK;
}

static int cmp_entry_strs(const void *a, const void *b, void *ctx) {
    const ientry *x = a, *y = b;
    const char *s = ctx;
    size_t n = x->str_len < y->str_len ? x->str_len : y->str_len;
    int c = memcmp(s + x->str_off, s + y->str_off, n);
    return c ? c : (x->str_len > y->str_len) - (x->str_len < y->str_len);
}

static orx_status write_tail(iwriter *w, ihdr *h, const uint64_t *hash, const uint16_t *sec, char (*secs)[16],
                             size_t n_secs, orx_error *err) {
    qsort_r(w->dict, w->nd, sizeof *w->dict, cmp_entry_strs, w->strs.data);
    h->n_terms = w->nd;
    bool ok = true;
    uint64_t pad = 0;
    ok = ok && put(w, &pad, (8 - w->off % 8) % 8);
    h->dict_off = w->off;
    ok = ok && put(w, w->dict, w->nd * sizeof *w->dict);
    h->str_off = w->off;
    ok = ok && put(w, w->strs.data ? w->strs.data : "", w->strs.len);
    ok = ok && put(w, &pad, (8 - w->off % 8) % 8);
    h->hash_off = w->off;
    ok = ok && put(w, hash, (h->max_seq + 1) * sizeof *hash);
    h->low_off = w->off;
    ok = ok && put(w, w->low, h->max_seq + 1);
    ok = ok && put(w, &pad, (8 - w->off % 8) % 8);
    h->sec_off = w->off;
    ok = ok && put(w, sec, (h->max_seq + 1) * sizeof *sec);
    ok = ok && put(w, &pad, (8 - w->off % 8) % 8);
    h->secs_off = w->off;
    h->n_secs = n_secs;
    ok = ok && put(w, secs, n_secs * 16);
    h->size = w->off;
    ok = ok && fseek(w->f, 0, SEEK_SET) == 0 && fwrite(h, sizeof *h, 1, w->f) == 1 && fflush(w->f) == 0 &&
         fsync(fileno(w->f)) == 0;
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_IO, "impact index: write failed: %s", strerror(errno));
}

orx_status orx_kb_impact_write(sqlite3 *db, const char *path, bool progress, orx_error *err) {
    ihdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.n_chunks = (uint64_t)scalar64(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'chunks'");
    h.avg_len = (double)scalar64(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'avg_len'");
    h.max_seq = (uint64_t)scalar64(db, "SELECT max(id) FROM chunks") >> 8;
    if (h.max_seq >= UINT32_MAX) return orx_fail(err, ORX_ERR_RANGE, "impact index: chunk numbers beyond 2^32");
    iwriter w = {.avg_len = h.avg_len};
    orx_buf_init(&w.strs);
    orx_buf_init(&w.blk);
    uint64_t *hash = calloc(h.max_seq + 1, sizeof *hash);
    uint16_t *sec = calloc(h.max_seq + 1, sizeof *sec);
    w.low = calloc(h.max_seq + 1, 1);
    char (*secs)[16] = NULL;
    size_t n_secs = 0;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    orx_status st = ORX_OK;
    if (!hash || !sec || !w.low) st = orx_fail(err, ORX_ERR_NOMEM, "impact index: out of memory");
    if (st == ORX_OK) st = read_chunk_meta(db, &w, h.max_seq, hash, sec, &secs, &n_secs, err);
    if (st == ORX_OK && !(w.f = fopen(tmp, "wb"))) st = orx_fail(err, ORX_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (st == ORX_OK && !put(&w, &h, sizeof h)) st = orx_fail(err, ORX_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (st == ORX_OK) st = write_postings(db, &w, h.max_seq, progress, err);
    if (st == ORX_OK) st = write_tail(&w, &h, hash, sec, secs, n_secs, err);
    if (w.f && fclose(w.f) && st == ORX_OK) st = orx_fail(err, ORX_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (st == ORX_OK && rename(tmp, path) != 0) st = orx_fail(err, ORX_ERR_IO, "%s: %s", path, strerror(errno));
    if (st != ORX_OK) unlink(tmp);
    free(hash); free(sec); free(w.low); free(secs); free(w.seq); free(w.tf2); free(w.dict); free(w.dseq); free(w.dtf);
    orx_buf_clear(&w.strs);
    orx_buf_clear(&w.blk);
    return st;
}

/* ============================================================================================
 * Opening
 * ========================================================================================== */
struct orx_kb_impact {
    uint8_t        *map;      /* the mapped file */
    size_t          size;     /* its size */
    const ihdr     *h;        /* header */
    const ientry   *dict;     /* dictionary */
    const char     *strs;     /* term bytes */
    const uint8_t  *low;      /* per seq: row id & 255 */
    const uint64_t *hash;     /* per seq: copies hash */
    const uint16_t *sec;      /* per seq: section-code id */
    const char    (*secs)[16];/* section codes */
    sqlite3        *db;       /* the KB connection (FTS5 phrases and filters) */
    sqlite3_stmt   *ptf;      /* rows + weighted frequency of one phrase */
    sqlite3_stmt   *rows;     /* rows of a filter expression */
    orx_kb_tokenizer *tok;    /* query tokenizer */
};

/* orx_ptf(chunks_fts): weighted frequency of phrase 0 in the row (drug 2, section 0.5, text 1) */
static void ptf_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *res, int nval,
                   sqlite3_value **vals) {
    (void)nval; (void)vals;
    static const double W[4] = {2.0, 0.5, 1.0, 0.0};
    Fts5PhraseIter it;
    int col, off;
    double tf = 0;
    for (api->xPhraseFirst(fc, 0, &it, &col, &off); col >= 0; api->xPhraseNext(fc, &it, &col, &off)) tf += W[col & 3];
    sqlite3_result_double(res, tf);
}

static bool register_ptf(sqlite3 *db) {
    fts5_api *api = orx_kb_fts5(db);
    return api && api->xCreateFunction(api, "orx_ptf", NULL, ptf_fn, NULL) == SQLITE_OK;
}

static bool in_file(const orx_kb_impact *ix, uint64_t off, uint64_t bytes) {
    return off <= ix->size && bytes <= ix->size - off;
}

static bool layout_ok(orx_kb_impact *ix) {
    const ihdr *h = ix->h;
    uint64_t n = h->max_seq + 1;
    return !memcmp(h->magic, MAGIC, 8) && h->size == ix->size && h->max_seq < UINT32_MAX &&
           in_file(ix, h->dict_off, h->n_terms * sizeof(ientry)) && in_file(ix, h->hash_off, n * 8) &&
           in_file(ix, h->low_off, n) && in_file(ix, h->sec_off, n * 2) && in_file(ix, h->secs_off, h->n_secs * 16) &&
           h->dict_off % 8 == 0 && h->hash_off % 8 == 0 && h->sec_off % 2 == 0;
}

orx_status orx_kb_impact_open(sqlite3 *db, const char *kb_path, orx_kb_impact **out, orx_error *err) {
    *out = NULL;
    char name[512] = "", path[4700];
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'impact_file'", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    if (!name[0] || strchr(name, '/')) return ORX_OK;
    const char *slash = strrchr(kb_path, '/');
    snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - kb_path + 1) : 0, kb_path, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: impact index missing (rebuild with 'openrx kb index')", path);
    struct stat sb;
    orx_kb_impact *ix = calloc(1, sizeof *ix);
    if (!ix || fstat(fd, &sb) != 0 || sb.st_size < (off_t)sizeof(ihdr)) {
        close(fd);
        free(ix);
        return orx_fail(err, ORX_ERR_INVALID, "%s: not an impact index", path);
    }
    ix->size = (size_t)sb.st_size;
    ix->map = mmap(NULL, ix->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (ix->map == MAP_FAILED) {
        free(ix);
        return orx_fail(err, ORX_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    ix->h = (const ihdr *)ix->map;
    if (!layout_ok(ix)) {
        orx_kb_impact_free(ix);
        return orx_fail(err, ORX_ERR_INVALID, "%s: damaged impact index (rebuild with 'openrx kb index')", path);
    }
    ix->dict = (const ientry *)(ix->map + ix->h->dict_off);
    ix->strs = (const char *)(ix->map + ix->h->str_off);
    ix->low = ix->map + ix->h->low_off;
    ix->hash = (const uint64_t *)(ix->map + ix->h->hash_off);
    ix->sec = (const uint16_t *)(ix->map + ix->h->sec_off);
    ix->secs = (const char (*)[16])(ix->map + ix->h->secs_off);
    ix->db = db;
    orx_status st = orx_kb_tokenizer_create(db, &ix->tok, err);
    if (st == ORX_OK && (!register_ptf(db) ||
                         sqlite3_prepare_v2(db, "SELECT rowid, orx_ptf(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?1",
                                            -1, &ix->ptf, NULL) != SQLITE_OK ||
                         sqlite3_prepare_v2(db, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?1", -1, &ix->rows,
                                            NULL) != SQLITE_OK))
        st = orx_fail(err, ORX_ERR_DB, "impact index: %s", sqlite3_errmsg(db));
    if (st != ORX_OK) {
        orx_kb_impact_free(ix);
        return st;
    }
    *out = ix;
    return ORX_OK;
}

void orx_kb_impact_free(orx_kb_impact *ix) {
    if (!ix) return;
    if (ix->map && ix->map != MAP_FAILED) munmap(ix->map, ix->size);
    sqlite3_finalize(ix->ptf);
    sqlite3_finalize(ix->rows);
    orx_kb_tokenizer_free(ix->tok);
    free(ix);
}

uint64_t orx_kb_impact_hash(const orx_kb_impact *ix, int64_t rowid) {
    uint64_t seq = (uint64_t)rowid >> 8;
    return ix && seq <= ix->h->max_seq ? ix->hash[seq] : 0;
}

static const ientry *find_term(const orx_kb_impact *ix, const char *t);

long orx_kb_impact_drug_rows(orx_kb_impact *ix, const char *phrase) {
    char tok[2][64];
    if (orx_kb_tokenize_query(ix->tok, phrase, tok, 2) != 1) return -1;
    char key[80];
    snprintf(key, sizeof key, "\1%s", tok[0]);
    const ientry *e = find_term(ix, key);
    return e ? (long)e->df : 0;
}

/* chunks and avg length the index was built for (callers compare with the KB's meta) */
void orx_kb_impact_shape(const orx_kb_impact *ix, uint64_t *n_chunks, double *avg_len) {
    *n_chunks = ix->h->n_chunks;
    *avg_len = ix->h->avg_len;
}

/* ============================================================================================
 * Cursors
 * ========================================================================================== */
typedef struct cursor {
    /* posting list */
    const iblock  *bh;        /* block headers, NULL for an in-memory list */
    const uint8_t *data;      /* varints after the headers */
    uint32_t       nb, df;    /* blocks, postings */
    uint32_t       b;         /* current block */
    uint32_t       bseq[BLOCK], btf[BLOCK]; /* decoded current block */
    int            bn, bi;    /* postings in it / position */
    /* in-memory list (FTS5-evaluated phrase) */
    uint32_t      *mseq;      /* sequence numbers (owned) */
    double        *mtf;       /* weighted frequencies (owned) */
    size_t         mn, mi;    /* count / position */
    /* common */
    uint32_t       seq;       /* current sequence number, UINT32_MAX at the end */
    double         tf;        /* its weighted frequency */
    double         idf;       /* phrase IDF */
    double         ub;        /* bound of idf × f × class weight over the list */
    float          mmax;      /* in-memory list: largest f × class weight */
} cursor;

static const uint8_t *get_varint(const uint8_t *p, uint32_t *v) {
    uint32_t x = 0;
    int s = 0;
    while (*p & 128) { x |= (uint32_t)(*p++ & 127) << s; s += 7; }
    *v = x | ((uint32_t)*p++ << s);
    return p;
}

static void decode_block(cursor *c) {
    uint32_t prev = c->b ? c->bh[c->b - 1].last_seq : 0;
    int n = c->b + 1 < c->nb ? BLOCK : (int)(c->df - (c->nb - 1) * BLOCK);
    const uint8_t *p = c->data + c->bh[c->b].data_off;
    for (int i = 0; i < n; i++) {
        uint32_t d, t;
        p = get_varint(p, &d);
        p = get_varint(p, &t);
        prev += d;
        c->bseq[i] = prev;
        c->btf[i] = t;
    }
    c->bn = n;
    c->bi = 0;
}

static void cur_set(cursor *c) {
    if (c->bh) {
        if (c->bi < c->bn) { c->seq = c->bseq[c->bi]; c->tf = c->btf[c->bi] * 0.5; }
        else c->seq = UINT32_MAX;
    } else {
        if (c->mi < c->mn) { c->seq = c->mseq[c->mi]; c->tf = c->mtf[c->mi]; }
        else c->seq = UINT32_MAX;
    }
}

static void cur_next(cursor *c) {
    if (c->seq == UINT32_MAX) return;
    if (c->bh) {
        if (++c->bi >= c->bn && c->b + 1 < c->nb) { c->b++; decode_block(c); }
    } else {
        c->mi++;
    }
    cur_set(c);
}

/* first posting >= target */
static void cur_seek(cursor *c, uint32_t target) {
    if (c->seq >= target) return;
    if (c->bh) {
        if (c->bh[c->b].last_seq < target) {
            uint32_t lo = c->b + 1, hi = c->nb;
            while (lo < hi) { uint32_t m = (lo + hi) / 2; if (c->bh[m].last_seq < target) lo = m + 1; else hi = m; }
            if (lo >= c->nb) { c->seq = UINT32_MAX; return; }
            c->b = lo;
            decode_block(c);
        }
        while (c->bi < c->bn && c->bseq[c->bi] < target) c->bi++;
    } else {
        size_t lo = c->mi, hi = c->mn;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (c->mseq[m] < target) lo = m + 1; else hi = m; }
        c->mi = lo;
    }
    cur_set(c);
}

/* bound of this list's contribution for a document >= target (block bound without decoding) */
static double cur_bound_at(const cursor *c, uint32_t target) {
    if (c->seq == UINT32_MAX) return 0;
    if (!c->bh) return c->ub;
    uint32_t b = c->b;
    if (c->bh[b].last_seq < target) {
        uint32_t lo = b + 1, hi = c->nb;
        while (lo < hi) { uint32_t m = (lo + hi) / 2; if (c->bh[m].last_seq < target) lo = m + 1; else hi = m; }
        if (lo >= c->nb) return 0;
        b = lo;
    }
    return c->idf * (double)c->bh[b].ub;
}

/* an entry whose postings lie inside the file, aligned (a damaged file reads as "no postings") */
static bool entry_ok(const orx_kb_impact *ix, const ientry *e) {
    return e->post_off % 4 == 0 && e->n_blocks && e->df && in_file(ix, e->post_off, (uint64_t)e->n_blocks * sizeof(iblock)) &&
           (uint64_t)e->n_blocks == (e->df + BLOCK - 1) / BLOCK;
}

static const ientry *find_term(const orx_kb_impact *ix, const char *t) {
    size_t lo = 0, hi = ix->h->n_terms, tl = strlen(t);
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        const ientry *e = &ix->dict[m];
        if (!in_file(ix, ix->h->str_off + e->str_off, e->str_len)) return NULL;
        size_t n = e->str_len < tl ? e->str_len : tl;
        int c = memcmp(ix->strs + e->str_off, t, n);
        if (!c) c = (e->str_len > tl) - (e->str_len < tl);
        if (!c) return entry_ok(ix, e) ? e : NULL;
        if (c < 0) lo = m + 1;
        else hi = m;
    }
    return NULL;
}

static void cur_open_list(const orx_kb_impact *ix, const ientry *e, double idf, cursor *c) {
    memset(c, 0, sizeof *c);
    c->bh = (const iblock *)(ix->map + e->post_off);
    c->data = (const uint8_t *)(c->bh + e->n_blocks);
    c->nb = e->n_blocks;
    c->df = e->df;
    c->idf = idf;
    c->ub = idf * (double)e->max_ub;
    decode_block(c);
    cur_set(c);
}

/* weighted frequency of one phrase, evaluated by FTS5 (several tokens, or drug column only) */
static orx_status cur_open_fts(orx_kb_impact *ix, const orx_kb_iphrase *p, double avg_len, cursor *c,
                               orx_error *err) {
    memset(c, 0, sizeof *c);
    c->idf = p->idf;
    char *m = sqlite3_mprintf(p->drug_only ? "{drug} : \"%w\"" : "\"%w\"", p->text);
    if (!m) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    sqlite3_stmt *s = ix->ptf;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, m, -1, SQLITE_TRANSIENT);
    sqlite3_free(m);
    size_t cap = 0;
    double best = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (c->mn == cap) {
            cap = cap ? cap * 2 : 256;
            uint32_t *a = realloc(c->mseq, cap * sizeof *a);
            double *b = a ? realloc(c->mtf, cap * sizeof *b) : NULL;
            if (a) c->mseq = a;
            if (!a || !b) { sqlite3_reset(s); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
            c->mtf = b;
        }
        int64_t rowid = sqlite3_column_int64(s, 0);
        double tf = sqlite3_column_double(s, 1);
        c->mseq[c->mn] = (uint32_t)((uint64_t)rowid >> 8);
        c->mtf[c->mn++] = tf;
        double f = tf > 0 ? orx_kb_bm25_term(1.0, tf, orx_kb_lnorm(rowid, avg_len)) * orx_kb_class_weight((int)(rowid & 15)) : 0;
        if (f > best) best = f;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return orx_fail(err, ORX_ERR_DB, "impact search: %s", sqlite3_errmsg(ix->db));
    c->ub = p->idf * (double)round_up(best) * (1 + 1e-12);
    cur_set(c);
    return ORX_OK;
}

static void cur_close(cursor *c) {
    free(c->mseq);
    free(c->mtf);
}

/* ============================================================================================
 * Top-k heap (worst at the root: lowest score, then highest row id), one entry per copies hash
 * ========================================================================================== */
typedef struct hentry {
    double   score; /* exact orx_rank score */
    int64_t  rowid; /* chunk row id (ties: lower wins) */
    uint64_t hash;  /* copies hash of its text */
} hentry;

typedef struct topk {
    hentry *v;        /* heap */
    int     n, k;     /* entries / capacity */
    bool    collapse; /* one entry per hash */
} topk;

static bool worse(const hentry *a, const hentry *b) {
    return a->score < b->score || (a->score == b->score && a->rowid > b->rowid);
}

static void sift_down(topk *t, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && worse(&t->v[l], &t->v[m])) m = l;
        if (r < t->n && worse(&t->v[r], &t->v[m])) m = r;
        if (m == i) return;
        hentry x = t->v[i]; t->v[i] = t->v[m]; t->v[m] = x;
        i = m;
    }
}

static void sift_up(topk *t, int i) {
    while (i > 0 && worse(&t->v[i], &t->v[(i - 1) / 2])) {
        hentry x = t->v[i]; t->v[i] = t->v[(i - 1) / 2]; t->v[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

static double threshold(const topk *t) { return t->n < t->k ? -INFINITY : t->v[0].score; }

static void topk_offer(topk *t, hentry e) {
    if (t->collapse)
        for (int i = 0; i < t->n; i++)
            if (t->v[i].hash == e.hash) {
                if (worse(&t->v[i], &e)) { t->v[i] = e; sift_down(t, i); } /* score rose: sink past worse */
                return;
            }
    if (t->n < t->k) {
        t->v[t->n++] = e;
        sift_up(t, t->n - 1);
    } else if (worse(&t->v[0], &e)) {
        t->v[0] = e;
        sift_down(t, 0);
    }
}

static int cmp_best(const void *a, const void *b) {
    const hentry *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

/* ============================================================================================
 * Drug-name filters: rows whose drug column holds one phrase of every group, as sorted
 * sequence numbers (one-token phrases read the token's drug-column list, longer ones FTS5)
 * ========================================================================================== */
typedef struct allow {
    uint32_t *seq;    /* allowed chunk sequence numbers, ascending */
    size_t    n, cap; /* count / capacity */
    size_t    i;      /* search position */
} allow;

static bool allow_add(allow *a, uint32_t seq) {
    uint32_t *nv = orx_grow(a->seq, &a->cap, a->n, sizeof *nv, 1024);
    if (!nv) return false;
    a->seq = nv;
    a->seq[a->n++] = seq;
    return true;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}


static orx_status phrase_rows(orx_kb_impact *ix, const char *text, allow *a, orx_error *err) {
    char tok[8][64];
    int nt = orx_kb_tokenize_query(ix->tok, text, tok, 8);
    if (nt == 0) return ORX_OK;
    if (nt == 1) {
        char key[80];
        snprintf(key, sizeof key, "\1%s", tok[0]);
        const ientry *e = find_term(ix, key);
        if (!e) return ORX_OK;
        cursor c;
        cur_open_list(ix, e, 0, &c);
        for (; c.seq != UINT32_MAX; cur_next(&c))
            if (!allow_add(a, c.seq)) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        return ORX_OK;
    }
    char *m = sqlite3_mprintf("{anchor} : \"%w\"", text);
    if (!m) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    sqlite3_stmt *s = ix->rows;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, m, -1, SQLITE_TRANSIENT);
    sqlite3_free(m);
    int rc;
    orx_status st = ORX_OK;
    while (st == ORX_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if (!allow_add(a, (uint32_t)((uint64_t)sqlite3_column_int64(s, 0) >> 8)))
            st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    sqlite3_reset(s);
    if (st == ORX_OK && rc != SQLITE_DONE) st = orx_fail(err, ORX_ERR_DB, "impact search: %s", sqlite3_errmsg(ix->db));
    return st;
}

static void sort_unique(allow *a) {
    bool sorted = true; /* one phrase's list already is */
    for (size_t i = 1; i < a->n && sorted; i++) sorted = a->seq[i - 1] <= a->seq[i];
    if (!sorted) qsort(a->seq, a->n, sizeof *a->seq, cmp_u32);
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!w || a->seq[i] != a->seq[w - 1]) a->seq[w++] = a->seq[i];
    a->n = w;
}

/* g = g ∪ b, both sorted and unique */
static bool merge_into(allow *g, const allow *b) {
    if (!b->n) return true;
    size_t alloc = g->n + b->n;
    uint32_t *m = malloc(alloc * sizeof *m);
    if (!m) return false;
    size_t i = 0, j = 0, n = 0;
    while (i < g->n || j < b->n) {
        uint32_t x = i < g->n ? g->seq[i] : UINT32_MAX, y = j < b->n ? b->seq[j] : UINT32_MAX;
        uint32_t v = x < y ? x : y;
        m[n++] = v;
        i += x == v;
        j += y == v;
    }
    free(g->seq);
    g->seq = m;
    g->n = n;
    g->cap = alloc;
    return true;
}

static void intersect(allow *a, const allow *b) {
    size_t w = 0, j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && b->seq[j] < a->seq[i]) j++;
        if (j < b->n && b->seq[j] == a->seq[i]) a->seq[w++] = a->seq[i];
    }
    a->n = w;
}

static orx_status load_filters(orx_kb_impact *ix, const orx_kb_iquery *q, allow *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    orx_status st = ORX_OK;
    bool first = true;
    for (int i = 0; st == ORX_OK && i < q->n_filters; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = q->filters[j].group == q->filters[i].group;
        if (seen) continue;
        allow g = {0};
        for (int j = i; st == ORX_OK && j < q->n_filters; j++) {
            if (q->filters[j].group != q->filters[i].group) continue;
            allow one = {0};
            st = phrase_rows(ix, q->filters[j].text, &one, err);
            sort_unique(&one); /* a no-op for a token's list */
            if (st == ORX_OK && !merge_into(&g, &one)) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
            free(one.seq);
        }
        if (first) { *out = g; first = false; }
        else { intersect(out, &g); free(g.seq); }
    }
    if (!out->seq && !first && st == ORX_OK) out->seq = malloc(sizeof *out->seq); /* filtered to nothing */
    return st;
}

/* ============================================================================================
 * Search
 * ========================================================================================== */
typedef struct isearch {
    orx_kb_impact        *ix;      /* index */
    const orx_kb_iquery  *q;       /* query */
    cursor               *c;       /* one per scored phrase, query order (NULL entries: phrase absent) */
    bool                 *present; /* c[i] has postings */
    int                  *order;   /* present cursors by bound, ascending */
    int                   m;       /* present cursors */
    int                   first_ess; /* order[first_ess..m-1] are essential */
    double               *prefix;  /* prefix[i] = sum of bounds of order[0..i] */
    allow                 al;      /* drug filter rows, when filtered */
    uint16_t              want_sec;/* section-code id, 0 = any */
    bool                  no_sec;  /* the wanted section code is not in the index */
    topk                  top;     /* results */
    orx_kb_istats        *stats;   /* counters */
} isearch;

#define SLACK 1e-9 /* bounds are trusted only to this relative margin (rounding of sums) */

static bool beats(double bound, double theta) { return bound >= theta - fabs(theta) * SLACK; }

static void update_essential(isearch *s) {
    double th = threshold(&s->top);
    int e = 0;
    while (e < s->m && !beats(s->prefix[e], th)) e++;
    s->first_ess = e;
}

static int cmp_ub(const void *a, const void *b, void *ctx) {
    const cursor *c = ctx;
    double x = c[*(const int *)a].ub, y = c[*(const int *)b].ub;
    return x < y ? -1 : x > y ? 1 : (*(const int *)a - *(const int *)b);
}

/* exact score of seq as orx_rank computes it: phrases in query order, then the class weight */
static double exact_score(const isearch *s, int64_t rowid) {
    double lnorm = orx_kb_lnorm(rowid, s->ix->h->avg_len), score = 0;
    uint32_t seq = (uint32_t)((uint64_t)rowid >> 8);
    for (int p = 0; p < s->q->n_phrases; p++) {
        if (!s->present[p] || s->c[p].seq != seq || s->q->phrases[p].idf <= 0) continue;
        double tf = s->c[p].tf;
        if (tf > 0) score += orx_kb_bm25_term(s->q->phrases[p].idf, tf, lnorm);
    }
    return score * orx_kb_class_weight((int)(rowid & 15));
}

/* the non-essential lists probed for candidate seq; false when it cannot reach the top-k */
static bool probe_rest(isearch *s, uint32_t seq, double have, double cw, double lnorm) {
    double th = threshold(&s->top), rest = 0;
    for (int i = 0; i < s->first_ess; i++) rest += cur_bound_at(&s->c[s->order[i]], seq);
    if (!beats(have + rest, th)) return false;
    for (int i = s->first_ess - 1; i >= 0; i--) {
        cursor *c = &s->c[s->order[i]];
        rest -= cur_bound_at(c, seq);
        cur_seek(c, seq);
        if (c->seq == seq) have += orx_kb_bm25_term(c->idf, c->tf, lnorm) * cw;
        if (!beats(have + (rest > 0 ? rest : 0), th)) return false;
    }
    return true;
}

static void evaluate(isearch *s, uint32_t seq) {
    int64_t rowid = (int64_t)seq * 256 + s->ix->low[seq];
    double cw = orx_kb_class_weight((int)(rowid & 15)), lnorm = orx_kb_lnorm(rowid, s->ix->h->avg_len);
    double have = 0, th = threshold(&s->top);
    s->stats->candidates++;
    for (int i = s->first_ess; i < s->m; i++) {
        cursor *c = &s->c[s->order[i]];
        have += c->seq == seq ? orx_kb_bm25_term(c->idf, c->tf, lnorm) * cw : 0;
    }
    if (s->first_ess > 0 && !probe_rest(s, seq, have, cw, lnorm)) return;
    double score = exact_score(s, rowid);
    s->stats->scored++;
    if (!(score > th)) return; /* a later row loses ties */
    topk_offer(&s->top, (hentry){score, rowid, s->ix->hash[seq]});
    update_essential(s);
}

static void advance_essential(isearch *s, uint32_t seq) {
    for (int i = s->first_ess; i < s->m; i++) {
        cursor *c = &s->c[s->order[i]];
        if (c->seq == seq) cur_next(c);
    }
}

/* Block-max check: the sum over all lists of the bound of the block that holds rows >= d; when
 * it cannot beat the k-th score, no row up to the end of the shortest of those blocks (*upto)
 * can, and the essential lists skip past it. */
static bool block_may_beat(const isearch *s, uint32_t d, uint32_t *upto) {
    double th = threshold(&s->top);
    if (th == -INFINITY) return true;
    double ub = 0;
    uint32_t lim = UINT32_MAX;
    for (int i = 0; i < s->m; i++) {
        const cursor *c = &s->c[s->order[i]];
        if (c->seq == UINT32_MAX) continue;
        if (!c->bh) { ub += c->ub; continue; }
        uint32_t b = c->b;
        if (c->bh[b].last_seq < d) {
            uint32_t lo = b + 1, hi = c->nb;
            while (lo < hi) { uint32_t m = (lo + hi) / 2; if (c->bh[m].last_seq < d) lo = m + 1; else hi = m; }
            if (lo >= c->nb) continue;
            b = lo;
        }
        ub += c->idf * (double)c->bh[b].ub;
        if (c->bh[b].last_seq < lim) lim = c->bh[b].last_seq;
    }
    if (beats(ub * (1 + SLACK), th) || lim == UINT32_MAX) return true;
    *upto = lim;
    return false;
}

static void run(isearch *s) {
    for (;;) {
        if (s->first_ess >= s->m) return;
        uint32_t d = UINT32_MAX;
        for (int i = s->first_ess; i < s->m; i++)
            if (s->c[s->order[i]].seq < d) d = s->c[s->order[i]].seq;
        if (d == UINT32_MAX || d > s->ix->h->max_seq) return;
        if (s->al.seq) { /* drug filter: only allowed rows */
            while (s->al.i < s->al.n && s->al.seq[s->al.i] < d) s->al.i++;
            if (s->al.i >= s->al.n) return;
            if (s->al.seq[s->al.i] != d) {
                for (int i = s->first_ess; i < s->m; i++) cur_seek(&s->c[s->order[i]], s->al.seq[s->al.i]);
                continue;
            }
        }
        uint32_t upto = d;
        if (!block_may_beat(s, d, &upto)) { /* no row in [d, upto] can reach the top-k */
            for (int i = s->first_ess; i < s->m; i++) cur_seek(&s->c[s->order[i]], upto + 1);
            continue;
        }
        if (!s->want_sec || s->ix->sec[d] == s->want_sec) evaluate(s, d);
        advance_essential(s, d);
    }
}

static orx_status open_cursors(isearch *s, orx_error *err) {
    const orx_kb_iquery *q = s->q;
    for (int p = 0; p < q->n_phrases; p++) {
        const orx_kb_iphrase *ph = &q->phrases[p];
        if (ph->idf <= 0) continue;
        char tok[8][64];
        int nt = orx_kb_tokenize_query(s->ix->tok, ph->text, tok, 8);
        if (nt == 0) continue; /* no token: FTS5 matches nothing for it */
        if (nt == 1) { /* a drug-column phrase reads the token's drug-column list */
            char key[80];
            snprintf(key, sizeof key, "%s%s", ph->drug_only ? "\1" : "", tok[0]);
            const ientry *e = find_term(s->ix, key);
            if (!e) continue;
            cur_open_list(s->ix, e, ph->idf, &s->c[p]);
        } else {
            orx_status st = cur_open_fts(s->ix, ph, s->ix->h->avg_len, &s->c[p], err);
            if (st != ORX_OK) return st;
            if (!s->c[p].mn) continue;
        }
        s->present[p] = true;
        s->order[s->m++] = p;
    }
    qsort_r(s->order, (size_t)s->m, sizeof *s->order, cmp_ub, s->c);
    double sum = 0;
    for (int i = 0; i < s->m; i++) {
        sum += s->c[s->order[i]].ub;
        s->prefix[i] = sum * (1 + SLACK);
    }
    return ORX_OK;
}

orx_status orx_kb_impact_search(orx_kb_impact *ix, const orx_kb_iquery *q, int64_t *ids, double *scores, size_t *n,
                                orx_kb_istats *stats, orx_error *err) {
    *n = 0;
    orx_kb_istats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    int np = q->n_phrases > 0 ? q->n_phrases : 0, k = q->k > 0 ? q->k : 8;
    isearch s = {.ix = ix, .q = q, .stats = stats};
    s.c = calloc((size_t)np + 1, sizeof *s.c);
    s.present = calloc((size_t)np + 1, sizeof *s.present);
    s.order = calloc((size_t)np + 1, sizeof *s.order);
    s.prefix = calloc((size_t)np + 1, sizeof *s.prefix);
    s.top = (topk){.v = calloc((size_t)k, sizeof(hentry)), .k = k, .collapse = q->collapse};
    orx_status st = ORX_OK;
    if (!s.c || !s.present || !s.order || !s.prefix || !s.top.v) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK && q->section && *q->section) {
        s.no_sec = true;
        for (uint64_t i = 1; i < ix->h->n_secs; i++)
            if (!strncmp(ix->secs[i], q->section, 15)) { s.want_sec = (uint16_t)i; s.no_sec = false; }
    }
    if (st == ORX_OK && q->n_filters > 0) {
        st = load_filters(ix, q, &s.al, err);
        if (st == ORX_OK && !s.al.n) s.no_sec = true; /* nothing passes the filter */
    }
    if (st == ORX_OK && !s.no_sec) st = open_cursors(&s, err);
    if (st == ORX_OK && !s.no_sec) run(&s);
    if (st == ORX_OK) {
        qsort(s.top.v, (size_t)s.top.n, sizeof *s.top.v, cmp_best);
        for (int i = 0; i < s.top.n; i++) {
            ids[i] = s.top.v[i].rowid;
            scores[i] = s.top.v[i].score;
        }
        *n = (size_t)s.top.n;
    }
    for (int p = 0; s.c && p < np; p++) cur_close(&s.c[p]);
    free(s.c); free(s.present); free(s.order); free(s.prefix); free(s.top.v); free(s.al.seq);
    return st;
}
