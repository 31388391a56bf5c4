# secagg: `make demo` runs a whole session, `make test` runs every test.
# Both install missing Debian packages first (apt-get; sudo when not root).
include Makefile.inc

.PHONY: all deps configure build test demo bench install clean

all: build

deps:
	@$(SECAGG_ROOT)/scripts/install-deps.sh $(DEB_PACKAGES)

configure: deps
	@cmake -S $(SECAGG_ROOT) -B $(BUILD_DIR) $(CMAKE_FLAGS) $(if $(CI),-DSECAGG_WERROR=ON) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

demo: build
	@SECAGG_BIN=$(BIN) $(SECAGG_ROOT)/scripts/demo.sh

bench: build
	@SECAGG_BIN=$(BIN) $(SECAGG_ROOT)/bench/run.sh

install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR)
