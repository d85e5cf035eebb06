/*
 * ingest_text.c — plain-text label files (NLM DDI corpus <setid>.txt with upper-case section
 * headings; fda-ars <DRUG>_<section>.txt groups), labels_sections.jsonl, and the path walker
 * that picks an ingester per file.
 */
#include "kb/kb.h"
#include "kb/fetch.h"
#include "util/util.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TEXT_FILE (64u << 20) /* one label text file */
#define MAX_JSONL_LINE (64u << 20) /* one label per line */

/* ============================================================================================
 * Label names
 * ========================================================================================== */
static bool is_form_word(const char *w) {
    static const char *const FORMS[] = {
        "tablet", "tablets", "capsule", "capsules", "injection", "solution", "suspension", "kit",
        "cream", "ointment", "gel", "powder", "for", "syrup", "elixir", "liquid", "film", "coated",
        "extended", "delayed", "release", "orally", "disintegrating", "chewable", "concentrate",
        "spray", "patch", "granule", "granules", "emulsion", "lotion", "aerosol", "inhalant",
        "suppository", "pellet", "implant", "oral", "intravenous", "and", NULL};
    for (int i = 0; FORMS[i]; i++)
        if (orx_str_ieq(w, FORMS[i])) return true;
    return false;
}

static void copy_trim(char *out, size_t cap, const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == ',' || s[n - 1] == '-')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

/* keep words up to the first dosage-form word, lower-cased */
static void generic_from(const char *s, char *out, size_t cap) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != ',') p++;
        char word[64];
        size_t wl = (size_t)(p - w) < sizeof word - 1 ? (size_t)(p - w) : sizeof word - 1;
        memcpy(word, w, wl);
        word[wl] = 0;
        if (!wl || is_form_word(word)) break;
        if (n + wl + 2 >= cap) break;
        if (n) out[n++] = ' ';
        for (size_t i = 0; i < wl; i++) out[n++] = (char)tolower((unsigned char)word[i]);
    }
    out[n] = 0;
}

void orx_kb_parse_label_name(const char *name, char *brand, size_t bcap, char *generic, size_t gcap) {
    brand[0] = generic[0] = 0;
    if (!name) return;
    static const char LEAD[] = "Drug Label for drug brand ";
    if (!strncmp(name, LEAD, sizeof LEAD - 1)) {
        /* NLM corpus: "Drug Label for drug brand ACCURETIC, containing QUINAPRIL ... ." */
        const char *b = name + sizeof LEAD - 1, *c = strstr(b, ", containing ");
        copy_trim(brand, bcap, b, c ? (size_t)(c - b) : strlen(b));
        if (c) {
            copy_trim(generic, gcap, c + 13, strlen(c + 13));
            size_t gl = strlen(generic);
            if (gl && generic[gl - 1] == '.') generic[gl - 1] = 0;
            orx_str_lower(generic);
        }
        return;
    }
    const char *dash = strstr(name, "- ");
    const char *paren = strchr(name, '(');
    if (paren && (!dash || paren < dash)) {
        copy_trim(brand, bcap, name, (size_t)(paren - name));
        const char *close = strchr(paren, ')');
        char inner[256];
        copy_trim(inner, sizeof inner, paren + 1, close ? (size_t)(close - paren - 1) : strlen(paren + 1));
        generic_from(inner, generic, gcap);
    } else if (dash) {
        copy_trim(brand, bcap, name, (size_t)(dash - name));
        generic_from(dash + 2, generic, gcap);
    } else {
        generic_from(name, generic, gcap);
    }
    if (orx_str_ieq(brand, generic)) brand[0] = 0;
}

/* ============================================================================================
 * Section list builder (owned texts)
 * ========================================================================================== */
typedef struct sec_list {
    orx_kb_section *v;     /* sections */
    size_t          n;     /* used */
    size_t          cap;   /* allocated */
} sec_list;

static bool sec_add(sec_list *l, const char *code, const char *name, const char *title,
                    const char *text, size_t len) {
    orx_kb_section *nv = orx_grow(l->v, &l->cap, l->n, sizeof *nv, 16);
    if (!nv) return false;
    l->v = nv;
    orx_kb_section *s = &l->v[l->n];
    memset(s, 0, sizeof *s);
    snprintf(s->code, sizeof s->code, "%s", code ? code : "");
    const char *canon = orx_kb_section_name(s->code);
    s->name = orx_strdup(canon ? canon : (name && *name ? name : "Unclassified"));
    s->title = orx_strdup(title ? title : "");
    s->text = orx_strndup(text, len);
    if (!s->name || !s->title || !s->text) return false;
    s->len = strlen(s->text); /* a NUL byte in a damaged file ends the text (len is what was copied) */
    l->n++;
    return true;
}

static void sec_free(sec_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->v[i].name);
        free((char *)l->v[i].title);
        free((char *)l->v[i].text);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ============================================================================================
 * NLM DDI corpus text: first line title, upper-case headings ("5 WARNINGS AND PRECAUTIONS")
 * ========================================================================================== */
/* section code when the line is a top-level heading, else NULL */
static const char *heading_code(const char *line, size_t n) {
    char buf[160];
    if (n >= sizeof buf || n < 4) return NULL;
    memcpy(buf, line, n);
    buf[n] = 0;
    char *p = orx_str_trim(buf);
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') return NULL; /* "5.1 Something": a sub-section */
    int letters = 0;
    for (char *q = p; *q; q++) {
        if (islower((unsigned char)*q)) return NULL;
        if (isalpha((unsigned char)*q)) letters++;
    }
    return letters >= 4 ? orx_kb_section_code_for(p) : NULL;
}

/* names.tsv next to the txt/ folder (set id, label drug, generic): the NLM corpus annotations name
 * every label's drug, while some text files start with a section heading instead of a title */
static bool sidecar_names(const char *path, const char *setid, char *brand, size_t bcap,
                          char *generic, size_t gcap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else *slash = 0;
    const char *cands[2] = {"%s/names.tsv", "%s/../names.tsv"};
    for (int c = 0; c < 2; c++) {
        char p[4200];
        snprintf(p, sizeof p, cands[c], dir);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        char line[1024];
        size_t sl = strlen(setid);
        bool found = false;
        while (!found && fgets(line, sizeof line, f)) {
            if (strncmp(line, setid, sl) != 0 || line[sl] != '\t') continue;
            char *b = line + sl + 1, *g = strchr(b, '\t');
            if (!g) continue;
            *g++ = 0;
            g[strcspn(g, "\r\n")] = 0;
            snprintf(brand, bcap, "%s", b);
            snprintf(generic, gcap, "%s", g);
            orx_str_lower(generic);
            found = true;
        }
        fclose(f);
        if (found) return true;
    }
    return false;
}

static orx_status ingest_nlm(const char *path, const char *text, size_t len, orx_kb_doc_fn fn,
                             void *ctx, orx_error *err) {
    sec_list l = {0};
    char title[256] = "";
    size_t i = 0;
    /* title: first non-empty line */
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        copy_trim(title, sizeof title, text + i, e - i);
        i = e < len ? e + 1 : e;
        if (title[0]) break;
    }
    const char *cur_code = "";
    char cur_title[160] = "";
    size_t body = i;
    bool ok = true;
    while (i <= len && ok) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        const char *code = i < len ? heading_code(text + i, e - i) : NULL;
        if (code || i >= len) {
            if (i > body) ok = sec_add(&l, cur_code, NULL, cur_title, text + body, i - body);
            if (code) {
                cur_code = code;
                copy_trim(cur_title, sizeof cur_title, text + i, e - i);
            }
            body = e < len ? e + 1 : e;
        }
        if (i >= len) break;
        i = e + 1;
    }
    orx_status st = ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", path);
    if (st == ORX_OK) {
        char setid[128], brand[128], generic[160];
        copy_trim(setid, sizeof setid, base_name(path), strlen(base_name(path)));
        char *dot = strrchr(setid, '.');
        if (dot) *dot = 0;
        if (heading_code(title, strlen(title))) title[0] = 0; /* no title line, just a heading */
        orx_kb_parse_label_name(title, brand, sizeof brand, generic, sizeof generic);
        sidecar_names(path, setid, brand, sizeof brand, generic, sizeof generic);
        if (!title[0]) snprintf(title, sizeof title, "%.120s (%.120s)", brand, generic);
        orx_kb_doc d = {.set_id = setid, .version = "", .effective_date = "", .title = title,
                        .generic_names = generic, .brand_names = brand, .rxcuis = "",
                        .source_file = path, .sections = l.v, .n_sections = l.n, .src_bytes = len};
        st = fn(ctx, &d, err);
    }
    sec_free(&l);
    return st;
}

/* ============================================================================================
 * fda-ars groups: <DRUG>_<section>.txt, one drug per group
 * ========================================================================================== */
/* section code and the length of the drug prefix when the name has the <DRUG>_<section>.txt shape */
static const char *ars_split(const char *path, size_t *prefix_len) {
    const char *b = base_name(path);
    if (!orx_str_ends_with(b, ".txt")) return NULL;
    static const char *const SUFFIX[] = {"_adverse_reactions", "_warnings_and_precautions",
                                         "_boxed_warnings", "_boxed_warning", "_warnings",
                                         "_precautions", "_drug_interactions", "_contraindications",
                                         "_dosage_and_administration", "_indications_and_usage", NULL};
    size_t bl = strlen(b) - 4;
    for (int i = 0; SUFFIX[i]; i++) {
        size_t sl = strlen(SUFFIX[i]);
        if (bl > sl && !strncmp(b + bl - sl, SUFFIX[i], sl)) {
            *prefix_len = bl - sl;
            return orx_kb_section_code_for(SUFFIX[i] + 1);
        }
    }
    return NULL;
}

static orx_status ingest_ars_group(const char *const *paths, size_t n, orx_kb_doc_fn fn, void *ctx,
                                   orx_error *err) {
    sec_list l = {0};
    orx_status st = ORX_OK;
    uint64_t bytes = 0;
    size_t plen = 0;
    ars_split(paths[0], &plen);
    for (size_t i = 0; i < n && st == ORX_OK; i++) {
        size_t pl;
        const char *code = ars_split(paths[i], &pl);
        char *text = NULL;
        size_t len = 0;
        st = orx_read_file(paths[i], MAX_TEXT_FILE, &text, &len, err);
        if (st != ORX_OK) break;
        bytes += len;
        if (!sec_add(&l, code, NULL, "", text, len))
            st = orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", paths[i]);
        free(text);
    }
    if (st == ORX_OK) {
        char drug[128], setid[160], generic[128];
        copy_trim(drug, sizeof drug, base_name(paths[0]), plen);
        snprintf(setid, sizeof setid, "fda-ars:%s", drug);
        snprintf(generic, sizeof generic, "%s", drug);
        for (char *p = generic; *p; p++) *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
        orx_kb_doc d = {.set_id = setid, .version = "", .effective_date = "", .title = drug,
                        .generic_names = generic, .brand_names = "", .rxcuis = "",
                        .source_file = paths[0], .sections = l.v, .n_sections = l.n,
                        .src_bytes = bytes};
        st = fn(ctx, &d, err);
    }
    sec_free(&l);
    return st;
}

orx_status orx_kb_ingest_text(const char *const *paths, size_t n, orx_kb_doc_fn fn, void *ctx,
                              orx_error *err) {
    if (!n) return ORX_OK;
    size_t pl;
    if (ars_split(paths[0], &pl)) return ingest_ars_group(paths, n, fn, ctx, err);
    orx_status st = ORX_OK;
    for (size_t i = 0; i < n && st == ORX_OK; i++) {
        char *text = NULL;
        size_t len = 0;
        st = orx_read_file(paths[i], MAX_TEXT_FILE, &text, &len, err);
        if (st == ORX_OK) st = ingest_nlm(paths[i], text, len, fn, ctx, err);
        free(text);
    }
    return st;
}

/* ============================================================================================
 * labels_sections.jsonl
 * ========================================================================================== */
static const char *jstr(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* join a JSON array of strings with "; " */
static void join_array(json_t *a, orx_buf *out) {
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) continue;
        if (out->len) orx_buf_puts(out, "; ");
        orx_buf_puts(out, json_string_value(v));
    }
}

static orx_status jsonl_doc(const char *path, long lineno, json_t *o, size_t line_len,
                            orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    if (!json_is_object(o))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:1: expected a JSON object per line", path, lineno);
    json_t *secs = json_object_get(o, "sections");
    if (secs && !json_is_array(secs))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:1: \"sections\" is not an array", path, lineno);
    sec_list l = {0};
    size_t i;
    json_t *s;
    bool ok = true;
    json_array_foreach(secs, i, s) {
        const char *text = jstr(s, "text");
        if (!ok || !*text) continue;
        const char *title = jstr(s, "section_title");
        ok = sec_add(&l, jstr(s, "section_code"), jstr(s, "section_name"), title, text, strlen(text));
    }
    orx_status st = ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "%s:%ld: out of memory", path, lineno);
    orx_buf gen, brand, rx, src;
    orx_buf_init(&gen);
    orx_buf_init(&brand);
    orx_buf_init(&rx);
    orx_buf_init(&src);
    join_array(json_object_get(o, "generic_names"), &gen);
    join_array(json_object_get(o, "brand_names"), &brand);
    join_array(json_object_get(o, "rxcuis"), &rx);
    const char *title = jstr(o, "title");
    const char *label_name = jstr(o, "label_name");
    if (*label_name) title = label_name;
    if (!*title) title = jstr(o, "page_title");
    if (!gen.len && !brand.len) {
        char b[128], g[160];
        orx_kb_parse_label_name(title, b, sizeof b, g, sizeof g);
        orx_buf_puts(&gen, g);
        orx_buf_puts(&brand, b);
    }
    orx_buf_printf(&src, "%s:%ld", path, lineno);
    const char *setid = jstr(o, "setid");
    if (!*setid) setid = jstr(o, "set_id");
    char fallback[160];
    if (!*setid && *jstr(o, "source")) {
        /* pages without a set id (an archive page): name them after their source file */
        const char *b = base_name(jstr(o, "source"));
        snprintf(fallback, sizeof fallback, "%s", b);
        char *dot = strrchr(fallback, '.');
        if (dot) *dot = 0;
        setid = fallback;
    }
    if (st == ORX_OK) {
        orx_kb_doc d = {.set_id = setid, .version = jstr(o, "version"),
                        .effective_date = jstr(o, "effective_time"), .title = title,
                        .generic_names = gen.data ? gen.data : "",
                        .brand_names = brand.data ? brand.data : "", .rxcuis = rx.data ? rx.data : "",
                        .source_file = src.data, .sections = l.v, .n_sections = l.n,
                        .src_bytes = line_len};
        st = fn(ctx, &d, err); /* the store skips (and reports) a label without a set id */
    }
    orx_buf_clear(&gen);
    orx_buf_clear(&brand);
    orx_buf_clear(&rx);
    orx_buf_clear(&src);
    sec_free(&l);
    return st;
}

typedef struct jsonl_ctx {
    const char   *path;
    orx_kb_doc_fn fn;
    void         *ctx;
} jsonl_ctx;

static orx_status jsonl_line(void *u, long lineno, char *line, size_t n, orx_error *err) {
    const jsonl_ctx *jc = u;
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    if (!o) return orx_fail(err, ORX_ERR_PARSE, "%s:%ld:%d: %s", jc->path, lineno, je.column, je.text);
    orx_status st = jsonl_doc(jc->path, lineno, o, n, jc->fn, jc->ctx, err);
    json_decref(o);
    return st;
}

orx_status orx_kb_ingest_jsonl(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return orx_fail(err, ORX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    jsonl_ctx jc = {path, fn, ctx};
    orx_status st = orx_each_line(f, path, MAX_JSONL_LINE, true, jsonl_line, &jc, err);
    fclose(f);
    return st;
}

/* ============================================================================================
 * Path walker
 * ========================================================================================== */
typedef struct path_list {
    char  **v;   /* malloc'd paths */
    size_t  n;   /* used */
    size_t  cap; /* allocated */
} path_list;

static bool pl_add(path_list *l, const char *p) {
    char **nv = orx_grow(l->v, &l->cap, l->n, sizeof *nv, 64);
    if (!nv) return false;
    l->v = nv;
    return (l->v[l->n++] = orx_strdup(p)) != NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool wanted(const char *name) {
    if (name[0] == '.') return false;
    if (!strncmp(name, "SOURCE", 6) || !strncmp(name, "README", 6) || !strncmp(name, "LICENSE", 7) ||
        !strncmp(name, "COPYING", 7) || !strcmp(name, "manifest.json")) /* kb fetch's manifest */
        return false;
    return orx_str_ends_with(name, ".json") || orx_str_ends_with(name, ".jsonl") ||
           orx_str_ends_with(name, ".xml") || orx_str_ends_with(name, ".txt") ||
           orx_str_ends_with(name, ".zip");
}

/* A directory that cannot be listed is a bad input like a bad file (reported unless strict). */
static orx_status walk(const char *dir, path_list *l, int depth, const orx_kb_ingest_opts *o, orx_error *err) {
    if (depth > 32) return orx_fail(err, ORX_ERR_RANGE, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d) {
        orx_status st = orx_fail(err, ORX_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
        if (depth == 0 || o->strict || !o->bad_file) return st;
        o->bad_file(o->ctx, dir, err);
        *err = (orx_error)ORX_ERROR_INIT;
        return ORX_OK;
    }
    struct dirent *e;
    orx_status st = ORX_OK;
    while (st == ORX_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || e->d_name[0] == '.') continue;
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p) continue;
        struct stat sb;
        if (stat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) st = walk(p, l, depth + 1, o, err);
        else if (S_ISREG(sb.st_mode) && wanted(e->d_name) && !pl_add(l, p))
            st = orx_fail(err, ORX_ERR_NOMEM, "out of memory listing %s", dir);
    }
    closedir(d);
    return st;
}

static orx_status ingest_file(const char *p, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    if (orx_str_ends_with(p, ".indications.jsonl")) return orx_kb_ingest_indications(p, fn, ctx, err);
    if (orx_str_ends_with(p, ".jsonl")) return orx_kb_ingest_jsonl(p, fn, ctx, err);
    if (orx_str_ends_with(p, ".json")) return orx_kb_ingest_openfda(p, fn, ctx, err);
    if (orx_str_ends_with(p, ".xml")) return orx_kb_ingest_spl(p, fn, ctx, err);
    if (orx_str_ends_with(p, ".zip")) return orx_kb_ingest_zip(p, fn, ctx, err);
    const char *one[1] = {p};
    return orx_kb_ingest_text(one, 1, fn, ctx, err);
}

/* fn with a note of whether it (the consumer), rather than the file, failed */
typedef struct shim {
    orx_kb_doc_fn fn;       /* the caller's */
    void         *ctx;      /* its context */
    bool          failed;   /* fn returned an error */
} shim;

static orx_status shim_fn(void *c, const orx_kb_doc *doc, orx_error *err) {
    shim *s = c;
    orx_status st = s->fn(s->ctx, doc, err);
    if (st != ORX_OK) s->failed = true;
    return st;
}

/* One file, or a group of fda-ars files of one drug (paths[0..n)). */
static orx_status ingest_unit(char *const *paths, size_t n, bool in_dir, orx_kb_doc_fn fn, void *ctx,
                              const orx_kb_ingest_opts *o, orx_error *err) {
    orx_status st = o->file_begin ? o->file_begin(o->ctx, paths[0], err) : ORX_OK;
    if (st != ORX_OK) return st;
    shim sh = {fn, ctx, false};
    size_t pl;
    if (ars_split(paths[0], &pl)) st = orx_kb_ingest_text((const char *const *)paths, n, shim_fn, &sh, err);
    else st = ingest_file(paths[0], shim_fn, &sh, err);
    if (st == ORX_OK) return o->file_end ? o->file_end(o->ctx, paths[0], true, err) : ORX_OK;
    if (sh.failed || o->strict || !in_dir) return st; /* the consumer failed, or bad files stop */
    orx_error why = *err;
    if (n > 1) snprintf(why.msg + strlen(why.msg), sizeof why.msg - strlen(why.msg), " (group of %zu fda-ars files)", n);
    *err = (orx_error)ORX_ERROR_INIT;
    if (o->file_end && (st = o->file_end(o->ctx, paths[0], false, err)) != ORX_OK) return st;
    if (o->bad_file) o->bad_file(o->ctx, paths[0], &why);
    return ORX_OK;
}

orx_status orx_kb_ingest_path_opts(const char *path, orx_kb_doc_fn fn, void *ctx, const orx_kb_ingest_opts *opts,
                                   orx_error *err) {
    orx_kb_ingest_opts strict = {.strict = true};
    const orx_kb_ingest_opts *o = opts ? opts : &strict;
    if (!orx_is_dir(path)) {
        if (!orx_file_exists(path))
            return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no such file or directory", path);
        char *one[1] = {(char *)path};
        return ingest_unit(one, 1, false, fn, ctx, o, err);
    }
    path_list l = {0};
    orx_status st = walk(path, &l, 0, o, err);
    if (st == ORX_OK && l.n > 1) qsort(l.v, l.n, sizeof *l.v, cmp_str);
    for (size_t i = 0; st == ORX_OK && i < l.n;) {
        size_t pl, pl2, j = i + 1;
        if (ars_split(l.v[i], &pl)) {
            /* group <DRUG>_<section>.txt files of one drug (same directory, same prefix) */
            while (j < l.n && ars_split(l.v[j], &pl2) && pl2 == pl &&
                   strlen(l.v[j]) - strlen(base_name(l.v[j])) == strlen(l.v[i]) - strlen(base_name(l.v[i])) &&
                   !strncmp(l.v[i], l.v[j], strlen(l.v[i]) - strlen(base_name(l.v[i])) + pl))
                j++;
        }
        st = ingest_unit(l.v + i, j - i, true, fn, ctx, o, err);
        i = j;
    }
    for (size_t i = 0; i < l.n; i++) free(l.v[i]);
    free(l.v);
    return st;
}

orx_status orx_kb_ingest_path(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    return orx_kb_ingest_path_opts(path, fn, ctx, NULL, err);
}
