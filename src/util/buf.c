/* buf.c — growable buffers and small string helpers. */
#include "util/util.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void orx_buf_init(orx_buf *b) { b->data = NULL; b->len = 0; b->cap = 0; }

void orx_buf_clear(orx_buf *b) { free(b->data); orx_buf_init(b); }

void orx_buf_reset(orx_buf *b) { b->len = 0; if (b->data) b->data[0] = '\0'; }

bool orx_buf_reserve(orx_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool orx_grow(void *items, size_t *cap, size_t need, size_t size, size_t first) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap : first ? first : 1;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (nc > SIZE_MAX / size) return false;
    void *old, *p;
    memcpy(&old, items, sizeof old);
    if (!(p = realloc(old, nc * size))) return false;
    memcpy(items, &p, sizeof p);
    *cap = nc;
    return true;
}

bool orx_buf_append(orx_buf *b, const void *p, size_t n) {
    if (!orx_buf_reserve(b, n)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool orx_buf_puts(orx_buf *b, const char *s) { return orx_buf_append(b, s, strlen(s)); }

bool orx_buf_vprintf(orx_buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !orx_buf_reserve(b, (size_t)n)) return false;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool orx_buf_printf(orx_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bool ok = orx_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

char *orx_buf_steal(orx_buf *b) {
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    orx_buf_init(b);
    return p;
}

char *orx_strdup(const char *s) { return s ? strdup(s) : NULL; }

char *orx_strndup(const char *s, size_t n) { return s ? strndup(s, n) : NULL; }

bool orx_str_starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool orx_str_ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return lx <= ls && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool orx_str_ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

void orx_str_lower(char *s) {
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

char *orx_str_trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}
