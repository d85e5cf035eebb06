/*
 * fuzz.h — what the libFuzzer harnesses in fuzz/ share.
 *
 * Each fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput (and, when it needs set-up,
 * LLVMFuzzerInitialize). Built two ways by CMake:
 *   - with clang and -DORX_FUZZ=ON (`make fuzz`): libFuzzer + ASan + UBSan, the whole library
 *     instrumented; corpus in fuzz/corpus/<name>/;
 *   - with any compiler, linked to fuzz/replay.c: `fuzz_replay_<name>` runs every file of the seed
 *     corpus and of fuzz/regress/<name>/ (inputs that once crashed) once; ctest runs it, so every
 *     crash found stays a regression test under `make test` and `make test-asan`.
 */
#ifndef ORX_FUZZ_H
#define ORX_FUZZ_H

#include "openrx.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated string (static buffer reused between runs; NULL when over cap). */
const char *orx_fuzz_cstr(const uint8_t *data, size_t size);

/* Write the input into a memory file and return a path to it ("/proc/self/fd/N"), for APIs that
 * take a file name. slot picks one of a few files (the same slot is rewritten each run). */
const char *orx_fuzz_file(int slot, const uint8_t *data, size_t size);

/* Project source dir (data/ for the lexicon and rule tables): $ORX_SOURCE_DIR, else the one
 * compiled in. */
const char *orx_fuzz_source_dir(void);

/* Split data at the first occurrence of sep (a byte): a = before, b = after (b empty if none). */
void orx_fuzz_split(const uint8_t *data, size_t size, uint8_t sep, const uint8_t **a, size_t *na,
                    const uint8_t **b, size_t *nb);

#endif /* ORX_FUZZ_H */
