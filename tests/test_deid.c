/*
 * test_deid.c — de-identification of patient text for remote models (clinical/deid.c) and the
 * endpoint rules (llm/endpoint.c): each Safe Harbor identifier kind in crafted free text is
 * replaced by its marker; clinical numbers (doses, ratios, lab values, ranges, ages under 90)
 * are left exactly as written; loopback hosts are local, every other host remote and refused
 * without consent.
 */
#include "testutil.h"
#include "clinical/clinical.h"
#include "llm/llm.h"
#include <stdlib.h>
#include <string.h>

/* text after de-identification (static buffer), with the redactions made */
static const char *deid(const char *in, int *made) {
    static char out[2048];
    orx_deid d;
    orx_deid_for(NULL, &d);
    orx_buf b;
    orx_buf_init(&b);
    int n = orx_deid_append(&d, in, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    orx_buf_clear(&b);
    assert_int_equal(n, orx_deid_total(&d));
    if (made) *made = n;
    return out;
}

static void expect(const char *in, const char *want) {
    int n;
    const char *got = deid(in, &n);
    if (strcmp(got, want) != 0) fail_msg("deid(\"%s\")\n  got  \"%s\"\n  want \"%s\"", in, got, want);
}

static void unchanged(const char *in) { expect(in, in); }

/* ---- every identifier kind found in free text ---- */
static void test_identifiers_redacted(void **state) {
    (void)state;
    expect("call 555-123-4567 if worse", "call [redacted: phone] if worse");
    expect("daughter (617) 555-0199", "daughter [redacted: phone]");
    expect("phone: 617.555.0199", "phone: [redacted: phone]");
    expect("+44 20 7946 0958 (UK)", "[redacted: phone] (UK)");
    expect("fax 617 555 0100", "fax [redacted: fax]");
    expect("write to jane.doe@example.org today", "write to [redacted: e-mail] today");
    expect("SSN 123-45-6789", "SSN [redacted: SSN]");
    expect("ssn: 123456789", "ssn: [redacted: SSN]");
    expect("MRN: 00123456", "MRN: [redacted: identifier]");
    expect("medical record number A7733-19 on file", "medical record number [redacted: identifier] on file");
    expect("Medicare 1EG4-TE5-MK73", "Medicare [redacted: identifier]");
    expect("chart 12345678", "chart [redacted: identifier]");
    expect("code X4471203", "code [redacted: identifier]");
    expect("see https://portal.example.com/p?id=7 for notes", "see [redacted: URL] for notes");
    expect("www.example.org.", "[redacted: URL].");
    expect("from 192.168.10.4", "from [redacted: IP address]");
    expect("host fe80::1ff:fe23:4567:890a", "host [redacted: IP address]");
    expect("lives at 12 Main Street, Apt 4B", "lives at [redacted: address]");
    expect("1600 Pennsylvania Ave NW", "[redacted: address] NW");
    expect("PO Box 4471", "[redacted: address]");
    expect("Boston, MA 02139", "[redacted: address]");
    expect("moved to New Bedford, MA.", "moved to [redacted: address].");
    expect("ST 02139 (MA 02139)", "ST 02139 ([redacted: address])");
    expect("zip 02139-4307", "zip [redacted: address]");
    expect("seen 03/12/2024 in clinic", "seen [redacted: date] in clinic");
    expect("started 2023-05-01T10:30:00Z", "started [redacted: date]");
    expect("since March 3, 2021", "since [redacted: date]");
    expect("since 3rd of March", "since [redacted: date]");
    expect("rash on 03-Mar-2021", "rash on [redacted: date]");
    expect("since Jan 2020", "since [redacted: date]");
    expect("DOB 1931", "DOB [redacted: date]");
    expect("born in 1931", "born in [redacted: date]");
    expect("93-year-old widow", "[age 90 or older] widow");
    expect("aged 97 years", "[age 90 or older]");
    expect("a 91 yo man", "a [age 90 or older] man");
    expect("is 97 years of age", "is [age 90 or older]");
    expect("age: 104", "[age 90 or older]");
    expect("Dr. Gregory House said", "Dr. [redacted: name] said");
    expect("Mrs Smith", "Mrs [redacted: name]");
    expect("name: Jane Doe", "name: [redacted: name]");
}

/* ---- clinical numbers and words are kept ---- */
static void test_clinical_numbers_kept(void **state) {
    (void)state;
    unchanged("sulfamethoxazole/trimethoprim 800 mg/160 mg twice daily");
    unchanged("hydrocodone/acetaminophen 5/325 every 6 hours");
    unchanged("metoprolol 25 mg 1/2 tablet daily");
    unchanged("BP 120/80, HR 72, INR 2.5, CrCl 28 mL/min, eGFR 32 mL/min/1.73m2");
    unchanged("potassium 5.8 mmol/L; platelets 150000/uL; WBC 12000");
    unchanged("penicillin G benzathine 2400000 units IM once");
    unchanged("titrate 10/20/40 mg");
    unchanged("warfarin 5 mg daily, target INR 2-3, 1000-2000 mg");
    unchanged("78-year-old with CKD stage 4, aged 89");
    unchanged("CYP2C19 *2/*2 poor metabolizer; HLA-B*5801 positive; SLCO1B1 rs4149056");
    unchanged("type 2 diabetes mellitus; COVID-19; vitamin B12 deficiency; HbA1c 7.4%");
    unchanged("St John's wort 300 mg three times daily");
    unchanged("may 2 tablets be split? dec 20% dose");
    unchanged("take 2 tablets by way of mouth");
    unchanged("ID consult; pH 7.31; ICD-10 I48.91");
    unchanged("Atrial fibrillation (disorder)");
    unchanged("apixaban (brand name: Eliquis) 5 mg twice daily");
    unchanged("NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector");
    unchanged("Hypertension, CA channel blocker tried; Diabetes, IN remission");
    unchanged("amoxicillin 875 mg / clavulanate 125 mg every 12 hours for 10 days");
    unchanged("insulin glargine 100 units/mL 20 units at bedtime");
}

/* ---- the patient's recorded name and id wherever they stand ---- */
static void test_known_words(void **state) {
    (void)state;
    orx_patient pt;
    memset(&pt, 0, sizeof pt);
    snprintf(pt.name, sizeof pt.name, "Aaron697 Brekke496");
    snprintf(pt.id, sizeof pt.id, "pt-0042");
    orx_deid d;
    orx_deid_for(&pt, &d);
    orx_buf b;
    orx_buf_init(&b);
    int n = orx_deid_append(&d, "aaron says brekke496 family (pt-0042) uses Aaronson cream", &b);
    assert_string_equal(b.data, "[redacted: name] says [redacted: name] family ([redacted: name]) uses Aaronson cream");
    assert_int_equal(n, 3);
    assert_int_equal(d.counts[ORX_DEID_NAME], 3);
    orx_buf_clear(&b);
}

/* ---- loopback or remote, consent ---- */
static void test_endpoints(void **state) {
    (void)state;
    assert_true(orx_host_is_loopback("localhost"));
    assert_true(orx_host_is_loopback("LOCALHOST."));
    assert_true(orx_host_is_loopback("llm.localhost"));
    assert_true(orx_host_is_loopback("127.0.0.1"));
    assert_true(orx_host_is_loopback("127.45.3.2"));
    assert_true(orx_host_is_loopback("::1"));
    assert_true(orx_host_is_loopback("0:0:0:0:0:0:0:1"));
    assert_true(orx_host_is_loopback("::ffff:127.0.0.1"));
    assert_false(orx_host_is_loopback("128.0.0.1"));
    assert_false(orx_host_is_loopback("10.0.0.5"));
    assert_false(orx_host_is_loopback("192.168.1.1"));
    assert_false(orx_host_is_loopback("localhost.example.com"));
    assert_false(orx_host_is_loopback("api.openai.com"));
    assert_false(orx_host_is_loopback("::2"));
    assert_false(orx_host_is_loopback(""));
    char host[256], pub[512];
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_url_host("https://user:s3cret@API.Example.com:8443/v1?key=abc", host, sizeof host, &err), ORX_OK);
    assert_string_equal(host, "api.example.com");
    orx_url_public("https://user:s3cret@API.Example.com:8443/v1?key=abc#x", pub, sizeof pub);
    assert_string_equal(pub, "https://API.Example.com:8443/v1");
    assert_int_equal(orx_url_host("http://[::1]:8080/v1", host, sizeof host, &err), ORX_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(orx_url_host("http:///v1", host, sizeof host, &err), ORX_ERR_INVALID);

    orx_llm_privacy p;
    assert_int_equal(orx_llm_privacy_for("https://k:v@api.example.com/v1", false, false, &p, &err), ORX_ERR_USAGE);
    assert_non_null(strstr(err.msg, "api.example.com"));
    assert_non_null(strstr(err.msg, "--allow-remote"));
    assert_null(strstr(err.msg, "k:v"));
    assert_int_equal(orx_llm_privacy_for("https://k:v@api.example.com/v1", true, false, &p, &err), ORX_OK);
    assert_true(p.remote && p.consent && p.redact);
    assert_string_equal(p.endpoint, "https://api.example.com/v1");
    assert_int_equal(orx_llm_privacy_for("http://127.0.0.1:8080/v1", false, false, &p, &err), ORX_OK);
    assert_false(p.remote || p.consent || p.redact);
    assert_int_equal(orx_llm_privacy_for("http://localhost:8080/v1", false, true, &p, &err), ORX_OK);
    assert_true(!p.remote && p.redact);

    /* the backend itself refuses a remote host without consent (nothing is contacted) */
    orx_openai_params op = orx_openai_default_params();
    op.base_url = "https://api.example.com/v1";
    op.model = "m";
    op.no_ctx_probe = true;
    orx_llm *llm = NULL;
    assert_int_equal(orx_llm_openai_create(&op, &llm, &err), ORX_ERR_USAGE);
    assert_null(llm);
    op.allow_remote = true;
    assert_int_equal(orx_llm_openai_create(&op, &llm, &err), ORX_OK);
    assert_true(orx_llm_get_privacy(llm)->remote && orx_llm_get_privacy(llm)->consent && orx_llm_get_privacy(llm)->redact);
    orx_llm_free(llm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers_redacted),
        cmocka_unit_test(test_clinical_numbers_kept),
        cmocka_unit_test(test_known_words),
        cmocka_unit_test(test_endpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
