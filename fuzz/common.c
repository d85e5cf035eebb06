/* common.c — helpers shared by the harnesses (see fuzz.h). */
#define _GNU_SOURCE 1 /* memfd_create */
#include "fuzz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CSTR_CAP (4u << 20)

const char *orx_fuzz_cstr(const uint8_t *data, size_t size) {
    static char *buf;
    if (size >= CSTR_CAP) return NULL;
    if (!buf && !(buf = malloc(CSTR_CAP))) return NULL;
    if (size) memcpy(buf, data, size);
    buf[size] = '\0';
    return buf;
}

const char *orx_fuzz_file(int slot, const uint8_t *data, size_t size) {
    static int fds[4] = {-1, -1, -1, -1};
    static char paths[4][64];
    if (slot < 0 || slot > 3) return NULL;
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("orx-fuzz", 0);
        if (fds[slot] < 0) return NULL;
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    if (ftruncate(fds[slot], 0) != 0) return NULL;
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(fds[slot], data + off, size - off, (off_t)off);
        if (w <= 0) return NULL;
        off += (size_t)w;
    }
    return paths[slot];
}

const char *orx_fuzz_source_dir(void) {
    const char *e = getenv("ORX_SOURCE_DIR");
    return e && *e ? e : ORX_SOURCE_DIR;
}

void orx_fuzz_split(const uint8_t *data, size_t size, uint8_t sep, const uint8_t **a, size_t *na,
                    const uint8_t **b, size_t *nb) {
    const uint8_t *p = size ? memchr(data, sep, size) : NULL;
    *a = data;
    if (!p) {
        *na = size;
        *b = data + size;
        *nb = 0;
        return;
    }
    *na = (size_t)(p - data);
    *b = p + 1;
    *nb = size - *na - 1;
}
