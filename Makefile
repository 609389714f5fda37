# sluice — the two commands a newcomer needs:
#   make run    build sluice and run it on its embedded default config
#   make test   run the whole test suite (installs the real peers it needs)

GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN      := bin/sluice
# Integration and end-to-end tests get this much time in all.
TEST_TIMEOUT ?= 20m

.PHONY: build run test test-all test-short test-deps lint bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sluice

run: build
	$(BIN) run

test-deps:
	scripts/install-test-deps.sh

# The static checkers, at the versions pinned in tools/lint/go.mod (a module
# of its own, so they add nothing to sluice's go.mod).
LINTTOOL := $(GO) tool -modfile=tools/lint/go.mod

# gofmt, go vet, go.mod/go.sum tidy (go mod tidy -diff changes no file, so
# nothing needs backing up), staticcheck, errcheck (exclusions explained in
# tools/lint/errcheck.exclude) and stale generated docs.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go mod tidy would change go.mod/go.sum (diff above)"; exit 1; }
	@$(GO) -C tools/lint mod tidy -diff || { echo "go mod tidy would change tools/lint/go.mod/go.sum (diff above)"; exit 1; }
	@# Both checkers run, so one pass shows every finding.
	@ok=1; $(LINTTOOL) staticcheck ./... || ok=0; \
	  $(LINTTOOL) errcheck -exclude tools/lint/errcheck.exclude ./... || ok=0; \
	  [ $$ok = 1 ] || { echo "staticcheck or errcheck failed (findings above)"; exit 1; }
	$(GO) run ./tools/gendocs -check

# Fast tier: unit tests with the race detector.
test-short:
	$(GO) test -race -short -timeout 5m ./...

# The peers the tests run: scripts/install-test-deps.sh unpacks them (or links
# the host's own) into $(SLUICE_PEERS_ROOT)/bin, and every test finds them on PATH.
SLUICE_PEERS_ROOT ?= /opt/sluice-peers
export SLUICE_PEERS_ROOT
export PATH := $(SLUICE_PEERS_ROOT)/bin:$(PATH)

# Everything: lint, the fast tier, then integration and end-to-end tests
# against the built binary and real peer programs; then check that the host
# is as it was (no unit enabled, no system logger removed or started).
test:
	@state=$$(mktemp); trap 'rm -f "$$state"' EXIT; \
	  scripts/host-state.sh save "$$state"; \
	  $(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory test-all; rc=$$?; \
	  scripts/host-state.sh check "$$state" || rc=1; \
	  exit $$rc

test-all: test-deps lint build test-short
	SLUICE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

bench: build
	bench/run.sh

# A short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 15s
fuzz:
	scripts/fuzz-all.sh $(FUZZTIME)

clean:
	rm -rf bin bench/out
