# facerpc: two commands on a fresh Debian 12 machine with the Swift toolchain.
#   make serve   install what is missing, build release, serve the pretrained models
#   make test    the same set-up, then every test suite
SHELL := /bin/bash
SWIFT ?= swift
# Release builds target the host CPU (AVX-512 here).
RELEASE_FLAGS := -c release -Xswiftc -target-cpu -Xswiftc native
SERVE_ARGS ?=

.PHONY: serve test setup setup-test build build-debug check-generated swift-test clean

serve: setup build
	exec .build/release/facerpc serve --models models $(SERVE_ARGS)

setup:
	@scripts/setup.sh serve

setup-test:
	@scripts/setup.sh test

build:
	$(SWIFT) build $(RELEASE_FLAGS) --product facerpc

build-debug:
	$(SWIFT) build --build-tests

# Generated code must match a fresh regeneration from Protos/.
check-generated:
	scripts/generate-protos.sh --check

swift-test: build-debug
	PATH="$(CURDIR)/.venv/bin:$$PATH" FACERPC_MODELS_DIR="$(CURDIR)/models" $(SWIFT) test --skip-build

test: setup-test check-generated swift-test

clean:
	rm -rf .build .build-*
