# synfin: thin wrapper over CMake. The two set-up commands are `make demo`
# and `make check`; both install missing Debian packages first (as root).
JOBS ?= $(shell nproc)
# The CMake build runs make again below us: no "Entering directory" noise.
MAKEFLAGS += --no-print-directory
FUZZ_SECONDS ?= 30
SEEDS ?= 10000

.PHONY: all demo check bench fuzz soak install clean deps docs

all: build/release/synfin

build/release/synfin: FORCE
	scripts/deps.sh build
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=OFF -DSYNFIN_LTO=OFF >/dev/null
	cmake --build build/release -j $(JOBS)

demo: build/release/synfin
	build/release/synfin demo

# check: the sanitized Debug build runs every test; the Release builds (GCC
# and clang, tests included, -Werror) catch optimiser-only warnings and give
# the install test its library. The last line counts what ran, passed,
# failed and was skipped; with CI set, a skipped test fails the run.
check:
	scripts/deps.sh check
	cmake -S . -B build/check -DCMAKE_BUILD_TYPE=Debug -DSYNFIN_SANITIZE=ON >/dev/null
	cmake --build build/check -j $(JOBS)
	CC=gcc cmake -S . -B build/check-release-gcc -DCMAKE_BUILD_TYPE=Release -DSYNFIN_LTO=OFF >/dev/null
	cmake --build build/check-release-gcc -j $(JOBS)
	CC=clang cmake -S . -B build/check-release-clang -DCMAKE_BUILD_TYPE=Release -DSYNFIN_LTO=OFF >/dev/null
	cmake --build build/check-release-clang -j $(JOBS)
	cd build/check && rm -f junit.xml && \
	  { SYNFIN_RELEASE_BUILD=$(CURDIR)/build/check-release-gcc \
	    ctest --output-on-failure -j $(JOBS) --timeout 600 --output-junit junit.xml; \
	    python3 ../../scripts/ctest-summary.py junit.xml; }

bench:
	scripts/deps.sh bench
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=OFF -DSYNFIN_BENCH=ON -DSYNFIN_LTO=ON >/dev/null
	cmake --build build/bench -j $(JOBS)
	bench/run.sh build/bench
	bench/footprint.sh build/bench/footprint

fuzz:
	scripts/deps.sh check
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DSYNFIN_SANITIZE=ON -DSYNFIN_FUZZ=ON >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

soak:
	scripts/deps.sh check
	cmake -S . -B build/soak -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=ON -DSYNFIN_LTO=ON >/dev/null
	cmake --build build/soak -j $(JOBS) --target sim_test_soak
	build/soak/tests/sim_test_soak --seeds $(SEEDS) --jobs $(JOBS)

install: build/release/synfin
	cmake --install build/release

# The reference manual (Doxygen over include/synfin and docs/PORTING.md) in
# build/docs/html; a warning is an error (tests/docs/doxygen.sh in make check).
docs:
	scripts/deps.sh docs
	mkdir -p build/docs
	SYNFIN_SRC=$(CURDIR) SYNFIN_DOCS_OUT=$(CURDIR)/build/docs doxygen docs/Doxyfile
	@if [ -s build/docs/warnings.log ]; then cat build/docs/warnings.log; exit 1; fi
	@echo "docs: build/docs/html/index.html"

clean:
	rm -rf build

FORCE:
