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

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (+ leaks).
# A report fails the target even from a command whose exit status a test expects to be 1
# (a CLI error): sanitizer exits use their own codes (86 ASan/LSan, 87 UBSan, which halts
# on the first error). ASan/LSan reports also go to files under SAN_LOG, which must stay
# empty, so one from a command whose status a test ignores fails it too (gcc's UBSan
# runtime ignores log_path: its reports go to stderr, with exit code 87).
SAN_LOG = $(CURDIR)/build-asan/sanitizer-reports
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHS_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	rm -rf $(SAN_LOG) && mkdir -p $(SAN_LOG)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:exitcode=86:log_path=$(SAN_LOG)/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
	  ctest --output-on-failure -j $(JOBS); rc=$$?; \
	if [ -n "$$(ls -A $(SAN_LOG))" ]; then echo "sanitizer reports (make test-asan fails):"; cat $(SAN_LOG)/*; exit 1; fi; \
	exit $$rc

# Retrains the bundled toy model (models/toy, data/toy) from scratch, reproducibly.
toy-model: deps build
	bash scripts/toy_model.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
