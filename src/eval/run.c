/* run.c — `eval run`: every model × RAG arm × case × repeat, resumable, one fsynced JSONL record
 * per unit in DIR/results.jsonl. A record counts only when its whole line (with '\n') is on disk;
 * an incomplete last line left by a killed run is truncated away at the next start. */
#include "eval/eval.h"
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESULTS_MAX_BYTES (1u << 30)
#define RAW_KEEP 4000

/* ============================================================================================
 * Model specs
 * ========================================================================================== */
static bool cpy(char *dst, size_t cap, const char *s, size_t n) {
    if (n >= cap) return false;
    memcpy(dst, s, n);
    dst[n] = 0;
    return true;
}

orx_status orx_eval_model_parse(const char *spec, bool local, orx_eval_model_spec *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) return orx_fail(err, ORX_ERR_USAGE, "empty model spec");
    if (!strcmp(spec, "evidence")) {
        strcpy(out->kind, "evidence");
        strcpy(out->label, "evidence");
        return ORX_OK;
    }
    if (local) {
        strcpy(out->kind, "local");
        if (!cpy(out->path, sizeof out->path, spec, strlen(spec))) return orx_fail(err, ORX_ERR_USAGE, "model path too long");
        const char *base = strrchr(spec, '/');
        snprintf(out->label, sizeof out->label, "%s", base ? base + 1 : spec);
        return ORX_OK;
    }
    /* openai:URL,NAME[,KEYENV] */
    if (!orx_str_starts_with(spec, "openai:"))
        return orx_fail(err, ORX_ERR_USAGE, "--backend '%s': expected openai:URL,NAME[,KEYENV]", spec);
    const char *u = spec + 7, *c1 = strchr(u, ',');
    if (!c1 || c1 == u) return orx_fail(err, ORX_ERR_USAGE, "--backend '%s': expected openai:URL,NAME[,KEYENV]", spec);
    const char *n = c1 + 1, *c2 = strchr(n, ',');
    size_t nl = c2 ? (size_t)(c2 - n) : strlen(n);
    if (nl == 0) return orx_fail(err, ORX_ERR_USAGE, "--backend '%s': model NAME missing", spec);
    strcpy(out->kind, "openai");
    if (!cpy(out->base_url, sizeof out->base_url, u, (size_t)(c1 - u)) || !cpy(out->model, sizeof out->model, n, nl) ||
        (c2 && !cpy(out->api_key_env, sizeof out->api_key_env, c2 + 1, strlen(c2 + 1))))
        return orx_fail(err, ORX_ERR_USAGE, "--backend '%s': a part is too long", spec);
    snprintf(out->label, sizeof out->label, "%s", out->model);
    return ORX_OK;
}

orx_eval_run_params orx_eval_default_run_params(void) {
    orx_eval_run_params p;
    memset(&p, 0, sizeof p);
    p.rag_on = p.rag_off = true;
    p.repeat = 1;
    p.jobs = 1;
    p.max_tokens = 512;
    p.k = 6;
    p.reask = true;
    return p;
}

/* ============================================================================================
 * Units and the results file
 * ========================================================================================== */
typedef struct unit {
    const orx_eval_case *c;
    int model;      /* index into models */
    bool rag;
    int rep;
    char key[512];  /* "case|arm|rep" */
    char arm[300];  /* "label [rag]" / "label [no-rag]" */
} unit;

typedef struct keyset {
    char **keys;
    size_t n, cap;
} keyset;

static int cmp_key(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
/* keys sorted once after loading (keyset_sort); lookups by binary search */
static void keyset_sort(keyset *k) { if (k->n) qsort(k->keys, k->n, sizeof *k->keys, cmp_key); }
static bool keyset_has(const keyset *k, const char *key) {
    return k->n && bsearch(&key, k->keys, k->n, sizeof *k->keys, cmp_key) != NULL;
}
static void keyset_free(keyset *k) {
    for (size_t i = 0; i < k->n; i++) free(k->keys[i]);
    free(k->keys);
}
static bool keyset_add(keyset *k, const char *key) {
    char **nk = orx_grow(k->keys, &k->cap, k->n, sizeof *nk, 64);
    if (!nk) return false;
    k->keys = nk;
    return (k->keys[k->n++] = orx_strdup(key)) != NULL;
}

/* Read finished keys; truncate an incomplete/corrupt tail left by a killed run. */
static orx_status load_done(const char *path, keyset *done, uint64_t *dropped, orx_error *err) {
    if (!orx_file_exists(path)) return ORX_OK;
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, RESULTS_MAX_BYTES, &data, &len, err);
    if (st != ORX_OK) return st;
    size_t good = 0, off = 0;
    while (off < len) {
        char *nl = memchr(data + off, '\n', len - off);
        if (!nl) break; /* incomplete last line */
        size_t ll = (size_t)(nl - (data + off));
        json_t *o = json_loadb(data + off, ll, 0, NULL);
        if (!o) break; /* corrupt: keep everything before it */
        const char *k = json_string_value(json_object_get(o, "key"));
        if (k && !keyset_add(done, k)) { json_decref(o); free(data); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
        json_decref(o);
        off += ll + 1;
        good = off;
    }
    free(data);
    keyset_sort(done);
    if (good < len) {
        *dropped = 1;
        if (truncate(path, (off_t)good) != 0)
            return orx_fail(err, ORX_ERR_IO, "%s: cannot drop the incomplete last record: %s", path, strerror(errno));
    }
    return ORX_OK;
}

/* run.json: parameters of the run; a resume must use the same case file. */
static orx_status write_manifest(const orx_eval_run_params *p, const orx_eval_cases *cs, const unit *units,
                                 size_t n_units, orx_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", p->out_dir);
    if (orx_file_exists(path)) {
        json_error_t je;
        json_t *old = json_load_file(path, 0, &je);
        if (!old) return orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        const char *h = json_string_value(json_object_get(old, "cases_sha256"));
        bool same = h && !strcmp(h, cs->sha256);
        json_decref(old);
        if (!same)
            return orx_fail(err, ORX_ERR_INVALID, "%s: this run folder was made with a different case file "
                            "(sha256 differs); use a new --out folder", path);
    }
    json_t *o = json_object();
    json_object_set_new(o, "openrx_eval_run", json_integer(1));
    char *abs = realpath(p->cases_path, NULL);
    json_object_set_new(o, "cases", json_string(abs ? abs : p->cases_path));
    free(abs);
    json_object_set_new(o, "cases_sha256", json_string(cs->sha256));
    json_object_set_new(o, "repeat", json_integer(p->repeat));
    json_object_set_new(o, "seed", json_integer((json_int_t)p->seed));
    json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
    json_object_set_new(o, "temperature", json_real(p->temperature));
    json_object_set_new(o, "k", json_integer(p->k));
    json_object_set_new(o, "kb", p->kb_path ? json_string(p->kb_path) : json_null());
    json_t *arms = json_array(), *models = json_array();
    for (size_t i = 0; i < n_units; i++) {
        bool seen = false;
        for (size_t j = 0; j < json_array_size(arms); j++) seen |= !strcmp(json_string_value(json_array_get(arms, j)), units[i].arm);
        if (!seen) json_array_append_new(arms, json_string(units[i].arm));
    }
    for (int m = 0; m < p->n_models; m++) {
        json_t *mo = json_object();
        json_object_set_new(mo, "kind", json_string(p->models[m].kind));
        json_object_set_new(mo, "label", json_string(p->models[m].label));
        if (p->models[m].path[0]) json_object_set_new(mo, "path", json_string(p->models[m].path));
        if (p->models[m].base_url[0]) json_object_set_new(mo, "base_url", json_string(p->models[m].base_url));
        json_array_append_new(models, mo);
    }
    json_object_set_new(o, "arms", arms);
    json_object_set_new(o, "models", models);
    char *s = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_write_file_atomic(path, s, strlen(s), err);
    free(s);
    return st;
}

/* ============================================================================================
 * Workers
 * ========================================================================================== */
typedef struct shared {
    const orx_eval_run_params *p;
    unit *units;
    size_t n_units, next;
    uint64_t done, total, errors;
    pthread_mutex_t mu;
    char results[4200];
    orx_status fatal;
    orx_error fatal_err;
} shared;

typedef struct worker {
    shared *sh;
    orx_checker *ck;
    orx_retriever ret;
    bool have_ret;
    orx_llm **llms;           /* [n_models], created on first use */
    char (*hashes)[65];       /* model file sha256 per model */
} worker;

static orx_status get_llm(worker *w, int m, orx_llm **out, orx_error *err) {
    const orx_eval_model_spec *s = &w->sh->p->models[m];
    *out = NULL;
    if (!strcmp(s->kind, "evidence")) return ORX_OK;
    if (w->llms[m]) { *out = w->llms[m]; return ORX_OK; }
    orx_status st;
    if (!strcmp(s->kind, "local")) {
        orx_local_params lp = orx_local_default_params();
        lp.model_path = s->path;
        lp.n_threads = w->sh->p->threads;
        st = orx_llm_local_create(&lp, &w->llms[m], err);
    } else {
        orx_openai_params op = orx_openai_default_params();
        op.base_url = s->base_url;
        op.model = s->model;
        op.api_key_env = s->api_key_env[0] ? s->api_key_env : NULL;
        if (w->sh->p->timeout_s > 0) op.timeout_s = w->sh->p->timeout_s;
        op.allow_remote = w->sh->p->allow_remote;
        op.redact = w->sh->p->redact;
        st = orx_llm_openai_create(&op, &w->llms[m], err);
    }
    *out = w->llms[m];
    return st;
}

static void now_iso(char out[32]) { orx_utc_now(out, 32, "%Y-%m-%dT%H:%M:%SZ"); }

static json_t *jstr(const char *s) { return json_string(s ? s : ""); }

/* Multiple choice: retrieval from the question only, answer constrained to the option keys. */
static orx_status run_mcq(worker *w, const unit *u, orx_llm *llm, json_t *rec, orx_eval_answer *ans, orx_error *err) {
    const orx_eval_case *c = u->c;
    const orx_eval_run_params *p = w->sh->p;
    orx_kb_results ev = {0};
    double t0 = orx_now(), t_ret = 0;
    orx_status st = ORX_OK;
    if (u->rag && w->have_ret && w->ret.search) {
        orx_kb_query q = {.text = c->question, .k = p->k, .expand = true};
        st = w->ret.search(w->ret.self, &q, &ev, err);
        if (st != ORX_OK) return st;
    }
    t_ret = orx_now() - t0;
    json_t *jev = json_array();
    for (size_t i = 0; i < ev.n; i++) {
        json_t *e = json_object();
        char id[16];
        snprintf(id, sizeof id, "S%zu", i + 1);
        json_object_set_new(e, "id", json_string(id));
        json_object_set_new(e, "citation", jstr(ev.hits[i].citation));
        json_array_append_new(jev, e);
    }
    json_object_set_new(rec, "evidence", jev);
    json_t *timing = json_object();
    json_object_set_new(timing, "retrieval_s", json_real(t_ret));
    if (!llm) {
        ans->abstained = true;
        orx_kb_results_clear(&ev);
        json_object_set_new(rec, "timing", timing);
        return ORX_OK;
    }
    orx_buf user, schema;
    orx_buf_init(&user);
    orx_buf_init(&schema);
    if (ev.n) {
        orx_buf_puts(&user, "Evidence:\n");
        for (size_t i = 0; i < ev.n; i++) orx_buf_printf(&user, "[S%zu] %.1500s\n", i + 1, ev.hits[i].text ? ev.hits[i].text : "");
        orx_buf_puts(&user, "\n");
    }
    orx_buf_printf(&user, "Question: %s\nOptions:\n", c->question);
    orx_buf_puts(&schema, "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"enum\":[");
    for (int i = 0; i < c->n_options; i++) {
        orx_buf_printf(&user, "%s. %s\n", c->option_keys[i], c->options[i]);
        orx_buf_printf(&schema, "%s\"%s\"", i ? "," : "", c->option_keys[i]);
    }
    orx_buf_puts(&schema, "]}},\"required\":[\"answer\"],\"additionalProperties\":false}");
    orx_buf_puts(&user, "Reply with JSON {\"answer\": \"<option key>\"}.");
    orx_llm_msg msgs[2] = {{"system", "You answer multiple-choice questions. Use the evidence when it is given. "
                                      "Reply only with the JSON object."},
                           {"user", user.data}};
    orx_llm_request rq = orx_llm_default_request();
    rq.messages = msgs;
    rq.n_messages = 2;
    rq.max_tokens = p->max_tokens;
    rq.temperature = p->temperature;
    rq.has_seed = true;
    rq.seed = p->seed + (uint64_t)u->rep;
    orx_schema *parsed = NULL;
    st = orx_schema_parse_text(schema.data, &parsed, err);
    if (st != ORX_OK) {
        json_object_set_new(rec, "timing", timing);
        orx_buf_clear(&user);
        orx_buf_clear(&schema);
        orx_kb_results_clear(&ev);
        return st;
    }
    rq.schema = parsed;
    rq.schema_name = "answer";
    orx_llm_response rs;
    st = orx_llm_chat(llm, &rq, &rs, err);
    if (st == ORX_OK) {
        json_t *o = rs.content ? json_loads(rs.content, 0, NULL) : NULL;
        const char *a = o ? json_string_value(json_object_get(o, "answer")) : NULL;
        for (int i = 0; a && i < c->n_options; i++)
            if (!strcmp(a, c->option_keys[i])) snprintf(ans->mcq_choice, sizeof ans->mcq_choice, "%s", a);
        ans->abstained = !ans->mcq_choice[0];
        json_decref(o);
        json_object_set_new(rec, "raw_output", json_stringn(rs.content ? rs.content : "", rs.content ? (strlen(rs.content) < RAW_KEEP ? strlen(rs.content) : RAW_KEEP) : 0));
        json_object_set_new(timing, "prefill_s", json_real(rs.t_first_token_s >= 0 ? rs.t_first_token_s : 0));
        json_object_set_new(timing, "decode_s", json_real(rs.t_first_token_s >= 0 ? rs.t_total_s - rs.t_first_token_s : rs.t_total_s));
        json_t *tok = json_object();
        json_object_set_new(tok, "prompt", json_integer(rs.prompt_tokens));
        json_object_set_new(tok, "completion", json_integer(rs.completion_tokens));
        json_object_set_new(rec, "tokens", tok);
        orx_llm_response_clear(&rs);
    }
    json_object_set_new(timing, "total_s", json_real(orx_now() - t0));
    json_object_set_new(rec, "timing", timing);
    json_t *ja = json_object();
    json_object_set_new(ja, "choice", json_string(ans->mcq_choice));
    json_object_set_new(rec, "answer", ja);
    orx_buf_clear(&user);
    orx_buf_clear(&schema);
    orx_schema_free(parsed);
    orx_kb_results_clear(&ev);
    return st;
}

/* Does the text of a cited, retrieved section contain the dose number? */
static bool text_has_number(const char *text, double v) {
    char num[32];
    snprintf(num, sizeof num, "%g", v);
    size_t nl = strlen(num);
    for (const char *q = text ? strstr(text, num) : NULL; q; q = strstr(q + 1, num)) {
        bool left = q == text || !((q[-1] >= '0' && q[-1] <= '9') || q[-1] == '.');
        bool right = !((q[nl] >= '0' && q[nl] <= '9') || (q[nl] == '.' && q[nl + 1] >= '0' && q[nl + 1] <= '9'));
        if (left && right) return true;
    }
    return false;
}

static void rx_record(const orx_rx_result *r, const orx_lexicon *lex, json_t *rec, orx_eval_answer *ans) {
    orx_eval_answer_from_rx(r, lex, ans);
    json_t *cands = json_array();
    int cites = 0, cites_ok = 0, dose_claims = 0, dose_sup = 0;
    for (int i = 0; i < r->n_cands; i++) {
        const orx_rx_candidate *c = &r->cands[i];
        json_t *o = json_object();
        json_object_set_new(o, "ingredient_raw", jstr(c->ingredient));
        json_object_set_new(o, "ingredient", jstr(i < ans->n ? ans->ingredients[i] : ""));
        orx_rx_candidate_dose_json(o, c);
        json_t *jc = json_array();
        bool supported = false;
        for (int k = 0; k < c->n_citations; k++) {
            json_array_append_new(jc, jstr(c->citations[k]));
            cites++;
            int idx = c->citations[k][0] == 'S' ? atoi(c->citations[k] + 1) : 0;
            if (idx >= 1 && (size_t)idx <= r->evidence.n) {
                cites_ok++;
                if (c->dose_amount > 0 && text_has_number(r->evidence.hits[idx - 1].text, c->dose_amount)) supported = true;
            }
        }
        if (c->dose_amount > 0 && c->n_citations > 0) {
            dose_claims++;
            dose_sup += supported;
        }
        json_object_set_new(o, "citations", jc);
        json_array_append_new(cands, o);
    }
    json_t *ja = json_object();
    json_object_set_new(ja, "candidates", cands);
    json_t *alts = json_array();
    for (int i = 0; i < r->n_alternatives; i++) json_array_append_new(alts, jstr(r->alternatives[i]));
    json_object_set_new(ja, "alternatives", alts);
    json_object_set_new(ja, "insufficient", json_boolean(r->insufficient));
    json_object_set_new(ja, "confidence", jstr(r->confidence));
    json_object_set_new(ja, "rationale", jstr(r->rationale));
    json_object_set_new(ja, "schema_valid", json_boolean(r->schema_valid));
    json_object_set_new(ja, "schema_error", jstr(r->schema_error));
    json_object_set_new(ja, "evidence_mode", json_boolean(r->evidence_mode));
    json_object_set_new(ja, "asks", json_integer(r->asks));
    json_object_set_new(rec, "answer", ja);
    json_t *cit = json_object();
    json_object_set_new(cit, "total", json_integer(cites));
    json_object_set_new(cit, "retrieved", json_integer(cites_ok));
    json_object_set_new(cit, "dose_claims", json_integer(dose_claims));
    json_object_set_new(cit, "dose_supported", json_integer(dose_sup));
    json_object_set_new(rec, "citations", cit);
    json_t *jev = json_array();
    for (size_t i = 0; i < r->evidence.n; i++) {
        json_t *e = json_object();
        char id[16];
        snprintf(id, sizeof id, "S%zu", i + 1);
        json_object_set_new(e, "id", json_string(id));
        json_object_set_new(e, "citation", jstr(r->evidence.hits[i].citation));
        json_object_set_new(e, "drugs", jstr(r->evidence.hits[i].drugs));
        json_array_append_new(jev, e);
    }
    json_object_set_new(rec, "evidence", jev);
    size_t counts[ORX_SEV_COUNT];
    orx_findings_count(&r->findings, counts);
    json_t *tiers = json_object(), *fl = json_array();
    for (int s = 0; s < ORX_SEV_COUNT; s++) json_object_set_new(tiers, orx_severity_name((orx_severity)s), json_integer((json_int_t)counts[s]));
    for (size_t i = 0; i < r->findings.n && i < 20; i++) {
        const orx_finding *f = &r->findings.items[i];
        json_t *fo = json_object();
        json_object_set_new(fo, "severity", json_string(orx_severity_name(f->severity)));
        json_object_set_new(fo, "kind", jstr(f->kind));
        json_object_set_new(fo, "drugs", jstr(f->drugs));
        json_object_set_new(fo, "message", jstr(f->message));
        json_array_append_new(fl, fo);
    }
    json_object_set_new(rec, "findings_by_tier", tiers);
    json_object_set_new(rec, "findings", fl);
    json_t *tm = json_object();
    double prefill = r->timing.first_token_s > 0 ? r->timing.first_token_s : 0;
    json_object_set_new(tm, "retrieval_s", json_real(r->timing.retrieval_s));
    json_object_set_new(tm, "prefill_s", json_real(prefill));
    json_object_set_new(tm, "decode_s", json_real(r->timing.generate_s > prefill ? r->timing.generate_s - prefill : 0));
    json_object_set_new(tm, "check_s", json_real(r->timing.check_s));
    json_object_set_new(tm, "total_s", json_real(r->timing.total_s));
    json_object_set_new(rec, "timing", tm);
    json_t *tok = json_object();
    json_object_set_new(tok, "prompt", json_integer(r->prompt_tokens));
    json_object_set_new(tok, "completion", json_integer(r->completion_tokens));
    json_object_set_new(rec, "tokens", tok);
    if (r->raw_output) {
        size_t n = strlen(r->raw_output);
        json_object_set_new(rec, "raw_output", json_stringn(r->raw_output, n < RAW_KEEP ? n : RAW_KEEP));
    }
}

static orx_status run_rx(worker *w, const unit *u, orx_llm *llm, json_t *rec, orx_eval_answer *ans, orx_error *err) {
    const orx_eval_case *c = u->c;
    const orx_eval_run_params *p = w->sh->p;
    orx_patient *pt = NULL;
    const char *as_of = c->as_of[0] ? c->as_of : NULL;
    orx_status st = c->patient_json ? orx_patient_parse(c->patient_json, strlen(c->patient_json), c->id, as_of, &pt, err)
                                    : orx_patient_load(c->patient_path, as_of, &pt, err);
    if (st != ORX_OK) return st;
    orx_rx_params rp = orx_rx_default_params();
    rp.indication = c->indication;
    rp.rag = u->rag;
    rp.k = p->k;
    rp.max_tokens = p->max_tokens;
    rp.temperature = p->temperature;
    rp.seed = p->seed + (uint64_t)u->rep;
    rp.reask = p->reask;
    rp.model_hash = w->hashes[u->model][0] ? w->hashes[u->model] : NULL;
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    /* Evidence mode has no generation: only the RAG arm retrieves. */
    const orx_retriever *ret = w->have_ret && u->rag ? &w->ret : NULL;
    st = orx_recommend(llm, ret, w->ck, pt, &rp, &r, err);
    if (st == ORX_OK) rx_record(&r, orx_checker_lexicon(w->ck), rec, ans);
    orx_rx_result_clear(&r);
    orx_patient_free(pt);
    return st;
}

static json_t *score_json(const orx_eval_score *s) {
    json_t *o = json_object();
    json_object_set_new(o, "correct", s->correct < 0 ? json_null() : json_integer(s->correct));
    json_object_set_new(o, "avoid_violation", json_boolean(s->avoid_violation));
    json_object_set_new(o, "dose_checked", json_integer(s->dose_checked));
    json_object_set_new(o, "dose_in_range", json_integer(s->dose_in_range));
    json_object_set_new(o, "abstained", json_boolean(s->abstained));
    return o;
}

static orx_status run_unit(worker *w, const unit *u, orx_error *err) {
    const orx_eval_run_params *p = w->sh->p;
    const orx_eval_model_spec *ms = &p->models[u->model];
    json_t *rec = json_object();
    char ts[32];
    now_iso(ts);
    json_object_set_new(rec, "key", json_string(u->key));
    json_object_set_new(rec, "case", json_string(u->c->id));
    json_object_set_new(rec, "set", json_string(u->c->set));
    json_object_set_new(rec, "kind", json_string(u->c->kind == ORX_EVAL_MCQ ? "mcq" : "rx"));
    json_object_set_new(rec, "arm", json_string(u->arm));
    json_object_set_new(rec, "model", json_string(ms->label));
    json_object_set_new(rec, "backend", json_string(ms->kind));
    if (!strcmp(ms->kind, "openai")) { /* where the arm's requests go: remote arms are marked */
        orx_llm_privacy pv;
        orx_error perr = ORX_ERROR_INIT;
        orx_llm_privacy_for(ms->base_url, true, p->redact, &pv, &perr);
        json_object_set_new(rec, "remote", json_boolean(pv.remote));
        json_object_set_new(rec, "host", json_string(pv.host));
        json_object_set_new(rec, "deidentified", json_boolean(pv.redact));
    }
    json_object_set_new(rec, "rag", json_boolean(u->rag));
    json_object_set_new(rec, "rep", json_integer(u->rep));
    json_object_set_new(rec, "seed", json_integer((json_int_t)(p->seed + (uint64_t)u->rep)));
    json_object_set_new(rec, "time", json_string(ts));
    orx_eval_answer ans;
    memset(&ans, 0, sizeof ans);
    orx_error uerr = ORX_ERROR_INIT;
    orx_llm *llm = NULL;
    orx_status st = get_llm(w, u->model, &llm, &uerr);
    if (st == ORX_OK) st = u->c->kind == ORX_EVAL_MCQ ? run_mcq(w, u, llm, rec, &ans, &uerr) : run_rx(w, u, llm, rec, &ans, &uerr);
    if (st != ORX_OK) {
        ans.abstained = true;
        json_object_set_new(rec, "status", json_string("error"));
        json_object_set_new(rec, "error", json_string(uerr.msg[0] ? uerr.msg : "error"));
    } else {
        json_object_set_new(rec, "status", json_string("ok"));
    }
    orx_eval_score sc = orx_eval_score_answer(u->c, &ans);
    json_t *truth = json_object();
    json_object_set_new(truth, "acceptable", json_integer(u->c->n_acceptable));
    json_object_set_new(truth, "avoid", json_integer(u->c->n_avoid));
    json_object_set_new(truth, "doses", json_integer(u->c->n_doses));
    json_object_set_new(rec, "truth_counts", truth);
    json_object_set_new(rec, "score", score_json(&sc));
    char *line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (!line) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    size_t n = strlen(line);
    char *l2 = realloc(line, n + 2);
    if (!l2) { free(line); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
    l2[n] = '\n';
    l2[n + 1] = 0;
    pthread_mutex_lock(&w->sh->mu);
    orx_status ws = orx_append_fsync(w->sh->results, l2, n + 1, err);
    if (ws == ORX_OK) {
        w->sh->done++;
        if (st != ORX_OK) w->sh->errors++;
        if (p->progress) p->progress(p->progress_user, w->sh->done, w->sh->total);
    }
    pthread_mutex_unlock(&w->sh->mu);
    free(l2);
    return ws;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    shared *sh = w->sh;
    for (;;) {
        pthread_mutex_lock(&sh->mu);
        if (sh->fatal != ORX_OK || sh->next >= sh->n_units) { pthread_mutex_unlock(&sh->mu); break; }
        unit *u = &sh->units[sh->next++];
        pthread_mutex_unlock(&sh->mu);
        orx_error e = ORX_ERROR_INIT;
        if (run_unit(w, u, &e) != ORX_OK) {
            pthread_mutex_lock(&sh->mu);
            if (sh->fatal == ORX_OK) { sh->fatal = e.code ? e.code : ORX_ERR_IO; sh->fatal_err = e; }
            pthread_mutex_unlock(&sh->mu);
            break;
        }
    }
    return NULL;
}

/* ============================================================================================
 * Public
 * ========================================================================================== */
static orx_status build_units(const orx_eval_run_params *p, const orx_eval_cases *cs, const keyset *done,
                              unit **out, size_t *n_out, size_t *total, orx_error *err) {
    size_t n_cases = p->limit > 0 && (size_t)p->limit < cs->n ? (size_t)p->limit : cs->n;
    int n_rag = (p->rag_on ? 1 : 0) + (p->rag_off ? 1 : 0);
    size_t cap = n_cases * (size_t)p->n_models * (size_t)n_rag * (size_t)p->repeat;
    unit *u = calloc(cap ? cap : 1, sizeof *u);
    if (!u) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    size_t n = 0, idx = 0;
    *total = cap;
    /* Order: repeat, case, model, arm — so a partial run has every arm of the early cases. */
    for (int rep = 0; rep < p->repeat; rep++)
        for (size_t i = 0; i < n_cases; i++)
            for (int m = 0; m < p->n_models; m++)
                for (int r = 0; r < 2; r++) {
                    bool rag = r == 0;
                    if ((rag && !p->rag_on) || (!rag && !p->rag_off)) continue;
                    unit *x = &u[idx++];
                    x->c = &cs->items[i];
                    x->model = m;
                    x->rag = rag;
                    x->rep = rep;
                    snprintf(x->arm, sizeof x->arm, "%s [%s]", p->models[m].label, rag ? "rag" : "no-rag");
                    snprintf(x->key, sizeof x->key, "%s|%s|%d", x->c->id, x->arm, rep);
                    if (!keyset_has(done, x->key)) n++;
                }
    *out = u;
    *n_out = n;
    return ORX_OK;
}

orx_status orx_eval_run(const orx_eval_run_params *p, orx_eval_run_stats *stats, orx_error *err) {
    memset(stats, 0, sizeof *stats);
    double t0 = orx_now();
    if (!p->cases_path || !p->out_dir) return orx_fail(err, ORX_ERR_USAGE, "eval run needs a case file and an output folder");
    if (p->n_models < 1) return orx_fail(err, ORX_ERR_USAGE, "eval run needs at least one model (or 'evidence')");
    if (!p->rag_on && !p->rag_off) return orx_fail(err, ORX_ERR_USAGE, "no RAG arm selected");
    /* consent first: a remote arm without --allow-remote stops the run before any unit */
    for (int m = 0; m < p->n_models; m++) {
        if (strcmp(p->models[m].kind, "openai")) continue;
        orx_llm_privacy pv;
        orx_status pst = orx_llm_privacy_for(p->models[m].base_url, p->allow_remote, p->redact, &pv, err);
        if (pst != ORX_OK) return orx_error_prefix(err, "--backend %s", p->models[m].label), pst;
    }
    if (p->repeat < 1 || p->jobs < 1 || p->jobs > 64) return orx_fail(err, ORX_ERR_RANGE, "repeat >= 1 and jobs 1..64");
    /* Distinct arm labels. */
    for (int i = 0; i < p->n_models; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(p->models[i].label, p->models[j].label))
                return orx_fail(err, ORX_ERR_USAGE, "two models have the same label '%s'", p->models[i].label);
    orx_eval_cases cs;
    orx_status st = orx_eval_cases_load(p->cases_path, &cs, err);
    if (st != ORX_OK) return st;
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.p = p;
    pthread_mutex_init(&sh.mu, NULL);
    snprintf(sh.results, sizeof sh.results, "%s/results.jsonl", p->out_dir);
    keyset done = {0};
    unit *all = NULL;
    size_t n_todo = 0, total = 0;
    worker *ws = NULL;
    pthread_t *th = NULL;
    int jobs = 0;
    char (*hashes)[65] = calloc((size_t)p->n_models, 65);
    if (!hashes) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto out; }
    if ((st = orx_mkdir_p(p->out_dir, err)) != ORX_OK) goto out;
    if ((st = load_done(sh.results, &done, &stats->dropped_partial, err)) != ORX_OK) goto out;
    if ((st = build_units(p, &cs, &done, &all, &n_todo, &total, err)) != ORX_OK) goto out;
    if ((st = write_manifest(p, &cs, all, total, err)) != ORX_OK) goto out;
    /* Compact the to-do list. */
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
        if (!keyset_has(&done, all[i].key)) all[k++] = all[i];
    sh.units = all;
    sh.n_units = k;
    sh.total = total;
    sh.done = total - k;
    stats->total = total;
    stats->skipped = total - k;
    for (int m = 0; m < p->n_models; m++)
        if (!strcmp(p->models[m].kind, "local")) {
            if (!orx_file_exists(p->models[m].path)) { st = orx_fail(err, ORX_ERR_NOT_FOUND, "%s: model file not found", p->models[m].path); goto out; }
            if (k && (st = orx_sha256_file_hex(p->models[m].path, hashes[m], err)) != ORX_OK) goto out;
        }
    if (p->progress) p->progress(p->progress_user, sh.done, total);
    jobs = p->jobs < (int)k ? p->jobs : (int)(k ? k : 1);
    ws = calloc((size_t)jobs, sizeof *ws);
    th = calloc((size_t)jobs, sizeof *th);
    if (!ws || !th) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto out; }
    for (int j = 0; j < jobs && k; j++) {
        ws[j].sh = &sh;
        ws[j].hashes = hashes;
        ws[j].llms = calloc((size_t)p->n_models, sizeof *ws[j].llms);
        if (!ws[j].llms) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto out; }
        orx_checker_params cp = orx_checker_default_params();
        cp.data_dir = p->data_dir;
        if ((st = orx_checker_create(&cp, &ws[j].ck, err)) != ORX_OK) goto out;
        if (p->kb_path) {
            if ((st = orx_kb_retriever_bm25(p->kb_path, &ws[j].ret, err)) != ORX_OK) goto out;
            ws[j].have_ret = true;
        }
    }
    if (k) {
        int started = 0;
        for (int j = 0; j < jobs; j++) {
            if (pthread_create(&th[j], NULL, worker_main, &ws[j]) != 0) break;
            started++;
        }
        if (started == 0) worker_main(&ws[0]);
        for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
    }
    stats->done = sh.done - stats->skipped;
    stats->errors = sh.errors;
    if (sh.fatal != ORX_OK) {
        *err = sh.fatal_err;
        st = sh.fatal;
    }
out:
    for (int j = 0; ws && j < jobs; j++) {
        if (!ws[j].sh) continue;
        for (int m = 0; ws[j].llms && m < p->n_models; m++) orx_llm_free(ws[j].llms[m]);
        free(ws[j].llms);
        orx_checker_free(ws[j].ck);
        if (ws[j].have_ret && ws[j].ret.free) ws[j].ret.free(ws[j].ret.self);
    }
    free(ws);
    free(th);
    free(all);
    free(hashes);
    keyset_free(&done);
    orx_eval_cases_clear(&cs);
    pthread_mutex_destroy(&sh.mu);
    stats->seconds = orx_now() - t0;
    return st;
}
