/* progress.c — a one-line progress bar with rate and ETA on stderr (TTY only). */
#include "util/util.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

double orx_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void orx_progress_start(orx_progress *p, const char *label, uint64_t total) {
    p->label = label;
    p->total = total;
    p->done = 0;
    p->t_start = orx_now();
    p->t_last = 0;
    p->enabled = isatty(STDERR_FILENO) && !getenv("ORX_NO_PROGRESS");
}

static void draw(orx_progress *p, double now) {
    double el = now - p->t_start;
    if (p->total) {
        double frac = (double)p->done / (double)p->total;
        if (frac > 1) frac = 1;
        int width = 30, fill = (int)(frac * width);
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, "\r%s [", p->label);
        for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %3.0f%% %llu/%llu  %.1fs, ETA %.1fs ", frac * 100,
                (unsigned long long)p->done, (unsigned long long)p->total, el, eta);
    } else {
        fprintf(stderr, "\r%s %llu  %.1fs ", p->label, (unsigned long long)p->done, el);
    }
    fflush(stderr);
}

void orx_progress_update(orx_progress *p, uint64_t done) {
    p->done = done;
    if (!p->enabled) return;
    double now = orx_now();
    if (now - p->t_last < 0.1) return;
    p->t_last = now;
    draw(p, now);
}

void orx_progress_finish(orx_progress *p) {
    if (!p->enabled) return;
    if (p->total) p->done = p->total;
    draw(p, orx_now());
    fputc('\n', stderr);
}
