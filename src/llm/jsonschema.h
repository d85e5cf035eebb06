/*
 * jsonschema.h — the JSON Schema subset openrx uses for structured output, validated here and
 * (for the local engine) compiled to a decoding constraint:
 *   type object (properties, required, additionalProperties false implied), array (items,
 *   minItems, maxItems), string (enum, maxLength), number/integer (minimum, maximum, enum),
 *   boolean, null; "enum" on any scalar.
 * Anything else in a schema is reported as unsupported rather than ignored.
 */
#ifndef ORX_JSONSCHEMA_H
#define ORX_JSONSCHEMA_H

#include "openrx.h"
#include <jansson.h>

/* Check that a schema only uses the supported subset. ORX_ERR_UNSUPPORTED names the keyword and
 * its JSON path ("$.properties.dose.oneOf"). */
orx_status orx_jsonschema_check(const json_t *schema, orx_error *err);

/* Validate an instance. ORX_ERR_INVALID names the first violation and its path
 * ("$.candidates[0].route: 'by mouth' is not one of the allowed values"). */
orx_status orx_jsonschema_validate(const json_t *schema, const json_t *instance, orx_error *err);

#endif
