/* schema.c — the JSON Schema subset: parse once into the model, validate (see schema.h). */
#include "schema/schema.h"
#include "util/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX_DEPTH 64   /* nesting the model accepts (the grammar allows less) */

typedef struct node {
    orx_schema_node pub;
    struct node    *next;     /* every node of a schema, for freeing */
} node;

struct orx_schema {
    json_t               *doc;
    const orx_schema_node *root;
    node                 *nodes;
};

static void node_release(node *n) {
    free((char *)n->pub.path);
    free(n->pub.prop_names);
    free(n->pub.props);
    free((bool *)n->pub.required);
    free(n);
}

void orx_schema_free(orx_schema *s) {
    if (!s) return;
    for (node *n = s->nodes, *nx; n; n = nx) { nx = n->next; node_release(n); }
    json_decref(s->doc);
    free(s);
}

const orx_schema_node *orx_schema_root(const orx_schema *s) { return s->root; }
const json_t *orx_schema_json(const orx_schema *s) { return s->doc; }

/* ============================================================================================
 * Parsing: the subset check and the model in one walk
 * ========================================================================================== */
static const char *const KNOWN[] = {"type", "properties", "required", "items", "minItems", "maxItems",
                                    "enum", "minimum", "maximum", "maxLength", "minLength", "description",
                                    "title", "additionalProperties", "$schema", NULL};

static bool known_keyword(const char *k) {
    for (int i = 0; KNOWN[i]; i++)
        if (!strcmp(KNOWN[i], k)) return true;
    return false;
}

static const struct { const char *name; orx_schema_type type; } TYPES[] = {
    {"object", ORX_SCHEMA_OBJECT}, {"array", ORX_SCHEMA_ARRAY},     {"string", ORX_SCHEMA_STRING},
    {"number", ORX_SCHEMA_NUMBER}, {"integer", ORX_SCHEMA_INTEGER}, {"boolean", ORX_SCHEMA_BOOLEAN},
    {"null", ORX_SCHEMA_NULL},
};

/* A count keyword (minItems, maxLength ...): absent (-1) or a non-negative integer. */
static orx_status count_of(const json_t *s, const char *key, const char *path, long long *out, orx_error *err) {
    json_t *v = json_object_get(s, key);
    *out = -1;
    if (!v) return ORX_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.%s: must be a non-negative integer", path, key);
    *out = (long long)json_integer_value(v);
    return ORX_OK;
}

static orx_status bound_of(const json_t *s, const char *key, const char *path, bool *has, double *out, orx_error *err) {
    json_t *v = json_object_get(s, key);
    *has = v != NULL;
    *out = 0;
    if (!v) return ORX_OK;
    if (!json_is_number(v)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.%s: must be a number", path, key);
    *out = json_number_value(v);
    return ORX_OK;
}

static orx_status parse_at(orx_schema *sc, const json_t *s, const char *path, int depth,
                           const orx_schema_node **out, orx_error *err) {
    if (depth >= SCHEMA_MAX_DEPTH) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: schema nested too deeply", path);
    if (!json_is_object(s)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: a schema must be an object", path);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s, key, v) {
        if (!known_keyword(key))
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.%s: keyword not supported (supported: type, properties, "
                            "required, items, minItems, maxItems, enum, minimum, maximum, minLength, maxLength)", path, key);
    }
    node *nd = calloc(1, sizeof *nd);
    if (!nd) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    nd->next = sc->nodes;
    sc->nodes = nd;
    orx_schema_node *n = &nd->pub;
    if (!(n->path = orx_strdup(path))) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    *out = n;
    json_t *ty = json_object_get(s, "type"), *en = json_object_get(s, "enum");
    const char *type = json_string_value(ty);
    if (!type && !en) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: needs a single \"type\" or an \"enum\"", path);
    if (en && (!json_is_array(en) || json_array_size(en) == 0))
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.enum: must be a non-empty array", path);
    n->enum_values = en;
    json_t *ap = json_object_get(s, "additionalProperties");
    if (ap && !json_is_false(ap)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.additionalProperties: only false is supported", path);
    orx_status st;
    if ((st = count_of(s, "minItems", path, &n->min_items, err)) != ORX_OK ||
        (st = count_of(s, "maxItems", path, &n->max_items, err)) != ORX_OK ||
        (st = count_of(s, "minLength", path, &n->min_length, err)) != ORX_OK ||
        (st = count_of(s, "maxLength", path, &n->max_length, err)) != ORX_OK ||
        (st = bound_of(s, "minimum", path, &n->has_minimum, &n->minimum, err)) != ORX_OK ||
        (st = bound_of(s, "maximum", path, &n->has_maximum, &n->maximum, err)) != ORX_OK)
        return st;
    n->type = ORX_SCHEMA_ANY;
    if (ty) {
        bool found = false;
        for (size_t i = 0; type && i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (!strcmp(TYPES[i].name, type)) { n->type = TYPES[i].type; found = true; }
        if (!found) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.type: '%s' is not supported", path, type ? type : "(not a string)");
    }
    char sub[512];
    if (n->type == ORX_SCHEMA_OBJECT) {
        json_t *props = json_object_get(s, "properties");
        if (props && !json_is_object(props)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.properties: must be an object", path);
        size_t np = props ? json_object_size(props) : 0;
        n->prop_names = calloc(np + 1, sizeof *n->prop_names);
        n->props = calloc(np + 1, sizeof *n->props);
        bool *req = calloc(np + 1, sizeof *req);
        n->required = req;
        if (!n->prop_names || !n->props || !req) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        json_object_foreach(props, key, v) {
            int i = n->n_props++;
            n->prop_names[i] = key;   /* owned by the document */
            snprintf(sub, sizeof sub, "%s.properties.%s", path, key);
            if ((st = parse_at(sc, v, sub, depth + 1, &n->props[i], err)) != ORX_OK) return st;
        }
        size_t ri;
        json_array_foreach(json_object_get(s, "required"), ri, v) {
            bool found = false;
            for (int i = 0; i < n->n_props; i++)
                if (json_is_string(v) && !strcmp(n->prop_names[i], json_string_value(v))) req[i] = found = true;
            if (!found) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.required[%zu]: names no property", path, ri);
        }
    } else if (n->type == ORX_SCHEMA_ARRAY) {
        json_t *items = json_object_get(s, "items");
        if (!items) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: arrays need \"items\"", path);
        snprintf(sub, sizeof sub, "%s.items", path);
        return parse_at(sc, items, sub, depth + 1, &n->items, err);
    }
    return ORX_OK;
}

orx_status orx_schema_parse(json_t *doc, orx_schema **out, orx_error *err) {
    *out = NULL;
    orx_schema *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    s->doc = json_incref(doc);
    orx_status st = parse_at(s, doc, "$", 0, &s->root, err);
    if (st != ORX_OK) { orx_schema_free(s); return st; }
    *out = s;
    return ORX_OK;
}

orx_status orx_schema_parse_text(const char *text, orx_schema **out, orx_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc) return orx_fail(err, ORX_ERR_PARSE, "schema:%d:%d: %s", je.line, je.column, je.text);
    orx_status st = orx_schema_parse(doc, out, err);
    json_decref(doc);
    return st;
}

/* ============================================================================================
 * Validation
 * ========================================================================================== */
static const char *kind_of(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE: case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static bool in_enum(const json_t *en, const json_t *v) {
    size_t i;
    json_t *e;
    json_array_foreach(en, i, e) {
        if (json_equal(e, v)) return true;
        if (json_is_number(e) && json_is_number(v) && json_number_value(e) == json_number_value(v)) return true;
    }
    return false;
}

static const orx_schema_node *prop_of(const orx_schema_node *n, const char *key) {
    for (int i = 0; i < n->n_props; i++)
        if (!strcmp(n->prop_names[i], key)) return n->props[i];
    return NULL;
}

static orx_status validate_at(const orx_schema_node *s, const json_t *v, const char *path, orx_error *err) {
    if (s->enum_values && !in_enum(s->enum_values, v)) {
        char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        orx_status st = orx_fail(err, ORX_ERR_INVALID, "%s: %.80s is not one of the allowed values", path, txt ? txt : "?");
        free(txt);
        return st;
    }
    char sub[512];
    switch (s->type) {
    case ORX_SCHEMA_ANY: return ORX_OK;
    case ORX_SCHEMA_OBJECT: {
        if (!json_is_object(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected an object, got %s", path, kind_of(v));
        for (int i = 0; i < s->n_props; i++)
            if (s->required[i] && !json_object_get(v, s->prop_names[i]))
                return orx_fail(err, ORX_ERR_INVALID, "%s: required property '%s' is missing", path, s->prop_names[i]);
        const char *key;
        json_t *pv;
        json_object_foreach((json_t *)v, key, pv) {
            const orx_schema_node *ps = prop_of(s, key);
            if (!ps) return orx_fail(err, ORX_ERR_INVALID, "%s: property '%s' is not in the schema", path, key);
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            orx_status st = validate_at(ps, pv, sub, err);
            if (st != ORX_OK) return st;
        }
        return ORX_OK;
    }
    case ORX_SCHEMA_ARRAY: {
        if (!json_is_array(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected an array, got %s", path, kind_of(v));
        long long n = (long long)json_array_size(v);
        if (s->max_items >= 0 && n > s->max_items)
            return orx_fail(err, ORX_ERR_INVALID, "%s: %lld items, at most %lld allowed", path, n, s->max_items);
        if (s->min_items >= 0 && n < s->min_items)
            return orx_fail(err, ORX_ERR_INVALID, "%s: %lld items, at least %lld required", path, n, s->min_items);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            orx_status st = validate_at(s->items, e, sub, err);
            if (st != ORX_OK) return st;
        }
        return ORX_OK;
    }
    case ORX_SCHEMA_STRING: {
        if (!json_is_string(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected a string, got %s", path, kind_of(v));
        /* maxLength/minLength count characters (code points), not bytes */
        long long n = 0;
        size_t bytes = json_string_length(v);
        const unsigned char *p = (const unsigned char *)json_string_value(v);
        for (size_t i = 0; i < bytes; i++) n += (p[i] & 0xC0) != 0x80;
        if (s->max_length >= 0 && n > s->max_length)
            return orx_fail(err, ORX_ERR_INVALID, "%s: string of %lld characters, at most %lld allowed", path, n, s->max_length);
        if (s->min_length >= 0 && n < s->min_length)
            return orx_fail(err, ORX_ERR_INVALID, "%s: string of %lld characters, at least %lld required", path, n, s->min_length);
        return ORX_OK;
    }
    case ORX_SCHEMA_NUMBER: case ORX_SCHEMA_INTEGER: {
        const char *type = s->type == ORX_SCHEMA_NUMBER ? "number" : "integer";
        if (!json_is_number(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected a %s, got %s", path, type, kind_of(v));
        double x = json_number_value(v);
        if (s->type == ORX_SCHEMA_INTEGER && !json_is_integer(v) && floor(x) != x)
            return orx_fail(err, ORX_ERR_INVALID, "%s: expected an integer, got %g", path, x);
        if (s->has_minimum && x < s->minimum) return orx_fail(err, ORX_ERR_INVALID, "%s: %g is below the minimum %g", path, x, s->minimum);
        if (s->has_maximum && x > s->maximum) return orx_fail(err, ORX_ERR_INVALID, "%s: %g is above the maximum %g", path, x, s->maximum);
        return ORX_OK;
    }
    case ORX_SCHEMA_BOOLEAN:
        return json_is_boolean(v) ? ORX_OK : orx_fail(err, ORX_ERR_INVALID, "%s: expected a boolean, got %s", path, kind_of(v));
    case ORX_SCHEMA_NULL:
        return json_is_null(v) ? ORX_OK : orx_fail(err, ORX_ERR_INVALID, "%s: expected null, got %s", path, kind_of(v));
    }
    return ORX_OK;
}

orx_status orx_schema_validate(const orx_schema *s, const json_t *instance, orx_error *err) {
    return validate_at(s->root, instance, "$", err);
}
