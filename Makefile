# facerpc: two commands on a fresh Debian 12 machine with the Swift toolchain.
#   make serve   install what is missing, build release, serve the pretrained models
#   make test    the same set-up, then every test suite
SHELL := /bin/bash
SWIFT ?= swift
# Release builds target the host CPU (AVX-512 here).
RELEASE_FLAGS := -c release -Xswiftc -target-cpu -Xswiftc native
SERVE_ARGS ?=
# Tests run on a release build too (with testability), in their own build
# folder: the networks and the detector are too slow unoptimised to test on
# real photos in reasonable time. They run one at a time: several suites time
# the server's answers, and the predict suites would otherwise starve them of
# the 2 cores.
TEST_SCRATCH := .build-test
TEST_FLAGS := $(RELEASE_FLAGS) -Xswiftc -enable-testing --scratch-path $(TEST_SCRATCH)
TEST_BIN := $(CURDIR)/$(TEST_SCRATCH)/release/facerpc
TEST_ENV := PATH="$(CURDIR)/.venv/bin:$$PATH" FACERPC_MODELS_DIR="$(CURDIR)/models" FACERPC_BIN="$(TEST_BIN)"

.PHONY: serve test setup setup-test build build-tests check-generated swift-test clients-test fuzz-seeds fuzz-replay fuzz-build fuzz fuzz-smoke bench clean failover-test bench-rpc bench-rpc-cpu load-test

serve: setup build
	exec .build/release/facerpc serve --models models $(SERVE_ARGS)

setup:
	@scripts/setup.sh serve

setup-test:
	@scripts/setup.sh test

build:
	$(SWIFT) build $(RELEASE_FLAGS) --product facerpc

build-tests:
	$(SWIFT) build --build-tests $(TEST_FLAGS)

# Generated code must match a fresh regeneration from Protos/.
check-generated:
	scripts/generate-protos.sh --check
	clients/python/generate.sh --check

swift-test: build-tests
	$(TEST_ENV) $(SWIFT) test --skip-build --no-parallel $(TEST_FLAGS)

clients-test: build-tests
	$(TEST_ENV) python3 -m pytest -q clients/python/tests
	$(TEST_ENV) $(MAKE) -C clients/c test valgrind FACERPC_BIN="$(TEST_BIN)"

# The fuzz targets built as plain programs replay the committed seeds and crash regressions.
FUZZ_TARGETS := wire jpeg onnx checkpoint
# Seeds: committed ones in Fuzz/Corpus, generated ones (the ONNX models, never committed) in .build-fuzz/seeds.
fuzz-seeds: setup-test
	.venv/bin/python Fuzz/make-seeds.py --generated .build-fuzz/seeds

fuzz-replay: build-tests fuzz-seeds
	for t in $(FUZZ_TARGETS); do \
	  $(TEST_SCRATCH)/release/fuzz-$$t $$(ls -d Fuzz/Corpus/$$t .build-fuzz/seeds/$$t 2>/dev/null) Fuzz/Regressions/$$t || exit 1; \
	done

# libFuzzer + AddressSanitizer builds of the same targets, in their own folder.
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING \
	-Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld --scratch-path .build-fuzz
fuzz-build:
	for t in $(FUZZ_TARGETS); do $(SWIFT) build $(FUZZ_FLAGS) --product fuzz-$$t || exit 1; done

# make fuzz SECONDS=600: every target for SECONDS each (default 60).
SECONDS ?= 60
fuzz: setup-test fuzz-build fuzz-seeds
	scripts/fuzz.sh $(SECONDS)

# A short fuzzing run of every target, part of make test.
FUZZ_SMOKE_SECONDS ?= 15
fuzz-smoke: fuzz-build fuzz-seeds
	scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)


# The Swift test suite under AddressSanitizer or ThreadSanitizer (too slow for
# every CI run: a separate instrumented build plus the suite, tens of minutes on
# 2 cores). The CLI tests run the instrumented server binary too.
#   make sanitize-address    make sanitize-thread    (SANITIZE_FILTER=Suite to narrow)
SANITIZE_FILTER ?=
sanitize-%: setup-test
	$(SWIFT) build --build-tests -c release -Xswiftc -enable-testing --sanitize=$* --scratch-path .build-$*
	PATH="$(CURDIR)/.venv/bin:$$PATH" FACERPC_MODELS_DIR="$(CURDIR)/models" FACERPC_BIN="$(CURDIR)/.build-$*/release/facerpc" \
	  TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/scripts/tsan.supp" ASAN_OPTIONS="detect_leaks=0" \
	  $(SWIFT) test --skip-build --no-parallel -c release -Xswiftc -enable-testing --sanitize=$* --scratch-path .build-$* \
	  $(if $(SANITIZE_FILTER),--filter "$(SANITIZE_FILTER)")

# Two replicas behind HAProxy, one killed with SIGKILL under a retrying load:
# no call may fail, and the dead one must leave rotation (docs/OPERATIONS.md). ~6 s.
failover-test: setup-test build-tests
	$(TEST_ENV) .venv/bin/python deploy/haproxy/failover_test.py --facerpc-bin "$(TEST_BIN)"


test: setup-test check-generated swift-test fuzz-replay clients-test failover-test fuzz-smoke

# 1,000 connections of Predict + Health over Unix and TCP, bounded in time (docs/HARDENING.md).
LOAD_SECONDS ?= 60
load-test: setup-test build
	FACERPC_BIN=.build/release/facerpc FACERPC_MODELS_DIR=models scripts/load-test.sh $(LOAD_SECONDS)

# Side-by-side model throughput against onnxruntime (see BENCHMARKS.md).
bench: setup-test build
	.venv/bin/python bench/compare_models.py --seconds 3

# Health calls/s and latency beside a C epoll server, grpcio and Tornado (BENCHMARKS.md). ~4 min.
bench-rpc: build
	@scripts/setup.sh bench
	.venv-bench/bin/python bench/rpc_anchors.py --facerpc-bin .build/release/facerpc

# Server CPU µs per Health/Check call, facerpc and the C anchor (BENCHMARKS.md §4); valid on a busy machine. ~1 min.
bench-rpc-cpu: build
	python3 bench/rpc_cpu.py --facerpc-bin .build/release/facerpc --anchor --runs 2

clean:
	rm -rf .build .build-* clients/c/build
