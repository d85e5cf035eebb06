/*
 * static.c — the clinician page (web/index.html, web/app.js, web/app.css) served at / .
 *
 * The three files are embedded into the library at build time with the assembler's .incbin
 * (path from ORX_SOURCE_DIR, which CMake defines), so an installed `openrx serve` needs no web/
 * folder. A web directory given at runtime (`openrx serve --web DIR`) is served from disk
 * instead, re-read on every request (for editing the page without rebuilding).
 */
#include "server/static.h"
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Embedded files
 * ========================================================================================== */
#ifndef ORX_SOURCE_DIR
#error "ORX_SOURCE_DIR must be defined (CMake does) to embed web/"
#endif

#define ORX_EMBED(sym, file)                                                                   \
    __asm__(".pushsection .rodata\n"                                                          \
            ".balign 16\n"                                                                     \
            ".globl " #sym "_start\n" #sym "_start:\n"                                       \
            ".incbin \"" ORX_SOURCE_DIR "/web/" file "\"\n"                                    \
            ".globl " #sym "_end\n" #sym "_end:\n"                                           \
            ".byte 0\n"                                                                        \
            ".popsection\n");                                                                  \
    extern const char sym##_start[], sym##_end[];

ORX_EMBED(orx_web_index_html, "index.html")
ORX_EMBED(orx_web_app_js, "app.js")
ORX_EMBED(orx_web_app_css, "app.css")

typedef struct web_file {
    const char *path;   /* URL path */
    const char *name;   /* file name under web/ */
    const char *ctype;  /* Content-Type */
    const char *start;  /* embedded bytes */
    const char *end;    /* one past the last embedded byte */
} web_file;

static const web_file FILES[] = {
    {"/", "index.html", "text/html; charset=utf-8", orx_web_index_html_start, orx_web_index_html_end},
    {"/index.html", "index.html", "text/html; charset=utf-8", orx_web_index_html_start, orx_web_index_html_end},
    {"/app.js", "app.js", "text/javascript; charset=utf-8", orx_web_app_js_start, orx_web_app_js_end},
    {"/app.css", "app.css", "text/css; charset=utf-8", orx_web_app_css_start, orx_web_app_css_end},
};
#define N_FILES (sizeof FILES / sizeof FILES[0])

const char *orx_static_embedded(const char *name, size_t *len) {
    for (size_t i = 0; i < N_FILES; i++) {
        if (strcmp(FILES[i].name, name) != 0) continue;
        if (len) *len = (size_t)(FILES[i].end - FILES[i].start);
        return FILES[i].start;
    }
    return NULL;
}

/* ============================================================================================
 * Route
 * ========================================================================================== */
static orx_static g_default; /* embedded only (web_dir NULL) */

static void route_static(void *user, const char *method, const char *path, const char *body,
                         size_t body_len, orx_http_reply *reply) {
    const orx_static *st = user ? user : &g_default;
    for (size_t i = 0; i < N_FILES; i++) {
        const web_file *f = &FILES[i];
        if (strcmp(f->path, path) != 0) continue;
        reply->content_type = f->ctype;
        if (st->web_dir) {
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", st->web_dir, f->name);
            char *data = NULL;
            size_t n = 0;
            orx_error err = ORX_ERROR_INIT;
            if (orx_read_file(full, 4u << 20, &data, &n, &err) != ORX_OK) {
                reply->status = 500;
                reply->content_type = NULL;
                reply->body = orx_server_error_json(err.msg, "server_error", NULL);
                return;
            }
            reply->status = 200;
            reply->body = data;
            return;
        }
        size_t n = (size_t)(f->end - f->start);
        char *copy = malloc(n + 1);
        if (!copy) { reply->status = 500; reply->content_type = NULL; reply->body = orx_server_error_json("out of memory", "server_error", NULL); return; }
        memcpy(copy, f->start, n);
        copy[n] = 0;
        reply->status = 200;
        reply->body = copy;
        return;
    }
    reply->status = 404;
    reply->content_type = NULL;
    reply->body = orx_server_error_json("no such page", "invalid_request_error", NULL);
}

orx_status orx_static_register(orx_server *srv, orx_static *st, orx_error *err) {
    for (size_t i = 0; i < N_FILES; i++)
        if (orx_server_route_open(srv, "GET", FILES[i].path, route_static, st) != ORX_OK)
            return orx_fail(err, ORX_ERR_RANGE, "too many routes for the web page");
    return ORX_OK;
}
