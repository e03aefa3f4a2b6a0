# dhtchat — run "make help" for the targets.

GO          ?= go
BIN         ?= bin/dhtchat
FUZZTIME    ?= 10s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build run demo test check fuzz bench clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/dhtchat
	$(GO) build -o $(BIN) ./cmd/dhtchat

run: build ## Build and open the full-screen UI
	./$(BIN)

demo: build ## Chat with a local echo bot on a private loopback DHT (no internet needed)
	./$(BIN) demo

test: ## go vet and every test with the race detector
	$(GO) vet ./...
	$(GO) test -race ./...

check: test ## test, staticcheck and a go.mod tidiness check
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -e -diff  # -e: the proxy here refuses one test-only module of a dependency (403)

fuzz: ## Run every fuzz target for FUZZTIME (default 10s) each
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
		done; \
	done

bench: ## Go benchmarks, then the loopback harness (docs/BENCHMARKS.md); BENCHFLAGS=-quick for a smoke run
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN) ./cmd/dhtchat
	$(GO) run ./internal/cmd/benchnet -dhtchat $(BIN) $(BENCHFLAGS)

clean: ## Remove build output
	rm -rf bin
