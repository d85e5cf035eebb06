/*
 * testutil.h — helpers shared by the cmocka tests.
 * Tests find project files through ORX_SOURCE_DIR (set by ctest) and the shared reference
 * material at $ORX_SOURCE_DIR/../shared (present in CI and for developers, absent in a user's
 * clone): a test that needs it calls ORX_REQUIRE_SHARED() and is skipped, loudly, without it.
 */
#ifndef ORX_TESTUTIL_H
#define ORX_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

/* Project source dir (for data/, tests/fixtures/). Never NULL. */
const char *orx_test_source_dir(void);
/* ../shared next to the project, or NULL if absent. */
const char *orx_test_shared_dir(void);
/* Path to the built openrx CLI (ORX_BIN), or NULL. */
const char *orx_test_bin(void);
/* Join into a static rotating buffer: orx_test_path("%s/data/x", dir). */
const char *orx_test_path(const char *fmt, ...);
/* The safety checker over the project's data/ (a cmocka group setup's usual first step); NULL,
 * with the reason printed, when it cannot be created. Free with orx_checker_free. */
struct orx_checker;
struct orx_checker *orx_test_checker(void);
/* Run a shell command; capture stdout (malloc'd, NUL-terminated) and return its exit status. */
int orx_test_run(char **out, const char *fmt, ...);
/* Keep a FHIR output of the suite for the schema validation test (tests/cli/fhir_validate.sh):
 * writes $ORX_FHIR_OUT/<name>.json when ORX_FHIR_OUT is set (ctest sets it); no-op otherwise.
 * Returns 0, or -1 when the file cannot be written. */
int orx_test_save_fhir(const char *name, const char *data, size_t len);

/* The default knowledge base (built from data/labels), shared read-only by the tests that need it.
 * Under ctest it is built once per run by the kb_default_fixture test (CTest FIXTURES_SETUP) and
 * named by $ORX_TEST_KB; a test binary run by hand builds its own into /tmp, removed at exit.
 * A test that changes the knowledge base works on a copy (orx_test_copy_kb). NULL on failure
 * (message on stderr). */
const char *orx_test_default_kb(void);
/* Copy a knowledge base and its impact index (<kb>.impact-*, named in the KB by base name) into
 * the existing folder dir, keeping the base names; the copy's path (orx_test_path buffer), or NULL. */
const char *orx_test_copy_kb(const char *src, const char *dir);

#define ORX_REQUIRE_SHARED()                                                              \
    do {                                                                                  \
        if (!orx_test_shared_dir()) {                                                     \
            print_message("SKIPPED: ../shared is absent (reference data not available)\n"); \
            skip();                                                                       \
        }                                                                                 \
    } while (0)
#endif
