/*
 * schema.h — the JSON Schema subset openrx uses for structured output, parsed once into one model
 * that the validator (here) and the local engine's grammar compiler (engine/grammar.c) both read.
 *
 * Subset: "type" object (properties, required; additionalProperties false is implied), array
 * (items, minItems, maxItems), string (minLength, maxLength: characters), number / integer
 * (minimum, maximum), boolean, null; "enum" (a non-empty array of values) on any node, with or
 * without "type": an instance must be one of the values and, when "type" is given, of that type.
 * "description", "title" and "$schema" are allowed and ignored. Anything else is reported as
 * unsupported with its JSON path ("$.properties.dose.oneOf"), never ignored. The grammar enforces
 * a narrower set (enums of at most 32 plain strings, no minLength, bounded counts) and names what
 * it cannot enforce the same way.
 */
#ifndef ORX_SCHEMA_H
#define ORX_SCHEMA_H

#include "openrx.h"
#include <jansson.h>

typedef enum orx_schema_type {
    ORX_SCHEMA_ANY,       /* no "type": only the enum constrains */
    ORX_SCHEMA_OBJECT,
    ORX_SCHEMA_ARRAY,
    ORX_SCHEMA_STRING,
    ORX_SCHEMA_NUMBER,
    ORX_SCHEMA_INTEGER,
    ORX_SCHEMA_BOOLEAN,
    ORX_SCHEMA_NULL,
} orx_schema_type;

/* One node of the parsed model (read-only; owned by its orx_schema). */
typedef struct orx_schema_node {
    orx_schema_type type;
    const char     *path;          /* JSON path of this node in the schema ("$.properties.dose") */
    const json_t   *enum_values;   /* "enum": non-empty array of allowed values, or NULL */
    /* object */
    int             n_props;       /* properties, in schema order */
    const char    **prop_names;    /* [n_props] */
    const struct orx_schema_node **props; /* [n_props] */
    const bool     *required;      /* [n_props] */
    /* array */
    const struct orx_schema_node *items;
    long long       min_items, max_items;   /* -1 = absent */
    /* string */
    long long       min_length, max_length; /* characters (code points); -1 = absent */
    /* number / integer */
    bool            has_minimum, has_maximum;
    double          minimum, maximum;
} orx_schema_node;

typedef struct orx_schema orx_schema;   /* a parsed schema: the model and its JSON document */

/* Parse a schema document (the handle keeps a reference to it). ORX_ERR_UNSUPPORTED names the
 * keyword and its path. */
orx_status orx_schema_parse(json_t *doc, orx_schema **out, orx_error *err);
/* The same from JSON text; ORX_ERR_PARSE when it is not JSON. */
orx_status orx_schema_parse_text(const char *text, orx_schema **out, orx_error *err);
void       orx_schema_free(orx_schema *s);   /* NULL is fine */

const orx_schema_node *orx_schema_root(const orx_schema *s);
/* The schema as JSON (borrowed: valid while s lives), e.g. for a remote server's response_format. */
const json_t *orx_schema_json(const orx_schema *s);

/* Validate an instance. ORX_ERR_INVALID names the first violation and its path
 * ("$.candidates[0].route: 'by mouth' is not one of the allowed values"). */
orx_status orx_schema_validate(const orx_schema *s, const json_t *instance, orx_error *err);

#endif
