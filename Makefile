# Lineup — build, test and demo.
#
#   make demo   build the release tool and run `lineup demo`
#   make lib    the C interface's shared library, .build/debug/liblineup.so (CONFIG=release:
#               .build/release), for Bindings/C/include/lineup.h
#   make test   the default test suite (a few minutes), the C interface's test (Tests/C), the
#               HTTP server's suite (Tests/Server,
#               pytest and schemathesis in the virtual environment .venv-test, made here), then
#               the PostgreSQL backend's tests
#               against a private PostgreSQL cluster (scripts/with-postgres; the build with
#               the package trait PostgreSQL goes to .build/pg) and the package-consumer check
#               (Tests/PackageConsumer)
#
# Both first make sure the system libraries the build links are present (liblz4, OpenSSL's
# libcrypto): as root they are installed with apt-get; otherwise the exact command is printed.

SWIFT ?= swift
# The virtual environment of the Python packages the suites outside Swift use.
VENV := .venv-test
SYSTEM_PACKAGES := liblz4-dev libssl-dev pkg-config

.PHONY: all deps build release lib test test-c test-python fuzz-python python-package test-server test-postgresql demo bench torture tsan asan fuzz-smoke check-bench docs clean

all: build

deps:
	@missing=""; \
	[ -f /usr/include/lz4.h ] || missing="$$missing liblz4-dev"; \
	[ -f /usr/include/openssl/evp.h ] || missing="$$missing libssl-dev"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing" >&2; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >&2 || exit 1; \
	  else \
	    echo "error: missing system packages:$$missing" >&2; \
	    echo "install them with: sudo apt-get install -y$$missing" >&2; \
	    exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product lineup

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) test-c
	$(MAKE) test-python
	$(MAKE) test-server
	$(MAKE) test-postgresql

# The C interface: the package's dynamic library product LineupC, linked as liblineup.so.
CONFIG ?= debug
lib: deps
	$(SWIFT) build $(if $(filter release,$(CONFIG)),-c release) --product LineupC
	ln -sf libLineupC.so .build/$(CONFIG)/liblineup.so

# Tests/C/test_lineup.c, built with -Wall -Wextra -Werror against the header and linked to the
# library, run on a memory database and a file store; the header compiled as C99 and C++17.
# (The debug build of the tests builds the library too; a build of the product alone would
# compile its modules again, without testing enabled.)
test-c: deps
	$(SWIFT) build --build-tests
	ln -sf libLineupC.so .build/debug/liblineup.so
	cc -std=c11 -Wall -Wextra -Werror -I Bindings/C/include Tests/C/test_lineup.c -o .build/test_lineup \
	  -L .build/debug -llineup -Wl,-rpath,$(CURDIR)/.build/debug -lpthread -lm
	cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c Bindings/C/include/lineup.h
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -I Bindings/C/include Tests/C/header_check.cpp
	directory=$$(mktemp -d) && .build/test_lineup $$directory; status=$$?; rm -rf $$directory; exit $$status

# The Python binding (Bindings/Python) from the checkout over the debug library: every method,
# every ERRORCODE, threads, a second process, memory over 100,000 calls, the seed's call shapes.
test-python: deps $(VENV)/.installed
	$(SWIFT) build --build-tests
	ln -sf libLineupC.so .build/debug/liblineup.so
	cd Tests/Python && LINEUP_LIBRARY=$(CURDIR)/.build/debug/liblineup.so ../../$(VENV)/bin/python -m pytest -q -p no:cacheprovider

# atheris over the binding's decoding of Python inputs, for FUZZ_SECONDS.
fuzz-python: deps $(VENV)/.installed
	$(SWIFT) build --build-tests
	ln -sf libLineupC.so .build/debug/liblineup.so
	cd .build && LINEUP_LIBRARY=$(CURDIR)/.build/debug/liblineup.so ../$(VENV)/bin/python ../Tests/Python/fuzz_binding.py \
	  -max_total_time=$(FUZZ_SECONDS)

# pip install ./Bindings/Python into a virtual environment of its own (its build step builds the
# release library), then the binding's suite against the installed package.
python-package: deps $(VENV)/.installed
	rm -rf .venv-package && python3 -m venv .venv-package
	.venv-package/bin/pip install -q --disable-pip-version-check pytest ./Bindings/Python
	cd Tests/Python && LINEUP_TEST_INSTALLED=1 LINEUP_LIBRARY= ../../.venv-package/bin/python -m pytest -q -p no:cacheprovider

# The Python packages the suites outside Swift use, in a virtual environment of the project's
# own (pinned in Tests/requirements.txt; reinstalled when that file changes).
$(VENV)/.installed: Tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r Tests/requirements.txt
	touch $@

# `lineup serve` end to end (Tests/Server): every route and error status, tokens, TLS, limits,
# kill -9 during enrollments, SIGTERM, two servers on a shared store, schemathesis against the
# served OpenAPI document. The document's Swift source must match scripts/openapi-document.
test-server: deps $(VENV)/.installed
	$(SWIFT) build --build-tests
	python3 scripts/openapi-document --check
	cd Tests/Server && ../../$(VENV)/bin/python -m pytest -q -p no:cacheprovider

# The PostgreSQL backend's tests: installs postgresql and libpq-dev when missing, builds with
# the trait, and runs the tests against a throw-away cluster that is stopped afterwards. Then
# Tests/PackageConsumer, a separate package depending on the product Lineup with the trait and
# importing Lineup only, built in release (where the linker drops unreferenced sections) and
# run against another throw-away cluster: `.postgresql` must work for it with no other call.
CONSUMER := Tests/PackageConsumer

test-postgresql: deps
	scripts/with-postgres --install
	$(SWIFT) build --traits PostgreSQL --scratch-path .build/pg --build-tests
	scripts/with-postgres $(SWIFT) test --skip-build --traits PostgreSQL --scratch-path .build/pg \
	  --filter 'PostgreSQL|unsupportedBackend'
	$(MAKE) $(VENV)/.installed
	cd Tests/Server && LINEUP_BINARY=$(CURDIR)/.build/pg/debug/lineup \
	  ../../scripts/with-postgres ../../$(VENV)/bin/python -m pytest -q -p no:cacheprovider test_postgresql.py
	$(SWIFT) build -c release --package-path $(CONSUMER) --scratch-path $(CONSUMER)/.build
	scripts/with-postgres $(CONSUMER)/.build/release/PackageConsumer

# Every libFuzzer target for FUZZ_SECONDS each (CI: a break in the fuzz build cannot land).
FUZZ_SECONDS ?= 15
fuzz-smoke: deps
	Fuzz/run --smoke $(FUZZ_SECONDS)

# The benchmark harnesses at least compile (lineup-bench itself is built by `swift build`).
check-bench:
	python3 -m py_compile Benchmarks/*.py

# The library's reference documentation into .build/docs (the toolchain's docc; warnings fail).
docs: deps
	scripts/docs

demo: release
	.build/release/lineup demo

# Benchmarks against the reference implementations, side by side in one run.
bench: deps
	$(SWIFT) build -c release --product lineup-bench
	python3 -c "import numpy, faiss, matplotlib" 2>/dev/null || pip install -q numpy faiss-cpu matplotlib
	python3 Benchmarks/matcher_bench.py --plot $(MATCHER_ARGS)
	python3 Benchmarks/store_bench.py $(STORE_ARGS)
	python3 Benchmarks/encryption_bench.py $(ENCRYPTION_ARGS)
	python3 Benchmarks/compaction_bench.py $(COMPACTION_ARGS)
	$(SWIFT) build -c release --product lineup
	python3 Benchmarks/shared_bench.py $(SHARED_ARGS)
	python3 Benchmarks/backup_bench.py $(BACKUP_ARGS)
	python3 Benchmarks/import_bench.py $(IMPORT_ARGS)
	python3 Benchmarks/identities_bench.py $(IDENTITIES_ARGS)
	python3 Benchmarks/calibration_bench.py $(CALIBRATION_ARGS)
	python3 Benchmarks/codes_bench.py $(CODES_ARGS)
	python3 -c "import aiohttp" 2>/dev/null || pip install -q aiohttp
	command -v wrk >/dev/null || (echo "error: wrk is missing: apt-get install wrk" >&2; exit 1)
	python3 Benchmarks/server_bench.py $(SERVER_ARGS)
	$(MAKE) lib CONFIG=release
	python3 -c "import cffi" 2>/dev/null || pip install -q cffi
	python3 Benchmarks/python_bench.py $(PYTHON_ARGS)

# The long reliability modes: 1,000 kill -9 trials, a longer crash workload.
torture: deps
	$(SWIFT) build --build-tests
	LINEUP_KILL_TRIALS=1000 LINEUP_TORTURE=1 $(SWIFT) test --skip-build --filter "KillTests|CrashSimulationTests"

# The concurrency and engine suites under Thread Sanitizer and under Address Sanitizer (with
# LeakSanitizer), each built into a directory of its own so the default build stays as it is.
# Tests/Sanitizers/*.supp hold the suppressions, each with the reason it is there.
SANITIZER_SUITES ?= SDKTests/Concurrency|SDKTests/FileStore|SDKTests/Encryption|CompactionTests|EncryptionTests|SharedStoreTests|ParallelMatcherTests|SegmentTests|JournalReaderTests|CrashSimulationTests|BackupTests|StreamingImport|SDKTests/Export

tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build/tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp" \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build/tsan --filter "$(SANITIZER_SUITES)"

asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build/asan
	ASAN_OPTIONS="halt_on_error=1 detect_leaks=1" \
	LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp print_suppressions=0" \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build/asan --filter "$(SANITIZER_SUITES)"

clean:
	rm -rf .build $(CONSUMER)/.build $(VENV) .venv-package Bindings/Python/build Bindings/Python/*.egg-info
