/* test_interactions.c — interaction bars from real material in ../shared (skipped loudly without):
 *  1. the HL7 PDDI-CDS example CDS Hooks requests (warfarin + NSAID, digoxin + cyclosporine, multi
 *     draft orders): drugs are taken from each request's draft orders / context medications
 *     (proposed) and its prefetch medicines (current) and must raise the expected interaction;
 *  2. every ONC high-priority pair (ONC_High_Priority_Mapped.csv) must be detected when written
 *     as generic names, as brand names and as RxNorm clinical-drug codes (variants generated from
 *     the lexicon); the detection rate per form is printed and must be 100% for each form where
 *     the variant exists. */
#include "testutil.h"
#include "safety/checks.h"
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static orx_checker *CK;
static orx_patient *EMPTY;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    if (!(CK = orx_test_checker())) return -1;
    const char *js = "{\"openrx_patient\":1,\"id\":\"empty\",\"sex\":\"male\"}";
    return orx_patient_parse(js, strlen(js), "empty", "2026-01-01", &EMPTY, &err) == ORX_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    orx_patient_free(EMPTY);
    orx_checker_free(CK);
    return 0;
}

/* ============================================================================================
 * 1. CDS Hooks example requests
 * ========================================================================================== */
typedef struct med { char text[256]; char code[32]; } med;
typedef struct req_meds { med proposed[8]; int np; med current[16]; int nc; } req_meds;

static void add_med(med *arr, int *n, int cap, json_t *res) {
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    if (!rt || strncmp(rt, "Medication", 10) != 0 || !strcmp(rt, "Medication")) return;
    json_t *cc = json_object_get(res, "medicationCodeableConcept");
    json_t *coding = json_array_get(json_object_get(cc, "coding"), 0);
    if (!coding || *n >= cap) return;
    const char *disp = json_string_value(json_object_get(coding, "display"));
    const char *code = json_string_value(json_object_get(coding, "code"));
    snprintf(arr[*n].text, sizeof arr[*n].text, "%s", disp ? disp : "");
    snprintf(arr[*n].code, sizeof arr[*n].code, "%s", code ? code : "");
    (*n)++;
}

/* Walk: resources under context.draftOrders / context.medications are proposed, all others
 * (prefetch, context.itemN) are current. */
static void walk(json_t *j, bool proposed, req_meds *r) {
    if (json_is_object(j)) {
        if (json_object_get(j, "resourceType")) {
            if (proposed) add_med(r->proposed, &r->np, 8, j);
            else add_med(r->current, &r->nc, 16, j);
        }
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            bool p = proposed || !strcmp(k, "draftOrders") || !strcmp(k, "medications");
            walk(v, p, r);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) walk(v, proposed, r);
    }
}

static orx_findings check_request(const req_meds *r) {
    json_t *pj = json_object(), *ml = json_array();
    json_object_set_new(pj, "openrx_patient", json_integer(1));
    json_object_set_new(pj, "id", json_string("cds-hooks"));
    json_object_set_new(pj, "sex", json_string("male"));
    for (int i = 0; i < r->nc; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "text", json_string(r->current[i].text));
        json_object_set_new(m, "rxnorm", json_string(r->current[i].code));
        json_array_append_new(ml, m);
    }
    json_object_set_new(pj, "medications", ml);
    char *s = json_dumps(pj, 0);
    json_decref(pj);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_parse(s, strlen(s), "cds", "2026-01-01", &p, &err), ORX_OK);
    free(s);
    orx_proposed_drug d[8];
    for (int i = 0; i < r->np; i++)
        assert_int_equal(orx_proposed_drug_init(CK, r->proposed[i].text, r->proposed[i].code, &d[i], &err), ORX_OK);
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_proposed(CK, p, d, (size_t)r->np, &fs, &err), ORX_OK);
    orx_patient_free(p);
    return fs;
}

static bool has_ddi(const orx_findings *fs, const char *a, const char *b, orx_severity min_tier) {
    for (size_t i = 0; i < fs->n; i++) {
        const orx_finding *f = &fs->items[i];
        if (!strcmp(f->kind, "interaction") && strstr(f->drugs, a) && strstr(f->drugs, b) &&
            f->severity >= min_tier && (strstr(f->source, "PDDI-CDS") || strstr(f->also, "PDDI-CDS")))
            return true;
    }
    return false;
}

static void test_cds_hooks_requests(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/cds-hooks-examples/pddi-cds-ig/requests", orx_test_shared_dir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n_files = 0, n_ok = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json")) continue;
        json_error_t je;
        json_t *root = json_load_file(orx_test_path("%s/%s", dir, e->d_name), JSON_ALLOW_NUL, &je);
        if (!root) print_message("%s: %d:%d: %s\n", e->d_name, je.line, je.column, je.text);
        assert_non_null(root);
        req_meds r;
        memset(&r, 0, sizeof r);
        walk(root, false, &r);
        json_decref(root);
        assert_true(r.np > 0);
        orx_findings fs = check_request(&r);
        bool warf = strstr(e->d_name, "warfarin") || strstr(e->d_name, "multi-update-draft-orders-1") ||
                    strstr(e->d_name, "multi-update-draft-orders-3");
        bool digo = strstr(e->d_name, "digoxin") || strstr(e->d_name, "multi-update-draft-orders-2") ||
                    strstr(e->d_name, "multi-update-draft-orders-4");
        /* scenario 01 is topical diclofenac gel: the IG's "no special precautions" (info) branch */
        bool topical = strstr(e->d_name, "warfarin-nsaid-scenario-01") != NULL;
        bool ok = true;
        if (warf) {
            const char *nsaids[] = {"ibuprofen", "ketorolac", "diclofenac"};
            bool any = false;
            for (int i = 0; i < 3; i++)
                any |= has_ddi(&fs, "warfarin", nsaids[i], topical ? ORX_SEV_INFO : ORX_SEV_MAJOR);
            ok &= any;
        }
        if (digo) ok &= has_ddi(&fs, "digoxin", "cyclosporine", ORX_SEV_MAJOR);
        print_message("%-50s proposed %d current %d findings %zu -> %s\n", e->d_name, r.np, r.nc, fs.n,
                      ok ? "expected interaction raised" : "MISSING");
        if (!ok)
            for (size_t i = 0; i < fs.n; i++)
                print_message("   [%s] %s %s\n", orx_severity_name(fs.items[i].severity), fs.items[i].kind, fs.items[i].drugs);
        n_files++;
        n_ok += ok;
        orx_findings_clear(&fs);
    }
    closedir(d);
    print_message("CDS Hooks example requests: %d/%d raise the expected interaction\n", n_ok, n_files);
    assert_true(n_files >= 20);
    assert_int_equal(n_ok, n_files);
}

/* ============================================================================================
 * 2. ONC high-priority pairs in three written forms
 * ========================================================================================== */
static bool onc_detected(const char *text_a, const char *code_a, const char *text_b, const char *code_b) {
    orx_proposed_drug a, b;
    orx_error err = ORX_ERROR_INIT;
    orx_proposed_drug_init(CK, text_a, code_a, &a, &err);
    orx_proposed_drug_init(CK, text_b, code_b, &b, &err);
    a.is_current = true;
    b.others = &a;
    b.n_others = 1;
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_interaction(CK, EMPTY, &b, &fs, &err), ORX_OK);
    /* every source's hits for a pair are one finding: the ONC row is its source, or is listed
     * under `also` when a label statement gives the same or a higher tier */
    bool hit = false;
    for (size_t i = 0; i < fs.n; i++)
        hit |= (strstr(fs.items[i].source, "ONC High-Priority") || strstr(fs.items[i].also, "ONC High-Priority")) &&
               fs.items[i].severity >= ORX_SEV_MAJOR && fs.items[i].interruptive;
    orx_findings_clear(&fs);
    return hit;
}

/* The single ingredient a generic name resolves to ("" when it does not resolve to one). */
static void ingredient_of(const char *name, char *out, size_t cap) {
    orx_lex_match m[4];
    int n = orx_lexicon_lookup(orx_checker_lexicon(CK), name, m, 4);
    snprintf(out, cap, "%s", n == 1 ? m[0].ingredient : "");
}

static void test_onc_high_priority_forms(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    FILE *f = fopen(orx_test_path("%s/data/pddi-public-merged/ONC_High_Priority_Mapped.csv", orx_test_shared_dir()), "r");
    assert_non_null(f);
    const orx_lexicon *L = orx_checker_lexicon(CK);
    char line[1024];
    int pairs = 0, gen_ok = 0, brand_n = 0, brand_ok = 0, code_n = 0, code_ok = 0;
    int printed = 0;
    while (fgets(line, sizeof line, f)) {
        /* Drug1$DB$Drug2$DB$ (first line may start with a UTF-8 BOM) */
        char *p = line;
        if ((unsigned char)p[0] == 0xEF) p += 3;
        char *fld[4] = {0};
        for (int i = 0; i < 4 && p; i++) {
            fld[i] = p;
            p = strchr(p, '$');
            if (p) *p++ = 0;
        }
        if (!fld[2]) continue;
        for (int i = 0; i < 3; i += 2)
            for (char *c = fld[i]; *c; c++)
                if (*c == '_') *c = ' ';
        pairs++;
        /* generic names as written in the list */
        bool g = onc_detected(fld[0], NULL, fld[2], NULL);
        gen_ok += g;
        if (!g && printed++ < 10) print_message("  generic form missed: %s + %s\n", fld[0], fld[2]);
        char ia[ORX_LEX_NAME], ib[ORX_LEX_NAME];
        ingredient_of(fld[0], ia, sizeof ia);
        ingredient_of(fld[2], ib, sizeof ib);
        if (!ia[0] || !ib[0]) continue;
        /* brand names (first brand of each ingredient) */
        char ba[4][ORX_LEX_NAME], bb[4][ORX_LEX_NAME];
        if (orx_lexicon_brands(L, ia, ba, 4) > 0 && orx_lexicon_brands(L, ib, bb, 4) > 0) {
            brand_n++;
            bool ok = onc_detected(ba[0], NULL, bb[0], NULL);
            brand_ok += ok;
            if (!ok && printed++ < 20) print_message("  brand form missed: %s (%s) + %s (%s)\n", ba[0], ia, bb[0], ib);
        }
        /* RxNorm clinical-drug codes (first SCD of each ingredient), as a FHIR coding would carry */
        char ca[4][16], cb[4][16];
        if (orx_lexicon_clinical_drugs(L, ia, ca, 4) > 0 && orx_lexicon_clinical_drugs(L, ib, cb, 4) > 0) {
            code_n++;
            bool ok = onc_detected(ca[0], NULL, cb[0], NULL);
            code_ok += ok;
            if (!ok && printed++ < 30) print_message("  code form missed: %s (%s) + %s (%s)\n", ca[0], ia, cb[0], ib);
        }
    }
    fclose(f);
    print_message("ONC high-priority pairs: %d\n", pairs);
    print_message("  generic names:           %d/%d detected (%.1f%%)\n", gen_ok, pairs, 100.0 * gen_ok / pairs);
    print_message("  brand names:             %d/%d detected (%.1f%%) [pairs where both have a single-ingredient brand]\n",
                  brand_ok, brand_n, brand_n ? 100.0 * brand_ok / brand_n : 0);
    print_message("  RxNorm clinical drugs:   %d/%d detected (%.1f%%) [pairs where both have a single-ingredient SCD]\n",
                  code_ok, code_n, code_n ? 100.0 * code_ok / code_n : 0);
    assert_true(pairs >= 1900);
    assert_int_equal(gen_ok, pairs);
    assert_true(brand_n > 100 && code_n > 100);
    assert_int_equal(brand_ok, brand_n);
    assert_int_equal(code_ok, code_n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cds_hooks_requests),
        cmocka_unit_test(test_onc_high_priority_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
