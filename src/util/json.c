/* json.c — jansson values written into growable buffers (util.h). */
#include "util/util.h"
#include <jansson.h>
#include <stdlib.h>

bool orx_buf_put_json(orx_buf *out, json_t *j, size_t flags) {
    char *s = json_dumps(j, flags);
    json_decref(j);
    bool ok = s && orx_buf_puts(out, s) && orx_buf_puts(out, "\n");
    free(s);
    return ok;
}
