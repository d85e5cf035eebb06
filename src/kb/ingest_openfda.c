/*
 * ingest_openfda.c — openFDA drug-label JSON ({"meta":…, "results":[…]} bulk files or a bare
 * array), streamed: a small scanner finds each results[] element's bytes (tracking strings,
 * escapes and nesting), and only that element is parsed with jansson. Memory is bounded by the
 * largest single label (64 MiB limit), not by the file.
 */
#include "kb/kb.h"
#include "kb/fetch.h"
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ELEMENT (64u << 20) /* one label object */
#define MAX_DEPTH 512           /* nesting while skipping/capturing */

/* ============================================================================================
 * Buffered byte reader with line/column
 * ========================================================================================== */
typedef struct reader {
    FILE         *f;        /* input */
    const char   *path;     /* for messages */
    unsigned char buf[1 << 16]; /* read buffer */
    size_t        pos, len; /* buffer cursor / fill */
    long          line, col; /* 1-based position of the next byte */
    uint64_t      offset;   /* bytes consumed */
    bool          io_error; /* fread failed */
} reader;

static int peek(reader *r) {
    if (r->pos == r->len) {
        r->len = fread(r->buf, 1, sizeof r->buf, r->f);
        r->pos = 0;
        if (r->len == 0) {
            if (ferror(r->f)) r->io_error = true;
            return EOF;
        }
    }
    return r->buf[r->pos];
}

static int next(reader *r) {
    int c = peek(r);
    if (c == EOF) return EOF;
    r->pos++;
    r->offset++;
    if (c == '\n') r->line++, r->col = 1;
    else r->col++;
    return c;
}

static int skip_ws(reader *r) {
    int c;
    while ((c = peek(r)) != EOF && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) next(r);
    return c;
}

static orx_status syntax(reader *r, orx_error *err, const char *what) {
    if (r->io_error) return orx_fail(err, ORX_ERR_IO, "%s: read error: %s", r->path, strerror(errno));
    return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:%ld: %s", r->path, r->line, r->col, what);
}

/* ============================================================================================
 * Scanning one JSON value (optionally capturing its bytes)
 * ========================================================================================== */
static orx_status scan_string(reader *r, orx_buf *cap, orx_error *err) {
    /* at the opening quote */
    int c = next(r);
    if (cap && !orx_buf_append(cap, &(char){(char)c}, 1)) goto nomem;
    for (;;) {
        c = next(r);
        if (c == EOF) return syntax(r, err, "unterminated string");
        if (cap && !orx_buf_append(cap, &(char){(char)c}, 1)) goto nomem;
        if (c == '"') return ORX_OK;
        if (c == '\\') {
            c = next(r);
            if (c == EOF) return syntax(r, err, "unterminated string");
            if (cap && !orx_buf_append(cap, &(char){(char)c}, 1)) goto nomem;
        } else if (c == '\n') {
            return syntax(r, err, "newline inside a string");
        }
        if (cap && cap->len > MAX_ELEMENT)
            return orx_fail(err, ORX_ERR_RANGE, "%s:%ld: label larger than %u bytes", r->path,
                            r->line, MAX_ELEMENT);
    }
nomem:
    return orx_fail(err, ORX_ERR_NOMEM, "%s:%ld: out of memory", r->path, r->line);
}

/* Scan one value; with cap non-NULL append its bytes. Structure is checked for balance only;
 * jansson validates captured elements fully. */
static orx_status scan_value(reader *r, orx_buf *cap, orx_error *err) {
    char stack[MAX_DEPTH];
    int depth = 0;
    int c = skip_ws(r);
    if (c == EOF) return syntax(r, err, "unexpected end of input, expected a value");
    if (c == '"') return scan_string(r, cap, err);
    if (c != '{' && c != '[') {
        /* a scalar: consume until a delimiter */
        if (c == ',' || c == ':' || c == '}' || c == ']') return syntax(r, err, "expected a value");
        while ((c = peek(r)) != EOF && !strchr(",]} \t\r\n", c)) {
            next(r);
            if (cap && !orx_buf_append(cap, &(char){(char)c}, 1))
                return orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", r->path);
        }
        return ORX_OK;
    }
    do {
        c = peek(r);
        if (c == EOF) return syntax(r, err, "unexpected end of input inside a value");
        if (c == '"') {
            orx_status st = scan_string(r, cap, err);
            if (st != ORX_OK) return st;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH) return syntax(r, err, "nesting too deep");
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!depth || stack[depth - 1] != c) return syntax(r, err, "unbalanced bracket");
            depth--;
        }
        next(r);
        if (cap) {
            if (!orx_buf_append(cap, &(char){(char)c}, 1))
                return orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", r->path);
            if (cap->len > MAX_ELEMENT)
                return orx_fail(err, ORX_ERR_RANGE, "%s:%ld: label larger than %u bytes", r->path,
                                r->line, MAX_ELEMENT);
        }
    } while (depth);
    return ORX_OK;
}

/* ============================================================================================
 * One label object → orx_kb_doc
 * ========================================================================================== */
static void join_strings(json_t *a, orx_buf *out, bool lower) {
    size_t i;
    json_t *v;
    if (json_is_string(a)) {
        orx_buf_puts(out, json_string_value(a));
        return;
    }
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) continue;
        size_t at = out->len;
        if (out->len) orx_buf_puts(out, "; ");
        (void)at;
        size_t start = out->len;
        orx_buf_puts(out, json_string_value(v));
        if (lower)
            for (size_t k = start; k < out->len; k++)
                out->data[k] = (char)tolower((unsigned char)out->data[k]);
    }
}

static const char *first_string(json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_array(v) && json_is_string(json_array_get(v, 0)))
        return json_string_value(json_array_get(v, 0));
    return "";
}

static bool meta_key(const char *k) {
    static const char *const KEYS[] = {"openfda", "set_id", "id", "version", "effective_time",
                                       "@epoch", "@id", "@timestamp", "@checksum", NULL};
    for (int i = 0; KEYS[i]; i++)
        if (!strcmp(k, KEYS[i])) return true;
    return orx_str_ends_with(k, "_table");
}

typedef struct label_ctx {
    const char   *path;  /* file */
    long          index; /* element number, 0-based */
    long          line;  /* line where the element starts */
    orx_kb_doc_fn fn;    /* consumer */
    void         *ctx;   /* consumer context */
} label_ctx;

static orx_status emit_label(label_ctx *lc, json_t *o, uint64_t bytes, orx_error *err) {
    if (!json_is_object(o))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:1: results[%ld] is not an object", lc->path,
                        lc->line, lc->index);
    json_t *ofda = json_object_get(o, "openfda");
    orx_buf gen, brand, rx, title, src, names;
    orx_buf_init(&gen);
    orx_buf_init(&brand);
    orx_buf_init(&rx);
    orx_buf_init(&title);
    orx_buf_init(&src);
    orx_buf_init(&names);
    join_strings(json_object_get(ofda, "generic_name"), &gen, true);
    join_strings(json_object_get(ofda, "brand_name"), &brand, false);
    join_strings(json_object_get(ofda, "rxcui"), &rx, false);
    const char *b0 = first_string(json_object_get(ofda, "brand_name"));
    const char *g0 = first_string(json_object_get(ofda, "generic_name"));
    if (*b0 && *g0) orx_buf_printf(&title, "%s (%s)", b0, g0);
    else orx_buf_puts(&title, *b0 ? b0 : *g0 ? g0 : first_string(json_object_get(o, "spl_product_data_elements")));
    orx_buf_printf(&src, "%s#%ld", lc->path, lc->index);
    const char *set_id = first_string(json_object_get(o, "set_id"));
    if (!*set_id) set_id = first_string(json_object_get(ofda, "spl_set_id"));

    /* sections: every text field except metadata and *_table, in object order */
    size_t n = json_object_size(o), ns = 0;
    orx_kb_section *secs = calloc(n ? n : 1, sizeof *secs);
    char **owned = calloc(n ? n : 1, sizeof *owned);
    orx_status st = secs && owned ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        if (st != ORX_OK || meta_key(key) || !(json_is_array(val) || json_is_string(val))) continue;
        orx_buf text;
        orx_buf_init(&text);
        size_t i;
        json_t *v;
        if (json_is_string(val)) orx_buf_puts(&text, json_string_value(val));
        json_array_foreach(val, i, v) if (json_is_string(v)) {
            if (text.len) orx_buf_puts(&text, "\n\n");
            orx_buf_puts(&text, json_string_value(v));
        }
        if (!text.len) { orx_buf_clear(&text); continue; }
        orx_kb_section *s = &secs[ns];
        const char *code = orx_kb_section_code_for(key);
        snprintf(s->code, sizeof s->code, "%s", code ? code : "");
        const char *canon = orx_kb_section_name(s->code);
        s->name = canon ? canon : key;
        s->title = "";
        s->len = text.len;
        owned[ns] = orx_buf_steal(&text);
        s->text = owned[ns];
        ns++;
    }
    if (st == ORX_OK && !*set_id)
        st = orx_fail(err, ORX_ERR_INVALID, "%s:%ld:1: results[%ld] has no set_id", lc->path,
                      lc->line, lc->index);
    if (st == ORX_OK) {
        orx_kb_doc d = {.set_id = set_id, .version = first_string(json_object_get(o, "version")),
                        .effective_date = first_string(json_object_get(o, "effective_time")),
                        .title = title.data ? title.data : "", .generic_names = gen.data ? gen.data : "",
                        .brand_names = brand.data ? brand.data : "", .rxcuis = rx.data ? rx.data : "",
                        .source_file = src.data, .sections = secs, .n_sections = ns,
                        .src_bytes = bytes};
        st = lc->fn(lc->ctx, &d, err);
    }
    for (size_t i = 0; owned && i < ns; i++) free(owned[i]);
    free(owned);
    free(secs);
    orx_buf_clear(&gen);
    orx_buf_clear(&brand);
    orx_buf_clear(&rx);
    orx_buf_clear(&title);
    orx_buf_clear(&src);
    orx_buf_clear(&names);
    return st;
}

/* ============================================================================================
 * Top level: {"meta":…, "results":[…]} or […]
 * ========================================================================================== */
static orx_status scan_results(reader *r, label_ctx *lc, orx_error *err) {
    /* at '[' */
    next(r);
    orx_buf el;
    orx_buf_init(&el);
    orx_status st = ORX_OK;
    int c = skip_ws(r);
    if (c == ']') {
        next(r);
        return ORX_OK;
    }
    for (;;) {
        orx_buf_reset(&el);
        skip_ws(r);
        long line = r->line, col = r->col;
        uint64_t off0 = r->offset;
        st = scan_value(r, &el, err);
        if (st != ORX_OK) break;
        json_error_t je;
        json_t *o = json_loadb(el.data, el.len, JSON_DECODE_ANY, &je);
        if (!o) {
            /* map the element-relative position back to the file */
            long fl = line + je.line - 1, fc = je.line == 1 ? col + je.column - 1 : je.column;
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%ld:%ld: results[%ld]: %s", r->path, fl, fc,
                          lc->index, je.text);
            break;
        }
        lc->line = line;
        st = emit_label(lc, o, r->offset - off0, err);
        json_decref(o);
        lc->index++;
        if (st != ORX_OK) break;
        c = skip_ws(r);
        if (c == ',') { next(r); continue; }
        if (c == ']') { next(r); break; }
        st = syntax(r, err, "expected ',' or ']' after a label");
        break;
    }
    orx_buf_clear(&el);
    return st;
}

static orx_status scan_top(reader *r, label_ctx *lc, orx_error *err) {
    int c = skip_ws(r);
    if (c == '[') return scan_results(r, lc, err);
    if (c != '{') return syntax(r, err, "expected '{' or '[' at the start of an openFDA label file");
    next(r);
    bool saw_results = false;
    orx_buf key;
    orx_buf_init(&key);
    orx_status st = ORX_OK;
    c = skip_ws(r);
    if (c == '}') next(r);
    else for (;;) {
        c = skip_ws(r);
        if (c != '"') { st = syntax(r, err, "expected a key string"); break; }
        orx_buf_reset(&key);
        if ((st = scan_string(r, &key, err)) != ORX_OK) break;
        if (skip_ws(r) != ':') { st = syntax(r, err, "expected ':'"); break; }
        next(r);
        c = skip_ws(r);
        if (key.len == 9 && !memcmp(key.data, "\"results\"", 9)) {
            if (c != '[') { st = syntax(r, err, "\"results\" must be an array"); break; }
            saw_results = true;
            if ((st = scan_results(r, lc, err)) != ORX_OK) break;
        } else if ((st = scan_value(r, NULL, err)) != ORX_OK) {
            break;
        }
        c = skip_ws(r);
        if (c == ',') { next(r); continue; }
        if (c == '}') { next(r); break; }
        st = syntax(r, err, "expected ',' or '}'");
        break;
    }
    orx_buf_clear(&key);
    if (st == ORX_OK && skip_ws(r) != EOF) st = syntax(r, err, "trailing data after the top-level value");
    if (st == ORX_OK && !saw_results)
        st = orx_fail(err, ORX_ERR_INVALID, "%s: no \"results\" array (not an openFDA label file?)", r->path);
    return st;
}

orx_status orx_kb_ingest_openfda_stream(FILE *f, const char *name, orx_kb_doc_fn fn, void *ctx,
                                        orx_error *err) {
    reader *r = calloc(1, sizeof *r);
    if (!r) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    r->f = f;
    r->path = name;
    r->line = r->col = 1;
    label_ctx lc = {.path = name, .index = 0, .line = 1, .fn = fn, .ctx = ctx};
    orx_status st = scan_top(r, &lc, err);
    free(r);
    return st;
}

orx_status orx_kb_ingest_openfda(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return orx_fail(err, ORX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    orx_status st = orx_kb_ingest_openfda_stream(f, path, fn, ctx, err);
    fclose(f);
    return st;
}
