# dhtchat — run "make help" for the targets.

GO          ?= go
BIN         ?= bin/dhtchat
FUZZTIME    ?= 10s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The version 'dhtchat --version' reports: the checkout's, when there is one.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS     := $(if $(VERSION),-X main.version=$(VERSION))
# TESTTIMEOUT bounds each package's test binary. The slowest take one to
# two minutes on a quiet 2-core machine and about four with both cores
# busy; a hang still fails well inside CI's 90 minutes.
TESTTIMEOUT ?= 30m
# TESTFLAGS go to go test as well: CI sets -count=1, so that it never
# reports a cached result.
TESTFLAGS   ?=

.PHONY: help build run demo test test-short check fuzz bench clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/dhtchat
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dhtchat

run: build ## Build and open the full-screen UI
	./$(BIN)

demo: build ## Chat with a local echo bot on a private loopback DHT (no internet needed)
	./$(BIN) demo

test: ## go vet and every test with the race detector (what CI runs)
	$(GO) vet ./...
	$(GO) test -race -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...

test-short: ## go vet and the quick tests (-short skips the slow end-to-end ones)
	$(GO) vet ./...
	$(GO) test -race -short -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...

check: test ## test, staticcheck and a go.mod tidiness check
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -diff

fuzz: ## Run every fuzz target for FUZZTIME (default 10s) each
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
		done; \
	done

bench: ## Go benchmarks, then the loopback harness (docs/BENCHMARKS.md); BENCHFLAGS=-quick for a smoke run
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dhtchat
	$(GO) run ./internal/cmd/benchnet -dhtchat $(BIN) $(BENCHFLAGS)

clean: ## Remove build output
	rm -rf bin
