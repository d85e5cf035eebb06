# openrx — the two commands: `make demo` and `make test`. Both do all set-up on a fresh machine.
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
FUZZ_SEED  ?=

.PHONY: all deps build demo test test-asan test-tsan fuzz fuzz-build bench clean fhir-validator

all: build

deps:
	@bash scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo $(BUILD)/openrx

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ORX_ASAN=1 ctest --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer build of the library and the tests where threads meet: concurrent recommend
# (model queue and evidence mode), check, CDS Hooks and chat against shared handles; the model
# queue's suspend/resume, streams, cancellation and drain; the connection reaper; the audit lock;
# several threads on one local model handle.
TSAN_TESTS = test_server_concurrency test_server_queue test_server_limits test_audit test_local_slots
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORX_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TESTS)
	@cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -R '^($(shell echo $(TSAN_TESTS) | tr ' ' '|'))$$'

# libFuzzer harnesses (clang, ASan + UBSan), each run FUZZ_TIME seconds in turn (fuzz/run.sh);
# FUZZ_RUNS=N stops a harness after N executions instead.
fuzz-build: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORX_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	@FUZZ_SEED=$(FUZZ_SEED) bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

# The third-party FHIR R4 validator the tests use (npm, pinned by tests/fhir/package-lock.json);
# tests/cli/fhir_validate.sh also runs this when it is missing.
fhir-validator: deps
	@cd tests/fhir && npm ci --no-audit --no-fund --loglevel=error

bench: build
	@bash bench/run.sh $(BUILD)/openrx

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
