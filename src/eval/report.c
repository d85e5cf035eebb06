/* report.c — DIR/report.json and DIR/report.html (tables + SVG charts drawn here; no web assets). */
#include "eval/eval_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const TIER_COLORS[ORX_SEV_COUNT] = {"#9e9e9e", "#64b5f6", "#ffb74d", "#e57373", "#b71c1c"};
static const char *const LAT_KEYS[4] = {"retrieval_s", "prefill_s", "decode_s", "check_s"};
static const char *const LAT_COLORS[4] = {"#4db6ac", "#7986cb", "#ba68c8", "#ffd54f"};

void orx_eval__esc(orx_buf *out, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': orx_buf_puts(out, "&lt;"); break;
        case '>': orx_buf_puts(out, "&gt;"); break;
        case '&': orx_buf_puts(out, "&amp;"); break;
        case '"': orx_buf_puts(out, "&quot;"); break;
        case '\'': orx_buf_puts(out, "&#39;"); break;
        default: orx_buf_append(out, s, 1);
        }
    }
}

static double jnum(json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }
static const char *jstr(json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

/* "k/n (rate %, CI lo–hi)" cell for a rate object. */
static void rate_cell(orx_buf *b, json_t *r) {
    double rt = jnum(json_object_get(r, "rate"));
    int k = (int)json_integer_value(json_object_get(r, "k")), n = (int)json_integer_value(json_object_get(r, "n"));
    if (!isfinite(rt)) { orx_buf_puts(b, "<td class=na>–</td>"); return; }
    json_t *ci = json_object_get(r, "ci95");
    orx_buf_printf(b, "<td>%.1f%% <small>(%d/%d; %.1f–%.1f)</small></td>", 100 * rt, k, n,
                   100 * jnum(json_array_get(ci, 0)), 100 * jnum(json_array_get(ci, 1)));
}

static void num_cell(orx_buf *b, double v, const char *fmt) {
    if (!isfinite(v)) orx_buf_puts(b, "<td class=na>–</td>");
    else { orx_buf_puts(b, "<td>"); orx_buf_printf(b, fmt, v); orx_buf_puts(b, "</td>"); }
}

static void arms_table(orx_buf *b, json_t *arms, const char *id) {
    orx_buf_printf(b, "<table id=\"%s\"><thead><tr><th>arm</th><th>units</th><th>errors</th><th>drug-choice accuracy</th>"
                      "<th>avoid violations</th><th>dose in range</th><th>abstention</th><th>schema valid</th>"
                      "<th>citations retrieved</th><th>cited text has dose</th><th>latency mean (s)</th>"
                      "<th>tokens in/out</th></tr></thead><tbody>\n", id);
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        orx_buf_puts(b, "<tr><td>");
        orx_eval__esc(b, jstr(json_object_get(a, "arm")));
        if (json_is_true(json_object_get(a, "remote"))) {
            orx_buf_puts(b, " <span class=\"remote\" title=\"patient summaries were sent to this host, de-identified\">(remote: ");
            orx_eval__esc(b, jstr(json_object_get(a, "remote_host")));
            orx_buf_puts(b, ")</span>");
        }
        orx_buf_printf(b, "</td><td>%d</td><td>%d</td>", (int)json_integer_value(json_object_get(a, "units")),
                       (int)json_integer_value(json_object_get(a, "errors")));
        const char *rates[] = {"accuracy", "avoid_violation", "dose_in_range", "abstention", "schema_valid",
                               "citation_retrieved", "citation_supports_dose"};
        for (int k = 0; k < 7; k++) rate_cell(b, json_object_get(a, rates[k]));
        num_cell(b, jnum(json_object_get(json_object_get(a, "latency_mean"), "total_s")), "%.3f");
        json_t *tok = json_object_get(a, "tokens");
        double ti = jnum(json_object_get(tok, "prompt_mean")), to = jnum(json_object_get(tok, "completion_mean"));
        if (isfinite(ti) || isfinite(to)) orx_buf_printf(b, "<td>%.0f / %.0f</td>", isfinite(ti) ? ti : 0, isfinite(to) ? to : 0);
        else orx_buf_puts(b, "<td class=na>–</td>");
        orx_buf_puts(b, "</tr>\n");
    }
    orx_buf_puts(b, "</tbody></table>\n");
}

/* ============================================================================================
 * SVG charts
 * ========================================================================================== */
static void svg_accuracy(orx_buf *b, json_t *arms) {
    size_t n = json_array_size(arms);
    int W = 640, bh = 26, H = (int)n * bh + 50, L = 230, R = 40;
    double pw = W - L - R;
    orx_buf_printf(b, "<svg id=\"chart-accuracy\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
                      "aria-label=\"accuracy per arm with 95%% CI\">\n", W, H);
    for (int t = 0; t <= 4; t++) {
        double x = L + pw * t / 4;
        orx_buf_printf(b, "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                          "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%d%%</text>\n",
                       x, x, H - 30, x, H - 15, t * 25);
    }
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        json_t *r = json_object_get(a, "accuracy");
        double y = 15 + (double)i * bh, rt = jnum(json_object_get(r, "rate"));
        orx_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">", L - 6, y + 14);
        orx_eval__esc(b, jstr(json_object_get(a, "arm")));
        orx_buf_puts(b, "</text>\n");
        if (!isfinite(rt)) {
            orx_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#888\">not scored</text>\n", L + 4, y + 14);
            continue;
        }
        json_t *ci = json_object_get(r, "ci95");
        double lo = jnum(json_array_get(ci, 0)), hi = jnum(json_array_get(ci, 1));
        orx_buf_printf(b, "<rect class=\"bar\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"#5c6bc0\"/>\n", L, y, pw * rt);
        orx_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"1.5\"/>"
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
                       L + pw * lo, y + 9, L + pw * hi, y + 9, L + pw * lo, y + 3, L + pw * lo, y + 15, L + pw * hi, y + 3,
                       L + pw * hi, y + 15);
    }
    orx_buf_puts(b, "</svg>\n");
}

/* RAG gain per model: pairs "<m> [rag]" vs "<m> [no-rag]", difference with bootstrap CI. */
static void svg_rag_gain(orx_buf *b, json_t *pairs) {
    json_t *rows = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p) {
        const char *a = jstr(json_object_get(p, "a")), *bb = jstr(json_object_get(p, "b"));
        size_t la = strlen(a);
        if (la > 6 && !strcmp(a + la - 6, " [rag]") && strlen(bb) == la + 3 && !strncmp(a, bb, la - 6) &&
            !strcmp(bb + la - 6, " [no-rag]"))
            json_array_append(rows, p);
    }
    size_t n = json_array_size(rows);
    int W = 640, bh = 26, H = (int)(n ? n : 1) * bh + 50, L = 230, R = 40;
    double pw = W - L - R, mid = L + pw / 2;
    orx_buf_printf(b, "<svg id=\"chart-rag-gain\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
                      "aria-label=\"accuracy gain from retrieval per model\">\n", W, H);
    for (int t = -2; t <= 2; t++) {
        double x = mid + pw / 4 * t;
        orx_buf_printf(b, "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>"
                          "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%+d</text>\n",
                       x, x, H - 30, t ? "#ddd" : "#333", x, H - 15, t * 50);
    }
    if (!n) orx_buf_printf(b, "<text x=\"%d\" y=\"30\" font-size=\"12\" fill=\"#888\">no model with both RAG arms</text>\n", L);
    json_array_foreach(rows, i, p) {
        double y = 15 + (double)i * bh;
        json_t *ac = json_object_get(p, "accuracy");
        double d = jnum(json_object_get(ac, "diff"));
        json_t *ci = json_object_get(ac, "ci95");
        const char *a = jstr(json_object_get(p, "a"));
        orx_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">", L - 6, y + 14);
        orx_buf_printf(b, "%.*s", (int)(strlen(a) - 6), a);
        orx_buf_puts(b, "</text>\n");
        if (!isfinite(d)) {
            orx_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#888\">not scored</text>\n", mid + 4, y + 14);
            continue;
        }
        double x0 = mid, x1 = mid + pw / 2 * d;
        orx_buf_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n",
                       x1 < x0 ? x1 : x0, y, fabs(x1 - x0) < 1 ? 1 : fabs(x1 - x0), d >= 0 ? "#66bb6a" : "#ef5350");
        double lo = jnum(json_array_get(ci, 0)), hi = jnum(json_array_get(ci, 1));
        orx_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"1.5\"/>\n",
                       mid + pw / 2 * lo, y + 9, mid + pw / 2 * hi, y + 9);
    }
    json_decref(rows);
    orx_buf_puts(b, "</svg>\n");
}

/* Stacked horizontal bars: one row per arm, segments from keys of object field. */
static void svg_stacked(orx_buf *b, json_t *arms, const char *id, const char *label, const char *field,
                        const char *const *keys, const char *const *colors, int nk) {
    size_t n = json_array_size(arms);
    double maxv = 0;
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        double s = 0;
        for (int k = 0; k < nk; k++) { double v = jnum(json_object_get(json_object_get(a, field), keys[k])); if (isfinite(v)) s += v; }
        if (s > maxv) maxv = s;
    }
    if (maxv <= 0) maxv = 1;
    int W = 640, bh = 26, H = (int)n * bh + 70, L = 230, R = 40;
    double pw = W - L - R;
    orx_buf_printf(b, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
                   id, W, H, label);
    json_array_foreach(arms, i, a) {
        double y = 10 + (double)i * bh, x = L;
        orx_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">", L - 6, y + 14);
        orx_eval__esc(b, jstr(json_object_get(a, "arm")));
        orx_buf_puts(b, "</text>\n");
        for (int k = 0; k < nk; k++) {
            double v = jnum(json_object_get(json_object_get(a, field), keys[k]));
            if (!isfinite(v) || v <= 0) continue;
            double w = pw * v / maxv;
            orx_buf_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"><title>%s %.4g</title></rect>\n",
                           x, y, w, colors[k], keys[k], v);
            x += w;
        }
    }
    double ly = 10 + (double)n * bh + 8, lx = L;
    for (int k = 0; k < nk; k++) {
        orx_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>\n",
                       lx, ly, colors[k], lx + 13, ly + 9, keys[k]);
        lx += 90;
    }
    orx_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">max %.4g</text>\n", L, ly + 30, maxv);
    orx_buf_puts(b, "</svg>\n");
}

/* ============================================================================================
 * Page
 * ========================================================================================== */
static void pairs_table(orx_buf *b, json_t *pairs) {
    orx_buf_puts(b, "<table id=\"pairs\"><thead><tr><th>arm A</th><th>arm B</th><th>paired cases</th>"
                    "<th>accuracy A−B (95% bootstrap CI)</th><th>McNemar b / c</th><th>exact p</th>"
                    "<th>avoid-violation A−B (95% CI)</th></tr></thead><tbody>\n");
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p) {
        json_t *ac = json_object_get(p, "accuracy"), *av = json_object_get(p, "avoid_violation");
        orx_buf_puts(b, "<tr><td>");
        orx_eval__esc(b, jstr(json_object_get(p, "a")));
        orx_buf_puts(b, "</td><td>");
        orx_eval__esc(b, jstr(json_object_get(p, "b")));
        orx_buf_printf(b, "</td><td>%d</td>", (int)json_integer_value(json_object_get(ac, "cases")));
        double d = jnum(json_object_get(ac, "diff"));
        json_t *ci = json_object_get(ac, "ci95");
        if (isfinite(d)) orx_buf_printf(b, "<td>%+.3f (%+.3f, %+.3f)</td>", d, jnum(json_array_get(ci, 0)), jnum(json_array_get(ci, 1)));
        else orx_buf_puts(b, "<td class=na>–</td>");
        orx_buf_printf(b, "<td>%d / %d</td>", (int)json_integer_value(json_object_get(ac, "mcnemar_b")),
                       (int)json_integer_value(json_object_get(ac, "mcnemar_c")));
        num_cell(b, jnum(json_object_get(ac, "mcnemar_p")), "%.4g");
        d = jnum(json_object_get(av, "diff"));
        ci = json_object_get(av, "ci95");
        if (isfinite(d)) orx_buf_printf(b, "<td>%+.3f (%+.3f, %+.3f)</td>", d, jnum(json_array_get(ci, 0)), jnum(json_array_get(ci, 1)));
        else orx_buf_puts(b, "<td class=na>–</td>");
        orx_buf_puts(b, "</tr>\n");
    }
    orx_buf_puts(b, "</tbody></table>\n");
}

static void kv_table(orx_buf *b, json_t *arms, const char *id, const char *field, const char *const *keys, int nk, const char *fmt) {
    orx_buf_printf(b, "<table id=\"%s\"><thead><tr><th>arm</th>", id);
    for (int k = 0; k < nk; k++) orx_buf_printf(b, "<th>%s</th>", keys[k]);
    orx_buf_puts(b, "</tr></thead><tbody>\n");
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        orx_buf_puts(b, "<tr><td>");
        orx_eval__esc(b, jstr(json_object_get(a, "arm")));
        orx_buf_puts(b, "</td>");
        for (int k = 0; k < nk; k++) num_cell(b, jnum(json_object_get(json_object_get(a, field), keys[k])), fmt);
        orx_buf_puts(b, "</tr>\n");
    }
    orx_buf_puts(b, "</tbody></table>\n");
}

static void reviews_section(orx_buf *b, json_t *rv, json_t *arms) {
    if (!rv) return;
    orx_buf_printf(b, "<h2>Clinician review</h2><p>%d score rows from %zu reviewer(s). Rubric 1–5.</p>\n",
                   (int)json_integer_value(json_object_get(rv, "rows")), json_array_size(json_object_get(rv, "reviewers")));
    orx_buf_puts(b, "<table id=\"reviews\"><thead><tr><th>arm</th>");
    for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++) orx_buf_printf(b, "<th>%s</th>", orx_eval__criteria[c]);
    orx_buf_puts(b, "</tr></thead><tbody>\n");
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        const char *arm = jstr(json_object_get(a, "arm"));
        json_t *m = json_object_get(json_object_get(rv, "mean_by_arm"), arm);
        orx_buf_puts(b, "<tr><td>");
        orx_eval__esc(b, arm);
        orx_buf_puts(b, "</td>");
        for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++) num_cell(b, jnum(json_object_get(m, orx_eval__criteria[c])), "%.2f");
        orx_buf_puts(b, "</tr>\n");
    }
    orx_buf_puts(b, "<tr><td><b>agreement (mean pairwise quadratic-weighted kappa)</b></td>");
    for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++)
        num_cell(b, jnum(json_object_get(json_object_get(rv, "kappa_quadratic"), orx_eval__criteria[c])), "%.3f");
    orx_buf_puts(b, "</tr></tbody></table>\n");
}

orx_status orx_eval__html(json_t *rep, orx_buf *b, orx_error *err) {
    json_t *arms = json_object_get(rep, "arms");
    orx_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>openrx evaluation report</title>\n"
                    "<style>body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px}"
                    "table{border-collapse:collapse;margin:0.6em 0 1.4em}th,td{border:1px solid #ccc;padding:3px 7px;font-size:13px;text-align:left}"
                    "th{background:#f3f3f7}td.na{color:#999}.warn{background:#fff3e0;border:1px solid #ffb74d;padding:8px}"
                    "small{color:#555}</style></head><body>\n<h1>openrx evaluation report</h1>\n");
    orx_buf_printf(b, "<p class=\"warn\"><b>Machinery, not medical quality.</b> These numbers measure the models that were run; "
                      "with a tiny or random-weight model they only prove the harness works. Medical quality needs a real model. "
                      "Every answer is a draft for clinician review.</p>\n<p>%d records over %d cases.</p>\n",
                   (int)json_integer_value(json_object_get(rep, "records")), (int)json_integer_value(json_object_get(rep, "cases")));
    orx_buf_puts(b, "<h2>All cases, per arm</h2>\n");
    arms_table(b, arms, "arms");
    orx_buf_puts(b, "<h3>Drug-choice accuracy per arm (Wilson 95% CI)</h3>\n");
    svg_accuracy(b, arms);
    orx_buf_puts(b, "<h2>Paired comparisons (same cases)</h2>\n");
    pairs_table(b, json_object_get(rep, "pairs"));
    orx_buf_puts(b, "<h3>RAG gain per model (accuracy, RAG − no-RAG, bootstrap 95% CI)</h3>\n");
    svg_rag_gain(b, json_object_get(rep, "pairs"));
    orx_buf_puts(b, "<h2>Safety findings per recommendation, by tier</h2>\n");
    const char *tiers[ORX_SEV_COUNT];
    for (int s = 0; s < ORX_SEV_COUNT; s++) tiers[s] = orx_severity_name((orx_severity)s);
    kv_table(b, arms, "findings", "findings_per_recommendation", tiers, ORX_SEV_COUNT, "%.2f");
    svg_stacked(b, arms, "chart-findings", "safety findings per recommendation by tier", "findings_per_recommendation",
                tiers, TIER_COLORS, ORX_SEV_COUNT);
    orx_buf_puts(b, "<h2>Latency breakdown (mean seconds per unit)</h2>\n");
    const char *lk[5] = {LAT_KEYS[0], LAT_KEYS[1], LAT_KEYS[2], LAT_KEYS[3], "total_s"};
    kv_table(b, arms, "latency", "latency_mean", lk, 5, "%.4f");
    svg_stacked(b, arms, "chart-latency", "latency breakdown", "latency_mean", LAT_KEYS, LAT_COLORS, 4);
    orx_buf_puts(b, "<h2>Per case set</h2>\n");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(rep, "sets"), i, s) {
        char id[80];
        snprintf(id, sizeof id, "set-%zu", i);
        orx_buf_puts(b, "<h3>Case set: ");
        orx_eval__esc(b, jstr(json_object_get(s, "set")));
        orx_buf_puts(b, "</h3>\n");
        arms_table(b, json_object_get(s, "arms"), id);
    }
    reviews_section(b, json_object_get(rep, "reviews"), arms);
    orx_buf_puts(b, "<p><small>Accuracy: any proposed ingredient (lexicon-normalised) is in the case's acceptable list; "
                    "cases without one are not scored. Avoid violation: a proposed ingredient is on the case's avoid list "
                    "(over cases with one). Dose in range: proposed amount within the sourced range (mass units converted). "
                    "Abstention: no proposed drug (insufficient evidence, invalid output, error, or no model). Citation "
                    "validity: cited id was among the retrieved sections; cited text contains the dose number. "
                    "Paired differences: bootstrap over cases (2000 resamples, fixed seed); McNemar exact binomial on repeat 0."
                    "</small></p>\n</body></html>\n");
    (void)err;
    return ORX_OK;
}

orx_status orx_eval_report(const char *dir, char **json_out, orx_error *err) {
    if (json_out) *json_out = NULL;
    json_t *recs = NULL, *revs = NULL;
    orx_status st = orx_eval__load_records(dir, &recs, err);
    if (st != ORX_OK) return st;
    if ((st = orx_eval__load_reviews(dir, &revs, err)) != ORX_OK) { json_decref(recs); return st; }
    json_t *rep = orx_eval__metrics(recs, revs);
    json_decref(recs);
    json_decref(revs);
    char *js = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    orx_buf html;
    orx_buf_init(&html);
    char path[4200];
    if (!js) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) {
        snprintf(path, sizeof path, "%s/report.json", dir);
        st = orx_write_file_atomic(path, js, strlen(js), err);
    }
    if (st == ORX_OK) st = orx_eval__html(rep, &html, err);
    if (st == ORX_OK) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        st = orx_write_file_atomic(path, html.data, html.len, err);
    }
    orx_buf_clear(&html);
    json_decref(rep);
    if (st == ORX_OK && json_out) *json_out = js;
    else free(js);
    return st;
}
