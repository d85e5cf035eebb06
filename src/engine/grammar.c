/* grammar.c — JSON-Schema → byte recogniser → token mask (see grammar.h). */
#include "engine/grammar.h"
#include "util/util.h"
#include "schema/schema.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Compiled schema nodes
 * ========================================================================================== */
enum { G_OBJECT, G_ARRAY, G_STRING, G_ENUM, G_NUMBER, G_INTEGER, G_BOOL, G_NULL };

#define G_MAX_PROPS 32   /* properties per object / values per enum (bitmask width) */
#define G_MAX_DEPTH 24   /* nesting */
#define G_DEFAULT_MAXLEN 512
#define G_MAX_COUNT 4096        /* largest minItems / maxItems / maxLength a schema may ask for */
#define G_COST_CAP  (1 << 24)   /* closing costs saturate here: more than any generation allows */

/* An object property (or one literal text of an enum/bool/null) */
typedef struct gprop {
    char         *name;     /* key or literal text (owned) */
    size_t        len;      /* its length */
    struct gnode *child;    /* object: the property's schema */
    bool          required; /* object: required */
} gprop;

typedef struct gnode {
    int            kind;        /* G_* */
    int            n;           /* object: properties; enum/bool/null: literal options */
    struct gprop  *prop;        /* [n] object properties, or enum/literal texts (name and len only) */
    struct gnode  *items;       /* array item schema */
    int            min_items, max_items; /* array bounds (max -1 = none) */
    int            max_len;     /* string: max bytes */
    bool           has_min, has_max; /* number bounds present */
    double         min, max;    /* number bounds */
    int            minlen;      /* bytes of the shortest valid value of this schema */
    int           *req_suffix;  /* object [n+1]: bytes of ',"key":<min value>' for required props >= j */
} gnode;

struct orx_grammar {
    gnode *root;     /* compiled tree */
};

static void node_free(gnode *n) {
    if (!n) return;
    for (int i = 0; n->prop && i < n->n; i++) {
        free(n->prop[i].name);
        node_free(n->prop[i].child);
    }
    free(n->prop);
    free(n->req_suffix);
    node_free(n->items);
    free(n);
}

static gnode *literal_set(int kind, const char *const *texts, int n) {
    gnode *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->kind = kind;
    g->n = n;
    if (!(g->prop = calloc((size_t)n, sizeof *g->prop))) { free(g); return NULL; }
    for (int i = 0; i < n; i++) { g->prop[i].name = orx_strdup(texts[i]); g->prop[i].len = strlen(texts[i]); }
    return g;
}

static orx_status compile(const orx_schema_node *s, int depth, gnode **out, orx_error *err) {
    *out = NULL;
    const char *path = s->path;
    if (depth >= G_MAX_DEPTH) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: schema nested too deeply", path);
    if (s->min_length >= 0)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.minLength: keyword not supported by constrained decoding", path);
    if (s->enum_values) {
        const json_t *en = s->enum_values;
        if (json_array_size(en) > G_MAX_PROPS)
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.enum: needs 1..%d values", path, G_MAX_PROPS);
        const char *texts[G_MAX_PROPS];
        size_t i;
        json_t *v;
        json_array_foreach(en, i, v) {
            texts[i] = json_string_value(v);
            if (!texts[i] || strchr(texts[i], '"') || strchr(texts[i], '\\'))
                return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.enum[%zu]: only plain strings are supported", path, i);
        }
        *out = literal_set(G_ENUM, texts, (int)json_array_size(en));
        return *out ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    static const char *const bools[] = {"true", "false"}, *const nulls[] = {"null"};
    if (s->type == ORX_SCHEMA_BOOLEAN || s->type == ORX_SCHEMA_NULL) {
        *out = s->type == ORX_SCHEMA_BOOLEAN ? literal_set(G_BOOL, bools, 2) : literal_set(G_NULL, nulls, 1);
        return *out ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    gnode *g = calloc(1, sizeof *g);
    if (!g) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    *out = g;
    switch (s->type) {
    case ORX_SCHEMA_OBJECT: {
        g->kind = G_OBJECT;
        size_t n = (size_t)s->n_props;
        if (n > G_MAX_PROPS) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: more than %d properties", path, G_MAX_PROPS);
        if (!(g->prop = calloc(n + 1, sizeof *g->prop))) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        for (int j = 0; j < s->n_props; j++) {
            const char *key = s->prop_names[j];
            if (strchr(key, '"') || strchr(key, '\\')) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: property name needs escaping", path);
            int i = g->n++;
            g->prop[i].name = orx_strdup(key);
            g->prop[i].len = strlen(key);
            g->prop[i].required = s->required[j];
            orx_status st = compile(s->props[j], depth + 1, &g->prop[i].child, err);
            if (st != ORX_OK) return st;
        }
        return ORX_OK;
    }
    case ORX_SCHEMA_ARRAY:
        g->kind = G_ARRAY;
        if (s->min_items > G_MAX_COUNT || s->max_items > G_MAX_COUNT)
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: minItems/maxItems must be integers in 0..%d", path, G_MAX_COUNT);
        g->min_items = s->min_items >= 0 ? (int)s->min_items : 0;
        g->max_items = s->max_items >= 0 ? (int)s->max_items : -1;
        return compile(s->items, depth + 1, &g->items, err);
    case ORX_SCHEMA_STRING:
        g->kind = G_STRING;
        if (s->max_length > G_MAX_COUNT)
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.maxLength must be an integer in 0..%d", path, G_MAX_COUNT);
        g->max_len = s->max_length >= 0 ? (int)s->max_length : G_DEFAULT_MAXLEN;
        return ORX_OK;
    case ORX_SCHEMA_NUMBER: case ORX_SCHEMA_INTEGER:
        g->kind = s->type == ORX_SCHEMA_NUMBER ? G_NUMBER : G_INTEGER;
        g->has_min = s->has_minimum;
        g->min = s->minimum;
        g->has_max = s->has_maximum;
        g->max = s->maximum;
        if (g->has_max && g->max < 0)
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.maximum: negative maxima are not supported", path);
        return ORX_OK;
    default:
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: needs \"type\" or \"enum\"", path);
    }
}

/* Shortest serialisation of each node (for the closing budget), computed bottom-up. */
static int shortest(const gnode *n) {
    int best = -1;
    for (int i = 0; i < n->n; i++)
        if (best < 0 || (int)n->prop[i].len < best) best = (int)n->prop[i].len;
    return best < 0 ? 0 : best;
}

/* Costs are sums and products of schema numbers: computed wide, kept at most G_COST_CAP. */
static int sat(int64_t v) { return v > G_COST_CAP ? G_COST_CAP : v < 0 ? 0 : (int)v; }

static bool compute_minlen(gnode *n) {
    switch (n->kind) {
    case G_OBJECT:
        n->req_suffix = calloc((size_t)n->n + 1, sizeof *n->req_suffix);
        if (!n->req_suffix) return false;
        for (int i = 0; i < n->n; i++)
            if (!compute_minlen(n->prop[i].child)) return false;
        for (int j = n->n - 1; j >= 0; j--)
            n->req_suffix[j] = sat((int64_t)n->req_suffix[j + 1] +
                                   (n->prop[j].required ? 1 + (int64_t)n->prop[j].len + 3 + n->prop[j].child->minlen : 0));
        n->minlen = 2 + (n->req_suffix[0] > 0 ? n->req_suffix[0] - 1 : 0);
        return true;
    case G_ARRAY:
        if (!compute_minlen(n->items)) return false;
        n->minlen = sat(2 + (n->min_items > 0 ? (int64_t)n->min_items * n->items->minlen + n->min_items - 1 : 0));
        return true;
    case G_STRING: n->minlen = 2; return true;
    case G_ENUM: n->minlen = 2 + shortest(n); return true;
    case G_NUMBER: case G_INTEGER: n->minlen = 1; return true;
    default: n->minlen = shortest(n); return true;
    }
}

orx_status orx_grammar_compile(const orx_schema *schema, orx_grammar **out, orx_error *err) {
    *out = NULL;
    orx_grammar *g = calloc(1, sizeof *g);
    orx_status st = g ? compile(orx_schema_root(schema), 0, &g->root, err) : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK && !compute_minlen(g->root)) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st != ORX_OK) { orx_grammar_free(g); return st; }
    *out = g;
    return ORX_OK;
}

orx_status orx_grammar_compile_text(const char *schema_json, orx_grammar **out, orx_error *err) {
    *out = NULL;
    orx_schema *s = NULL;
    orx_status st = orx_schema_parse_text(schema_json, &s, err);
    if (st == ORX_OK) st = orx_grammar_compile(s, out, err);
    orx_schema_free(s);
    return st;
}

void orx_grammar_free(orx_grammar *g) {
    if (!g) return;
    node_free(g->root);
    free(g);
}

/* ============================================================================================
 * Recogniser state: a stack of frames, one per open value
 * ========================================================================================== */
enum {
    /* object */ O_OPEN, O_FIRST, O_KEY_WS, O_KEY, O_COLON, O_VALUE, O_AFTER,
    /* array  */ A_OPEN, A_FIRST, A_ITEM, A_AFTER,
    /* string / enum */ S_OPEN, S_BODY,
    /* number */ N_START, N_INT, N_FRAC0, N_FRAC,
    /* literal */ L_BODY,
};

typedef struct gframe {
    const gnode *node;   /* schema of this value */
    uint8_t  phase;      /* O_*, A_*, S_*, N_*, L_BODY */
    uint8_t  esc;        /* string: 0, 1 after '\\', 2..5 hex digits of \uXXXX still wanted (5-esc) */
    uint8_t  u8;         /* string: UTF-8 continuation bytes still expected */
    uint8_t  ws;         /* one optional space already taken at this point */
    int16_t  last;       /* object: index of the last property written (-1 none) */
    uint16_t count;      /* array: items; string: bytes; number: digits */
    uint16_t pos;        /* key/enum/literal: bytes matched */
    uint32_t cand;       /* key/enum/literal: candidates still matching (bitmask) */
    double   num;        /* number: integer part so far */
    uint8_t  neg, frac_nonzero, lead_zero; /* number flags */
} gframe;

struct orx_gstate {
    int    depth;                 /* frames in use */
    bool   done;                  /* root value complete */
    gframe f[G_MAX_DEPTH + 1];    /* stack */
};

static void push(orx_gstate *s, const gnode *n) {
    gframe *f = &s->f[s->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->last = -1;
    switch (n->kind) {
    case G_OBJECT: f->phase = O_OPEN; break;
    case G_ARRAY: f->phase = A_OPEN; break;
    case G_STRING: case G_ENUM: f->phase = S_OPEN; f->cand = n->kind == G_ENUM ? (uint32_t)((1ull << n->n) - 1) : 0; break;
    case G_NUMBER: case G_INTEGER: f->phase = N_START; break;
    default: f->phase = L_BODY; f->cand = (uint32_t)((1ull << n->n) - 1); break;
    }
}

orx_gstate *orx_gstate_create(const orx_grammar *g) {
    orx_gstate *s = calloc(1, sizeof *s);
    if (s) push(s, g->root);
    return s;
}

void orx_gstate_free(orx_gstate *s) { free(s); }

bool orx_gstate_done(const orx_gstate *s) { return s->done; }

int32_t orx_grammar_min_tokens(const orx_grammar *g) { return g->root->minlen; }

static void copy_state(orx_gstate *dst, const orx_gstate *src) {
    dst->depth = src->depth;
    dst->done = src->done;
    memcpy(dst->f, src->f, (size_t)src->depth * sizeof src->f[0]);
}

/* The child value finished: pop it and advance the parent. */
static void pop_value(orx_gstate *s) {
    s->depth--;
    if (s->depth == 0) { s->done = true; return; }
    gframe *p = &s->f[s->depth - 1];
    if (p->node->kind == G_OBJECT) p->phase = O_AFTER;
    else { p->phase = A_AFTER; p->count++; }
    p->ws = 0;
}

/* Object: properties allowed next (after p->last): following ones up to the first required. */
static uint32_t next_keys(const gnode *n, int last) {
    uint32_t m = 0;
    for (int j = last + 1; j < n->n; j++) {
        m |= 1u << j;
        if (n->prop[j].required) break;
    }
    return m;
}

static bool can_close_object(const gnode *n, int last) {
    for (int j = last + 1; j < n->n; j++)
        if (n->prop[j].required) return false;
    return true;
}

/* Match one byte against the candidate texts at position pos; keeps the survivors. */
static bool match_cand(const gnode *n, uint32_t *cand, uint16_t pos, unsigned char c) {
    uint32_t keep = 0;
    for (int i = 0; i < n->n; i++)
        if ((*cand >> i & 1) && pos < n->prop[i].len && (unsigned char)n->prop[i].name[pos] == c) keep |= 1u << i;
    *cand = keep;
    return keep != 0;
}

static int full_match(const gnode *n, uint32_t cand, uint16_t pos) {
    for (int i = 0; i < n->n; i++)
        if ((cand >> i & 1) && n->prop[i].len == pos) return i;
    return -1;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Can the number in f end here? */
static bool number_can_end(const gframe *f) {
    if (f->phase != N_INT && f->phase != N_FRAC) return false;
    double v = f->neg ? -f->num : f->num;
    const gnode *n = f->node;
    if (n->has_min && (v < n->min || (v == n->min && f->neg && f->frac_nonzero))) return false;
    if (n->has_max && (v > n->max || (v == n->max && !f->neg && f->frac_nonzero))) return false;
    return true;
}

static bool step(orx_gstate *s, unsigned char c);

static bool number_step(orx_gstate *s, gframe *f, unsigned char c) {
    const gnode *n = f->node;
    switch (f->phase) {
    case N_START:
        if (c == '-' && !f->neg && (!n->has_min || n->min < 0)) { f->neg = 1; return true; }
        if (!is_digit(c)) return false;
        f->phase = N_INT;
        f->lead_zero = c == '0';
        f->num = c - '0';
        f->count = 1;
        return !(n->has_max && !f->neg && f->num > n->max);
    case N_INT:
        if (is_digit(c)) {
            if (f->lead_zero || f->count >= 15) return false;
            double v = f->num * 10 + (c - '0');
            if (n->has_max && !f->neg && v > n->max) return false;
            if (n->has_min && f->neg && -v < n->min) return false;
            f->num = v;
            f->count++;
            return true;
        }
        if (c == '.' && n->kind == G_NUMBER) { f->phase = N_FRAC0; f->count = 0; return true; }
        break;
    case N_FRAC0:
    case N_FRAC:
        if (is_digit(c)) {
            if (f->count >= 6) return false;
            bool nz = c != '0';
            if (nz && n->has_max && !f->neg && f->num >= n->max) return false;
            if (nz && n->has_min && f->neg && -f->num <= n->min) return false;
            f->frac_nonzero |= nz;
            f->phase = N_FRAC;
            f->count++;
            return true;
        }
        if (f->phase == N_FRAC0) return false;
        break;
    }
    /* any other byte ends the number (if it can end) and belongs to the parent */
    if (!number_can_end(f)) return false;
    pop_value(s);
    if (s->done) return false; /* nothing may follow a complete root value */
    return step(s, c);
}

static bool string_step(orx_gstate *s, gframe *f, unsigned char c) {
    const gnode *n = f->node;
    if (f->phase == S_OPEN) {
        if (c != '"') return false;
        f->phase = S_BODY;
        return true;
    }
    if (n->kind == G_ENUM) {
        if (c == '"') {
            if (full_match(n, f->cand, f->pos) < 0) return false;
            pop_value(s);
            return true;
        }
        if (!match_cand(n, &f->cand, f->pos, c)) return false;
        f->pos++;
        return true;
    }
    if (f->esc == 1) {
        if (c == 'u') { f->esc = 2; return true; }
        if (!strchr("\"\\/bfnrt", c)) return false;
        f->esc = 0;
        return ++f->count <= n->max_len;
    }
    if (f->esc >= 2) {
        if (!is_digit(c) && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f')) return false;
        f->esc = f->esc == 5 ? 0 : f->esc + 1;
        return f->esc ? true : ++f->count <= n->max_len;
    }
    if (f->u8) {
        if ((c & 0xC0) != 0x80) return false;
        f->u8--;
        return true;
    }
    if (c == '"') { pop_value(s); return true; }
    if (c < 0x20 || c == 0x7F) return false;
    if (f->count >= n->max_len) return false;
    if (c == '\\') { f->esc = 1; return true; }
    if (c >= 0x80) {
        if ((c & 0xE0) == 0xC0 && c >= 0xC2) f->u8 = 1;
        else if ((c & 0xF0) == 0xE0) f->u8 = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4) f->u8 = 3;
        else return false;
    }
    f->count++;
    return true;
}

static bool object_step(orx_gstate *s, gframe *f, unsigned char c) {
    const gnode *n = f->node;
    switch (f->phase) {
    case O_OPEN:
        if (c != '{') return false;
        f->phase = O_FIRST;
        return true;
    case O_FIRST:
    case O_KEY_WS:
        if (c == ' ' && f->phase == O_KEY_WS && !f->ws) { f->ws = 1; return true; }
        if (c == '}' && f->phase == O_FIRST && can_close_object(n, f->last)) { pop_value(s); return true; }
        if (c != '"') return false;
        f->cand = next_keys(n, f->last);
        if (!f->cand) return false;
        f->phase = O_KEY;
        f->pos = 0;
        return true;
    case O_KEY:
        if (c == '"') {
            int k = full_match(n, f->cand, f->pos);
            if (k < 0) return false;
            f->last = (int16_t)k;
            f->phase = O_COLON;
            return true;
        }
        if (!match_cand(n, &f->cand, f->pos, c)) return false;
        f->pos++;
        return true;
    case O_COLON:
        if (c != ':') return false;
        f->phase = O_VALUE;
        f->ws = 0;
        return true;
    case O_VALUE:
        if (c == ' ' && !f->ws) { f->ws = 1; return true; }
        if (s->depth > G_MAX_DEPTH) return false;
        push(s, n->prop[f->last].child);
        return step(s, c);
    case O_AFTER:
        if (c == ',' && next_keys(n, f->last)) { f->phase = O_KEY_WS; f->ws = 0; return true; }
        if (c == '}' && can_close_object(n, f->last)) { pop_value(s); return true; }
        return false;
    }
    return false;
}

static bool array_step(orx_gstate *s, gframe *f, unsigned char c) {
    const gnode *n = f->node;
    switch (f->phase) {
    case A_OPEN:
        if (c != '[') return false;
        f->phase = A_FIRST;
        return true;
    case A_FIRST:
        if (c == ']' && n->min_items <= 0) { pop_value(s); return true; }
        if (n->max_items == 0) return false;
        f->phase = A_ITEM;
        f->ws = 1; /* no space right after '[' */
        /* fall through */
    case A_ITEM:
        if (c == ' ' && !f->ws) { f->ws = 1; return true; }
        if (s->depth > G_MAX_DEPTH) return false;
        push(s, n->items);
        return step(s, c);
    case A_AFTER:
        if (c == ',' && (n->max_items < 0 || f->count < n->max_items)) { f->phase = A_ITEM; f->ws = 0; return true; }
        if (c == ']' && f->count >= n->min_items) { pop_value(s); return true; }
        return false;
    }
    return false;
}

static bool literal_step(orx_gstate *s, gframe *f, unsigned char c) {
    if (!match_cand(f->node, &f->cand, f->pos, c)) return false;
    f->pos++;
    if (full_match(f->node, f->cand, f->pos) >= 0) pop_value(s);
    return true;
}

static bool step(orx_gstate *s, unsigned char c) {
    if (s->done || s->depth == 0) return false;
    gframe *f = &s->f[s->depth - 1];
    switch (f->node->kind) {
    case G_OBJECT: return object_step(s, f, c);
    case G_ARRAY: return array_step(s, f, c);
    case G_STRING: case G_ENUM: return string_step(s, f, c);
    case G_NUMBER: case G_INTEGER: return number_step(s, f, c);
    default: return literal_step(s, f, c);
    }
}

bool orx_gstate_feed(orx_gstate *s, const char *bytes, size_t n) {
    orx_gstate tmp;
    copy_state(&tmp, s);
    for (size_t i = 0; i < n; i++)
        if (!step(&tmp, (unsigned char)bytes[i])) return false;
    copy_state(s, &tmp);
    return true;
}

/* ============================================================================================
 * Closing budget: the fewest bytes that complete the value from a state
 * ========================================================================================== */
static int cand_cost(const gnode *n, uint32_t cand, int pos, bool object_key) {
    int best = -1;
    for (int j = 0; j < n->n; j++) {
        if (!(cand >> j & 1)) continue;
        int c = (int)n->prop[j].len - pos;
        if (object_key) c = sat((int64_t)c + 2 + n->prop[j].child->minlen + n->req_suffix[j + 1]); /* '"' ':' value, rest */
        if (best < 0 || c < best) best = c;
    }
    return best < 0 ? 0 : best;
}

static int frame_cost(const gframe *f, bool top) {
    const gnode *n = f->node;
    switch (f->phase) {
    case O_OPEN: case A_OPEN: case S_OPEN: return n->minlen;
    case O_FIRST: return (n->req_suffix[0] > 0 ? n->req_suffix[0] - 1 : 0) + 1;
    /* cand_cost(object key) = rest of the key + '"' + ':' + shortest value + required props after;
     * then the object's '}' */
    case O_KEY_WS: return cand_cost(n, next_keys(n, f->last), -1, true) + 1; /* pos -1: opening '"' */
    case O_KEY: return cand_cost(n, f->cand, f->pos, true) + 1;
    case O_COLON: return sat(1 + (int64_t)n->prop[f->last].child->minlen + n->req_suffix[f->last + 1] + 1);
    case O_VALUE: return sat((top ? (int64_t)n->prop[f->last].child->minlen : 0) + n->req_suffix[f->last + 1] + 1);
    case O_AFTER: return n->req_suffix[f->last + 1] + 1;
    case A_FIRST: return n->min_items <= 0 ? 1 : sat((int64_t)n->min_items * n->items->minlen + n->min_items);
    case A_ITEM: {
        int64_t more = n->min_items - f->count - 1;
        if (more < 0) more = 0;
        return sat((top ? n->items->minlen : 0) + more * (1 + (int64_t)n->items->minlen) + 1);
    }
    case A_AFTER: {
        int64_t more = n->min_items - f->count;
        if (more < 0) more = 0;
        return sat(more * (1 + (int64_t)n->items->minlen) + 1);
    }
    case S_BODY:
        if (n->kind == G_ENUM) return cand_cost(n, f->cand, f->pos, false) + 1;
        if (f->esc == 1) return 2;
        if (f->esc >= 2) return (6 - f->esc) + 1;
        return f->u8 + 1;
    case N_START: case N_FRAC0: return 1;
    case N_INT: case N_FRAC: return 0;
    case L_BODY: return cand_cost(n, f->cand, f->pos, false);
    }
    return 0;
}

static int close_cost(const orx_gstate *s) {
    if (s->done) return 0;
    int64_t c = 0;
    for (int i = 0; i < s->depth; i++) c += frame_cost(&s->f[i], i == s->depth - 1);
    return sat(c);
}

/* ============================================================================================
 * Vocabulary trie and masking
 * ========================================================================================== */
typedef struct tnode {
    int32_t first_child;  /* index of the first child, -1 none */
    int32_t next_sibling; /* index of the next sibling, -1 none */
    int32_t first_token;  /* a token whose text ends here, -1 none; more via token_next */
    uint8_t byte;         /* edge byte from the parent */
} tnode;

struct orx_gvocab {
    tnode   *nodes;       /* [n_nodes], 0 = root */
    int32_t  n_nodes, cap_nodes;
    int32_t *token_next;  /* [n_vocab] next token with the same text, -1 end */
    int32_t  n_vocab;
    int32_t  max_len;     /* longest token text */
};

static int32_t child(orx_gvocab *v, int32_t parent, uint8_t b) {
    int32_t *link = &v->nodes[parent].first_child;
    while (*link >= 0 && v->nodes[*link].byte < b) link = &v->nodes[*link].next_sibling;
    if (*link >= 0 && v->nodes[*link].byte == b) return *link;
    if (v->n_nodes == v->cap_nodes) {
        int32_t cap = v->cap_nodes * 2;
        tnode *p = realloc(v->nodes, (size_t)cap * sizeof *p);
        if (!p) return -1;
        v->nodes = p;
        v->cap_nodes = cap;
        link = &v->nodes[parent].first_child; /* re-find after realloc */
        while (*link >= 0 && v->nodes[*link].byte < b) link = &v->nodes[*link].next_sibling;
    }
    int32_t id = v->n_nodes++;
    v->nodes[id] = (tnode){-1, *link, -1, b};
    *link = id;
    return id;
}

orx_gvocab *orx_gvocab_create(const orx_tokenizer *tok) {
    orx_gvocab *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->n_vocab = orx_tokenizer_n_vocab(tok);
    v->cap_nodes = 1024;
    v->nodes = malloc((size_t)v->cap_nodes * sizeof *v->nodes);
    v->token_next = malloc((size_t)(v->n_vocab > 0 ? v->n_vocab : 1) * sizeof *v->token_next);
    if (!v->nodes || !v->token_next) { orx_gvocab_free(v); return NULL; }
    v->nodes[0] = (tnode){-1, -1, -1, 0};
    v->n_nodes = 1;
    char buf[512];
    for (int32_t t = 0; t < v->n_vocab; t++) {
        v->token_next[t] = -1;
        int32_t len = orx_token_to_piece(tok, t, buf, sizeof buf);
        if (len <= 0 || len > (int32_t)sizeof buf || orx_tokenizer_is_eog(tok, t)) continue;
        int32_t node = 0;
        for (int32_t i = 0; i < len && node >= 0; i++) node = child(v, node, (uint8_t)buf[i]);
        if (node < 0) { orx_gvocab_free(v); return NULL; }
        v->token_next[t] = v->nodes[node].first_token;
        v->nodes[node].first_token = t;
        if (len > v->max_len) v->max_len = len;
    }
    return v;
}

void orx_gvocab_free(orx_gvocab *v) {
    if (!v) return;
    free(v->nodes);
    free(v->token_next);
    free(v);
}

/* Depth-first over the trie; states[d] is the state after d bytes. Marks allowed tokens. */
static int32_t walk(const orx_gvocab *v, int32_t node, orx_gstate *states, int depth, uint8_t *allowed,
                    int32_t after) {
    int32_t count = 0;
    for (int32_t ch = v->nodes[node].first_child; ch >= 0; ch = v->nodes[ch].next_sibling) {
        orx_gstate *next = &states[depth + 1];
        copy_state(next, &states[depth]);
        if (!step(next, v->nodes[ch].byte)) continue;
        /* budget: the tokens left after this one must be able to close the value (one byte each) */
        if (v->nodes[ch].first_token >= 0 && (after < 0 || close_cost(next) <= after))
            for (int32_t t = v->nodes[ch].first_token; t >= 0; t = v->token_next[t]) { allowed[t] = 1; count++; }
        count += walk(v, ch, states, depth + 1, allowed, after);
    }
    return count;
}

int32_t orx_grammar_mask(const orx_gstate *s, const orx_gvocab *v, const orx_tokenizer *tok,
                         float *logits, int32_t n_vocab, int32_t budget) {
    int32_t n = n_vocab < v->n_vocab ? n_vocab : v->n_vocab;
    uint8_t *allowed = calloc((size_t)n_vocab, 1);
    orx_gstate *states = malloc((size_t)(v->max_len + 2) * sizeof *states);
    if (!allowed || !states) { free(allowed); free(states); return 0; }
    int32_t count = 0;
    if (!s->done) {
        copy_state(&states[0], s);
        count = walk(v, 0, states, 0, allowed, budget < 0 ? -1 : budget - 1);
    }
    for (int32_t t = 0; t < n_vocab; t++) {
        if (t < n && orx_tokenizer_is_eog(tok, t) && s->done) { count++; continue; }
        if (!allowed[t]) logits[t] = -INFINITY;
    }
    free(allowed);
    free(states);
    return count;
}

/* The rule of orx_grammar_mask for one token: its text steps through the state byte by byte (the
 * trie path walk() takes) and, with a budget, the value can still be closed after it; an
 * end-of-generation token only when the state is done. */
bool orx_grammar_allows(const orx_gstate *s, const orx_gvocab *v, const orx_tokenizer *tok, int32_t t,
                        int32_t n_vocab, int32_t budget) {
    if (t < 0 || t >= n_vocab) return false;
    int32_t n = n_vocab < v->n_vocab ? n_vocab : v->n_vocab;
    if (t < n && orx_tokenizer_is_eog(tok, t) && s->done) return true;
    if (s->done || t >= v->n_vocab || orx_tokenizer_is_eog(tok, t)) return false; /* not in the trie */
    char buf[512];
    int32_t len = orx_token_to_piece(tok, t, buf, sizeof buf);
    if (len <= 0 || len > (int32_t)sizeof buf) return false; /* not in the trie either */
    orx_gstate cur;
    copy_state(&cur, s);
    for (int32_t i = 0; i < len; i++)
        if (!step(&cur, (unsigned char)buf[i])) return false;
    int32_t after = budget < 0 ? -1 : budget - 1;
    return after < 0 || close_cost(&cur) <= after;
}

/* ============================================================================================
 * Jump-forward: forced bytes, and the vocabulary's longest match
 * ========================================================================================== */
orx_gstate *orx_gstate_dup(const orx_gstate *s) {
    orx_gstate *d = malloc(sizeof *d);
    if (d) copy_state(d, s);
    return d;
}

int32_t orx_gstate_forced(const orx_gstate *s, int space, char *buf, int32_t cap) {
    orx_gstate cur, probe;
    copy_state(&cur, s);
    int32_t n = 0;
    while (n < cap && !cur.done) {
        int count = 0, only = -1, other = -1;
        bool sp = false;
        for (int c = 0x20; c < 0x100 && count <= 2; c++) { /* no control byte is ever valid */
            copy_state(&probe, &cur);
            if (!step(&probe, (unsigned char)c)) continue;
            count++;
            if (c == ' ') sp = true;
            else if (only < 0) only = c;
            else other = c;
        }
        int pick = -1;
        if (count == 1) pick = sp ? ' ' : only;
        else if (count == 2 && sp && other < 0 && space >= 0) pick = space ? ' ' : only;
        if (pick < 0) break;
        step(&cur, (unsigned char)pick);
        buf[n++] = (char)pick;
    }
    return n;
}

int32_t orx_gvocab_longest(const orx_gvocab *v, const char *bytes, int32_t n, int32_t *len) {
    int32_t node = 0, best = -1;
    *len = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t ch = v->nodes[node].first_child;
        while (ch >= 0 && v->nodes[ch].byte != (uint8_t)bytes[i]) ch = v->nodes[ch].next_sibling;
        if (ch < 0) break;
        node = ch;
        if (v->nodes[node].first_token >= 0) best = v->nodes[node].first_token, *len = i + 1;
    }
    return best;
}
