/* testutil.c — see testutil.h. */
#include "testutil.h"
#include "kb/kb.h"
#include "safety/safety.h"
#include "util/util.h"
#include <unistd.h>
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

/* ---- default knowledge base ---------------------------------------------------------------- */
static char g_own_kb[256]; /* built by this process (no $ORX_TEST_KB), removed at exit */

static void remove_own_kb(void) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s'-* '%s'.impact-*", g_own_kb, g_own_kb, g_own_kb);
    if (system(cmd) != 0) fprintf(stderr, "testutil: could not remove %s\n", g_own_kb);
}

const char *orx_test_default_kb(void) {
    static char path[4096];
    if (path[0]) return path;
    const char *env = getenv("ORX_TEST_KB");
    if (env && *env) {
        if (!orx_file_exists(env)) {
            fprintf(stderr, "testutil: $ORX_TEST_KB=%s does not exist (kb_default_fixture failed?)\n", env);
            return NULL;
        }
        snprintf(path, sizeof path, "%s", env);
        return path;
    }
    snprintf(g_own_kb, sizeof g_own_kb, "/tmp/orx-test-kb-%ld.sqlite", (long)getpid());
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    const char *in[1] = {orx_test_path("%s/data/labels", orx_test_source_dir())};
    orx_error err = ORX_ERROR_INIT;
    if (orx_kb_build(g_own_kb, in, 1, &p, NULL, &err) != ORX_OK) {
        fprintf(stderr, "testutil: building the default knowledge base failed: %s\n", err.msg);
        return NULL;
    }
    atexit(remove_own_kb);
    snprintf(path, sizeof path, "%s", g_own_kb);
    return path;
}

const char *orx_test_copy_kb(const char *src, const char *dir) {
    if (orx_test_run(NULL, "cp '%s' '%s'.impact-* '%s'/", src, src, dir) != 0) {
        fprintf(stderr, "testutil: could not copy %s (and its impact index) into %s\n", src, dir);
        return NULL;
    }
    const char *base = strrchr(src, '/');
    return orx_test_path("%s/%s", dir, base ? base + 1 : src);
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

struct orx_checker *orx_test_checker(void) {
    orx_checker_params p = orx_checker_default_params();
    p.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_error err = ORX_ERROR_INIT;
    orx_checker *ck = NULL;
    if (orx_checker_create(&p, &ck, &err) != ORX_OK) {
        print_error("checker: %s\n", err.msg);
        return NULL;
    }
    return ck;
}
