/*
 * static.h — the clinician page (web/) served at GET /, /index.html, /app.js, /app.css.
 * Embedded into the binary at build time; optionally served from a directory instead.
 */
#ifndef ORX_SERVER_STATIC_H
#define ORX_SERVER_STATIC_H

#include "server/server.h"

typedef struct orx_static {
    const char *web_dir; /* serve files from this directory (re-read per request), or NULL = embedded */
} orx_static;

/* Register the page's routes; st (may be NULL = embedded) must outlive the server. */
orx_status orx_static_register(orx_server *srv, orx_static *st, orx_error *err);

/* The embedded copy of web/<name> ("index.html", "app.js", "app.css"), or NULL; *len = bytes. */
const char *orx_static_embedded(const char *name, size_t *len);

#endif
