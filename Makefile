# synfin: thin wrapper over CMake. The two set-up commands are `make demo`
# and `make check`; both install missing Debian packages first (as root).
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
SEEDS ?= 10000

.PHONY: all demo check bench fuzz soak install clean deps

all: build/release/synfin

build/release/synfin: FORCE
	scripts/deps.sh build
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=OFF >/dev/null
	cmake --build build/release -j $(JOBS)

demo: build/release/synfin
	build/release/synfin demo

check:
	scripts/deps.sh check
	cmake -S . -B build/check -DCMAKE_BUILD_TYPE=Debug -DSYNFIN_SANITIZE=ON >/dev/null
	cmake --build build/check -j $(JOBS)
	cd build/check && ctest --output-on-failure -j $(JOBS) --timeout 600

bench:
	scripts/deps.sh bench
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=OFF -DSYNFIN_BENCH=ON >/dev/null
	cmake --build build/bench -j $(JOBS)
	bench/run.sh build/bench

fuzz:
	scripts/deps.sh check
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DSYNFIN_SANITIZE=ON -DSYNFIN_FUZZ=ON >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

soak:
	scripts/deps.sh check
	cmake -S . -B build/soak -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=ON >/dev/null
	cmake --build build/soak -j $(JOBS) --target sim_test_soak
	build/soak/tests/sim_test_soak --seeds $(SEEDS) --jobs $(JOBS)

install: build/release/synfin
	cmake --install build/release

clean:
	rm -rf build

FORCE:
