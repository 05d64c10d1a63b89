# klassik: a Kafka-compatible broker on the classic ZooKeeper architecture.
#
#   make run       local ZooKeeper + one broker on 127.0.0.1:9092 (Ctrl-C stops both)
#   make test      install test dependencies, vet, unit tests, integration tests, bench-smoke
#   make race      every test with the race detector (the broker binary too)
#   make lint      gofmt, go vet, staticcheck
#   make fuzz      every fuzz target (request reader, record batches, codecs, __consumer_offsets
#                  schemas) for FUZZTIME each; make fuzz-smoke: FUZZSMOKE (5s) each, run by make test
#   make bench     issue 11's table: klassik next to kfake (in its own process) at RF 1 and RF 3,
#                  1M x 100 B and 300k x 1 KB produce and consume, RSS per broker, end-to-end latency
#                  (p50/p99/p999) at 20k and 100k rec/s and half of peak, failover and controlled
#                  shutdown at 10,000 partitions; a CPU profile of every process per case under
#                  bench/out/<timestamp>/. Long: minutes. BENCH_FLAGS adds flags (-cases, -records, ...)
#   make bench-smoke  the same table at small sizes (-quick: 300 partitions), under a minute; make test runs it
#   make bench-go  Go benchmarks of every package (go test -bench)
#   make throughput  franz-go produce/consume throughput: one klassik broker next to kfake
#                  (BROKERS=3: three brokers, replication factor 3, acks=all, next to a 3-broker kfake;
#                  TXN=10000: transactional, a commit every 10,000 records, read_committed)
#   make bench-scale the controller with SCALE_PARTITIONS (3000) partitions: creation, failover, shutdown
#   make kgo-suite   franz-go's own integration tests against three klassik brokers (not CI)
#   make chaos     a long fault campaign (CHAOS_FAULTS=200) checking no acknowledged write is lost
#   make chaos-txn a transactional fault campaign (TXN_CHAOS_FAULTS=30) checking exactly-once

GO        ?= go
BIN       := bin/klassik
FUZZTIME  ?= 30s
BROKERS   ?= 1
TXN       ?= 0
SCALE_PARTITIONS ?= 3000
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Packages whose code runs goroutines get their unit tests under the race detector; the
# integration package runs real processes and has its own target.
RACE_PKGS := ./wire/... ./broker/... ./coordinator/... ./zkclient/... ./connect/... ./streams/...
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e '/integration$$' -e '/wire' -e '/broker' -e '/coordinator' -e '/zkclient' -e '/connect' -e '/streams')

.PHONY: all build deps test unit integration race lint fuzz fuzz-smoke bench bench-smoke bench-go bench-scale throughput kgo-suite run clean chaos chaos-txn soak-metadata

all: build

build:
	$(GO) build -o $(BIN) ./cmd/klassik

deps:
	scripts/install-deps.sh

test: deps
	$(GO) vet ./...
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory bench-smoke

unit:
	$(GO) test -count=1 -timeout 10m -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 10m $(UNIT_PKGS)
	cd deploy/kubernetes && $(GO) test -count=1 -timeout 5m ./...

integration:
	$(GO) test -count=1 -timeout 25m ./integration/

race: deps
	$(GO) test -count=1 -timeout 15m -race $$($(GO) list ./... | grep -v '/integration$$')
	KLASSIK_RACE=1 $(GO) test -count=1 -timeout 20m -race ./integration/

lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './.run/*')); \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd deploy/kubernetes && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...

# Every fuzz target, as "package:target" (go test -fuzz takes one target of one package at a
# time). The seed corpora are the f.Add calls of each target (and testdata/fuzz/<target> where
# a package has one).
# Interesting inputs are minimised for at most one execution: minimising the larger ones
# stalls a worker for seconds and steals the bounded run's time.
FUZZ_TARGETS := \
	./wire/:FuzzReadRequest \
	./wire/:FuzzSASLExchange \
	./security/:FuzzScram \
	./security/:FuzzPlain \
	./record/:FuzzDecodeBatch \
	./record/:FuzzDecompressGzip \
	./record/:FuzzDecompressSnappy \
	./record/:FuzzDecompressLZ4 \
	./record/:FuzzDecompressZstd \
	./record/:FuzzDecodeEndTxnMarker \
	./record/:FuzzDecodeLegacy \
	./logstore/:FuzzDecodeTxnIndex \
	./coordinator/group/:FuzzOffsetsKey \
	./coordinator/group/:FuzzOffsetsValue \
	./coordinator/group/:FuzzLoadBatches \
	./coordinator/transaction/:FuzzReplay \
	./coordinator/transaction/:FuzzDecodeValue \
	./broker/:FuzzValidateTopicConfig \
	./cmd/klassik/tools/:FuzzDumpLog \
	./cmd/klassik/tools/:FuzzDumpIndexes \
	./internal/properties/:FuzzParse \
	./connect/:FuzzJSONToText \
	./connect/:FuzzDecodeOffsets
# A count, not a duration: a duration-bounded run can end in "context deadline exceeded" when a
# worker is busy at the deadline on a loaded machine, which is not a finding.
FUZZSMOKE ?= 30000x

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1x "$${t%%:*}"; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSMOKE)

# The table of issue 11 (bench/, its own module, so kfake never becomes a klassik dependency):
# every case alternates klassik and kfake (bench/kfakeserver, a process of its own) in front of
# one client process. bench-smoke is the same program with -quick (every case, small sizes).
BENCH_FLAGS ?=
bench: build
	cd bench && $(GO) run . -klassik ../$(BIN) $(BENCH_FLAGS)

bench-smoke: build
	cd bench && $(GO) test -count=1 ./... && $(GO) run . -quick -klassik ../$(BIN) $(BENCH_FLAGS)

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v '/integration$$')

throughput: build
	cd bench && $(GO) run . -klassik ../$(BIN) -cases rf$(BROKERS)-produce,rf$(BROKERS)-consume -transactional $(TXN)

# franz-go's integration suite (github.com/twmb/franz-go/pkg/kgo at go.mod's version) against a
# three-broker cluster started by the integration harness (TestKgoSuite). Not part of CI.
# KGO_RUN / KGO_SKIP select tests (go test -run / -skip); every test runs by default, the
# transactional ones (TestTxnEtl) included; KGO_TIMEOUT is the suite's -timeout (30m).
KGO_RUN  ?= .
KGO_SKIP ?=
# The controller at scale (integration/scale_test.go): KLASSIK_SCALE_PARTITIONS (3000)
# partitions at replication factor 3 on three brokers; creation, kill -9 failover and
# controlled shutdown times. Not CI.
bench-scale: build
	KLASSIK_SCALE=1 KLASSIK_SCALE_PARTITIONS=$(SCALE_PARTITIONS) $(GO) test -count=1 -timeout 30m -run '^TestScaleFailover$$' -v ./integration/ | grep -E 'MEASURE|^(--- |ok|FAIL)'

kgo-suite:
	KLASSIK_KGO_SUITE=1 KGO_RUN='$(KGO_RUN)' KGO_SKIP='$(KGO_SKIP)' $(GO) test -count=1 -timeout 45m -run '^TestKgoSuite$$' -v ./integration/

run: build
	scripts/run-local.sh

clean:
	rm -rf bin .run

# A long fault campaign against a three-broker cluster over a three-node ZooKeeper ensemble
# (integration/chaos_test.go): CHAOS_FAULTS faults (default 200), bounded by CHAOS_DURATION
# when set; CHAOS_SEED replays an order of faults. The disk-full fault mounts a tmpfs as each
# broker's log dir, so it runs only where the tests may mount (as root); elsewhere it is left
# out and the campaign says so. make test runs the same campaign with 20 faults.
CHAOS_FAULTS ?= 200
chaos:
	CHAOS_FAULTS=$(CHAOS_FAULTS) $(GO) test -count=1 -timeout 90m -v -run '^TestChaosCampaign$$' ./integration/

# The transactional campaign (integration/chaos_txn_test.go): a consume-transform-produce
# pipeline (franz-go's GroupTransactSession) under TXN_CHAOS_FAULTS kill -9s (default 30) of
# the transaction coordinator's broker and of partition leaders; every input must be in the
# committed output exactly once and read_committed must never return aborted data.
# TXN_CHAOS_RECORDS sets the number of inputs. make test runs it with 6 faults.
TXN_CHAOS_FAULTS ?= 30
chaos-txn:
	TXN_CHAOS_FAULTS=$(TXN_CHAOS_FAULTS) $(GO) test -count=1 -timeout 60m -v -run '^TestChaosTransactions$$' ./integration/

# Metadata propagation under churn (integration/metadata_propagation_test.go): topics and
# consumer groups made and deleted by real clients while a writer keeps the disks busy, each
# broker's Metadata watched directly; METADATA_SOAK long (default 10m). make test runs 30 s.
METADATA_SOAK ?= 10m
soak-metadata:
	METADATA_SOAK=$(METADATA_SOAK) $(GO) test -count=1 -timeout 90m -v -run '^TestMetadataPropagationSoak$$' ./integration/ | grep -E 'metadata_propagation_test|^(--- |ok|FAIL)'

# The docker compose cluster: three ZooKeeper nodes and three brokers (docker-compose.yml).
.PHONY: up down compose-test
up: build
	scripts/compose-up.sh

down:
	scripts/compose-down.sh -v

compose-test: build
	KLASSIK_COMPOSE=1 $(GO) test -count=1 -timeout 25m $(COMPOSE_TEST_FLAGS) ./integration/compose/
