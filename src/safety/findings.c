/* findings.c — severity tiers and the findings list: add, sort, count, text and JSON output. */
#include "safety/safety.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Severity
 * ========================================================================================== */
static const char *const SEV_NAMES[ORX_SEV_COUNT] = {"info", "minor", "moderate", "major",
                                                     "contraindicated"};

const char *orx_severity_name(orx_severity s) {
    return (unsigned)s < ORX_SEV_COUNT ? SEV_NAMES[s] : "unknown";
}

bool orx_severity_parse(const char *s, orx_severity *out) {
    if (!s) return false;
    for (int i = 0; i < ORX_SEV_COUNT; i++) {
        if (orx_str_ieq(s, SEV_NAMES[i])) {
            if (out) *out = (orx_severity)i;
            return true;
        }
    }
    return false;
}

void orx_fset(char *dst, size_t cap, const char *fmt, ...) {
    if (!dst || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* ============================================================================================
 * List
 * ========================================================================================== */
#define FINDINGS_MAX 100000 /* hard cap on findings per list (bounded memory) */

void orx_findings_init(orx_findings *fs) {
    if (fs) memset(fs, 0, sizeof *fs);
}

void orx_findings_clear(orx_findings *fs) {
    if (!fs) return;
    free(fs->items);
    memset(fs, 0, sizeof *fs);
}

orx_finding *orx_findings_push(orx_findings *fs, const char *kind, orx_severity sev) {
    if (!fs || fs->n >= FINDINGS_MAX) return NULL;
    orx_finding *f = orx_push((void **)&fs->items, &fs->n, &fs->cap, sizeof *f, 16);
    if (!f) return NULL;
    orx_fset(f->kind, sizeof f->kind, "%s", kind ? kind : "");
    f->severity = sev;
    return f;
}

bool orx_findings_max_severity(const orx_findings *fs, orx_severity *out) {
    if (!fs || fs->n == 0) return false;
    orx_severity m = ORX_SEV_INFO;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->items[i].severity > m) m = fs->items[i].severity;
    if (out) *out = m;
    return true;
}

static int cmp_finding(const orx_finding *a, const orx_finding *b) {
    if (a->severity != b->severity) return a->severity > b->severity ? -1 : 1;
    int c = strcmp(a->kind, b->kind);
    if (c) return c;
    return strcmp(a->drugs, b->drugs);
}

void orx_findings_sort(orx_findings *fs) {
    if (!fs) return;
    /* insertion sort: stable, lists are short */
    for (size_t i = 1; i < fs->n; i++) {
        orx_finding tmp = fs->items[i];
        size_t j = i;
        while (j > 0 && cmp_finding(&fs->items[j - 1], &tmp) > 0) {
            fs->items[j] = fs->items[j - 1];
            j--;
        }
        fs->items[j] = tmp;
    }
}

void orx_findings_count(const orx_findings *fs, size_t counts[ORX_SEV_COUNT]) {
    for (int i = 0; i < ORX_SEV_COUNT; i++) counts[i] = 0;
    if (!fs) return;
    for (size_t i = 0; i < fs->n; i++)
        if ((unsigned)fs->items[i].severity < ORX_SEV_COUNT) counts[fs->items[i].severity]++;
}

/* ============================================================================================
 * Output
 * ========================================================================================== */
orx_status orx_findings_to_text(const orx_findings *fs, orx_buf *out, orx_error *err) {
    bool ok = true;
    if (!fs || fs->n == 0) {
        ok = orx_buf_puts(out, "No findings.\n");
        return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "findings: out of memory");
    }
    for (size_t i = 0; i < fs->n && ok; i++) {
        const orx_finding *f = &fs->items[i];
        char sev[24];
        orx_fset(sev, sizeof sev, "%s", orx_severity_name(f->severity));
        for (char *p = sev; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        ok = orx_buf_printf(out, "[%s]%s %s: %s\n", sev, f->interruptive ? " (interruptive)" : "",
                            f->kind, f->drugs);
        if (f->message[0]) ok = ok && orx_buf_printf(out, "  %s\n", f->message);
        if (f->trigger[0]) ok = ok && orx_buf_printf(out, "  because: %s\n", f->trigger);
        if (f->management[0]) ok = ok && orx_buf_printf(out, "  management: %s\n", f->management);
        if (f->quote[0]) ok = ok && orx_buf_printf(out, "  quote: \"%s\"\n", f->quote);
        if (f->also[0]) ok = ok && orx_buf_printf(out, "  also: %s\n", f->also);
        ok = ok && orx_buf_printf(out, "  source: %s%s%s\n", f->source, f->citation[0] ? " — " : "",
                                  f->citation);
    }
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "findings: out of memory");
}

/* json_string, or for invalid UTF-8 (a field cut mid-character) a copy with bytes >= 0x80 as '?'. */
static json_t *jstr(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    char tmp[1024];
    size_t i = 0;
    for (; s[i] && i < sizeof tmp - 1; i++) tmp[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    tmp[i] = 0;
    return json_string(tmp);
}

json_t *orx_findings_json(const orx_findings *fs, bool summary) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && fs && i < fs->n; i++) {
        const orx_finding *f = &fs->items[i];
        json_t *o = json_object();
        json_object_set_new(o, "kind", jstr(f->kind));
        json_object_set_new(o, "severity", json_string(orx_severity_name(f->severity)));
        if (!summary) json_object_set_new(o, "interruptive", json_boolean(f->interruptive));
        json_object_set_new(o, "drugs", jstr(f->drugs));
        if (!summary) {
            json_object_set_new(o, "trigger", jstr(f->trigger));
            json_object_set_new(o, "message", jstr(f->message));
            json_object_set_new(o, "management", jstr(f->management));
            json_object_set_new(o, "source", jstr(f->source));
        }
        json_object_set_new(o, "citation", jstr(f->citation));
        if (!summary) {
            json_object_set_new(o, "quote", jstr(f->quote));
            json_object_set_new(o, "also", jstr(f->also));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

orx_status orx_findings_to_json(const orx_findings *fs, orx_buf *out, orx_error *err) {
    json_t *arr = orx_findings_json(fs, false);
    if (!arr) return orx_fail(err, ORX_ERR_NOMEM, "findings: out of memory");
    char *s = json_dumps(arr, JSON_INDENT(2));
    json_decref(arr);
    bool ok = s && orx_buf_puts(out, s);
    free(s);
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "findings: out of memory");
}
