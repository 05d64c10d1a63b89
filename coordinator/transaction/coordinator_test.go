package transaction

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/record"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
)

// memLog is __transaction_state in memory: every partition one slice of batches.
type memLog struct {
	mu      sync.Mutex
	parts   map[int32][][]byte
	failing error // returned by Append while set
}

func newMemLog() *memLog { return &memLog{parts: map[int32][][]byte{}} }

func (l *memLog) Append(_ context.Context, p int32, batch []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing != nil {
		return l.failing
	}
	b := append([]byte(nil), batch...)
	record.SetBaseOffset(b, int64(len(l.parts[p])))
	l.parts[p] = append(l.parts[p], b)
	return nil
}

func (l *memLog) Read(p int32, offset int64, _ int) ([]byte, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := l.parts[p]
	var out []byte
	for i := offset; i < int64(len(bs)); i++ {
		out = append(out, bs[i]...)
	}
	return out, int64(len(bs)), nil
}

func (l *memLog) LogStartOffset(int32) (int64, error) { return 0, nil }

// memMarkers records the markers written; each partition in failFor fails that many times.
type memMarkers struct {
	mu      sync.Mutex
	written []Markers
	failFor map[TopicPartition]int
	done    chan struct{}
}

func newMemMarkers() *memMarkers {
	return &memMarkers{failFor: map[TopicPartition]int{}, done: make(chan struct{}, 16)}
}

func (m *memMarkers) WriteMarkers(_ context.Context, mk Markers) map[TopicPartition]error {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[TopicPartition]error{}
	var ok []TopicPartition
	for _, tp := range mk.Partitions {
		if m.failFor[tp] > 0 {
			m.failFor[tp]--
			out[tp] = kerr.NotLeaderForPartition
			continue
		}
		out[tp] = nil
		ok = append(ok, tp)
	}
	mk.Partitions = ok
	m.written = append(m.written, mk)
	return out
}

type seqPIDs struct {
	mu   sync.Mutex
	next int64
}

func (p *seqPIDs) NextID() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next, nil
}

func newTestCoordinator(t *testing.T, log *memLog, mk *memMarkers) *Coordinator {
	t.Helper()
	c := New(Config{NumPartitions: 3, MaxTimeoutMs: 60000}, log, mk, &seqPIDs{next: 999}, zerolog.Nop())
	t.Cleanup(c.Close)
	for p := int32(0); p < 3; p++ {
		c.BecomeLeader(p, 7)
	}
	waitLoaded(t, c)
	return c
}

func waitLoaded(t *testing.T, c *Coordinator) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c.List(nil, nil).ErrorCode == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("partitions did not load")
}

// waitState waits until id is in state s.
func waitState(t *testing.T, c *Coordinator, id string, s State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		d := c.Describe([]string{id})[0]
		if last = d.State; d.ErrorCode == 0 && d.State == s.String() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s is %s, want %s", id, last, s)
}

var ctx = context.Background()

func TestTransactionLifecycle(t *testing.T) {
	log, mk := newMemLog(), newMemMarkers()
	c := newTestCoordinator(t, log, mk)
	pid, epoch, err := c.InitProducerID(ctx, "tx", 30000, -1, -1)
	if err != nil || pid != 1000 || epoch != 0 {
		t.Fatalf("InitProducerId: %d/%d %v, want 1000/0", pid, epoch, err)
	}
	tps := []TopicPartition{{"t", 0}, {"t", 1}}
	if err := c.AddPartitions(ctx, "tx", pid, epoch, tps); err != nil {
		t.Fatal(err)
	}
	if err := c.AddOffsets(ctx, "tx", pid, epoch, "g"); err != nil {
		t.Fatal(err)
	}
	d := c.Describe([]string{"tx"})[0]
	if d.State != "Ongoing" || len(d.Topics) != 2 || d.Topics[0].Topic != OffsetsTopic {
		t.Fatalf("after AddPartitions: %+v", d)
	}
	// Verification (KIP-890) sees the partitions in the transaction, and only those.
	v := c.VerifyPartitions("tx", pid, epoch, []TopicPartition{{"t", 0}, {"t", 2}})
	if v[TopicPartition{"t", 0}] != nil || !errors.Is(v[TopicPartition{"t", 2}], kerr.InvalidTxnState) {
		t.Fatalf("verify: %v", v)
	}
	if err := c.EndTxn(ctx, "tx", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "tx", CompleteCommit)
	mk.mu.Lock()
	if len(mk.written) != 1 || !mk.written[0].Commit || len(mk.written[0].Partitions) != 3 || mk.written[0].CoordinatorEpoch != 7 {
		t.Fatalf("markers: %+v", mk.written)
	}
	mk.mu.Unlock()
	// A retried EndTxn(commit) succeeds; abort of the committed transaction is refused.
	if err := c.EndTxn(ctx, "tx", pid, epoch, true); err != nil {
		t.Fatalf("retried commit: %v", err)
	}
	if err := c.EndTxn(ctx, "tx", pid, epoch, false); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("abort after commit: %v", err)
	}
	// Empty: nothing to end.
	if _, epoch2, err := c.InitProducerID(ctx, "tx", 30000, -1, -1); err != nil || epoch2 != 1 {
		t.Fatalf("second InitProducerId: epoch %d %v", epoch2, err)
	}
	if err := c.EndTxn(ctx, "tx", pid, 1, true); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("EndTxn with nothing open: %v", err)
	}
}

func TestFencingAbortsTheOpenTransaction(t *testing.T) {
	log, mk := newMemLog(), newMemMarkers()
	c := newTestCoordinator(t, log, mk)
	pid, epoch, _ := c.InitProducerID(ctx, "tx", 30000, -1, -1)
	if err := c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}}); err != nil {
		t.Fatal(err)
	}
	// The new producer is told to retry while the old transaction is aborted.
	if _, _, err := c.InitProducerID(ctx, "tx", 30000, -1, -1); !errors.Is(err, kerr.ConcurrentTransactions) {
		t.Fatalf("InitProducerId over an open transaction: %v, want CONCURRENT_TRANSACTIONS", err)
	}
	waitState(t, c, "tx", CompleteAbort)
	_, epoch2, err := c.InitProducerID(ctx, "tx", 30000, -1, -1)
	if err != nil || epoch2 != epoch+2 {
		t.Fatalf("retried InitProducerId: epoch %d %v, want %d", epoch2, err, epoch+2)
	}
	mk.mu.Lock()
	if len(mk.written) != 1 || mk.written[0].Commit || mk.written[0].ProducerEpoch != epoch+1 {
		t.Fatalf("abort markers: %+v", mk.written)
	}
	mk.mu.Unlock()
	// The zombie is fenced.
	if err := c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 1}}); !errors.Is(err, kerr.ProducerFenced) {
		t.Fatalf("zombie AddPartitions: %v", err)
	}
	if err := c.EndTxn(ctx, "tx", pid, epoch, true); !errors.Is(err, kerr.ProducerFenced) {
		t.Fatalf("zombie EndTxn: %v", err)
	}
	if err := c.AddPartitions(ctx, "tx", pid+1, epoch2, nil); !errors.Is(err, kerr.InvalidProducerIDMapping) {
		t.Fatalf("wrong producer id: %v", err)
	}
	// KIP-360: InitProducerId naming a stale epoch is fenced; naming the current one bumps.
	if _, _, err := c.InitProducerID(ctx, "tx", 30000, pid, epoch); !errors.Is(err, kerr.ProducerFenced) {
		t.Fatalf("InitProducerId with a stale epoch: %v", err)
	}
	if _, e, err := c.InitProducerID(ctx, "tx", 30000, pid, epoch2); err != nil || e != epoch2+1 {
		t.Fatalf("InitProducerId with the current epoch: %d %v", e, err)
	}
}

func TestRequestChecks(t *testing.T) {
	log, mk := newMemLog(), newMemMarkers()
	c := newTestCoordinator(t, log, mk)
	if _, _, err := c.InitProducerID(ctx, "tx", 60001, -1, -1); !errors.Is(err, kerr.InvalidTransactionTimeout) {
		t.Fatalf("timeout above transaction.max.timeout.ms: %v", err)
	}
	if _, _, err := c.InitProducerID(ctx, "", 1000, -1, -1); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("empty id: %v", err)
	}
	if err := c.AddPartitions(ctx, "unknown", 1, 0, nil); !errors.Is(err, kerr.InvalidProducerIDMapping) {
		t.Fatalf("unknown id: %v", err)
	}
	if d := c.Describe([]string{"unknown"})[0]; d.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("describe unknown: %v", kerr.ErrorForCode(d.ErrorCode))
	}
	// An id of a partition this broker does not lead.
	c.Resign(c.PartitionFor("tx"), 8)
	if _, _, err := c.InitProducerID(ctx, "tx", 1000, -1, -1); !errors.Is(err, kerr.NotCoordinator) {
		t.Fatalf("after resigning: %v", err)
	}
	// A failed append leaves no state behind and answers as Kafka maps it.
	c.BecomeLeader(c.PartitionFor("tx"), 9)
	waitLoaded(t, c)
	log.mu.Lock()
	log.failing = kerr.NotEnoughReplicas
	log.mu.Unlock()
	if _, _, err := c.InitProducerID(ctx, "tx", 1000, -1, -1); !errors.Is(err, kerr.CoordinatorNotAvailable) {
		t.Fatalf("append refused for NOT_ENOUGH_REPLICAS: %v, want COORDINATOR_NOT_AVAILABLE", err)
	}
}

func TestMarkersRetriedAndStateReloaded(t *testing.T) {
	log, mk := newMemLog(), newMemMarkers()
	mk.failFor[TopicPartition{"t", 1}] = 2
	c := newTestCoordinator(t, log, mk)
	pid, epoch, _ := c.InitProducerID(ctx, "tx", 30000, -1, -1)
	_ = c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}, {"t", 1}})
	if err := c.EndTxn(ctx, "tx", pid, epoch, false); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "tx", CompleteAbort)
	mk.mu.Lock()
	rounds := len(mk.written)
	mk.mu.Unlock()
	if rounds != 3 {
		t.Fatalf("marker rounds %d, want 3 (two failures of t-1)", rounds)
	}

	// A prepared transaction found on loading is finished by the new coordinator.
	_, epoch, _ = c.InitProducerID(ctx, "tx", 30000, -1, -1)
	_ = c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 2}})
	p := c.PartitionFor("tx")
	c.Close()
	s := snapshot{producerID: pid, producerEpoch: epoch, timeoutMs: 30000, state: PrepareCommit,
		partitions: map[TopicPartition]struct{}{{"t", 2}: {}}, startMs: 1, lastUpdateMs: 2}
	if err := log.Append(ctx, p, encodeBatch("tx", &s, 3)); err != nil {
		t.Fatal(err)
	}
	mk2 := newMemMarkers()
	c2 := newTestCoordinator(t, log, mk2)
	waitState(t, c2, "tx", CompleteCommit)
	mk2.mu.Lock()
	if len(mk2.written) != 1 || !mk2.written[0].Commit || mk2.written[0].Partitions[0] != (TopicPartition{"t", 2}) {
		t.Fatalf("markers after loading: %+v", mk2.written)
	}
	mk2.mu.Unlock()
	d := c2.Describe([]string{"tx"})[0]
	if d.ProducerID != pid || d.ProducerEpoch != epoch {
		t.Fatalf("loaded state: %+v", d)
	}
}

func TestTimedOutTransactionAborted(t *testing.T) {
	log, mk := newMemLog(), newMemMarkers()
	c := newTestCoordinator(t, log, mk)
	now := time.Now()
	c.mu.Lock()
	c.now = func() time.Time { return now }
	c.mu.Unlock()
	pid, epoch, _ := c.InitProducerID(ctx, "tx", 1000, -1, -1)
	_ = c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	c.AbortTimedOut()
	if d := c.Describe([]string{"tx"})[0]; d.State != "Ongoing" {
		t.Fatalf("aborted before its timeout: %s", d.State)
	}
	now = now.Add(1001 * time.Millisecond)
	c.AbortTimedOut()
	waitState(t, c, "tx", CompleteAbort)
	if err := c.EndTxn(ctx, "tx", pid, epoch, true); !errors.Is(err, kerr.ProducerFenced) {
		t.Fatalf("the producer that let it time out: %v, want PRODUCER_FENCED", err)
	}
	// Expiry: idle past transactional.id.expiration.ms, the id is removed with a tombstone.
	now = now.Add(8 * 24 * time.Hour)
	c.RemoveExpired()
	if d := c.Describe([]string{"tx"})[0]; d.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("after expiry: %+v", d)
	}
	states := map[string]snapshot{}
	buf, _, _ := log.Read(c.PartitionFor("tx"), 0, 0)
	replay(buf, 1<<20, states, func(int64, error) { t.Fatal("undecodable") })
	if _, ok := states["tx"]; ok {
		t.Fatal("the tombstone did not remove the id from the log's replay")
	}
}

func TestPartitionForMatchesJava(t *testing.T) {
	// "my-txn".hashCode() is -1061187895 in Java; abs % 50 = 45.
	if p := partitionFor("my-txn", 50); p != 45 {
		t.Fatalf("partitionFor(my-txn) = %d, want 45", p)
	}
}

type recordEvents struct {
	mu   sync.Mutex
	text []string
}

func (r *recordEvents) Publish(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.text = append(r.text, e.Text)
}

// The classroom's timeline hears each step of a transaction in Kafka's words.
func TestTransactionEvents(t *testing.T) {
	rec := &recordEvents{}
	c := New(Config{BrokerID: 3, NumPartitions: 1, Events: rec}, newMemLog(), newMemMarkers(), &seqPIDs{}, zerolog.Nop())
	t.Cleanup(c.Close)
	c.BecomeLeader(0, 1)
	waitLoaded(t, c)
	pid, epoch, _ := c.InitProducerID(ctx, "tx", 1000, -1, -1)
	_ = c.AddPartitions(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	_ = c.EndTxn(ctx, "tx", pid, epoch, true)
	waitState(t, c, "tx", CompleteCommit)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	all := strings.Join(rec.text, "\n")
	for _, want := range []string{
		"[TransactionCoordinator id=3] Initialized transactionalId tx with producerId 1 and producer epoch 0 on partition __transaction_state-0",
		"transactionalId tx: Empty -> Ongoing (producerId 1, epoch 0, partitions [t-0])",
		"transactionalId tx: Ongoing -> PrepareCommit",
		"[Transaction Marker Channel Manager 3]: Wrote COMMIT markers of producerId 1 (epoch 0, coordinator epoch 1) to [t-0]",
		"transactionalId tx: PrepareCommit -> CompleteCommit",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no event %q in:\n%s", want, all)
		}
	}
}
