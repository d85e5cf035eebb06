/* catalog.c — load and validate data/models.json into orx_catalog_model records. */
#include "catalog/catalog.h"
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_MAX_BYTES (8u << 20) /* a catalog is small; refuse anything absurd */

struct orx_catalog {
    json_t            *root;     /* owns every string handed out */
    size_t             n;        /* entries */
    orx_catalog_model *models;   /* [n] */
    size_t             n_tasks;  /* declared taxonomy categories */
    const char       **task_ids; /* [n_tasks] */
    const char       **task_labels; /* [n_tasks] */
};

/* ============================================================================================
 * Field readers (each names the entry and field in its error)
 * ========================================================================================== */
typedef struct ctx {
    const char *what;  /* file name for messages */
    size_t      index; /* entry index */
    const char *name;  /* entry name, or "?" */
    orx_error  *err;
} ctx;

static orx_status bad(ctx *c, const char *field, const char *why) {
    return orx_fail(c->err, ORX_ERR_INVALID, "%s: models[%zu] (%s): field '%s' %s", c->what,
                    c->index, c->name, field, why);
}

/* Optional string: absent or null → NULL; otherwise must be a non-empty string. */
static orx_status opt_str(ctx *c, json_t *o, const char *field, const char **out) {
    json_t *v = json_object_get(o, field);
    *out = NULL;
    if (!v || json_is_null(v)) return ORX_OK;
    if (!json_is_string(v) || !json_string_length(v)) return bad(c, field, "must be a non-empty string or null");
    *out = json_string_value(v);
    return ORX_OK;
}

static orx_status req_str(ctx *c, json_t *o, const char *field, const char **out) {
    orx_status st = opt_str(c, o, field, out);
    if (st) return st;
    return *out ? ORX_OK : bad(c, field, "is required");
}

static orx_status opt_num(ctx *c, json_t *o, const char *field, double *out) {
    json_t *v = json_object_get(o, field);
    *out = -1;
    if (!v || json_is_null(v)) return ORX_OK;
    if (!json_is_number(v) || json_number_value(v) <= 0) return bad(c, field, "must be a positive number or null");
    *out = json_number_value(v);
    return ORX_OK;
}

static bool is_url(const char *s) {
    return s && (orx_str_starts_with(s, "https://") || orx_str_starts_with(s, "http://"));
}

static bool is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p)) return false;
    return true;
}

/* Array of non-empty strings → malloc'd pointer array (may be empty). */
static orx_status str_array(ctx *c, json_t *o, const char *field, bool required, size_t *n,
                            const char ***out) {
    json_t *v = json_object_get(o, field);
    *n = 0;
    *out = NULL;
    if (!v || json_is_null(v)) return required ? bad(c, field, "is required") : ORX_OK;
    if (!json_is_array(v)) return bad(c, field, "must be an array of strings");
    size_t k = json_array_size(v);
    if (!k) return ORX_OK;
    const char **a = calloc(k, sizeof *a);
    if (!a) return orx_fail(c->err, ORX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || !json_string_length(s)) {
            free(a);
            return bad(c, field, "must hold non-empty strings");
        }
        a[i] = json_string_value(s);
    }
    *n = k;
    *out = a;
    return ORX_OK;
}

/* ============================================================================================
 * One entry
 * ========================================================================================== */
static orx_status parse_openness(ctx *c, json_t *o, orx_catalog_model *m) {
    json_t *op = json_object_get(o, "openness");
    if (!json_is_object(op)) return bad(c, "openness", "must be an object {weights, data, code}");
    orx_status st = opt_str(c, op, "weights", &m->open_weights);
    if (!st) st = opt_str(c, op, "data", &m->open_data);
    if (!st) st = opt_str(c, op, "code", &m->open_code);
    return st;
}

static orx_status parse_files(ctx *c, json_t *g, orx_catalog_gguf *out) {
    json_t *files = json_object_get(g, "files");
    if (!json_is_array(files)) return bad(c, "gguf[].files", "must be an array");
    size_t k = json_array_size(files);
    orx_catalog_file *f = k ? calloc(k, sizeof *f) : NULL;
    if (k && !f) return orx_fail(c->err, ORX_ERR_NOMEM, "out of memory");
    out->files = f;
    out->n_files = k;
    for (size_t i = 0; i < k; i++) {
        json_t *fo = json_array_get(files, i);
        if (!json_is_object(fo)) return bad(c, "gguf[].files[]", "must be an object");
        orx_status st = req_str(c, fo, "name", &f[i].name);
        if (!st) st = req_str(c, fo, "quant", &f[i].quant);
        if (!st) st = opt_str(c, fo, "url", &f[i].url);
        if (!st) st = opt_str(c, fo, "sha256", &f[i].sha256);
        if (!st) st = opt_num(c, fo, "size_gb", &f[i].size_gb);
        if (st) return st;
        if (strchr(f[i].name, '/') || !strcmp(f[i].name, "..") || !strcmp(f[i].name, "."))
            return bad(c, "gguf[].files[].name", "must be a plain file name");
        if (f[i].url && !is_url(f[i].url)) return bad(c, "gguf[].files[].url", "must be an http(s) URL");
        if (f[i].sha256 && !is_hex64(f[i].sha256))
            return bad(c, "gguf[].files[].sha256", "must be 64 hex digits or null");
    }
    return ORX_OK;
}

static orx_status parse_gguf(ctx *c, json_t *o, orx_catalog_model *m) {
    json_t *g = json_object_get(o, "gguf");
    if (!g || json_is_null(g)) return ORX_OK;
    if (!json_is_array(g)) return bad(c, "gguf", "must be an array");
    size_t k = json_array_size(g);
    if (!k) return ORX_OK;
    orx_catalog_gguf *a = calloc(k, sizeof *a);
    if (!a) return orx_fail(c->err, ORX_ERR_NOMEM, "out of memory");
    m->gguf = a;
    m->n_gguf = k;
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(g, i);
        if (!json_is_object(e)) return bad(c, "gguf[]", "must be an object {repo, files}");
        orx_status st = req_str(c, e, "repo", &a[i].repo);
        if (st) return st;
        if (!is_url(a[i].repo)) return bad(c, "gguf[].repo", "must be an http(s) URL");
        if ((st = parse_files(c, e, &a[i]))) return st;
    }
    return ORX_OK;
}

static orx_status parse_acceptance(ctx *c, json_t *o, orx_catalog_model *m) {
    json_t *v = json_object_get(o, "requires_licence_acceptance");
    if (!v || json_is_null(v)) m->requires_licence_acceptance = ORX_TRI_UNKNOWN;
    else if (json_is_boolean(v)) m->requires_licence_acceptance = json_is_true(v) ? ORX_TRI_YES : ORX_TRI_NO;
    else return bad(c, "requires_licence_acceptance", "must be true, false or null");
    return ORX_OK;
}

static orx_status check_tasks(ctx *c, const orx_catalog *cat, const orx_catalog_model *m) {
    if (!m->n_tasks) return bad(c, "tasks", "must name at least one category");
    for (size_t i = 0; i < m->n_tasks; i++) {
        bool ok = false;
        for (size_t t = 0; t < cat->n_tasks && !ok; t++) ok = !strcmp(m->tasks[i], cat->task_ids[t]);
        if (!ok)
            return orx_fail(c->err, ORX_ERR_INVALID, "%s: models[%zu] (%s): unknown task category '%s'",
                            c->what, c->index, c->name, m->tasks[i]);
    }
    return ORX_OK;
}

static orx_status parse_entry(ctx *c, orx_catalog *cat, json_t *o, orx_catalog_model *m) {
    if (!json_is_object(o))
        return orx_fail(c->err, ORX_ERR_INVALID, "%s: models[%zu] must be an object", c->what, c->index);
    orx_status st = req_str(c, o, "name", &m->name);
    if (st) return st;
    c->name = m->name;
    double ctxlen;
    if ((st = opt_str(c, o, "display_name", &m->display_name)) ||
        (st = opt_str(c, o, "organisation", &m->organisation)) ||
        (st = opt_str(c, o, "base_model", &m->base_model)) ||
        (st = opt_num(c, o, "parameters_b", &m->parameters_b)) ||
        (st = opt_str(c, o, "modality", &m->modality)) ||
        (st = str_array(c, o, "tasks", true, &m->n_tasks, &m->tasks)) ||
        (st = opt_str(c, o, "task_basis", &m->task_basis)) ||
        (st = opt_str(c, o, "licence", &m->licence)) ||
        (st = opt_str(c, o, "code_licence", &m->code_licence)) ||
        (st = opt_str(c, o, "licence_url", &m->licence_url)) ||
        (st = str_array(c, o, "use_restrictions", false, &m->n_restrictions, &m->restrictions)) ||
        (st = opt_str(c, o, "use_note", &m->use_note)) ||
        (st = parse_acceptance(c, o, m)) || (st = parse_openness(c, o, m)) ||
        (st = opt_str(c, o, "architecture", &m->architecture)) ||
        (st = opt_num(c, o, "context_length", &ctxlen)) || (st = parse_gguf(c, o, m)) ||
        (st = req_str(c, o, "source", &m->source)) ||
        (st = str_array(c, o, "sources", false, &m->n_sources, &m->sources)) ||
        (st = opt_str(c, o, "paper", &m->paper)))
        return st;
    m->context_length = ctxlen > 0 ? (int64_t)ctxlen : -1;
    if (!m->display_name) m->display_name = m->name;
    if (!is_url(m->source)) return bad(c, "source", "must be an http(s) URL (the model card)");
    if (m->licence_url && !is_url(m->licence_url)) return bad(c, "licence_url", "must be an http(s) URL");
    for (size_t i = 0; i < m->n_sources; i++)
        if (!is_url(m->sources[i])) return bad(c, "sources", "must hold http(s) URLs");
    return check_tasks(c, cat, m);
}

/* ============================================================================================
 * Whole catalog
 * ========================================================================================== */
static orx_status parse_task_categories(orx_catalog *cat, const char *what, orx_error *err) {
    json_t *tc = json_object_get(cat->root, "task_categories");
    if (!json_is_array(tc) || !json_array_size(tc))
        return orx_fail(err, ORX_ERR_INVALID, "%s: 'task_categories' must be a non-empty array", what);
    size_t k = json_array_size(tc);
    cat->task_ids = calloc(k, sizeof *cat->task_ids);
    cat->task_labels = calloc(k, sizeof *cat->task_labels);
    if (!cat->task_ids || !cat->task_labels) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    cat->n_tasks = k;
    for (size_t i = 0; i < k; i++) {
        json_t *t = json_array_get(tc, i);
        json_t *id = json_object_get(t, "id"), *label = json_object_get(t, "label");
        if (!json_is_string(id) || !json_is_string(label))
            return orx_fail(err, ORX_ERR_INVALID, "%s: task_categories[%zu] needs string 'id' and 'label'", what, i);
        cat->task_ids[i] = json_string_value(id);
        cat->task_labels[i] = json_string_value(label);
    }
    return ORX_OK;
}

static orx_status parse_models(orx_catalog *cat, const char *what, orx_error *err) {
    json_t *models = json_object_get(cat->root, "models");
    if (!json_is_array(models))
        return orx_fail(err, ORX_ERR_INVALID, "%s: 'models' must be an array", what);
    size_t k = json_array_size(models);
    cat->models = k ? calloc(k, sizeof *cat->models) : NULL;
    if (k && !cat->models) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
        ctx c = {what, i, "?", err};
        cat->n = i + 1; /* so orx_catalog_free releases what was built */
        orx_status st = parse_entry(&c, cat, json_array_get(models, i), &cat->models[i]);
        if (st) return st;
        for (size_t j = 0; j < i; j++)
            if (orx_str_ieq(cat->models[j].name, cat->models[i].name))
                return orx_fail(err, ORX_ERR_INVALID, "%s: models[%zu]: duplicate name '%s' (first at models[%zu])",
                                what, i, cat->models[i].name, j);
    }
    cat->n = k;
    return ORX_OK;
}

orx_status orx_catalog_load_text(const char *text, size_t len, const char *what,
                                 orx_catalog **out, orx_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: %s", what, je.line, je.column, je.text);
    orx_catalog *cat = calloc(1, sizeof *cat);
    if (!cat) {
        json_decref(root);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    cat->root = root;
    orx_status st = json_is_object(root) ? ORX_OK
                                         : orx_fail(err, ORX_ERR_INVALID, "%s: top level must be an object", what);
    if (!st) st = parse_task_categories(cat, what, err);
    if (!st) st = parse_models(cat, what, err);
    if (st) {
        orx_catalog_free(cat);
        return st;
    }
    *out = cat;
    return ORX_OK;
}

orx_status orx_catalog_load(const char *path, orx_catalog **out, orx_error *err) {
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    orx_status st = orx_read_file(path, CATALOG_MAX_BYTES, &text, &len, err);
    if (st) return st;
    st = orx_catalog_load_text(text, len, path, out, err);
    free(text);
    return st;
}

const char *orx_catalog_default_path(void) {
    static char path[4096];
    const char *env = getenv("ORX_MODELS_JSON");
    if (env && *env) return env;
    if (orx_file_exists("data/models.json")) return "data/models.json";
#ifdef ORX_SOURCE_DIR
    snprintf(path, sizeof path, "%s/data/models.json", ORX_SOURCE_DIR);
#else
    snprintf(path, sizeof path, "data/models.json");
#endif
    return path;
}

void orx_catalog_free(orx_catalog *cat) {
    if (!cat) return;
    for (size_t i = 0; i < cat->n; i++) {
        orx_catalog_model *m = &cat->models[i];
        free(m->tasks);
        free(m->restrictions);
        free(m->sources);
        for (size_t g = 0; g < m->n_gguf; g++) free((void *)m->gguf[g].files);
        free((void *)m->gguf);
    }
    free(cat->models);
    free(cat->task_ids);
    free(cat->task_labels);
    json_decref(cat->root);
    free(cat);
}

size_t orx_catalog_count(const orx_catalog *cat) { return cat ? cat->n : 0; }

const orx_catalog_model *orx_catalog_at(const orx_catalog *cat, size_t i) {
    return cat && i < cat->n ? &cat->models[i] : NULL;
}

const orx_catalog_model *orx_catalog_find(const orx_catalog *cat, const char *name) {
    if (!cat || !name) return NULL;
    for (size_t i = 0; i < cat->n; i++)
        if (orx_str_ieq(cat->models[i].name, name) || orx_str_ieq(cat->models[i].display_name, name))
            return &cat->models[i];
    return NULL;
}

char *orx_catalog_entry_json(const orx_catalog *cat, size_t i) {
    if (!cat || i >= cat->n) return NULL;
    return json_dumps(json_array_get(json_object_get(cat->root, "models"), i), JSON_COMPACT | JSON_PRESERVE_ORDER);
}

size_t orx_catalog_n_tasks(const orx_catalog *cat) { return cat ? cat->n_tasks : 0; }
const char *orx_catalog_task_id(const orx_catalog *cat, size_t i) {
    return cat && i < cat->n_tasks ? cat->task_ids[i] : NULL;
}
const char *orx_catalog_task_label(const orx_catalog *cat, size_t i) {
    return cat && i < cat->n_tasks ? cat->task_labels[i] : NULL;
}
