/*
 * gguf.h — GGUF v2/v3 reader (mmap'd, every count/offset/size validated at open) and writer.
 *
 * Format facts (from the published GGUF spec): little-endian; "GGUF" magic, u32 version, u64
 * tensor count, u64 key/value count; typed key/values; tensor infos (name, n_dims, dims innermost
 * first, ggml type, offset into the data section); data section aligned to general.alignment
 * (default 32). Tensor data is row-major [ne[n-1]]...[ne[0]].
 *
 * The reader never trusts the file: a truncated file, an offset past the end, an absurd count or
 * an unknown type is an ORX_ERR_PARSE / ORX_ERR_UNSUPPORTED naming the byte offset.
 * This layer sits below engine/: it carries its own table of ggml block sizes for validation.
 */
#ifndef ORX_GGUF_H
#define ORX_GGUF_H

#include "openrx.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ============================================================================================
 * Reader
 * ========================================================================================== */
typedef struct orx_gguf orx_gguf; /* opaque; an mmap'd, fully validated file */

typedef enum orx_gguf_vtype {
    ORX_GGUF_UINT8 = 0,
    ORX_GGUF_INT8 = 1,
    ORX_GGUF_UINT16 = 2,
    ORX_GGUF_INT16 = 3,
    ORX_GGUF_UINT32 = 4,
    ORX_GGUF_INT32 = 5,
    ORX_GGUF_FLOAT32 = 6,
    ORX_GGUF_BOOL = 7,
    ORX_GGUF_STRING = 8,
    ORX_GGUF_ARRAY = 9,
    ORX_GGUF_UINT64 = 10,
    ORX_GGUF_INT64 = 11,
    ORX_GGUF_FLOAT64 = 12,
} orx_gguf_vtype;

/* Limits enforced by the reader (a file beyond them is rejected, never allocated for). */
#define ORX_GGUF_MAX_TENSORS   (1 << 20)  /* tensor infos */
#define ORX_GGUF_MAX_KV        (1 << 20)  /* key/values */
#define ORX_GGUF_MAX_KEY_LEN   65535      /* bytes in a key */
#define ORX_GGUF_MAX_NAME_LEN  4096       /* bytes in a tensor name */
#define ORX_GGUF_MAX_DEPTH     8          /* nested array depth */
#define ORX_GGUF_MAX_ALIGNMENT (1 << 16)  /* general.alignment upper bound */

orx_status orx_gguf_open(const char *path, orx_gguf **out, orx_error *err);
/* Same checks over a caller-owned buffer (kept alive until close; not copied). For tests/fuzzing. */
orx_status orx_gguf_open_memory(const void *data, size_t size, orx_gguf **out, orx_error *err);
void orx_gguf_close(orx_gguf *g);

uint32_t orx_gguf_version(const orx_gguf *g);      /* 2 or 3 */
uint64_t orx_gguf_file_size(const orx_gguf *g);    /* bytes */
uint64_t orx_gguf_alignment(const orx_gguf *g);    /* bytes */
uint64_t orx_gguf_data_offset(const orx_gguf *g);  /* byte offset of the data section */

/* --- key/values --- */
int64_t orx_gguf_n_kv(const orx_gguf *g);
const char *orx_gguf_key_at(const orx_gguf *g, int64_t k);  /* NUL-terminated copy; NULL if out of range */
int64_t orx_gguf_find_key(const orx_gguf *g, const char *key); /* -1 if absent */
orx_gguf_vtype orx_gguf_key_type(const orx_gguf *g, int64_t k);
const char *orx_gguf_vtype_name(orx_gguf_vtype t);          /* "u32", "string", "?" */

/* typed getters: false if absent or wrong type (integers widen between int types when in range) */
bool orx_gguf_get_u32(const orx_gguf *g, const char *key, uint32_t *out);
bool orx_gguf_get_i64(const orx_gguf *g, const char *key, int64_t *out);
bool orx_gguf_get_f32(const orx_gguf *g, const char *key, float *out); /* f32 or f64 */
bool orx_gguf_get_bool(const orx_gguf *g, const char *key, bool *out);
/* NOT NUL-terminated: pointer into the map */
bool orx_gguf_get_str(const orx_gguf *g, const char *key, const char **s, uint64_t *len);

/* arrays (elem_type ORX_GGUF_ARRAY for nested arrays, whose elements are not accessible here) */
bool orx_gguf_get_arr(const orx_gguf *g, const char *key, orx_gguf_vtype *elem_type, uint64_t *n);
/* element i of a string array (pointer into map + length; O(1) via an index built at open) */
bool orx_gguf_arr_str(const orx_gguf *g, const char *key, uint64_t i, const char **s, uint64_t *len);
/* element i of a numeric (or bool) array as f32 / i64 (i64: integer and bool arrays only) */
bool orx_gguf_arr_f32(const orx_gguf *g, const char *key, uint64_t i, float *out);
bool orx_gguf_arr_i64(const orx_gguf *g, const char *key, uint64_t i, int64_t *out);

/* Same accessors by key index (faster in loops over 150k-entry vocabularies). */
bool orx_gguf_karr_str(const orx_gguf *g, int64_t k, uint64_t i, const char **s, uint64_t *len);
bool orx_gguf_karr_f32(const orx_gguf *g, int64_t k, uint64_t i, float *out);
bool orx_gguf_karr_i64(const orx_gguf *g, int64_t k, uint64_t i, int64_t *out);

/* --- tensors --- */
typedef struct orx_gguf_tensor {
    const char *name;   /* NUL-terminated copy */
    uint32_t    type;   /* ggml type id (orx_ggml_type) */
    uint32_t    n_dims; /* 1..4 */
    int64_t     ne[4];  /* dims, innermost first; unused = 1 */
    uint64_t    offset; /* bytes, from start of data section */
    uint64_t    nbytes; /* bytes of data */
    const void *data;   /* pointer into the map */
} orx_gguf_tensor;

int64_t orx_gguf_n_tensors(const orx_gguf *g);
const orx_gguf_tensor *orx_gguf_tensor_at(const orx_gguf *g, int64_t i);
const orx_gguf_tensor *orx_gguf_find_tensor(const orx_gguf *g, const char *name); /* NULL if absent */
int64_t orx_gguf_tensor_nelements(const orx_gguf_tensor *t);

/* ggml type table known to the GGUF layer (for validation and printing). */
const char *orx_gguf_type_name(uint32_t type);                    /* "Q4_K"; NULL if unknown */
bool orx_gguf_type_size(uint32_t type, int64_t *block_values, size_t *block_bytes); /* false: unknown */

/* ============================================================================================
 * Writer — collect metadata and tensors, then write the file atomically (temp + fsync + rename).
 * Keys are written in the order they were first set (setting a key again replaces its value).
 * ========================================================================================== */
typedef struct orx_gguf_writer orx_gguf_writer;

orx_gguf_writer *orx_gguf_writer_create(void); /* NULL on OOM */
void orx_gguf_writer_free(orx_gguf_writer *w);

orx_status orx_gguf_writer_set_u8(orx_gguf_writer *w, const char *key, uint8_t v, orx_error *err);
orx_status orx_gguf_writer_set_i8(orx_gguf_writer *w, const char *key, int8_t v, orx_error *err);
orx_status orx_gguf_writer_set_u16(orx_gguf_writer *w, const char *key, uint16_t v, orx_error *err);
orx_status orx_gguf_writer_set_i16(orx_gguf_writer *w, const char *key, int16_t v, orx_error *err);
orx_status orx_gguf_writer_set_u32(orx_gguf_writer *w, const char *key, uint32_t v, orx_error *err);
orx_status orx_gguf_writer_set_i32(orx_gguf_writer *w, const char *key, int32_t v, orx_error *err);
orx_status orx_gguf_writer_set_u64(orx_gguf_writer *w, const char *key, uint64_t v, orx_error *err);
orx_status orx_gguf_writer_set_i64(orx_gguf_writer *w, const char *key, int64_t v, orx_error *err);
orx_status orx_gguf_writer_set_f32(orx_gguf_writer *w, const char *key, float v, orx_error *err);
orx_status orx_gguf_writer_set_f64(orx_gguf_writer *w, const char *key, double v, orx_error *err);
orx_status orx_gguf_writer_set_bool(orx_gguf_writer *w, const char *key, bool v, orx_error *err);
orx_status orx_gguf_writer_set_str(orx_gguf_writer *w, const char *key, const char *s, orx_error *err);
orx_status orx_gguf_writer_set_strn(orx_gguf_writer *w, const char *key, const char *s, size_t len,
                                    orx_error *err);
/* Numeric array: n elements of elem_type (not STRING/ARRAY), little-endian packed, copied. */
orx_status orx_gguf_writer_set_arr(orx_gguf_writer *w, const char *key, orx_gguf_vtype elem_type,
                                   const void *data, uint64_t n, orx_error *err);
/* String array: n NUL-terminated strings, copied. lens may be NULL (use strlen). */
orx_status orx_gguf_writer_set_arr_str(orx_gguf_writer *w, const char *key, const char *const *strs,
                                       const size_t *lens, uint64_t n, orx_error *err);
/* Raw pre-encoded value bytes (value part only, no key) of type t — for nested arrays / copying
 * values from another file. */
orx_status orx_gguf_writer_set_raw(orx_gguf_writer *w, const char *key, orx_gguf_vtype t,
                                   const void *bytes, size_t len, orx_error *err);

/* Add a tensor. ne innermost first (n_dims 1..4). data: nbytes = row bytes * rows of the type;
 * copied when copy is true, else the caller keeps it alive until write; data NULL means it is
 * produced at write time by the fill callback (streamed: one tensor in memory at a time). */
orx_status orx_gguf_writer_add_tensor(orx_gguf_writer *w, const char *name, uint32_t type,
                                      uint32_t n_dims, const int64_t *ne, const void *data,
                                      bool copy, orx_error *err);

/* fill(ctx, index, name, dst, nbytes): write tensor `index`'s bytes into dst; return ORX_OK. */
typedef orx_status (*orx_gguf_fill_fn)(void *ctx, int64_t index, const char *name, void *dst,
                                       size_t nbytes, orx_error *err);
/* Write GGUF v3. Alignment = general.alignment if set (u32), else 32. */
orx_status orx_gguf_writer_write(orx_gguf_writer *w, const char *path, orx_gguf_fill_fn fill,
                                 void *ctx, orx_error *err);
/* Write into a malloc'd buffer (tests): *out_data freed by the caller. Tensors must have data. */
orx_status orx_gguf_writer_write_memory(orx_gguf_writer *w, void **out_data, size_t *out_len,
                                        orx_error *err);

#endif /* ORX_GGUF_H */
