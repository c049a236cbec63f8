# daisuso: see README.md.
GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run demo migrate test test-short bench fuzz lint env load

## run: the service on its embedded default (FerretDB in ./data, in-process Redis, dev mode)
run:
	$(GO) run ./cmd/daisuso

## demo: like run, first filling an empty ./data with a demo province (about 5,000 households)
demo:
	$(GO) run ./cmd/daisuso demo

## migrate: bring the data in ./data (or at MONGODB_URI) written by an earlier version to this one's shapes
migrate:
	$(GO) run ./cmd/daisuso migrate

## test: the whole suite with the race detector, against real stores
test:
	$(GO) test -race -count=1 -timeout 20m ./...

## test-short: the unit and API tests without the race detector and without the fault, load and browser tests (storetest.Long); under two minutes here
test-short:
	$(GO) test -short -count=1 -timeout 10m ./...

## bench: the benchmarks, printing their figures
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

## load: the demo province under a campaign-day mix for 5 minutes, then each endpoint alone (LOADFLAGS="-mix 30s -solo 5s" for a short run)
load:
	./cmd/loadgen/load.sh

## fuzz: each fuzz test searches for FUZZTIME (default 30s); go test prints the executions
FUZZTIME ?= 30s
FUZZ_API = FuzzRequestBodies FuzzPageParamsAndCursors FuzzIdempotencyKey
fuzz:
	@for f in $(FUZZ_API); do echo "== api $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./api/ || exit 1; done
	@echo "== geo FuzzParseCell"; $(GO) test -run '^$$' -fuzz '^FuzzParseCell$$' -fuzztime $(FUZZTIME) ./geo/

## lint: go vet and staticcheck
lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## env: the settings table
env:
	@$(GO) run ./cmd/daisuso env
