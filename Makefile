# The two setup commands: `make run` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: deps build run test unit-asan bench format clean

deps:
	@scripts/install-deps.sh

build:
	@scripts/install-deps.sh --run
	@cmake -S . -B $(BUILD) -DPUNT_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run.sh $(BUILD)/punt $(ARGS)

test: deps
	@cmake -S . -B $(BUILD) -DPUNT_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory unit-asan

# The unit tests again, built with AddressSanitizer and UBSan.
unit-asan:
	@cmake -S . -B $(ASAN_BUILD) -DPUNT_SANITIZE=ON -DPUNT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target punt_tests punt
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE blackbox

bench:
	@scripts/install-deps.sh --bench
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPUNT_BUILD_BENCH=ON >/dev/null
	@cmake --build build-bench -j $(JOBS)
	@bench/run.sh build-bench

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-bench
