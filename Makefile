# Thin wrapper over CMake for the README's commands.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all build run test test-fast test-asan bench deps clean toy-model

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled default: `headscan scan` with no arguments scans
# models/toy on data/toy into ./headscan-scan (head table, arrays, report.html).
run: deps build
	./$(BUILD)/headscan

# The whole suite, then again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: test-fast test-asan

test-fast: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHS_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Retrains the bundled toy model (models/toy, data/toy) from scratch, reproducibly.
toy-model: deps build
	bash scripts/toy_model.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
