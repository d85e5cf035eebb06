/* testutil.c — see testutil.h. */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *orx_test_source_dir(void) {
    const char *d = getenv("ORX_SOURCE_DIR");
    return d ? d : ORX_SOURCE_DIR;
}

const char *orx_test_shared_dir(void) {
    static char path[4096];
    const char *env = getenv("ORX_SHARED_DIR");
    if (env) snprintf(path, sizeof path, "%s", env);
    else snprintf(path, sizeof path, "%s/../shared", orx_test_source_dir());
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

const char *orx_test_bin(void) { return getenv("ORX_BIN"); }

const char *orx_test_path(const char *fmt, ...) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 4096, fmt, ap);
    va_end(ap);
    return b;
}

int orx_test_run(char **out, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out) *out = buf; else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int orx_test_save_fhir(const char *name, const char *data, size_t len) {
    const char *dir = getenv("ORX_FHIR_OUT");
    if (!dir || !*dir) return 0;
    mkdir(dir, 0755);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len) { remove(tmp); return -1; }
    return rename(tmp, path) == 0 ? 0 : -1;
}
