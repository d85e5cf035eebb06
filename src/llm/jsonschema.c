/* jsonschema.c — subset JSON Schema: support check and validation (see jsonschema.h). */
#include "llm/jsonschema.h"
#include "util/util.h"
#include <math.h>
#include <string.h>

/* ============================================================================================
 * Subset check
 * ========================================================================================== */
static const char *const KNOWN[] = {"type", "properties", "required", "items", "minItems", "maxItems",
                                    "enum", "minimum", "maximum", "maxLength", "minLength", "description",
                                    "title", "additionalProperties", "$schema", NULL};

static bool known_keyword(const char *k) {
    for (int i = 0; KNOWN[i]; i++)
        if (!strcmp(KNOWN[i], k)) return true;
    return false;
}

static orx_status check_at(const json_t *s, const char *path, orx_error *err) {
    if (!json_is_object(s)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: a schema must be an object", path);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s, key, v) {
        if (!known_keyword(key))
            return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.%s: keyword not supported (supported: type, properties, "
                            "required, items, minItems, maxItems, enum, minimum, maximum, minLength, maxLength)", path, key);
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    json_t *en = json_object_get(s, "enum");
    if (!type && !en) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: needs a single \"type\" or an \"enum\"", path);
    if (en && (!json_is_array(en) || json_array_size(en) == 0))
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.enum: must be a non-empty array", path);
    json_t *ap = json_object_get(s, "additionalProperties");
    if (ap && !json_is_false(ap)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.additionalProperties: only false is supported", path);
    if (!type) return ORX_OK;
    char sub[512];
    if (!strcmp(type, "object")) {
        json_t *props = json_object_get(s, "properties");
        if (props && !json_is_object(props)) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.properties: must be an object", path);
        json_object_foreach(props, key, v) {
            snprintf(sub, sizeof sub, "%s.properties.%s", path, key);
            orx_status st = check_at(v, sub, err);
            if (st != ORX_OK) return st;
        }
        json_t *req = json_object_get(s, "required");
        size_t i;
        json_array_foreach(req, i, v) {
            if (!json_is_string(v) || !json_object_get(props, json_string_value(v)))
                return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.required[%zu]: names no property", path, i);
        }
        return ORX_OK;
    }
    if (!strcmp(type, "array")) {
        json_t *items = json_object_get(s, "items");
        if (!items) return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: arrays need \"items\"", path);
        snprintf(sub, sizeof sub, "%s.items", path);
        return check_at(items, sub, err);
    }
    if (!strcmp(type, "string") || !strcmp(type, "number") || !strcmp(type, "integer") ||
        !strcmp(type, "boolean") || !strcmp(type, "null"))
        return ORX_OK;
    return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s.type: '%s' is not supported", path, type);
}

orx_status orx_jsonschema_check(const json_t *schema, orx_error *err) { return check_at(schema, "$", err); }

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

static orx_status validate_at(const json_t *s, const json_t *v, const char *path, orx_error *err) {
    json_t *en = json_object_get(s, "enum");
    if (en && !in_enum(en, v)) {
        char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        orx_status st = orx_fail(err, ORX_ERR_INVALID, "%s: %.80s is not one of the allowed values", path, txt ? txt : "?");
        free(txt);
        return st;
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    if (!type) return ORX_OK;
    char sub[512];
    if (!strcmp(type, "object")) {
        if (!json_is_object(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected an object, got %s", path, kind_of(v));
        json_t *props = json_object_get(s, "properties");
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(s, "required"), i, r) {
            if (!json_object_get(v, json_string_value(r)))
                return orx_fail(err, ORX_ERR_INVALID, "%s: required property '%s' is missing", path, json_string_value(r));
        }
        const char *key;
        json_t *pv;
        json_object_foreach((json_t *)v, key, pv) {
            json_t *ps = json_object_get(props, key);
            if (!ps) return orx_fail(err, ORX_ERR_INVALID, "%s: property '%s' is not in the schema", path, key);
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            orx_status st = validate_at(ps, pv, sub, err);
            if (st != ORX_OK) return st;
        }
        return ORX_OK;
    }
    if (!strcmp(type, "array")) {
        if (!json_is_array(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected an array, got %s", path, kind_of(v));
        json_t *mx = json_object_get(s, "maxItems"), *mn = json_object_get(s, "minItems");
        if (mx && (json_int_t)json_array_size(v) > json_integer_value(mx))
            return orx_fail(err, ORX_ERR_INVALID, "%s: %zu items, at most %lld allowed", path, json_array_size(v), (long long)json_integer_value(mx));
        if (mn && (json_int_t)json_array_size(v) < json_integer_value(mn))
            return orx_fail(err, ORX_ERR_INVALID, "%s: %zu items, at least %lld required", path, json_array_size(v), (long long)json_integer_value(mn));
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            orx_status st = validate_at(json_object_get(s, "items"), e, sub, err);
            if (st != ORX_OK) return st;
        }
        return ORX_OK;
    }
    if (!strcmp(type, "string")) {
        if (!json_is_string(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected a string, got %s", path, kind_of(v));
        json_t *ml = json_object_get(s, "maxLength"), *nl = json_object_get(s, "minLength");
        /* maxLength/minLength count characters (code points), not bytes */
        size_t n = 0, bytes = json_string_length(v);
        const unsigned char *p = (const unsigned char *)json_string_value(v);
        for (size_t i = 0; i < bytes; i++) n += (p[i] & 0xC0) != 0x80;
        if (ml && (json_int_t)n > json_integer_value(ml))
            return orx_fail(err, ORX_ERR_INVALID, "%s: string of %zu characters, at most %lld allowed", path, n, (long long)json_integer_value(ml));
        if (nl && (json_int_t)n < json_integer_value(nl))
            return orx_fail(err, ORX_ERR_INVALID, "%s: string of %zu characters, at least %lld required", path, n, (long long)json_integer_value(nl));
        return ORX_OK;
    }
    if (!strcmp(type, "number") || !strcmp(type, "integer")) {
        if (!json_is_number(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected a %s, got %s", path, type, kind_of(v));
        double x = json_number_value(v);
        if (!strcmp(type, "integer") && !json_is_integer(v) && floor(x) != x)
            return orx_fail(err, ORX_ERR_INVALID, "%s: expected an integer, got %g", path, x);
        json_t *lo = json_object_get(s, "minimum"), *hi = json_object_get(s, "maximum");
        if (lo && x < json_number_value(lo)) return orx_fail(err, ORX_ERR_INVALID, "%s: %g is below the minimum %g", path, x, json_number_value(lo));
        if (hi && x > json_number_value(hi)) return orx_fail(err, ORX_ERR_INVALID, "%s: %g is above the maximum %g", path, x, json_number_value(hi));
        return ORX_OK;
    }
    if (!strcmp(type, "boolean")) {
        if (!json_is_boolean(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected a boolean, got %s", path, kind_of(v));
        return ORX_OK;
    }
    if (!strcmp(type, "null")) {
        if (!json_is_null(v)) return orx_fail(err, ORX_ERR_INVALID, "%s: expected null, got %s", path, kind_of(v));
        return ORX_OK;
    }
    return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: type '%s' not supported", path, type);
}

orx_status orx_jsonschema_validate(const json_t *schema, const json_t *instance, orx_error *err) {
    return validate_at(schema, instance, "$", err);
}
