# klassik: a Kafka-compatible broker on the classic ZooKeeper architecture.
#
#   make run       local ZooKeeper + one broker on 127.0.0.1:9092 (Ctrl-C stops both)
#   make test      install test dependencies, vet, unit tests, integration tests
#   make race      every test with the race detector (the broker binary too)
#   make lint      gofmt, go vet, staticcheck
#   make fuzz      fuzz the wire protocol's request reader for FUZZTIME
#   make bench     Go benchmarks of every package
#   make throughput  franz-go produce/consume throughput: one klassik broker next to kfake

GO        ?= go
BIN       := bin/klassik
FUZZTIME  ?= 30s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Packages whose code runs goroutines get their unit tests under the race detector; the
# integration package runs real processes and has its own target.
RACE_PKGS := ./wire/... ./broker/... ./coordinator/... ./zkclient/...
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e '/integration$$' -e '/wire' -e '/broker' -e '/coordinator' -e '/zkclient')

.PHONY: all build deps test unit integration race lint fuzz bench throughput run clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/klassik

deps:
	scripts/install-deps.sh

test: deps
	$(GO) vet ./...
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration

unit:
	$(GO) test -count=1 -timeout 10m -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 10m $(UNIT_PKGS)

integration:
	$(GO) test -count=1 -timeout 15m ./integration/

race: deps
	$(GO) test -count=1 -timeout 15m -race $$($(GO) list ./... | grep -v '/integration$$')
	KLASSIK_RACE=1 $(GO) test -count=1 -timeout 20m -race ./integration/

lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './.run/*')); \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzReadRequest$$' -fuzztime=$(FUZZTIME) ./wire/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v '/integration$$')

throughput: build
	cd bench && $(GO) run . -klassik ../$(BIN)

run: build
	scripts/run-local.sh

clean:
	rm -rf bin .run
