/* test_interactions_synthea.c — run the checker over the active medicine list of every Synthea
 * patient in ../shared (skipped loudly without it) and print findings per tier and per kind, the
 * share of medicines the lexicon recognises, and a fixed sample of findings for hand review.
 * Asserts only invariants that could fail: every bundle loads and checks, every finding carries a
 * source and a citation, and every unrecognised medicine yields an "unrecognised" finding (an
 * unknown drug is never silently skipped). Not a timing test. */
#include "testutil.h"
#include "safety/safety.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SAMPLE 10 /* findings printed for hand review */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_synthea_active_lists(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_error err = ORX_ERROR_INIT;
    orx_checker_params prm = orx_checker_default_params();
    prm.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_checker *ck = NULL;
    assert_int_equal(orx_checker_create(&prm, &ck, &err), ORX_OK);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/synthea-r4-smart-sample/bundles", orx_test_shared_dir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[1024];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 1024)
        if (strstr(e->d_name, ".json")) names[nn++] = orx_strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_str);
    size_t tiers[ORX_SEV_COUNT] = {0}, meds = 0, meds_known = 0, n_unrec = 0, total = 0;
    size_t pts_with[ORX_SEV_COUNT] = {0};
    char kinds[16][24];
    size_t kind_n[16] = {0};
    int nk = 0, sampled = 0;
    int sample_max = getenv("ORX_SAMPLE") ? atoi(getenv("ORX_SAMPLE")) : SAMPLE;
    size_t n_nocite = 0;
    int skipped = 0;
    for (int i = 0; i < nn; i++) {
        struct stat sb;
        if (stat(orx_test_path("%s/%s", dir, names[i]), &sb) == 0 && sb.st_size == 0) {
            print_message("skipped empty file (staging artefact): %s\n", names[i]);
            skipped++;
            free(names[i]);
            continue;
        }
        orx_patient *p = NULL;
        orx_status st = orx_patient_load(orx_test_path("%s/%s", dir, names[i]), "2026-01-01", &p, &err);
        if (st) print_message("%s: %s\n", names[i], err.msg);
        assert_int_equal(st, ORX_OK);
        orx_findings fs;
        orx_findings_init(&fs);
        assert_int_equal(orx_check_current(ck, p, &fs, &err), ORX_OK);
        size_t unrec_here = 0;
        for (size_t m = 0; m < p->n_meds; m++) {
            orx_proposed_drug pd;
            orx_proposed_drug_from_med(ck, &p->meds[m], &pd, &err);
            meds++;
            meds_known += pd.n_ingr > 0;
            unrec_here += pd.n_ingr == 0;
        }
        size_t c[ORX_SEV_COUNT];
        orx_findings_count(&fs, c);
        size_t unrec_findings = 0;
        for (size_t k = 0; k < fs.n; k++) {
            const orx_finding *f = &fs.items[k];
            if (!f->source[0] || !f->citation[0]) {
                if (n_nocite++ < 3)
                    print_message("finding without source/citation: [%s] %s %s\n", orx_severity_name(f->severity), f->kind, f->drugs);
                /* the core's own kinds must always cite; others are reported above */
                bool core = !strcmp(f->kind, "interaction") || !strcmp(f->kind, "duplicate") ||
                            !strcmp(f->kind, "allergy") || !strcmp(f->kind, "unrecognised");
                assert_false(core);
            }
            unrec_findings += !strcmp(f->kind, "unrecognised");
            int j = 0;
            while (j < nk && strcmp(kinds[j], f->kind)) j++;
            if (j == nk && nk < 16) snprintf(kinds[nk++], 24, "%s", f->kind);
            if (j < 16) kind_n[j]++;
        }
        assert_int_equal(unrec_findings, unrec_here);
        n_unrec += unrec_findings;
        for (int t = 0; t < ORX_SEV_COUNT; t++) {
            tiers[t] += c[t];
            pts_with[t] += c[t] > 0;
        }
        total += fs.n;
        /* sample for hand review: the first SAMPLE findings in file order (set ORX_SAMPLE for more) */
        for (size_t k = 0; k < fs.n && sampled < sample_max; k++) {
            const orx_finding *f = &fs.items[k];
            print_message("sample %d: %.40s [%s] %s: %s | %s | %s | %s | %.160s\n", ++sampled, names[i],
                          orx_severity_name(f->severity), f->kind, f->drugs, f->trigger, f->source,
                          f->citation, f->message);
        }
        orx_findings_clear(&fs);
        orx_patient_free(p);
        free(names[i]);
    }
    print_message("Synthea: %d bundles (%d empty skipped), %d patients, %zu active medicines, %zu recognised by the lexicon (%.1f%%), %zu findings\n",
                  nn, skipped, nn - skipped, meds, meds_known, meds ? 100.0 * meds_known / meds : 0, total);
    for (int t = ORX_SEV_COUNT - 1; t >= 0; t--)
        print_message("  %-16s %5zu findings in %zu patients\n", orx_severity_name((orx_severity)t), tiers[t], pts_with[t]);
    for (int j = 0; j < nk; j++) print_message("  kind %-14s %zu\n", kinds[j], kind_n[j]);
    print_message("  findings without source or citation: %zu\n", n_nocite);
    assert_true(nn >= 1);
    assert_int_equal(meds - meds_known, n_unrec);
    orx_checker_free(ck);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_synthea_active_lists)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
