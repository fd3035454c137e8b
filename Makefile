# ops-skill — build, test and demo. `make help` lists the targets.
GO        ?= go
PKG       := github.com/duet-company/ops-skill
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The full commit hash, "-dirty" with changes not committed (untracked files too, as goreleaser's
# IsGitDirty); empty outside git (the binary then says "unknown").
COMMIT    ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { test -z "$$(git status --porcelain)" || c=$$c-dirty; echo $$c; })
# The commit's time, not the build's, so two builds of one commit are alike (as .goreleaser.yaml's CommitDate).
DATE      ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
# The same three -X flags are set by .goreleaser.yaml (ldflags), so both builds report themselves alike.
LDFLAGS   := -s -w -X $(PKG)/internal/app.Version=$(VERSION) -X $(PKG)/internal/app.Commit=$(COMMIT) -X $(PKG)/internal/app.Date=$(DATE)
BIN       := bin/ops-skill

.PHONY: help build test test-unit lint demo bench clean snapshot package-test

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

build: ## build bin/ops-skill (CGO off, trimmed, versioned)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ops-skill

test: lint testenv-up ## the whole suite: gofmt, vet, then unit and integration tests (race detector) against the real servers on loopback, which it starts and stops (packages one at a time, so timing-sensitive cluster tests are not starved on 2 cores), then the end-to-end incidents (make e2e's tests) on the same stack; then, as root, the package test
	set -a && . ./.testenv/env && set +a && $(GO) test -race -count=1 -p 1 -timeout 30m -tags integration ./... && \
	  $(MAKE) --no-print-directory e2e-run; \
	  status=$$?; $(MAKE) --no-print-directory testenv-down; exit $$status
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory package-test; \
	  else echo "package-test NOT RUN: it installs the .deb with dpkg and needs root (sudo make package-test); CI runs it"; fi

test-unit: lint ## unit tests only (no servers): every package with the race detector
	$(GO) test -race -count=1 ./...

lint: ## gofmt and go vet (with and without the integration tag)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags e2e ./internal/e2e

demo: build ## run the spec's three incidents on the simulated platform
	@for a in "Alert: Backend service CPU at 85% for 5 minutes" \
	          "ClickHouse database connection failed (3 attempts)" \
	          "Alert: Database disk usage at 85%"; do \
	  echo "=================================================================="; \
	  ./$(BIN) --simulate "$$a"; echo "(exit $$?)"; done

bench: ## benchmarks (agent per incident, guard decision, history, tool gate, eval suite) into BENCHMARKS.md
	GO=$(GO) ./scripts/bench.sh

snapshot: ## goreleaser snapshot into dist/: archives, deb, rpm, Homebrew formula, krew manifest (no image: needs docker buildx)
	GO=$(GO) bash scripts/goreleaser.sh release --snapshot --clean --skip=docker

package-test: ## as root: snapshot for this platform, check dist/, dpkg -i the .deb, run it, dpkg -r (PACKAGE_TEST_ALL=1: every platform)
	GO=$(GO) bash scripts/package-test.sh

clean: ## remove build outputs
	rm -rf bin dist

.PHONY: testenv-up testenv-down test-integration e2e e2e-run

testenv-up: ## start the local stack of real servers (Kubernetes, ...); settings in .testenv/env
	bash scripts/testenv/up.sh

testenv-down: ## stop the local stack of real servers
	bash scripts/testenv/down.sh

test-integration: testenv-up ## integration tests (build tag integration) against the local stack, left running
	set -a && . ./.testenv/env && set +a && $(GO) test -tags integration -count=1 -timeout 30m ./...

e2e: testenv-up ## the spec's incidents end to end: the built binary, configured as a user would, on the local stack with the live workload model, serve's health and scaling loops, and the serve failover tests (about 15 min); stops the stack after
	$(MAKE) --no-print-directory e2e-run GOTESTFLAGS=-v; \
	  status=$$?; $(MAKE) --no-print-directory testenv-down; exit $$status

PARITY_DIR := .testenv/parity

# e2e-run: the end-to-end tests on a running stack; each records its real run
# in $(PARITY_DIR), and the table of sim-to-real parity is printed at the end.
e2e-run:
	rm -rf $(PARITY_DIR)
	set -a && . ./.testenv/env && set +a && OPS_E2E_PARITY_DIR=$(CURDIR)/$(PARITY_DIR) $(GO) test -count=1 -timeout 30m -tags e2e $(GOTESTFLAGS) ./internal/e2e; \
	  status=$$?; \
	  if [ -d $(PARITY_DIR) ]; then $(GO) run ./cmd/ops-skill eval --parity $(PARITY_DIR) --model rules || status=1; fi; \
	  exit $$status
