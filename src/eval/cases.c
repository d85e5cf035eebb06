/* cases.c — load and validate evaluation case files (JSONL; format in data/cases/README.md). */
#include "eval/eval.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CASES_MAX_BYTES (64u << 20)
#define CASES_MAX_N 100000

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */
static orx_status bad(orx_error *err, const char *path, int line, const char *field, const char *what) {
    return orx_fail(err, ORX_ERR_INVALID, "%s:%d: %s: %s", path, line, field, what);
}

static bool copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) return false;
    memcpy(dst, src, n + 1);
    return true;
}

static bool valid_date(const char *s) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int m = atoi(s + 5), d = atoi(s + 8);
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static void lower(char *s) { orx_str_lower(s); }

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? orx_strndup(path, (size_t)(slash - path)) : orx_strdup(".");
}

static void case_free(orx_eval_case *c) {
    free(c->patient_json);
    free(c->patient_path);
    free(c->indication);
    free(c->acceptable);
    for (int i = 0; i < c->n_avoid; i++) free(c->avoid[i].why);
    free(c->avoid);
    free(c->doses);
    free(c->question);
    for (int i = 0; i < c->n_options; i++) free(c->options[i]);
    free(c->citation);
    memset(c, 0, sizeof *c);
}

/* ============================================================================================
 * Field parsers (each returns ORX_OK or fails with "file:line: field: what")
 * ========================================================================================== */
static orx_status parse_truth(json_t *t, const char *path, int line, orx_eval_case *c, orx_error *err) {
    if (!json_is_object(t)) return bad(err, path, line, "truth", "must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v) {
        if (strcmp(key, "acceptable") && strcmp(key, "avoid") && strcmp(key, "doses"))
            return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.%s: unknown key (acceptable, avoid, doses)", path, line, key);
    }
    json_t *acc = json_object_get(t, "acceptable");
    if (acc) {
        if (!json_is_array(acc)) return bad(err, path, line, "truth.acceptable", "must be an array of ingredient names");
        size_t n = json_array_size(acc);
        c->acceptable = calloc(n ? n : 1, sizeof *c->acceptable);
        if (!c->acceptable) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_array_get(acc, i);
            if (!json_is_string(s) || !*json_string_value(s) || !copy_str(c->acceptable[i], ORX_EVAL_NAME, json_string_value(s)))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.acceptable[%zu]: must be a non-empty name under %d bytes", path, line, i, ORX_EVAL_NAME);
            lower(c->acceptable[i]);
            c->n_acceptable++;
        }
    }
    json_t *av = json_object_get(t, "avoid");
    if (av) {
        if (!json_is_array(av)) return bad(err, path, line, "truth.avoid", "must be an array of {drug, why}");
        size_t n = json_array_size(av);
        c->avoid = calloc(n ? n : 1, sizeof *c->avoid);
        if (!c->avoid) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(av, i);
            json_t *d = json_object_get(o, "drug"), *w = json_object_get(o, "why");
            if (!json_is_object(o) || !json_is_string(d) || !*json_string_value(d) ||
                !copy_str(c->avoid[i].drug, ORX_EVAL_NAME, json_string_value(d)))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.avoid[%zu].drug: required non-empty name", path, line, i);
            if (!json_is_string(w) || !*json_string_value(w))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.avoid[%zu].why: required (the reason, with its source)", path, line, i);
            lower(c->avoid[i].drug);
            c->avoid[i].why = orx_strdup(json_string_value(w));
            c->n_avoid++;
        }
    }
    json_t *ds = json_object_get(t, "doses");
    if (ds) {
        if (!json_is_array(ds)) return bad(err, path, line, "truth.doses", "must be an array of {drug, min, max, unit}");
        size_t n = json_array_size(ds);
        c->doses = calloc(n ? n : 1, sizeof *c->doses);
        if (!c->doses) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(ds, i);
            orx_eval_dose *d = &c->doses[i];
            json_t *dr = json_object_get(o, "drug"), *mn = json_object_get(o, "min"), *mx = json_object_get(o, "max"),
                   *un = json_object_get(o, "unit"), *ro = json_object_get(o, "route"), *fr = json_object_get(o, "frequency");
            if (!json_is_object(o) || !json_is_string(dr) || !copy_str(d->drug, ORX_EVAL_NAME, json_string_value(dr)) || !d->drug[0])
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.doses[%zu].drug: required non-empty name", path, line, i);
            if (!json_is_number(mn) || !json_is_number(mx))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.doses[%zu].min/max: required numbers", path, line, i);
            d->min = json_number_value(mn);
            d->max = json_number_value(mx);
            if (!isfinite(d->min) || !isfinite(d->max) || d->min <= 0 || d->max < d->min)
                return orx_fail(err, ORX_ERR_RANGE, "%s:%d: truth.doses[%zu]: need 0 < min <= max (got %g, %g)", path, line, i, d->min, d->max);
            if (!json_is_string(un) || !*json_string_value(un) || !copy_str(d->unit, sizeof d->unit, json_string_value(un)))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.doses[%zu].unit: required (\"mg\", \"mcg\", ...)", path, line, i);
            if (ro && (!json_is_string(ro) || !copy_str(d->route, sizeof d->route, json_string_value(ro))))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.doses[%zu].route: must be a short string", path, line, i);
            if (fr && (!json_is_string(fr) || !copy_str(d->frequency, sizeof d->frequency, json_string_value(fr))))
                return orx_fail(err, ORX_ERR_INVALID, "%s:%d: truth.doses[%zu].frequency: must be a short string", path, line, i);
            lower(d->drug);
            c->n_doses++;
        }
    }
    if (c->n_acceptable + c->n_avoid + c->n_doses == 0)
        return bad(err, path, line, "truth", "states nothing (give acceptable, avoid or doses)");
    return ORX_OK;
}

static orx_status parse_rx(json_t *o, const char *path, const char *dir, int line, orx_eval_case *c, orx_error *err) {
    json_t *pt = json_object_get(o, "patient"), *pp = json_object_get(o, "patient_path");
    if ((pt != NULL) == (pp != NULL)) return bad(err, path, line, "patient", "give exactly one of patient (object) or patient_path");
    if (pt) {
        if (!json_is_object(pt)) return bad(err, path, line, "patient", "must be a JSON object (FHIR Bundle or openrx form)");
        c->patient_json = json_dumps(pt, JSON_COMPACT);
        if (!c->patient_json) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    } else {
        if (!json_is_string(pp) || !*json_string_value(pp)) return bad(err, path, line, "patient_path", "must be a non-empty path");
        const char *p = json_string_value(pp);
        orx_buf b;
        orx_buf_init(&b);
        if (p[0] == '/') orx_buf_puts(&b, p);
        else orx_buf_printf(&b, "%s/%s", dir, p);
        c->patient_path = orx_buf_steal(&b);
        if (!c->patient_path) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        if (!orx_file_exists(c->patient_path))
            return orx_fail(err, ORX_ERR_NOT_FOUND, "%s:%d: patient_path: %s not found", path, line, c->patient_path);
    }
    json_t *ind = json_object_get(o, "indication");
    if (!json_is_string(ind) || !*json_string_value(ind) || strlen(json_string_value(ind)) > 1000)
        return bad(err, path, line, "indication", "required non-empty string (at most 1000 bytes)");
    c->indication = orx_strdup(json_string_value(ind));
    json_t *ao = json_object_get(o, "as_of");
    if (ao) {
        if (!json_is_string(ao) || !valid_date(json_string_value(ao))) return bad(err, path, line, "as_of", "must be YYYY-MM-DD");
        copy_str(c->as_of, sizeof c->as_of, json_string_value(ao));
    }
    json_t *t = json_object_get(o, "truth");
    if (!t) return bad(err, path, line, "truth", "required");
    return parse_truth(t, path, line, c, err);
}

static orx_status parse_mcq(json_t *o, const char *path, int line, orx_eval_case *c, orx_error *err) {
    json_t *q = json_object_get(o, "question"), *opts = json_object_get(o, "options"), *a = json_object_get(o, "answer");
    if (!json_is_string(q) || !*json_string_value(q)) return bad(err, path, line, "question", "required non-empty string");
    c->question = orx_strdup(json_string_value(q));
    if (!json_is_object(opts) || json_object_size(opts) < 2 || json_object_size(opts) > ORX_EVAL_MAX_OPTIONS)
        return orx_fail(err, ORX_ERR_INVALID, "%s:%d: options: must be an object with 2..%d keys (\"A\": \"text\", ...)", path, line, ORX_EVAL_MAX_OPTIONS);
    const char *key;
    json_t *v;
    json_object_foreach(opts, key, v) {
        if (!*key || strlen(key) > 3 || !json_is_string(v) || !*json_string_value(v))
            return orx_fail(err, ORX_ERR_INVALID, "%s:%d: options.%s: keys are 1-3 characters, values non-empty strings", path, line, key);
        copy_str(c->option_keys[c->n_options], 4, key);
        c->options[c->n_options++] = orx_strdup(json_string_value(v));
    }
    if (!json_is_string(a)) return bad(err, path, line, "answer", "required: the key of the right option");
    for (int i = 0; i < c->n_options; i++)
        if (!strcmp(c->option_keys[i], json_string_value(a))) {
            copy_str(c->answer, sizeof c->answer, json_string_value(a));
            return ORX_OK;
        }
    return orx_fail(err, ORX_ERR_INVALID, "%s:%d: answer: '%s' is not one of the option keys", path, line, json_string_value(a));
}

static const char *const TOP_KEYS[] = {"id", "set", "type", "patient", "patient_path", "as_of", "indication",
                                       "truth", "source", "expect", "note", "question", "options", "answer", NULL};

static orx_status parse_case(json_t *o, const char *path, const char *dir, int line, orx_eval_case *c, orx_error *err) {
    if (!json_is_object(o)) return bad(err, path, line, "(case)", "each line must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (int i = 0; TOP_KEYS[i]; i++) ok |= !strcmp(key, TOP_KEYS[i]);
        if (!ok) return orx_fail(err, ORX_ERR_INVALID, "%s:%d: %s: unknown key", path, line, key);
    }
    c->line = line;
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || !*json_string_value(id) || !copy_str(c->id, sizeof c->id, json_string_value(id)) ||
        strpbrk(c->id, "|\"\\\n\t,"))
        return bad(err, path, line, "id", "required string (< 128 bytes, no | \" \\ , tab or newline)");
    json_t *set = json_object_get(o, "set");
    if (set && (!json_is_string(set) || !copy_str(c->set, sizeof c->set, json_string_value(set))))
        return bad(err, path, line, "set", "must be a short string");
    if (!c->set[0]) copy_str(c->set, sizeof c->set, "default");
    json_t *type = json_object_get(o, "type");
    const char *ts = type && json_is_string(type) ? json_string_value(type) : (type ? "" : "rx");
    if (!strcmp(ts, "mcq")) c->kind = ORX_EVAL_MCQ;
    else if (!strcmp(ts, "rx")) c->kind = ORX_EVAL_RX;
    else return bad(err, path, line, "type", "must be \"rx\" (default) or \"mcq\"");
    json_t *src = json_object_get(o, "source");
    json_t *cit = src ? json_object_get(src, "citation") : NULL;
    if (!json_is_object(src) || !json_is_string(cit) || !*json_string_value(cit))
        return bad(err, path, line, "source.citation", "required: where the truth comes from");
    c->citation = orx_strdup(json_string_value(cit));
    return c->kind == ORX_EVAL_MCQ ? parse_mcq(o, path, line, c, err) : parse_rx(o, path, dir, line, c, err);
}

/* ============================================================================================
 * Public
 * ========================================================================================== */
orx_status orx_eval_cases_load(const char *path, orx_eval_cases *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, CASES_MAX_BYTES, &data, &len, err);
    if (st != ORX_OK) return st;
    orx_sha256_hex(data, len, out->sha256);
    char *dir = dir_of(path);
    size_t cap = 0;
    int line = 0;
    char *p = data, *end = data + len;
    while (st == ORX_OK && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        char *s = p;
        p = nl ? nl + 1 : end;
        while (s < le && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
        if (s == le || *s == '#') continue;
        if (out->n >= CASES_MAX_N) { st = orx_fail(err, ORX_ERR_RANGE, "%s:%d: more than %d cases", path, line, CASES_MAX_N); break; }
        json_error_t je;
        json_t *o = json_loadb(s, (size_t)(le - s), 0, &je);
        if (!o) { st = orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: %s", path, line, je.column, je.text); break; }
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            orx_eval_case *ni = realloc(out->items, nc * sizeof *ni);
            if (!ni) { json_decref(o); st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
            out->items = ni;
            cap = nc;
        }
        orx_eval_case *c = &out->items[out->n];
        memset(c, 0, sizeof *c);
        st = parse_case(o, path, dir, line, c, err);
        json_decref(o);
        if (st != ORX_OK) { case_free(c); break; }
        if (orx_eval_cases_find(out, c->id)) {
            st = orx_fail(err, ORX_ERR_INVALID, "%s:%d: id: '%s' repeats an earlier case", path, line, c->id);
            case_free(c);
            break;
        }
        out->n++;
    }
    if (st == ORX_OK && out->n == 0) st = orx_fail(err, ORX_ERR_INVALID, "%s: no cases", path);
    free(dir);
    free(data);
    if (st != ORX_OK) orx_eval_cases_clear(out);
    return st;
}

void orx_eval_cases_clear(orx_eval_cases *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) case_free(&c->items[i]);
    free(c->items);
    memset(c, 0, sizeof *c);
}

const orx_eval_case *orx_eval_cases_find(const orx_eval_cases *c, const char *id) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->items[i].id, id)) return &c->items[i];
    return NULL;
}
