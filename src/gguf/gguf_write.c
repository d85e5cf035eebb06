/* gguf_write.c — GGUF v3 writer: metadata + tensors collected in memory (or streamed through a
 * fill callback), written atomically (temp file, fsync, rename) or into a memory buffer. */
#include "gguf/gguf.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ============================================================================================
 * Writer state
 * ========================================================================================== */
typedef struct wkv {
    char          *key;  /* NUL-terminated */
    orx_gguf_vtype type; /* value type */
    orx_buf        val;  /* encoded value bytes (without key and type) */
} wkv;

typedef struct wtensor {
    char       *name;   /* NUL-terminated */
    uint32_t    type;   /* ggml type */
    uint32_t    n_dims; /* 1..4 */
    int64_t     ne[4];  /* dims, innermost first */
    uint64_t    nbytes; /* data bytes */
    const void *data;   /* NULL = produced by the fill callback */
    void       *owned;  /* copy owned by the writer (== data) or NULL */
} wtensor;

struct orx_gguf_writer {
    wkv     *kvs;       /* [n_kv] */
    size_t   n_kv, cap_kv;
    wtensor *ts;        /* [n_t] */
    size_t   n_t, cap_t;
};

orx_gguf_writer *orx_gguf_writer_create(void) { return calloc(1, sizeof(orx_gguf_writer)); }

void orx_gguf_writer_free(orx_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kvs[i].key);
        orx_buf_clear(&w->kvs[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->ts[i].name);
        free(w->ts[i].owned);
    }
    free(w->kvs);
    free(w->ts);
    free(w);
}

/* ============================================================================================
 * Metadata
 * ========================================================================================== */
/* Find or append the entry for key, with its value buffer emptied. */
static wkv *slot(orx_gguf_writer *w, const char *key, orx_gguf_vtype t, orx_error *err) {
    if (!key || !*key || strlen(key) > ORX_GGUF_MAX_KEY_LEN) {
        orx_fail(err, ORX_ERR_USAGE, "gguf writer: bad key");
        return NULL;
    }
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kvs[i].key, key)) {
            orx_buf_reset(&w->kvs[i].val);
            w->kvs[i].type = t;
            return &w->kvs[i];
        }
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *n = realloc(w->kvs, nc * sizeof(*n));
        if (!n) goto oom;
        w->kvs = n;
        w->cap_kv = nc;
    }
    wkv *e = &w->kvs[w->n_kv];
    orx_buf_init(&e->val);
    if (!(e->key = orx_strdup(key))) goto oom;
    e->type = t;
    w->n_kv++;
    return e;
oom:
    orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
    return NULL;
}

static orx_status set_bytes(orx_gguf_writer *w, const char *key, orx_gguf_vtype t, const void *p,
                            size_t n, orx_error *err) {
    wkv *e = slot(w, key, t, err);
    if (!e) return err ? err->code : ORX_ERR_NOMEM;
    if (!orx_buf_append(&e->val, p, n)) return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
    return ORX_OK;
}

#define SETTER(fn, ctype, vt)                                                                     \
    orx_status fn(orx_gguf_writer *w, const char *key, ctype v, orx_error *err) {               \
        return set_bytes(w, key, vt, &v, sizeof v, err);                                          \
    }
SETTER(orx_gguf_writer_set_u8, uint8_t, ORX_GGUF_UINT8)
SETTER(orx_gguf_writer_set_i8, int8_t, ORX_GGUF_INT8)
SETTER(orx_gguf_writer_set_u16, uint16_t, ORX_GGUF_UINT16)
SETTER(orx_gguf_writer_set_i16, int16_t, ORX_GGUF_INT16)
SETTER(orx_gguf_writer_set_u32, uint32_t, ORX_GGUF_UINT32)
SETTER(orx_gguf_writer_set_i32, int32_t, ORX_GGUF_INT32)
SETTER(orx_gguf_writer_set_u64, uint64_t, ORX_GGUF_UINT64)
SETTER(orx_gguf_writer_set_i64, int64_t, ORX_GGUF_INT64)
SETTER(orx_gguf_writer_set_f32, float, ORX_GGUF_FLOAT32)
SETTER(orx_gguf_writer_set_f64, double, ORX_GGUF_FLOAT64)
#undef SETTER

orx_status orx_gguf_writer_set_bool(orx_gguf_writer *w, const char *key, bool v, orx_error *err) {
    uint8_t b = v ? 1 : 0;
    return set_bytes(w, key, ORX_GGUF_BOOL, &b, 1, err);
}

orx_status orx_gguf_writer_set_strn(orx_gguf_writer *w, const char *key, const char *s, size_t len,
                                    orx_error *err) {
    wkv *e = slot(w, key, ORX_GGUF_STRING, err);
    if (!e) return err ? err->code : ORX_ERR_NOMEM;
    uint64_t n = len;
    if (!orx_buf_append(&e->val, &n, 8) || !orx_buf_append(&e->val, s, len))
        return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
    return ORX_OK;
}

orx_status orx_gguf_writer_set_str(orx_gguf_writer *w, const char *key, const char *s, orx_error *err) {
    return orx_gguf_writer_set_strn(w, key, s, strlen(s), err);
}

static const size_t ELEM_SIZE[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

orx_status orx_gguf_writer_set_arr(orx_gguf_writer *w, const char *key, orx_gguf_vtype elem_type,
                                   const void *data, uint64_t n, orx_error *err) {
    if ((unsigned)elem_type > ORX_GGUF_FLOAT64 || !ELEM_SIZE[elem_type])
        return orx_fail(err, ORX_ERR_USAGE, "gguf writer: '%s': numeric element type required", key);
    wkv *e = slot(w, key, ORX_GGUF_ARRAY, err);
    if (!e) return err ? err->code : ORX_ERR_NOMEM;
    uint32_t et = elem_type;
    if (!orx_buf_append(&e->val, &et, 4) || !orx_buf_append(&e->val, &n, 8) ||
        !orx_buf_append(&e->val, data, n * ELEM_SIZE[elem_type]))
        return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
    return ORX_OK;
}

orx_status orx_gguf_writer_set_arr_str(orx_gguf_writer *w, const char *key, const char *const *strs,
                                       const size_t *lens, uint64_t n, orx_error *err) {
    wkv *e = slot(w, key, ORX_GGUF_ARRAY, err);
    if (!e) return err ? err->code : ORX_ERR_NOMEM;
    uint32_t et = ORX_GGUF_STRING;
    bool ok = orx_buf_append(&e->val, &et, 4) && orx_buf_append(&e->val, &n, 8);
    for (uint64_t i = 0; ok && i < n; i++) {
        uint64_t l = lens ? lens[i] : strlen(strs[i]);
        ok = orx_buf_append(&e->val, &l, 8) && orx_buf_append(&e->val, strs[i], l);
    }
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
}

orx_status orx_gguf_writer_set_raw(orx_gguf_writer *w, const char *key, orx_gguf_vtype t,
                                   const void *bytes, size_t len, orx_error *err) {
    if ((unsigned)t > ORX_GGUF_FLOAT64) return orx_fail(err, ORX_ERR_USAGE, "gguf writer: bad type");
    return set_bytes(w, key, t, bytes, len, err);
}

/* ============================================================================================
 * Tensors
 * ========================================================================================== */
orx_status orx_gguf_writer_add_tensor(orx_gguf_writer *w, const char *name, uint32_t type,
                                      uint32_t n_dims, const int64_t *ne, const void *data,
                                      bool copy, orx_error *err) {
    int64_t bv;
    size_t bb;
    if (!name || !*name || strlen(name) > ORX_GGUF_MAX_NAME_LEN)
        return orx_fail(err, ORX_ERR_USAGE, "gguf writer: bad tensor name");
    if (!orx_gguf_type_size(type, &bv, &bb))
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "gguf writer: tensor '%s': unknown type %u", name, type);
    if (n_dims < 1 || n_dims > 4)
        return orx_fail(err, ORX_ERR_USAGE, "gguf writer: tensor '%s': n_dims %u", name, n_dims);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->ts[i].name, name))
            return orx_fail(err, ORX_ERR_USAGE, "gguf writer: duplicate tensor '%s'", name);
    wtensor t = {.type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    int64_t nel = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 1) return orx_fail(err, ORX_ERR_USAGE, "gguf writer: tensor '%s': dim %u < 1", name, d);
        t.ne[d] = ne[d];
        nel *= ne[d];
    }
    if (t.ne[0] % bv)
        return orx_fail(err, ORX_ERR_USAGE, "gguf writer: tensor '%s': row %" PRId64 " not a multiple of %" PRId64,
                        name, t.ne[0], bv);
    t.nbytes = (uint64_t)(nel / bv) * bb;
    if (w->n_t == w->cap_t) {
        size_t nc = w->cap_t ? w->cap_t * 2 : 32;
        wtensor *n = realloc(w->ts, nc * sizeof(*n));
        if (!n) return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
        w->ts = n;
        w->cap_t = nc;
    }
    if (!(t.name = orx_strdup(name))) return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory");
    if (data && copy) {
        if (!(t.owned = malloc(t.nbytes ? t.nbytes : 1))) {
            free(t.name);
            return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory for tensor '%s'", name);
        }
        memcpy(t.owned, data, t.nbytes);
        data = t.owned;
    }
    t.data = data;
    w->ts[w->n_t++] = t;
    return ORX_OK;
}

/* ============================================================================================
 * Output
 * ========================================================================================== */
typedef struct sink {
    FILE    *f;   /* file output, or NULL */
    orx_buf *b;   /* memory output, or NULL */
    uint64_t pos; /* bytes written */
    bool     ok;  /* false after a write failure */
} sink;

static void put(sink *s, const void *p, size_t n) {
    if (!s->ok || !n) return;
    if (s->f) s->ok = fwrite(p, 1, n, s->f) == n;
    else s->ok = orx_buf_append(s->b, p, n);
    s->pos += n;
}

static void put_u32(sink *s, uint32_t v) { put(s, &v, 4); }
static void put_u64(sink *s, uint64_t v) { put(s, &v, 8); }
static void put_str(sink *s, const char *str) {
    put_u64(s, strlen(str));
    put(s, str, strlen(str));
}
static void pad_to(sink *s, uint64_t align) {
    static const uint8_t zeros[64];
    while (s->pos % align) {
        size_t n = (size_t)(align - s->pos % align);
        put(s, zeros, n > sizeof zeros ? sizeof zeros : n);
    }
}

static uint64_t alignment_of(const orx_gguf_writer *w) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kvs[i].key, "general.alignment") && w->kvs[i].type == ORX_GGUF_UINT32) {
            uint32_t a;
            memcpy(&a, w->kvs[i].val.data, 4);
            if (a && !(a & (a - 1)) && a <= ORX_GGUF_MAX_ALIGNMENT) return a;
        }
    return 32;
}

static orx_status write_all(orx_gguf_writer *w, sink *s, orx_gguf_fill_fn fill, void *ctx, orx_error *err) {
    uint64_t a = alignment_of(w), off = 0;
    put(s, "GGUF", 4);
    put_u32(s, 3);
    put_u64(s, w->n_t);
    put_u64(s, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(s, w->kvs[i].key);
        put_u32(s, (uint32_t)w->kvs[i].type);
        put(s, w->kvs[i].val.data, w->kvs[i].val.len);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->ts[i];
        put_str(s, t->name);
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(s, (uint64_t)t->ne[d]);
        put_u32(s, t->type);
        put_u64(s, off);
        off += (t->nbytes + a - 1) / a * a;
    }
    pad_to(s, a);
    void *tmp = NULL;
    orx_status st = ORX_OK;
    for (size_t i = 0; i < w->n_t && s->ok && !st; i++) {
        const wtensor *t = &w->ts[i];
        const void *data = t->data;
        if (!data) {
            if (!fill) return orx_fail(err, ORX_ERR_USAGE, "gguf writer: tensor '%s' has no data", t->name);
            free(tmp);
            if (!(tmp = malloc(t->nbytes ? t->nbytes : 1)))
                return orx_fail(err, ORX_ERR_NOMEM, "gguf writer: out of memory for tensor '%s'", t->name);
            if ((st = fill(ctx, (int64_t)i, t->name, tmp, t->nbytes, err))) break;
            data = tmp;
        }
        put(s, data, t->nbytes);
        pad_to(s, a);
    }
    free(tmp);
    if (st) return st;
    if (!s->ok) return orx_fail(err, s->f ? ORX_ERR_IO : ORX_ERR_NOMEM, "gguf writer: write failed: %s",
                                s->f ? strerror(errno) : "out of memory");
    return ORX_OK;
}

orx_status orx_gguf_writer_write_memory(orx_gguf_writer *w, void **out_data, size_t *out_len,
                                        orx_error *err) {
    orx_buf b;
    orx_buf_init(&b);
    sink s = {NULL, &b, 0, true};
    orx_status st = write_all(w, &s, NULL, NULL, err);
    if (st) {
        orx_buf_clear(&b);
        return st;
    }
    *out_len = b.len;
    *out_data = orx_buf_steal(&b);
    return ORX_OK;
}

orx_status orx_gguf_writer_write(orx_gguf_writer *w, const char *path, orx_gguf_fill_fn fill,
                                 void *ctx, orx_error *err) {
    orx_buf tmp;
    orx_buf_init(&tmp);
    if (!orx_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()))
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    FILE *f = fopen(tmp.data, "wb");
    if (!f) {
        orx_status st = orx_fail(err, ORX_ERR_IO, "%s: cannot create: %s", tmp.data, strerror(errno));
        orx_buf_clear(&tmp);
        return st;
    }
    sink s = {f, NULL, 0, true};
    orx_status st = write_all(w, &s, fill, ctx, err);
    if (!st && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = orx_fail(err, ORX_ERR_IO, "%s: write failed: %s", tmp.data, strerror(errno));
    if (fclose(f) != 0 && !st) st = orx_fail(err, ORX_ERR_IO, "%s: close failed: %s", tmp.data, strerror(errno));
    if (!st && rename(tmp.data, path) != 0)
        st = orx_fail(err, ORX_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    if (st) {
        unlink(tmp.data);
    } else {
        char *dcopy = orx_strdup(path);
        int dfd = dcopy ? open(dirname(dcopy), O_RDONLY) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    orx_buf_clear(&tmp);
    return st;
}
