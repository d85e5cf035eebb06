/* metrics.c — statistics (Wilson, McNemar, paired bootstrap, weighted kappa) and the per-arm,
 * per-case-set and paired metrics of a run (the report object). */
#include "eval/eval_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_ITERS 2000
#define BOOT_SEED 20240601u

const char *const orx_eval__criteria[ORX_EVAL_N_CRITERIA] = {"correctness", "safety", "personalisation",
                                                            "completeness", "clarity"};

/* ============================================================================================
 * Statistics
 * ========================================================================================== */
void orx_eval_wilson(int k, int n, double *lo, double *hi) {
    if (n <= 0) { *lo = 0; *hi = 1; return; }
    const double z = 1.959963984540054;
    double p = (double)k / n, z2 = z * z;
    double den = 1 + z2 / n;
    double center = (p + z2 / (2.0 * n)) / den;
    double half = z * sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / den;
    *lo = center - half < 0 ? 0 : center - half;
    *hi = center + half > 1 ? 1 : center + half;
}

double orx_eval_mcnemar_exact(int b, int c) {
    int n = b + c, m = b < c ? b : c;
    if (n == 0) return 1.0;
    double p = 0;
    for (int i = 0; i <= m; i++)
        p += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) - n * log(2.0));
    p *= 2;
    return p > 1 ? 1 : p;
}

double orx_eval_mcnemar_chi2(int b, int c) {
    if (b + c == 0) return 0;
    double d = fabs((double)b - c) - 1;
    if (d < 0) d = 0;
    return d * d / (b + c);
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void orx_eval_bootstrap_diff(const double *a, const double *b, size_t n, int iters, uint64_t seed,
                             double *mean, double *lo, double *hi) {
    *mean = *lo = *hi = NAN;
    if (n == 0 || iters < 1) return;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] - b[i];
    *mean = s / n;
    double *m = malloc((size_t)iters * sizeof *m);
    if (!m) return;
    uint64_t st = seed;
    for (int it = 0; it < iters; it++) {
        double t = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)(splitmix64(&st) % n);
            t += a[j] - b[j];
        }
        m[it] = t / n;
    }
    qsort(m, (size_t)iters, sizeof *m, cmp_double);
    *lo = m[(size_t)floor(0.025 * (iters - 1))];
    *hi = m[(size_t)ceil(0.975 * (iters - 1))];
    free(m);
}

double orx_eval_weighted_kappa(const int *r1, const int *r2, size_t n, int k) {
    if (n == 0 || k < 2 || k > 10) return NAN;
    double O[10][10] = {{0}}, R[10] = {0}, C[10] = {0};
    for (size_t i = 0; i < n; i++) {
        int x = r1[i] - 1, y = r2[i] - 1;
        if (x < 0 || y < 0 || x >= k || y >= k) return NAN;
        O[x][y] += 1;
        R[x] += 1;
        C[y] += 1;
    }
    double po = 0, pe = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double w = 1.0 - (double)(i - j) * (i - j) / ((double)(k - 1) * (k - 1));
            po += w * O[i][j] / n;
            pe += w * R[i] * C[j] / ((double)n * n);
        }
    if (fabs(1 - pe) < 1e-12) return fabs(1 - po) < 1e-12 ? 1.0 : NAN;
    return (po - pe) / (1 - pe);
}

/* ============================================================================================
 * Loading
 * ========================================================================================== */
static orx_status load_jsonl(const char *path, json_t **out, orx_error *err) {
    *out = json_array();
    if (!orx_file_exists(path)) return ORX_OK;
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, 1u << 30, &data, &len, err);
    if (st != ORX_OK) { json_decref(*out); *out = NULL; return st; }
    size_t off = 0;
    while (off < len) {
        char *nl = memchr(data + off, '\n', len - off);
        if (!nl) break;
        json_t *o = json_loadb(data + off, (size_t)(nl - (data + off)), 0, NULL);
        if (o) json_array_append_new(*out, o);
        off = (size_t)(nl - data) + 1;
    }
    free(data);
    return ORX_OK;
}

orx_status orx_eval__load_records(const char *dir, json_t **out, orx_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", dir);
    if (!orx_file_exists(path)) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no results (run 'openrx eval run' first)", path);
    return load_jsonl(path, out, err);
}

orx_status orx_eval__load_reviews(const char *dir, json_t **out, orx_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/reviews.jsonl", dir);
    return load_jsonl(path, out, err);
}

/* ============================================================================================
 * Aggregation
 * ========================================================================================== */
static double num(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

typedef struct acc {
    int units, errors, scored, correct, viol_units, viol, abst, dose_checked, dose_in, schema_ok, rx_units;
    int cites, cites_ok, dose_claims, dose_sup, recs_with_cands;
    double tiers[ORX_SEV_COUNT];
    double t[5]; int t_n;             /* retrieval, prefill, decode, check, total */
    double tok[2]; int tok_n[2];      /* prompt, completion */
} acc;

static const char *const T_KEYS[5] = {"retrieval_s", "prefill_s", "decode_s", "check_s", "total_s"};

static void acc_add(acc *a, json_t *r) {
    a->units++;
    if (strcmp(json_string_value(json_object_get(r, "status")) ?: "", "ok")) a->errors++;
    json_t *sc = json_object_get(r, "score");
    json_t *cor = json_object_get(sc, "correct");
    if (json_is_integer(cor)) { a->scored++; a->correct += (int)json_integer_value(cor); }
    if (num(r, "truth_counts", "avoid") > 0) { a->viol_units++; a->viol += json_is_true(json_object_get(sc, "avoid_violation")); }
    a->abst += json_is_true(json_object_get(sc, "abstained"));
    a->dose_checked += (int)num(sc, "dose_checked", NULL);
    a->dose_in += (int)num(sc, "dose_in_range", NULL);
    json_t *ans = json_object_get(r, "answer");
    if (!strcmp(json_string_value(json_object_get(r, "kind")) ?: "", "rx")) {
        a->rx_units++;
        a->schema_ok += json_is_true(json_object_get(ans, "schema_valid"));
    }
    if (json_array_size(json_object_get(ans, "candidates")) > 0) {
        a->recs_with_cands++;
        for (int s = 0; s < ORX_SEV_COUNT; s++) {
            double v = num(r, "findings_by_tier", orx_severity_name((orx_severity)s));
            if (isfinite(v)) a->tiers[s] += v;
        }
    }
    json_t *ci = json_object_get(r, "citations");
    if (ci) {
        a->cites += (int)num(ci, "total", NULL);
        a->cites_ok += (int)num(ci, "retrieved", NULL);
        a->dose_claims += (int)num(ci, "dose_claims", NULL);
        a->dose_sup += (int)num(ci, "dose_supported", NULL);
    }
    json_t *tm = json_object_get(r, "timing");
    if (tm) {
        a->t_n++;
        for (int i = 0; i < 5; i++) {
            double v = num(tm, T_KEYS[i], NULL);
            if (isfinite(v)) a->t[i] += v;
        }
    }
    const char *tk[2] = {"prompt", "completion"};
    for (int i = 0; i < 2; i++) {
        double v = num(r, "tokens", tk[i]);
        if (isfinite(v) && v >= 0) { a->tok[i] += v; a->tok_n[i]++; }
    }
}

static json_t *rate(int k, int n) {
    json_t *o = json_object();
    json_object_set_new(o, "k", json_integer(k));
    json_object_set_new(o, "n", json_integer(n));
    if (n > 0) {
        double lo, hi;
        orx_eval_wilson(k, n, &lo, &hi);
        json_object_set_new(o, "rate", json_real((double)k / n));
        json_object_set_new(o, "ci95", json_pack("[f,f]", lo, hi));
    } else {
        json_object_set_new(o, "rate", json_null());
    }
    return o;
}

static json_t *acc_json(const acc *a) {
    json_t *o = json_object();
    json_object_set_new(o, "units", json_integer(a->units));
    json_object_set_new(o, "errors", json_integer(a->errors));
    json_object_set_new(o, "accuracy", rate(a->correct, a->scored));
    json_object_set_new(o, "avoid_violation", rate(a->viol, a->viol_units));
    json_object_set_new(o, "dose_in_range", rate(a->dose_in, a->dose_checked));
    json_object_set_new(o, "abstention", rate(a->abst, a->units));
    json_object_set_new(o, "schema_valid", rate(a->schema_ok, a->rx_units));
    json_object_set_new(o, "citation_retrieved", rate(a->cites_ok, a->cites));
    json_object_set_new(o, "citation_supports_dose", rate(a->dose_sup, a->dose_claims));
    json_t *tiers = json_object();
    for (int s = 0; s < ORX_SEV_COUNT; s++)
        json_object_set_new(tiers, orx_severity_name((orx_severity)s),
                            a->recs_with_cands ? json_real(a->tiers[s] / a->recs_with_cands) : json_null());
    json_object_set_new(o, "findings_per_recommendation", tiers);
    json_object_set_new(o, "recommendations", json_integer(a->recs_with_cands));
    json_t *lat = json_object();
    for (int i = 0; i < 5; i++) json_object_set_new(lat, T_KEYS[i], a->t_n ? json_real(a->t[i] / a->t_n) : json_null());
    json_object_set_new(o, "latency_mean", lat);
    json_t *tok = json_object();
    json_object_set_new(tok, "prompt_mean", a->tok_n[0] ? json_real(a->tok[0] / a->tok_n[0]) : json_null());
    json_object_set_new(tok, "completion_mean", a->tok_n[1] ? json_real(a->tok[1] / a->tok_n[1]) : json_null());
    json_object_set_new(o, "tokens", tok);
    return o;
}

static int str_index(json_t *arr, const char *s) {
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_array_get(arr, i)), s)) return (int)i;
    return -1;
}

/* Per (case, arm): mean over repeats of correct (NAN when unscored) and of avoid violation,
 * and rep-0 correct (for McNemar). */
typedef struct cell { double cor, cor_n, viol, viol_n; int cor0; } cell;

static json_t *pairs_json(json_t *records, json_t *arms, json_t *cases) {
    size_t na = json_array_size(arms), nc = json_array_size(cases);
    cell *g = calloc(na * nc + 1, sizeof *g);
    json_t *out = json_array();
    if (!g) return out;
    for (size_t i = 0; i < na * nc; i++) g[i].cor0 = -1;
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r) {
        int a = str_index(arms, json_string_value(json_object_get(r, "arm")) ?: "");
        int c = str_index(cases, json_string_value(json_object_get(r, "case")) ?: "");
        if (a < 0 || c < 0) continue;
        cell *x = &g[(size_t)c * na + (size_t)a];
        json_t *sc = json_object_get(r, "score"), *cor = json_object_get(sc, "correct");
        if (json_is_integer(cor)) {
            x->cor += (double)json_integer_value(cor);
            x->cor_n++;
            if (num(r, "rep", NULL) == 0) x->cor0 = (int)json_integer_value(cor);
        }
        if (num(r, "truth_counts", "avoid") > 0) { x->viol += json_is_true(json_object_get(sc, "avoid_violation")); x->viol_n++; }
    }
    double *va = malloc(nc * sizeof *va + 1), *vb = malloc(nc * sizeof *vb + 1);
    for (size_t a = 0; va && vb && a < na; a++)
        for (size_t b = a + 1; b < na; b++) {
            json_t *p = json_object();
            json_object_set_new(p, "a", json_incref(json_array_get(arms, a)));
            json_object_set_new(p, "b", json_incref(json_array_get(arms, b)));
            /* accuracy */
            size_t n = 0;
            int bb = 0, cc = 0, n0 = 0;
            for (size_t c = 0; c < nc; c++) {
                cell *x = &g[c * na + a], *y = &g[c * na + b];
                if (x->cor_n > 0 && y->cor_n > 0) { va[n] = x->cor / x->cor_n; vb[n] = y->cor / y->cor_n; n++; }
                if (x->cor0 >= 0 && y->cor0 >= 0) { n0++; bb += x->cor0 == 1 && y->cor0 == 0; cc += x->cor0 == 0 && y->cor0 == 1; }
            }
            double m, lo, hi;
            orx_eval_bootstrap_diff(va, vb, n, BOOT_ITERS, BOOT_SEED, &m, &lo, &hi);
            json_t *ac = json_object();
            json_object_set_new(ac, "cases", json_integer((json_int_t)n));
            json_object_set_new(ac, "diff", n ? json_real(m) : json_null());
            json_object_set_new(ac, "ci95", n ? json_pack("[f,f]", lo, hi) : json_null());
            json_object_set_new(ac, "mcnemar_b", json_integer(bb));
            json_object_set_new(ac, "mcnemar_c", json_integer(cc));
            json_object_set_new(ac, "mcnemar_p", n0 ? json_real(orx_eval_mcnemar_exact(bb, cc)) : json_null());
            json_object_set_new(ac, "mcnemar_chi2", json_real(orx_eval_mcnemar_chi2(bb, cc)));
            json_object_set_new(p, "accuracy", ac);
            /* avoid violations */
            n = 0;
            for (size_t c = 0; c < nc; c++) {
                cell *x = &g[c * na + a], *y = &g[c * na + b];
                if (x->viol_n > 0 && y->viol_n > 0) { va[n] = x->viol / x->viol_n; vb[n] = y->viol / y->viol_n; n++; }
            }
            orx_eval_bootstrap_diff(va, vb, n, BOOT_ITERS, BOOT_SEED, &m, &lo, &hi);
            json_t *av = json_object();
            json_object_set_new(av, "cases", json_integer((json_int_t)n));
            json_object_set_new(av, "diff", n ? json_real(m) : json_null());
            json_object_set_new(av, "ci95", n ? json_pack("[f,f]", lo, hi) : json_null());
            json_object_set_new(p, "avoid_violation", av);
            json_array_append_new(out, p);
        }
    free(va);
    free(vb);
    free(g);
    return out;
}

/* Reviews: mean score per arm and criterion; agreement between reviewers (quadratic kappa). */
static json_t *reviews_json(json_t *reviews, json_t *arms) {
    json_t *o = json_object();
    size_t nr = json_array_size(reviews);
    json_object_set_new(o, "rows", json_integer((json_int_t)nr));
    json_t *reviewers = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(reviews, i, r) {
        const char *who = json_string_value(json_object_get(r, "reviewer")) ?: "";
        if (str_index(reviewers, who) < 0) json_array_append_new(reviewers, json_string(who));
    }
    json_object_set_new(o, "reviewers", reviewers);
    json_t *per_arm = json_object();
    for (size_t a = 0; a < json_array_size(arms); a++) {
        const char *arm = json_string_value(json_array_get(arms, a));
        json_t *m = json_object();
        for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++) {
            double s = 0;
            int n = 0;
            json_array_foreach(reviews, i, r) {
                if (strcmp(json_string_value(json_object_get(r, "arm")) ?: "", arm)) continue;
                double v = num(r, orx_eval__criteria[c], NULL);
                if (isfinite(v)) { s += v; n++; }
            }
            json_object_set_new(m, orx_eval__criteria[c], n ? json_real(s / n) : json_null());
        }
        json_object_set_new(per_arm, arm, m);
    }
    json_object_set_new(o, "mean_by_arm", per_arm);
    /* agreement: mean over reviewer pairs of the quadratic-weighted kappa on shared items */
    json_t *agree = json_object();
    size_t nv = json_array_size(reviewers);
    for (int c = 0; c < ORX_EVAL_N_CRITERIA && nv >= 2; c++) {
        double ks = 0;
        int kn = 0;
        int *x = malloc((nr + 1) * sizeof *x), *y = malloc((nr + 1) * sizeof *y);
        for (size_t p = 0; x && y && p < nv; p++)
            for (size_t q = p + 1; q < nv; q++) {
                const char *rp = json_string_value(json_array_get(reviewers, p)), *rq = json_string_value(json_array_get(reviewers, q));
                size_t n = 0, j;
                json_t *r1, *r2;
                json_array_foreach(reviews, i, r1) {
                    if (strcmp(json_string_value(json_object_get(r1, "reviewer")) ?: "", rp)) continue;
                    double v1 = num(r1, orx_eval__criteria[c], NULL);
                    if (!isfinite(v1)) continue;
                    json_array_foreach(reviews, j, r2) {
                        if (strcmp(json_string_value(json_object_get(r2, "reviewer")) ?: "", rq)) continue;
                        if (strcmp(json_string_value(json_object_get(r1, "item")) ?: "", json_string_value(json_object_get(r2, "item")) ?: "")) continue;
                        double v2 = num(r2, orx_eval__criteria[c], NULL);
                        if (!isfinite(v2)) continue;
                        x[n] = (int)v1;
                        y[n] = (int)v2;
                        n++;
                        break;
                    }
                }
                double k = orx_eval_weighted_kappa(x, y, n, 5);
                if (isfinite(k)) { ks += k; kn++; }
            }
        free(x);
        free(y);
        json_object_set_new(agree, orx_eval__criteria[c], kn ? json_real(ks / kn) : json_null());
    }
    json_object_set_new(o, "kappa_quadratic", agree);
    return o;
}

/* the host of an arm whose records went to a remote model ("remote": true), NULL when local */
static const char *arm_remote_host(json_t *records, const char *arm) {
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "arm")) ?: "", arm)) continue;
        if (json_is_true(json_object_get(r, "remote"))) return json_string_value(json_object_get(r, "host")) ?: "?";
    }
    return NULL;
}

json_t *orx_eval__metrics(json_t *records, json_t *reviews) {
    json_t *arms = json_array(), *sets = json_array(), *cases = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r) {
        const char *a = json_string_value(json_object_get(r, "arm")) ?: "";
        const char *s = json_string_value(json_object_get(r, "set")) ?: "";
        const char *c = json_string_value(json_object_get(r, "case")) ?: "";
        if (str_index(arms, a) < 0) json_array_append_new(arms, json_string(a));
        if (str_index(sets, s) < 0) json_array_append_new(sets, json_string(s));
        if (str_index(cases, c) < 0) json_array_append_new(cases, json_string(c));
    }
    size_t na = json_array_size(arms), ns = json_array_size(sets);
    acc *all = calloc(na ? na : 1, sizeof *all), *per = calloc(na * ns + 1, sizeof *per);
    json_t *rep = json_object();
    if (!all || !per) { free(all); free(per); return rep; }
    json_array_foreach(records, i, r) {
        int a = str_index(arms, json_string_value(json_object_get(r, "arm")) ?: "");
        int s = str_index(sets, json_string_value(json_object_get(r, "set")) ?: "");
        acc_add(&all[a], r);
        acc_add(&per[(size_t)s * na + (size_t)a], r);
    }
    json_object_set_new(rep, "openrx_eval_report", json_integer(1));
    json_object_set_new(rep, "note", json_string("Machinery and metrics only: medical quality needs a real model. "
                                                 "Every answer is a draft for clinician review."));
    json_object_set_new(rep, "records", json_integer((json_int_t)json_array_size(records)));
    json_object_set_new(rep, "cases", json_integer((json_int_t)json_array_size(cases)));
    json_t *ja = json_array();
    for (size_t a = 0; a < na; a++) {
        json_t *o = acc_json(&all[a]);
        json_object_set_new(o, "arm", json_incref(json_array_get(arms, a)));
        /* a remote arm: its patient summaries left the machine (de-identified, with consent) */
        const char *host = arm_remote_host(records, json_string_value(json_array_get(arms, a)));
        json_object_set_new(o, "remote", json_boolean(host != NULL));
        if (host) json_object_set_new(o, "remote_host", json_string(host));
        json_array_append_new(ja, o);
    }
    json_object_set_new(rep, "arms", ja);
    json_t *js = json_array();
    for (size_t s = 0; s < ns; s++) {
        json_t *so = json_object(), *sa = json_array();
        json_object_set_new(so, "set", json_incref(json_array_get(sets, s)));
        for (size_t a = 0; a < na; a++) {
            if (per[s * na + a].units == 0) continue;
            json_t *o = acc_json(&per[s * na + a]);
            json_object_set_new(o, "arm", json_incref(json_array_get(arms, a)));
            json_array_append_new(sa, o);
        }
        json_object_set_new(so, "arms", sa);
        json_array_append_new(js, so);
    }
    json_object_set_new(rep, "sets", js);
    json_object_set_new(rep, "pairs", pairs_json(records, arms, cases));
    if (reviews && json_array_size(reviews)) json_object_set_new(rep, "reviews", reviews_json(reviews, arms));
    json_decref(arms);
    json_decref(sets);
    json_decref(cases);
    free(all);
    free(per);
    return rep;
}
