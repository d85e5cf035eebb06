/* review.c — blinded clinician review packet (HTML; rubric kept in the browser's localStorage,
 * exported as CSV) and the import of those scores (unblinded through DIR/review_key.json). */
#include "eval/eval_internal.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ============================================================================================
 * Packet
 * ========================================================================================== */
static void answer_html(orx_buf *b, json_t *r) {
    json_t *ans = json_object_get(r, "answer");
    json_t *cands = json_object_get(ans, "candidates");
    if (strcmp(jstr(json_object_get(r, "status")), "ok")) {
        orx_buf_puts(b, "<p><i>No answer (the model call failed).</i></p>");
        return;
    }
    if (json_array_size(cands) == 0) {
        orx_buf_puts(b, json_is_true(json_object_get(ans, "insufficient")) ? "<p><i>Answer: insufficient evidence.</i></p>"
                                                                          : "<p><i>No drug proposed.</i></p>");
    } else {
        orx_buf_puts(b, "<ol>");
        size_t i;
        json_t *c;
        json_array_foreach(cands, i, c) {
            orx_buf_puts(b, "<li><b>");
            orx_eval__esc(b, jstr(json_object_get(c, "ingredient_raw")));
            orx_buf_printf(b, "</b> %g ", json_number_value(json_object_get(c, "dose_amount")));
            const char *f[] = {"dose_unit", "route", "frequency", "duration"};
            for (int k = 0; k < 4; k++) { orx_eval__esc(b, jstr(json_object_get(c, f[k]))); orx_buf_puts(b, " "); }
            const char *adj = jstr(json_object_get(c, "adjustments")), *mon = jstr(json_object_get(c, "monitoring"));
            if (*adj) { orx_buf_puts(b, "<br>Adjustments: "); orx_eval__esc(b, adj); }
            if (*mon) { orx_buf_puts(b, "<br>Monitoring: "); orx_eval__esc(b, mon); }
            orx_buf_puts(b, "</li>");
        }
        orx_buf_puts(b, "</ol>");
    }
    json_t *alts = json_object_get(ans, "alternatives");
    if (json_array_size(alts)) {
        orx_buf_puts(b, "<p>Alternatives: ");
        for (size_t i = 0; i < json_array_size(alts); i++) { if (i) orx_buf_puts(b, ", "); orx_eval__esc(b, jstr(json_array_get(alts, i))); }
        orx_buf_puts(b, "</p>");
    }
    const char *ra = jstr(json_object_get(ans, "rationale"));
    if (*ra) { orx_buf_puts(b, "<p>Rationale: "); orx_eval__esc(b, ra); orx_buf_puts(b, "</p>"); }
    json_t *fs = json_object_get(r, "findings");
    if (json_array_size(fs)) {
        orx_buf_puts(b, "<p>Safety checker findings on this answer:</p><ul>");
        size_t i;
        json_t *f;
        json_array_foreach(fs, i, f) {
            orx_buf_puts(b, "<li>");
            orx_eval__esc(b, jstr(json_object_get(f, "severity")));
            orx_buf_puts(b, ": ");
            orx_eval__esc(b, jstr(json_object_get(f, "message")));
            orx_buf_puts(b, "</li>");
        }
        orx_buf_puts(b, "</ul>");
    }
}

static void rubric_html(orx_buf *b, const char *item) {
    orx_buf_printf(b, "<div class=\"rubric\" data-item=\"%s\">", item);
    for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++) {
        orx_buf_printf(b, "<label>%s <select data-c=\"%s\"><option value=\"\">–</option>", orx_eval__criteria[c], orx_eval__criteria[c]);
        for (int v = 1; v <= 5; v++) orx_buf_printf(b, "<option>%d</option>", v);
        orx_buf_puts(b, "</select></label> ");
    }
    orx_buf_puts(b, "<br><textarea data-c=\"comment\" rows=\"2\" cols=\"80\" placeholder=\"free text\"></textarea></div>\n");
}

static const char *PACKET_JS =
    "<script>\n"
    "(function(){\n"
    "var KEY='openrx-review:'+document.body.dataset.packet;\n"
    "var st=JSON.parse(localStorage.getItem(KEY)||'{}');\n"
    "var who=document.getElementById('reviewer');\n"
    "who.value=st.reviewer||'';\n"
    "function save(){localStorage.setItem(KEY,JSON.stringify(st));}\n"
    "who.addEventListener('input',function(){st.reviewer=who.value;save();});\n"
    "st.items=st.items||{};\n"
    "document.querySelectorAll('.rubric').forEach(function(d){\n"
    "  var it=d.dataset.item; var s=st.items[it]||{};\n"
    "  d.querySelectorAll('[data-c]').forEach(function(e){\n"
    "    if(s[e.dataset.c]!==undefined)e.value=s[e.dataset.c];\n"
    "    e.addEventListener('input',function(){s[e.dataset.c]=e.value;st.items[it]=s;save();});\n"
    "    e.addEventListener('change',function(){s[e.dataset.c]=e.value;st.items[it]=s;save();});\n"
    "  });\n"
    "});\n"
    "function q(v){v=String(v==null?'':v);return /[\",\\n\\r]/.test(v)?'\"'+v.replace(/\"/g,'\"\"')+'\"':v;}\n"
    "document.getElementById('export').addEventListener('click',function(){\n"
    "  var C=['correctness','safety','personalisation','completeness','clarity'];\n"
    "  var rows=['reviewer,item,'+C.join(',')+',comment'];\n"
    "  Object.keys(st.items).sort().forEach(function(it){var s=st.items[it];\n"
    "    rows.push([q(st.reviewer||''),q(it)].concat(C.map(function(c){return s[c]||'';})).concat([q(s.comment||'')]).join(','));});\n"
    "  var blob=new Blob([rows.join('\\n')+'\\n'],{type:'text/csv'});\n"
    "  var a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='scores.csv';a.click();\n"
    "});\n"
    "})();\n"
    "</script>\n";

static orx_status load_cases_of_run(const char *dir, orx_eval_cases *cs, orx_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: missing or unreadable (not a run folder?)", path);
    orx_status st = orx_eval_cases_load(jstr(json_object_get(m, "cases")), cs, err);
    json_decref(m);
    return st;
}

static void patient_summary(const orx_eval_case *c, orx_buf *b) {
    orx_patient *pt = NULL;
    orx_error e = ORX_ERROR_INIT;
    const char *as_of = c->as_of[0] ? c->as_of : NULL;
    orx_status st = c->patient_json ? orx_patient_parse(c->patient_json, strlen(c->patient_json), c->id, as_of, &pt, &e)
                                    : orx_patient_load(c->patient_path, as_of, &pt, &e);
    orx_buf s;
    orx_buf_init(&s);
    if (st == ORX_OK) st = orx_patient_summary(pt, &s, &e);
    orx_buf_puts(b, "<pre class=\"patient\">");
    orx_eval__esc(b, st == ORX_OK ? s.data : e.msg);
    orx_buf_puts(b, "</pre>");
    orx_buf_clear(&s);
    orx_patient_free(pt);
}

orx_status orx_eval_review_packet(const char *dir, const char *out_html, uint64_t seed, orx_error *err) {
    json_t *recs = NULL;
    orx_status st = orx_eval__load_records(dir, &recs, err);
    if (st != ORX_OK) return st;
    orx_eval_cases cs;
    bool have_cases = load_cases_of_run(dir, &cs, NULL) == ORX_OK;
    /* case ids in record order; rx records of repeat 0 */
    json_t *cases = json_array(), *key = json_object(), *items = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        if (strcmp(jstr(json_object_get(r, "kind")), "rx") || json_integer_value(json_object_get(r, "rep")) != 0 ||
            !strcmp(jstr(json_object_get(r, "backend")), "evidence"))
            continue; /* evidence mode proposes nothing to score (and would unblind itself) */
        const char *c = jstr(json_object_get(r, "case"));
        bool seen = false;
        for (size_t j = 0; j < json_array_size(cases); j++) seen |= !strcmp(jstr(json_array_get(cases, j)), c);
        if (!seen) json_array_append_new(cases, json_string(c));
    }
    char packet_id[32];
    snprintf(packet_id, sizeof packet_id, "%016llx", (unsigned long long)(orx_fnv1a_str(dir) ^ seed));
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>openrx review packet</title>"
                       "<style>body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1000px}.case{border-top:2px solid #333;margin-top:2em}"
                       ".answer{border:1px solid #ccc;padding:6px 10px;margin:8px 0}.patient{background:#f6f6f6;padding:6px;white-space:pre-wrap}"
                       ".rubric select{margin-right:6px}</style></head><body data-packet=\"%s\">\n"
                       "<h1>openrx clinician review packet (blinded)</h1>\n"
                       "<p>Each case shows the patient, the indication and the answers of every arm in a random order; which "
                       "model or retrieval setting wrote an answer is hidden. Score each answer 1 (poor) to 5 (excellent) on each "
                       "criterion. Scores stay in this browser (localStorage) until you export them. Answers are machine drafts, "
                       "not advice.</p>\n<p>Reviewer name: <input id=\"reviewer\" size=\"30\"> "
                       "<button id=\"export\">Export scores (CSV)</button></p>\n<p><small>Order seed %llu, packet %s.</small></p>\n",
                   packet_id, (unsigned long long)seed, packet_id);
    size_t n_items = 0;
    for (size_t ci = 0; ci < json_array_size(cases); ci++) {
        const char *cid = jstr(json_array_get(cases, ci));
        json_t *ans = json_array();
        json_array_foreach(recs, i, r)
            if (!strcmp(jstr(json_object_get(r, "case")), cid) && json_integer_value(json_object_get(r, "rep")) == 0 &&
                !strcmp(jstr(json_object_get(r, "kind")), "rx") && strcmp(jstr(json_object_get(r, "backend")), "evidence"))
                json_array_append(ans, r);
        size_t n = json_array_size(ans);
        size_t *ord = malloc((n ? n : 1) * sizeof *ord);
        if (!ord) { json_decref(ans); st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        for (size_t k = 0; k < n; k++) ord[k] = k;
        uint64_t s = seed ^ orx_fnv1a_str(cid);
        for (size_t k = n; k > 1; k--) { size_t j = (size_t)(mix(&s) % k); size_t t = ord[k - 1]; ord[k - 1] = ord[j]; ord[j] = t; }
        const orx_eval_case *c = have_cases ? orx_eval_cases_find(&cs, cid) : NULL;
        orx_buf_puts(&b, "<div class=\"case\"><h2>Case ");
        orx_eval__esc(&b, cid);
        orx_buf_puts(&b, "</h2>");
        if (c) {
            orx_buf_puts(&b, "<p><b>Indication:</b> ");
            orx_eval__esc(&b, c->indication);
            orx_buf_puts(&b, "</p>");
            patient_summary(c, &b);
        } else {
            orx_buf_puts(&b, "<p><i>Case file not available: patient summary missing.</i></p>");
        }
        for (size_t k = 0; k < n; k++) {
            json_t *rr = json_array_get(ans, ord[k]);
            char item[300];
            snprintf(item, sizeof item, "%s#%zu", cid, k + 1);
            json_object_set_new(items, item, json_string(jstr(json_object_get(rr, "arm"))));
            orx_buf_printf(&b, "<div class=\"answer\"><h3>Answer %zu</h3>", k + 1);
            answer_html(&b, rr);
            rubric_html(&b, item);
            orx_buf_puts(&b, "</div>\n");
            n_items++;
        }
        orx_buf_puts(&b, "</div>\n");
        free(ord);
        json_decref(ans);
    }
    orx_buf_puts(&b, PACKET_JS);
    orx_buf_puts(&b, "</body></html>\n");
    json_object_set_new(key, "seed", json_integer((json_int_t)seed));
    json_object_set_new(key, "packet", json_string(packet_id));
    json_object_set_new(key, "items", items);
    char kp[4200];
    snprintf(kp, sizeof kp, "%s/review_key.json", dir);
    char *ks = json_dumps(key, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (st == ORX_OK && n_items == 0) st = orx_fail(err, ORX_ERR_INVALID, "%s: no prescription answers to review", dir);
    if (st == ORX_OK) st = ks ? orx_write_file_atomic(kp, ks, strlen(ks), err) : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) st = orx_write_file_atomic(out_html, b.data, b.len, err);
    free(ks);
    orx_buf_clear(&b);
    json_decref(key);
    json_decref(cases);
    json_decref(recs);
    if (have_cases) orx_eval_cases_clear(&cs);
    return st;
}

/* ============================================================================================
 * Import
 * ========================================================================================== */
/* Split one CSV record (RFC 4180 quotes) starting at *p; advances *p past the line. */
static int csv_fields(char **p, char *fields[], int cap) {
    int n = 0;
    char *s = *p, *w;
    if (!*s) return -1;
    for (;;) {
        if (n == cap) return -2;
        fields[n++] = w = s;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s) return -3;
                if (*s == '"' && s[1] == '"') { *w++ = '"'; s += 2; continue; }
                if (*s == '"') { s++; break; }
                *w++ = *s++;
            }
        } else {
            while (*s && *s != ',' && *s != '\n' && *s != '\r') *w++ = *s++;
        }
        char end = *s;
        *w = 0;
        if (end == ',') { s++; continue; }
        if (end == '\r') { s++; if (*s == '\n') s++; }
        else if (end == '\n') s++;
        else if (end) return -3;
        break;
    }
    *p = s;
    return n;
}

orx_status orx_eval_review_import(const char *dir, const char *csv_path, size_t *n_rows, orx_error *err) {
    *n_rows = 0;
    char kp[4200], rp[4200];
    snprintf(kp, sizeof kp, "%s/review_key.json", dir);
    snprintf(rp, sizeof rp, "%s/reviews.jsonl", dir);
    json_error_t je;
    json_t *key = json_load_file(kp, 0, &je);
    if (!key) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: no review key (run 'openrx eval review' first)", kp);
    json_t *items = json_object_get(key, "items");
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(csv_path, 16u << 20, &data, &len, err);
    if (st != ORX_OK) { json_decref(key); return st; }
    json_t *rows = json_array(), *reviewers = json_array();
    char *p = data, *f[16];
    int line = 0, nf;
    while (st == ORX_OK && (nf = csv_fields(&p, f, 16)) != -1) {
        line++;
        if (nf < 0) { st = orx_fail(err, ORX_ERR_PARSE, "%s:%d: malformed CSV record", csv_path, line); break; }
        if (line == 1) {
            if (nf < 2 + ORX_EVAL_N_CRITERIA || strcmp(f[0], "reviewer") || strcmp(f[1], "item"))
                st = orx_fail(err, ORX_ERR_PARSE, "%s:1: header must be reviewer,item,correctness,safety,personalisation,completeness,clarity,comment", csv_path);
            continue;
        }
        if (nf == 1 && !f[0][0]) continue;
        if (nf < 2 + ORX_EVAL_N_CRITERIA) { st = orx_fail(err, ORX_ERR_PARSE, "%s:%d: expected %d fields, got %d", csv_path, line, 3 + ORX_EVAL_N_CRITERIA, nf); break; }
        if (!f[0][0]) { st = orx_fail(err, ORX_ERR_INVALID, "%s:%d: reviewer: empty (enter a name in the packet)", csv_path, line); break; }
        json_t *arm = json_object_get(items, f[1]);
        if (!json_is_string(arm)) { st = orx_fail(err, ORX_ERR_INVALID, "%s:%d: item: '%s' is not in this run's review key", csv_path, line, f[1]); break; }
        json_t *o = json_object();
        json_object_set_new(o, "reviewer", json_string(f[0]));
        json_object_set_new(o, "item", json_string(f[1]));
        char cid[300];
        snprintf(cid, sizeof cid, "%s", f[1]);
        char *hash = strrchr(cid, '#');
        if (hash) *hash = 0;
        json_object_set_new(o, "case", json_string(cid));
        json_object_set_new(o, "arm", json_incref(arm));
        for (int c = 0; c < ORX_EVAL_N_CRITERIA; c++) {
            const char *v = f[2 + c];
            if (!*v) continue;
            if (strlen(v) != 1 || v[0] < '1' || v[0] > '5') {
                st = orx_fail(err, ORX_ERR_RANGE, "%s:%d: %s: '%s' must be 1..5 or empty", csv_path, line, orx_eval__criteria[c], v);
                break;
            }
            json_object_set_new(o, orx_eval__criteria[c], json_integer(v[0] - '0'));
        }
        if (nf > 2 + ORX_EVAL_N_CRITERIA) json_object_set_new(o, "comment", json_string(f[2 + ORX_EVAL_N_CRITERIA]));
        bool seen = false;
        for (size_t j = 0; j < json_array_size(reviewers); j++) seen |= !strcmp(jstr(json_array_get(reviewers, j)), f[0]);
        if (!seen) json_array_append_new(reviewers, json_string(f[0]));
        json_array_append_new(rows, o);
    }
    free(data);
    json_t *old = NULL;
    if (st == ORX_OK) st = orx_eval__load_reviews(dir, &old, err);
    if (st == ORX_OK) {
        orx_buf b;
        orx_buf_init(&b);
        size_t i;
        json_t *r;
        json_array_foreach(old, i, r) { /* keep other reviewers' rows */
            bool same = false;
            for (size_t j = 0; j < json_array_size(reviewers); j++) same |= !strcmp(jstr(json_array_get(reviewers, j)), jstr(json_object_get(r, "reviewer")));
            if (same) continue;
            char *s = json_dumps(r, JSON_COMPACT);
            if (s) { orx_buf_puts(&b, s); orx_buf_puts(&b, "\n"); free(s); }
        }
        json_array_foreach(rows, i, r) {
            char *s = json_dumps(r, JSON_COMPACT);
            if (s) { orx_buf_puts(&b, s); orx_buf_puts(&b, "\n"); free(s); }
        }
        st = orx_write_file_atomic(rp, b.data ? b.data : "", b.len, err);
        orx_buf_clear(&b);
        *n_rows = json_array_size(rows);
    }
    json_decref(old);
    json_decref(rows);
    json_decref(reviewers);
    json_decref(key);
    if (st == ORX_OK) st = orx_eval_report(dir, NULL, err);
    return st;
}
