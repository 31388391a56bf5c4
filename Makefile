# secagg: `make demo` runs a whole session, `make test` runs every test, `make fedavg` the example,
# `make labs-check` every teaching lab's check (labs/README.md).
# They install missing Debian packages first (apt-get; sudo when not root).
include Makefile.inc

.PHONY: all deps configure build test demo bench install clean fedavg labs-check

all: build

deps:
	@$(SECAGG_ROOT)/scripts/install-deps.sh $(DEB_PACKAGES)

configure: deps
	@cmake -S $(SECAGG_ROOT) -B $(BUILD_DIR) $(CMAKE_FLAGS) $(if $(CI),-DSECAGG_WERROR=ON) >/dev/null

# Everything: the tools, the unit tests, the fuzz targets, forge and the benchmarks.
build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# (ctest runs the labs' checks too: tests/cli/t0970-labs.sh, and the Slurm recipe on a local
# cluster: tests/cli/t0985-slurm.sh.)
test: build
	@$(SECAGG_ROOT)/scripts/install-deps.sh $(FEDAVG_PACKAGES) $(LABS_PACKAGES) $(SLURM_PACKAGES) $(DP_PACKAGES)
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Every lab's `make check` (labs/*/Makefile), each in a scratch copy of labs/, so that a lab a
# student is working through is left alone: tests/cli/t0970-labs.sh, through ctest.
labs-check: configure
	@$(SECAGG_ROOT)/scripts/install-deps.sh $(LABS_PACKAGES)
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(TOOLS) evil forge
	@cd $(BUILD_DIR) && ctest --output-on-failure -R '^t0970-labs$$'

# Only the library and the tools scripts/demo.sh runs (tests/cli/t0920-install.sh checks the
# list against the script), so the demo starts without building the tests and benchmarks.
demo: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(DEMO_TOOLS)
	@SECAGG_BIN=$(BIN) $(SECAGG_ROOT)/scripts/demo.sh

# examples/fedavg with its defaults: tables on the terminal, results.csv and accuracy.png in build/fedavg.
fedavg: configure
	@$(SECAGG_ROOT)/scripts/install-deps.sh $(FEDAVG_PACKAGES)
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(FEDAVG_TOOLS)
	@SECAGG_BIN=$(BIN) $(PYTHON) $(SECAGG_ROOT)/examples/fedavg/fedavg.py --outdir $(BUILD_DIR)/fedavg

bench: build
	@SECAGG_BIN=$(BIN) $(SECAGG_ROOT)/bench/run.sh

# The tools stripped, the man pages, and README.md and docs/ under share/doc/secagg.
install: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(TOOLS)
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX) --strip

clean:
	rm -rf $(BUILD_DIR)
