/* file.c — whole-file reads, atomic writes, fsynced appends, mmap, directories. */
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Open a regular file for reading: its descriptor and status, or the error. */
static orx_status open_regular(const char *path, int *fd, struct stat *st, orx_error *err) {
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return orx_fail(err, errno == ENOENT ? ORX_ERR_NOT_FOUND : ORX_ERR_IO,
                                 "%s: cannot open: %s", path, strerror(errno));
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        *fd = -1;
        return orx_fail(err, ORX_ERR_IO, "%s: not a regular file", path);
    }
    return ORX_OK;
}

orx_status orx_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                         orx_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    struct stat st;
    int fd;
    orx_status os = open_regular(path, &fd, &st, err);
    if (os != ORX_OK) return os;
    size_t size = (size_t)st.st_size;
    if (max_bytes && size > max_bytes) {
        close(fd);
        return orx_fail(err, ORX_ERR_RANGE, "%s: file is %zu bytes, larger than the %zu-byte limit",
                        path, size, max_bytes);
    }
    char *buf = malloc(size + 1);
    if (!buf) { close(fd); return orx_fail(err, ORX_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size); }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) { free(buf); return orx_fail(err, ORX_ERR_IO, "%s: short read", path); }
    buf[size] = '\0';
    *out = buf;
    if (out_len) *out_len = size;
    return ORX_OK;
}

static orx_status write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return ORX_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return ORX_OK;
}

static void fsync_parent_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    free(copy);
}

orx_status orx_write_file_atomic(const char *path, const void *data, size_t len, orx_error *err) {
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return orx_fail(err, ORX_ERR_RANGE, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return orx_fail(err, ORX_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    if (write_all(fd, data, len) != ORX_OK || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return orx_fail(err, ORX_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return orx_fail(err, ORX_ERR_IO, "%s: rename failed: %s", path, strerror(e));
    }
    fsync_parent_dir(path);
    return ORX_OK;
}

orx_status orx_append_fsync(const char *path, const void *data, size_t len, orx_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return orx_fail(err, ORX_ERR_IO, "%s: cannot open for append: %s", path, strerror(errno));
    orx_status st = write_all(fd, data, len);
    if (st == ORX_OK && fsync(fd) != 0) st = ORX_ERR_IO;
    int e = errno;
    close(fd);
    if (st != ORX_OK) return orx_fail(err, st, "%s: append failed: %s", path, strerror(e));
    return ORX_OK;
}

orx_status orx_mmap_open(const char *path, orx_mmap *m, orx_error *err) {
    m->addr = NULL;
    m->size = 0;
    struct stat st;
    int fd;
    orx_status os = open_regular(path, &fd, &st, err);
    if (os != ORX_OK) return os;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return orx_fail(err, ORX_ERR_IO, "%s: mmap failed: %s", path, strerror(e));
        }
        m->addr = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return ORX_OK;
}

void orx_mmap_close(orx_mmap *m) {
    if (m->addr) munmap(m->addr, m->size);
    m->addr = NULL;
    m->size = 0;
}

bool orx_file_exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

bool orx_is_dir(const char *path) { struct stat st; return stat(path, &st) == 0 && S_ISDIR(st.st_mode); }

orx_status orx_mkdir_p(const char *path, orx_error *err) {
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", path) >= sizeof tmp)
        return orx_fail(err, ORX_ERR_RANGE, "%s: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return orx_fail(err, ORX_ERR_IO, "%s: mkdir failed: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return orx_fail(err, ORX_ERR_IO, "%s: mkdir failed: %s", tmp, strerror(errno));
    return ORX_OK;
}

orx_status orx_each_line(FILE *f, const char *path, size_t max_line, bool skip_blank, orx_line_fn fn, void *ctx,
                         orx_error *err) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    orx_status st = ORX_OK;
    while (st == ORX_OK && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (max_line && (size_t)n > max_line) {
            st = orx_fail(err, ORX_ERR_RANGE, "%s:%ld: line longer than %zu bytes", path, lineno, max_line);
            break;
        }
        if (skip_blank) {
            size_t k = 0;
            while (k < (size_t)n && isspace((unsigned char)line[k])) k++;
            if (k == (size_t)n) continue;
        }
        st = fn(ctx, lineno, line, (size_t)n, err);
    }
    if (st == ORX_OK && ferror(f)) st = orx_fail(err, ORX_ERR_IO, "%s: read error", path);
    free(line);
    return st;
}

void orx_utc_now(char *out, size_t cap, const char *fmt) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (!strftime(out, cap, fmt, &tm) && cap) out[0] = 0;
}
