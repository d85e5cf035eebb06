/* gguf.c — GGUF v2/v3 reader: mmap, validate every count/offset/size, index keys and tensors. */
#include "gguf/gguf.h"
#include "util/util.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * ggml type table (block geometry only; kernels live in engine/)
 * ========================================================================================== */
typedef struct type_info {
    const char *name;   /* ggml's name */
    int64_t     values; /* values per block */
    size_t      bytes;  /* bytes per block */
} type_info;

static const type_info TYPES[] = {
    [0] = {"F32", 1, 4},        [1] = {"F16", 1, 2},         [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},     [6] = {"Q5_0", 32, 22},      [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},     [9] = {"Q8_1", 32, 36},      [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},  [12] = {"Q4_K", 256, 144},   [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},  [15] = {"Q8_K", 256, 292},   [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74}, [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},  [21] = {"IQ3_S", 256, 110},  [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},        [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},       [27] = {"I64", 1, 8},        [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},  [30] = {"BF16", 1, 2},       [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},
};
#define N_TYPES (sizeof(TYPES) / sizeof(TYPES[0]))

const char *orx_gguf_type_name(uint32_t type) {
    return type < N_TYPES ? TYPES[type].name : NULL;
}

bool orx_gguf_type_size(uint32_t type, int64_t *block_values, size_t *block_bytes) {
    if (type >= N_TYPES || !TYPES[type].name) return false;
    if (block_values) *block_values = TYPES[type].values;
    if (block_bytes) *block_bytes = TYPES[type].bytes;
    return true;
}

static const char *VTYPE_NAMES[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                    "bool", "string", "array", "u64", "i64", "f64"};
static const size_t VTYPE_SIZE[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *orx_gguf_vtype_name(orx_gguf_vtype t) {
    return (unsigned)t <= ORX_GGUF_FLOAT64 ? VTYPE_NAMES[t] : "?";
}

/* ============================================================================================
 * The opened file
 * ========================================================================================== */
typedef struct kv {
    char          *key;      /* NUL-terminated copy */
    orx_gguf_vtype type;     /* value type */
    orx_gguf_vtype elem;     /* arrays: element type */
    uint64_t       n;        /* arrays: element count; strings: byte length */
    uint64_t       data;     /* byte offset of the value (strings: first char; arrays: first elem) */
    uint64_t      *str_off;  /* string arrays: offset of each element's u64 length prefix */
} kv;

struct orx_gguf {
    orx_mmap         map;       /* the mapping (addr NULL when opened over memory) */
    const uint8_t   *base;      /* file bytes */
    uint64_t         size;      /* file size, bytes */
    uint32_t         version;   /* 2 or 3 */
    uint64_t         alignment; /* data alignment, bytes */
    uint64_t         data_off;  /* start of the data section, bytes */
    int64_t          n_kv;      /* key/value count */
    kv              *kvs;       /* [n_kv] */
    int64_t          n_tensors; /* tensor count */
    orx_gguf_tensor *tensors;   /* [n_tensors] */
};

/* ============================================================================================
 * Bounds-checked cursor
 * ========================================================================================== */
typedef struct rd {
    const uint8_t *p;    /* file bytes */
    uint64_t       size; /* bytes */
    uint64_t       pos;  /* cursor */
    const char    *path; /* for messages */
    orx_error     *err;  /* out */
} rd;

static orx_status rd_need(rd *r, uint64_t n, const char *what) {
    if (n > r->size - r->pos)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte %" PRIu64 ": truncated file: %s needs %" PRIu64
                        " bytes, only %" PRIu64 " left (file size %" PRIu64 ")",
                        r->path, r->pos, what, n, r->size - r->pos, r->size);
    return ORX_OK;
}

/* n little-endian bytes into v (the host is little-endian) */
static orx_status rd_fixed(rd *r, void *v, uint64_t n, const char *what) {
    orx_status st = rd_need(r, n, what);
    if (st) return st;
    memcpy(v, r->p + r->pos, (size_t)n);
    r->pos += n;
    return ORX_OK;
}

static orx_status rd_u32(rd *r, uint32_t *v, const char *what) { return rd_fixed(r, v, 4, what); }
static orx_status rd_u64(rd *r, uint64_t *v, const char *what) { return rd_fixed(r, v, 8, what); }

/* string: u64 length + bytes; returns offset of the chars */
static orx_status rd_str(rd *r, uint64_t max_len, uint64_t *off, uint64_t *len, const char *what) {
    uint64_t at = r->pos;
    orx_status st = rd_u64(r, len, what);
    if (st) return st;
    if (*len > max_len)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte %" PRIu64 ": %s length %" PRIu64 " exceeds the limit %" PRIu64,
                        r->path, at, what, *len, max_len);
    if ((st = rd_need(r, *len, what))) return st;
    *off = r->pos;
    r->pos += *len;
    return ORX_OK;
}

/* Read a string of at most max_len bytes that names something (what: "key") into *out, a copy the
 * caller frees (set even when it holds a NUL byte, which is an error). */
static orx_status rd_name(rd *r, uint64_t max_len, const char *what, char **out) {
    uint64_t at = r->pos, off = 0, len = 0;
    orx_status st = rd_str(r, max_len, &off, &len, what);
    if (st) return st;
    if (!(*out = orx_strndup((const char *)r->p + off, len))) return orx_fail(r->err, ORX_ERR_NOMEM, "out of memory");
    if (strlen(*out) != len)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": %s contains a NUL byte", r->path, at, what);
    return ORX_OK;
}

/* Skip over one value of type t, validating it (nested arrays up to ORX_GGUF_MAX_DEPTH). */
static orx_status skip_value(rd *r, uint32_t t, int depth) {
    orx_status st;
    if (t > ORX_GGUF_FLOAT64)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": unknown value type %u",
                        r->path, r->pos, t);
    if (t == ORX_GGUF_STRING) {
        uint64_t off, len;
        return rd_str(r, UINT64_MAX, &off, &len, "string value");
    }
    if (t != ORX_GGUF_ARRAY) {
        if ((st = rd_need(r, VTYPE_SIZE[t], "value"))) return st;
        r->pos += VTYPE_SIZE[t];
        return ORX_OK;
    }
    if (depth >= ORX_GGUF_MAX_DEPTH)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": arrays nested deeper than %d",
                        r->path, r->pos, ORX_GGUF_MAX_DEPTH);
    uint32_t et;
    uint64_t n, at = r->pos;
    if ((st = rd_u32(r, &et, "array element type")) || (st = rd_u64(r, &n, "array length"))) return st;
    if (et > ORX_GGUF_FLOAT64)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": unknown array element type %u",
                        r->path, at, et);
    uint64_t min_elem = et == ORX_GGUF_STRING ? 8 : et == ORX_GGUF_ARRAY ? 12 : VTYPE_SIZE[et];
    if (n > (r->size - r->pos) / min_elem)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte %" PRIu64 ": array of %" PRIu64 " %s elements cannot fit in the "
                        "%" PRIu64 " bytes left",
                        r->path, at, n, VTYPE_NAMES[et], r->size - r->pos);
    if (et != ORX_GGUF_STRING && et != ORX_GGUF_ARRAY) {
        r->pos += n * min_elem;
        return ORX_OK;
    }
    for (uint64_t i = 0; i < n; i++)
        if ((st = skip_value(r, et, depth + 1))) return st;
    return ORX_OK;
}

/* ============================================================================================
 * Parsing
 * ========================================================================================== */
static orx_status parse_header(rd *r, orx_gguf *g, uint64_t *n_tensors, uint64_t *n_kv) {
    orx_status st = rd_need(r, 4, "magic");
    if (st) return st;
    if (memcmp(r->p, "GGUF", 4) != 0)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte 0: bad magic %02x %02x %02x %02x (expected \"GGUF\"): not a GGUF file",
                        r->path, r->p[0], r->p[1], r->p[2], r->p[3]);
    r->pos = 4;
    if ((st = rd_u32(r, &g->version, "version"))) return st;
    if (g->version == 1)
        return orx_fail(r->err, ORX_ERR_UNSUPPORTED,
                        "%s: byte 4: GGUF version 1 is not supported (only v2 and v3); "
                        "convert the file with a current converter", r->path);
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFF) == 0)
            return orx_fail(r->err, ORX_ERR_UNSUPPORTED,
                            "%s: byte 4: version field 0x%08x looks big-endian; only little-endian "
                            "GGUF is supported", r->path, g->version);
        return orx_fail(r->err, ORX_ERR_UNSUPPORTED, "%s: byte 4: unsupported GGUF version %u",
                        r->path, g->version);
    }
    if ((st = rd_u64(r, n_tensors, "tensor count")) || (st = rd_u64(r, n_kv, "key/value count")))
        return st;
    if (*n_tensors > ORX_GGUF_MAX_TENSORS)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte 8: tensor count %" PRIu64 " exceeds the limit %d",
                        r->path, *n_tensors, ORX_GGUF_MAX_TENSORS);
    if (*n_kv > ORX_GGUF_MAX_KV)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte 16: key/value count %" PRIu64 " exceeds the limit %d",
                        r->path, *n_kv, ORX_GGUF_MAX_KV);
    /* each kv needs >= 8+0+4+1 bytes, each tensor info >= 8+4+8+4+8 */
    if (*n_kv > r->size / 13 || *n_tensors > r->size / 32)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte 8: %" PRIu64 " tensors and %" PRIu64 " key/values cannot fit in "
                        "a %" PRIu64 "-byte file", r->path, *n_tensors, *n_kv, r->size);
    return ORX_OK;
}

static orx_status index_string_array(rd *r, kv *e) {
    e->str_off = malloc((e->n ? e->n : 1) * sizeof(uint64_t));
    if (!e->str_off)
        return orx_fail(r->err, ORX_ERR_NOMEM, "%s: out of memory indexing '%s'", r->path, e->key);
    uint64_t pos = e->data;
    for (uint64_t i = 0; i < e->n; i++) {
        uint64_t len;
        e->str_off[i] = pos;
        memcpy(&len, r->p + pos, 8); /* already validated by skip_value */
        pos += 8 + len;
    }
    return ORX_OK;
}

static orx_status parse_kv(rd *r, orx_gguf *g, kv *e) {
    orx_status st = rd_name(r, ORX_GGUF_MAX_KEY_LEN, "key", &e->key);
    if (st) return st;
    uint32_t t;
    if ((st = rd_u32(r, &t, "value type"))) return st;
    if (t > ORX_GGUF_FLOAT64)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": key '%s' has unknown value type %u",
                        r->path, r->pos - 4, e->key, t);
    e->type = (orx_gguf_vtype)t;
    uint64_t vstart = r->pos;
    if ((st = skip_value(r, t, 0))) return orx_error_prefix(r->err, "key '%s'", e->key), st;
    if (t == ORX_GGUF_STRING) {
        memcpy(&e->n, r->p + vstart, 8);
        e->data = vstart + 8;
    } else if (t == ORX_GGUF_ARRAY) {
        uint32_t et;
        memcpy(&et, r->p + vstart, 4);
        memcpy(&e->n, r->p + vstart + 4, 8);
        e->elem = (orx_gguf_vtype)et;
        e->data = vstart + 12;
        if (et == ORX_GGUF_STRING && (st = index_string_array(r, e))) return st;
    } else {
        e->data = vstart;
    }
    (void)g;
    return ORX_OK;
}

static orx_status parse_tensor_info(rd *r, orx_gguf_tensor *t) {
    uint64_t at = r->pos;
    char *name = NULL;
    orx_status st = rd_name(r, ORX_GGUF_MAX_NAME_LEN, "tensor name", &name);
    t->name = name;
    if (st) return st;
    if ((st = rd_u32(r, &t->n_dims, "tensor n_dims"))) return st;
    if (t->n_dims < 1 || t->n_dims > 4)
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": tensor '%s' has %u dimensions (1..4 allowed)",
                        r->path, r->pos - 4, t->name, t->n_dims);
    int64_t nel = 1;
    for (int d = 0; d < 4; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t v;
        if ((st = rd_u64(r, &v, "tensor dimension"))) return st;
        if (v < 1 || v > ((uint64_t)1 << 40) || (uint64_t)nel > (((uint64_t)1 << 50) / v))
            return orx_fail(r->err, ORX_ERR_PARSE,
                            "%s: byte %" PRIu64 ": tensor '%s' dimension %u = %" PRIu64 " is absurd "
                            "(must be 1..2^40 and the element count at most 2^50)",
                            r->path, r->pos - 8, t->name, d, v);
        t->ne[d] = (int64_t)v;
        nel *= (int64_t)v;
    }
    if ((st = rd_u32(r, &t->type, "tensor type"))) return st;
    int64_t bv;
    size_t bb;
    if (!orx_gguf_type_size(t->type, &bv, &bb))
        return orx_fail(r->err, ORX_ERR_UNSUPPORTED, "%s: byte %" PRIu64 ": tensor '%s' has unknown type %u",
                        r->path, r->pos - 4, t->name, t->type);
    if (t->ne[0] % bv)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: byte %" PRIu64 ": tensor '%s' row length %" PRId64 " is not a multiple "
                        "of the %s block size %" PRId64, r->path, at, t->name, t->ne[0], TYPES[t->type].name, bv);
    t->nbytes = (uint64_t)(nel / bv) * bb;
    if ((st = rd_u64(r, &t->offset, "tensor offset"))) return st;
    return ORX_OK;
}

static orx_status check_alignment(rd *r, orx_gguf *g) {
    g->alignment = 32;
    int64_t k = orx_gguf_find_key(g, "general.alignment");
    if (k < 0) return ORX_OK;
    uint32_t a;
    if (g->kvs[k].type != ORX_GGUF_UINT32 || !orx_gguf_get_u32(g, "general.alignment", &a))
        return orx_fail(r->err, ORX_ERR_PARSE, "%s: general.alignment must be a u32 (it is %s)",
                        r->path, orx_gguf_vtype_name(g->kvs[k].type));
    if (a == 0 || (a & (a - 1)) || a > ORX_GGUF_MAX_ALIGNMENT)
        return orx_fail(r->err, ORX_ERR_PARSE,
                        "%s: general.alignment %u is not a power of two in 1..%d", r->path, a,
                        ORX_GGUF_MAX_ALIGNMENT);
    g->alignment = a;
    return ORX_OK;
}

static orx_status check_tensor_data(rd *r, orx_gguf *g) {
    uint64_t a = g->alignment;
    g->data_off = (r->pos + a - 1) / a * a;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        orx_gguf_tensor *t = &g->tensors[i];
        for (int64_t j = 0; j < i; j++)
            if (!strcmp(g->tensors[j].name, t->name))
                return orx_fail(r->err, ORX_ERR_PARSE, "%s: duplicate tensor name '%s'", r->path, t->name);
        if (t->offset % a)
            return orx_fail(r->err, ORX_ERR_PARSE,
                            "%s: tensor '%s' offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                            r->path, t->name, t->offset, a);
        if (g->data_off > r->size || t->offset > r->size - g->data_off ||
            t->nbytes > r->size - g->data_off - t->offset)
            return orx_fail(r->err, ORX_ERR_PARSE,
                            "%s: tensor '%s' data at bytes %" PRIu64 "..+%" PRIu64
                            " extends past the end of the file (%" PRIu64 " bytes)",
                            r->path, t->name, g->data_off + t->offset, t->nbytes, r->size);
        t->data = r->p + g->data_off + t->offset;
    }
    return ORX_OK;
}

static orx_status parse_all(rd *r, orx_gguf *g) {
    uint64_t n_tensors = 0, n_kv = 0;
    orx_status st = parse_header(r, g, &n_tensors, &n_kv);
    if (st) return st;
    g->kvs = calloc(n_kv ? n_kv : 1, sizeof(kv));
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof(orx_gguf_tensor));
    if (!g->kvs || !g->tensors) return orx_fail(r->err, ORX_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n_kv; i++) {
        uint64_t at = r->pos;
        if ((st = parse_kv(r, g, &g->kvs[i]))) {
            g->n_kv = (int64_t)i + 1;
            return st;
        }
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(g->kvs[j].key, g->kvs[i].key)) {
                g->n_kv = (int64_t)i + 1;
                return orx_fail(r->err, ORX_ERR_PARSE, "%s: byte %" PRIu64 ": duplicate key '%s'",
                                r->path, at, g->kvs[i].key);
            }
        g->n_kv = (int64_t)i + 1;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = (int64_t)i + 1;
        if ((st = parse_tensor_info(r, &g->tensors[i]))) return st;
    }
    if ((st = check_alignment(r, g))) return st;
    return check_tensor_data(r, g);
}

static orx_status open_common(orx_gguf *g, const char *path, orx_gguf **out, orx_error *err) {
    rd r = {g->base, g->size, 0, path, err};
    orx_status st = parse_all(&r, g);
    if (st) {
        orx_gguf_close(g);
        return st;
    }
    *out = g;
    return ORX_OK;
}

orx_status orx_gguf_open(const char *path, orx_gguf **out, orx_error *err) {
    *out = NULL;
    orx_gguf *g = calloc(1, sizeof(*g));
    if (!g) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_mmap_open(path, &g->map, err);
    if (st) {
        free(g);
        return st;
    }
    g->base = g->map.addr;
    g->size = g->map.size;
    if (!g->base) g->base = (const uint8_t *)"";
    return open_common(g, path, out, err);
}

orx_status orx_gguf_open_memory(const void *data, size_t size, orx_gguf **out, orx_error *err) {
    *out = NULL;
    orx_gguf *g = calloc(1, sizeof(*g));
    if (!g) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    g->base = data ? data : (const void *)"";
    g->size = data ? size : 0;
    return open_common(g, "<memory>", out, err);
}

void orx_gguf_close(orx_gguf *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        free(g->kvs[i].key);
        free(g->kvs[i].str_off);
    }
    for (int64_t i = 0; i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kvs);
    free(g->tensors);
    if (g->map.addr) orx_mmap_close(&g->map);
    free(g);
}

/* ============================================================================================
 * File facts
 * ========================================================================================== */
uint32_t orx_gguf_version(const orx_gguf *g) { return g->version; }
uint64_t orx_gguf_file_size(const orx_gguf *g) { return g->size; }
uint64_t orx_gguf_alignment(const orx_gguf *g) { return g->alignment; }
uint64_t orx_gguf_data_offset(const orx_gguf *g) { return g->data_off; }

/* ============================================================================================
 * Key/values
 * ========================================================================================== */
int64_t orx_gguf_n_kv(const orx_gguf *g) { return g->n_kv; }

const char *orx_gguf_key_at(const orx_gguf *g, int64_t k) {
    return k >= 0 && k < g->n_kv ? g->kvs[k].key : NULL;
}

int64_t orx_gguf_find_key(const orx_gguf *g, const char *key) {
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kvs[i].key && !strcmp(g->kvs[i].key, key)) return i;
    return -1;
}

orx_gguf_vtype orx_gguf_key_type(const orx_gguf *g, int64_t k) {
    return k >= 0 && k < g->n_kv ? g->kvs[k].type : (orx_gguf_vtype)-1;
}

/* Read a scalar of type t at offset off as integer; false for non-integer types. */
static bool load_int(const uint8_t *p, orx_gguf_vtype t, int64_t *v, bool *neg_ok_u64) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; } u;
    *neg_ok_u64 = true;
    switch (t) {
    case ORX_GGUF_UINT8: memcpy(&u.u8, p, 1); *v = u.u8; return true;
    case ORX_GGUF_INT8: memcpy(&u.i8, p, 1); *v = u.i8; return true;
    case ORX_GGUF_BOOL: memcpy(&u.u8, p, 1); *v = u.u8 != 0; return true;
    case ORX_GGUF_UINT16: memcpy(&u.u16, p, 2); *v = u.u16; return true;
    case ORX_GGUF_INT16: memcpy(&u.i16, p, 2); *v = u.i16; return true;
    case ORX_GGUF_UINT32: memcpy(&u.u32, p, 4); *v = u.u32; return true;
    case ORX_GGUF_INT32: memcpy(&u.i32, p, 4); *v = u.i32; return true;
    case ORX_GGUF_INT64: memcpy(&u.i64, p, 8); *v = u.i64; return true;
    case ORX_GGUF_UINT64:
        memcpy(&u.u64, p, 8);
        if (u.u64 > (uint64_t)INT64_MAX) *neg_ok_u64 = false;
        *v = (int64_t)u.u64;
        return true;
    default: return false;
    }
}

static bool load_f32(const uint8_t *p, orx_gguf_vtype t, float *out) {
    if (t == ORX_GGUF_FLOAT32) { memcpy(out, p, 4); return true; }
    if (t == ORX_GGUF_FLOAT64) { double d; memcpy(&d, p, 8); *out = (float)d; return true; }
    int64_t v;
    bool ok;
    if (t != ORX_GGUF_BOOL && load_int(p, t, &v, &ok)) {
        *out = ok ? (float)v : (float)(uint64_t)v;
        return true;
    }
    return false;
}

static const kv *find(const orx_gguf *g, const char *key) {
    int64_t k = orx_gguf_find_key(g, key);
    return k < 0 ? NULL : &g->kvs[k];
}

bool orx_gguf_get_i64(const orx_gguf *g, const char *key, int64_t *out) {
    const kv *e = find(g, key);
    int64_t v;
    bool ok;
    if (!e || e->type == ORX_GGUF_BOOL || !load_int(g->base + e->data, e->type, &v, &ok) || !ok) return false;
    *out = v;
    return true;
}

bool orx_gguf_get_u32(const orx_gguf *g, const char *key, uint32_t *out) {
    int64_t v;
    if (!orx_gguf_get_i64(g, key, &v) || v < 0 || v > (int64_t)UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

bool orx_gguf_get_f32(const orx_gguf *g, const char *key, float *out) {
    const kv *e = find(g, key);
    if (!e || (e->type != ORX_GGUF_FLOAT32 && e->type != ORX_GGUF_FLOAT64)) return false;
    return load_f32(g->base + e->data, e->type, out);
}

bool orx_gguf_get_bool(const orx_gguf *g, const char *key, bool *out) {
    const kv *e = find(g, key);
    if (!e || e->type != ORX_GGUF_BOOL) return false;
    *out = g->base[e->data] != 0;
    return true;
}

bool orx_gguf_get_str(const orx_gguf *g, const char *key, const char **s, uint64_t *len) {
    const kv *e = find(g, key);
    if (!e || e->type != ORX_GGUF_STRING) return false;
    *s = (const char *)g->base + e->data;
    *len = e->n;
    return true;
}

bool orx_gguf_get_arr(const orx_gguf *g, const char *key, orx_gguf_vtype *elem_type, uint64_t *n) {
    const kv *e = find(g, key);
    if (!e || e->type != ORX_GGUF_ARRAY) return false;
    if (elem_type) *elem_type = e->elem;
    if (n) *n = e->n;
    return true;
}

static const kv *karr(const orx_gguf *g, int64_t k, uint64_t i) {
    if (k < 0 || k >= g->n_kv) return NULL;
    const kv *e = &g->kvs[k];
    return e->type == ORX_GGUF_ARRAY && i < e->n ? e : NULL;
}

bool orx_gguf_karr_str(const orx_gguf *g, int64_t k, uint64_t i, const char **s, uint64_t *len) {
    const kv *e = karr(g, k, i);
    if (!e || e->elem != ORX_GGUF_STRING) return false;
    memcpy(len, g->base + e->str_off[i], 8);
    *s = (const char *)g->base + e->str_off[i] + 8;
    return true;
}

bool orx_gguf_karr_f32(const orx_gguf *g, int64_t k, uint64_t i, float *out) {
    const kv *e = karr(g, k, i);
    if (!e || e->elem == ORX_GGUF_STRING || e->elem == ORX_GGUF_ARRAY) return false;
    return load_f32(g->base + e->data + i * VTYPE_SIZE[e->elem], e->elem, out) ||
           (e->elem == ORX_GGUF_BOOL && (*out = g->base[e->data + i] != 0, true));
}

bool orx_gguf_karr_i64(const orx_gguf *g, int64_t k, uint64_t i, int64_t *out) {
    const kv *e = karr(g, k, i);
    bool ok;
    if (!e || e->elem == ORX_GGUF_STRING || e->elem == ORX_GGUF_ARRAY) return false;
    return load_int(g->base + e->data + i * VTYPE_SIZE[e->elem], e->elem, out, &ok) && ok;
}

bool orx_gguf_arr_str(const orx_gguf *g, const char *key, uint64_t i, const char **s, uint64_t *len) {
    return orx_gguf_karr_str(g, orx_gguf_find_key(g, key), i, s, len);
}
bool orx_gguf_arr_f32(const orx_gguf *g, const char *key, uint64_t i, float *out) {
    return orx_gguf_karr_f32(g, orx_gguf_find_key(g, key), i, out);
}
bool orx_gguf_arr_i64(const orx_gguf *g, const char *key, uint64_t i, int64_t *out) {
    return orx_gguf_karr_i64(g, orx_gguf_find_key(g, key), i, out);
}

/* ============================================================================================
 * Tensors
 * ========================================================================================== */
int64_t orx_gguf_n_tensors(const orx_gguf *g) { return g->n_tensors; }

const orx_gguf_tensor *orx_gguf_tensor_at(const orx_gguf *g, int64_t i) {
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const orx_gguf_tensor *orx_gguf_find_tensor(const orx_gguf *g, const char *name) {
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int64_t orx_gguf_tensor_nelements(const orx_gguf_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}
