package transaction

import (
	"context"
	"errors"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/klassik/klassik/classroom/event"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Log is __transaction_state as this broker hosts it; the broker implements it.
type Log interface {
	// Append appends one v2 record batch to partition p as its leader and waits for acks=all
	// replication. Errors are *kerr.Error values (NOT_LEADER_OR_FOLLOWER,
	// NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...).
	Append(ctx context.Context, partition int32, batch []byte) error
	// Read returns whole record batches of partition p from offset, at most maxBytes (but at
	// least one batch), below the log end offset, and the log end offset. (The log end, not
	// the high watermark: see Kafka's FetchIsolation.LOG_END in its loader.)
	Read(partition int32, offset int64, maxBytes int) (batches []byte, highWatermark int64, err error)
	// LogStartOffset is the first offset of partition p.
	LogStartOffset(partition int32) (int64, error)
}

// Markers is one WriteTxnMarkers entry: the end of one producer's transaction in a set of
// partitions.
type Markers struct {
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
	Commit           bool
	Partitions       []TopicPartition
}

// ErrPartitionGone is what a MarkerWriter answers for a partition that no longer exists (its
// topic was deleted): it needs no marker.
var ErrPartitionGone = errors.New("the partition no longer exists")

// MarkerWriter sends markers to the leaders of their partitions (Kafka's
// TransactionMarkerChannelManager); the broker implements it.
type MarkerWriter interface {
	// WriteMarkers writes m to every partition it names and returns each partition's outcome:
	// nil when written and replicated, ErrPartitionGone, or the error to retry on.
	WriteMarkers(ctx context.Context, m Markers) map[TopicPartition]error
}

// ProducerIDs hands out producer ids from the cluster's blocks (/latest_producer_id_block).
type ProducerIDs interface {
	NextID() (int64, error)
}

// Config is what the coordinator reads of the broker's configuration. Zero values take
// Kafka's defaults.
type Config struct {
	BrokerID int32
	// Events receives every state change of a transactional id and every set of markers
	// written, for the classroom's timeline; nil means event.Discard.
	Events event.Publisher

	NumPartitions               int32 // transaction.state.log.num.partitions (50)
	MaxTimeoutMs                int32 // transaction.max.timeout.ms (900000)
	AbortTimedOutIntervalMs     int   // transaction.abort.timed.out.transaction.cleanup.interval.ms (10000)
	RemoveExpiredIntervalMs     int   // transaction.remove.expired.transaction.cleanup.interval.ms (3600000)
	TransactionalIDExpirationMs int64 // transactional.id.expiration.ms (604800000)
	// OffsetsTopicNumPartitions locates a group's __consumer_offsets partition for
	// AddOffsetsToTxn (offsets.topic.num.partitions, 50).
	OffsetsTopicNumPartitions int32
	// LoadBufferSize is the maxBytes of each Log.Read while loading
	// (transaction.state.log.load.buffer.size, 5 MiB).
	LoadBufferSize int
	// WriteTimeout bounds each append to __transaction_state (Kafka uses request.timeout.ms,
	// 30 s).
	WriteTimeout time.Duration
}

func (cfg *Config) defaults() {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.NumPartitions <= 0 {
		cfg.NumPartitions = 50
	}
	if cfg.MaxTimeoutMs <= 0 {
		cfg.MaxTimeoutMs = 900000
	}
	if cfg.AbortTimedOutIntervalMs <= 0 {
		cfg.AbortTimedOutIntervalMs = 10000
	}
	if cfg.RemoveExpiredIntervalMs <= 0 {
		cfg.RemoveExpiredIntervalMs = 3600000
	}
	if cfg.TransactionalIDExpirationMs <= 0 {
		cfg.TransactionalIDExpirationMs = 604800000
	}
	if cfg.OffsetsTopicNumPartitions <= 0 {
		cfg.OffsetsTopicNumPartitions = 50
	}
	if cfg.LoadBufferSize <= 0 {
		cfg.LoadBufferSize = 5 << 20
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
}

// partitionState is this broker's hold on one partition of __transaction_state. epoch is the
// partition's leader epoch when this broker became its leader: the coordinator epoch.
type partitionState struct {
	epoch   int32
	loading bool
	ctx     context.Context // ends when the partition is resigned
	cancel  context.CancelFunc
}

// Coordinator is the transaction coordinator of one broker.
//
// Ownership: mu guards partitions and txns (which ids this broker coordinates); each id's
// state is guarded by its txnMetadata.mu. Lock order: an id's mu, then mu; mu is only held for
// map operations. Nobody holds an id's mu while calling Log or MarkerWriter.
type Coordinator struct {
	cfg     Config
	log     Log
	markers MarkerWriter
	pids    ProducerIDs
	logger  zerolog.Logger
	now     func() time.Time

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // loaders, marker writers, timers

	mu         sync.Mutex
	partitions map[int32]*partitionState
	epochs     map[int32]int32 // highest leader epoch seen per partition
	txns       map[string]*txnMetadata
	closed     bool
}

// New returns a coordinator that leads no partition yet; the broker calls BecomeLeader for
// each partition of __transaction_state it leads.
func New(cfg Config, log Log, markers MarkerWriter, pids ProducerIDs, logger zerolog.Logger) *Coordinator {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg: cfg, log: log, markers: markers, pids: pids,
		logger:     logger.With().Str("component", "transaction-coordinator").Logger(),
		now:        time.Now,
		ctx:        ctx,
		cancel:     cancel,
		partitions: make(map[int32]*partitionState),
		epochs:     make(map[int32]int32),
		txns:       make(map[string]*txnMetadata),
	}
	c.goTracked(c.abortTimedOutLoop)
	c.goTracked(c.expireLoop)
	return c
}

func (c *Coordinator) nowMs() int64 { return c.now().UnixMilli() }

// goTracked runs f on a goroutine that Close waits for; false once closed.
func (c *Coordinator) goTracked(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// PartitionFor is the __transaction_state partition of a transactional id: Kafka's
// Utils.abs(transactionalId.hashCode) % transaction.state.log.num.partitions.
func (c *Coordinator) PartitionFor(transactionalID string) int32 {
	return partitionFor(transactionalID, c.cfg.NumPartitions)
}

func partitionFor(s string, n int32) int32 {
	var h int32 // java.lang.String.hashCode over UTF-16 code units
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	if h == -1<<31 {
		h = 0 // Utils.abs
	} else if h < 0 {
		h = -h
	}
	return h % n
}

// BecomeLeader starts loading partition p of __transaction_state (Kafka's
// onElection/loadTransactionsForTxnTopicPartition). Until it is loaded its ids answer
// COORDINATOR_LOAD_IN_PROGRESS. An epoch older than one already seen is ignored.
func (c *Coordinator) BecomeLeader(p int32, leaderEpoch int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if cur, ok := c.epochs[p]; ok && leaderEpoch < cur {
		return
	}
	c.epochs[p] = leaderEpoch
	if st := c.partitions[p]; st != nil {
		if st.epoch == leaderEpoch {
			return
		}
		// A new epoch (the partition moved away and back): load again, as Kafka does.
		c.removePartitionLocked(p)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	st := &partitionState{epoch: leaderEpoch, loading: true, ctx: ctx, cancel: cancel}
	c.partitions[p] = st
	c.logger.Info().Int32("partition", p).Int32("coordinator_epoch", leaderEpoch).Msg("elected transaction coordinator; loading")
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.loadPartition(ctx, p, st)
	}()
}

// Resign drops the ids of partition p (Kafka's onResignation): they answer NOT_COORDINATOR,
// and marker writers of the partition stop. A negative epoch always applies.
func (c *Coordinator) Resign(p int32, leaderEpoch int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if leaderEpoch >= 0 {
		if cur, ok := c.epochs[p]; ok && leaderEpoch < cur {
			return
		}
		c.epochs[p] = leaderEpoch
	}
	if c.partitions[p] == nil {
		return
	}
	n := c.removePartitionLocked(p)
	c.logger.Info().Int32("partition", p).Int("transactional_ids", n).Msg("resigned as transaction coordinator")
}

func (c *Coordinator) removePartitionLocked(p int32) int {
	if st := c.partitions[p]; st != nil {
		st.cancel()
		delete(c.partitions, p)
	}
	n := 0
	for id, t := range c.txns {
		if t.partition == p {
			delete(c.txns, id)
			n++
		}
	}
	return n
}

// Close stops every loader, marker writer and timer and waits for them. Requests arriving
// afterwards answer COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	for p := range c.partitions {
		c.removePartitionLocked(p)
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// owner checks that this broker coordinates partition p, loaded, and returns the
// coordinator epoch: COORDINATOR_NOT_AVAILABLE once closed, NOT_COORDINATOR when it does not
// lead p, COORDINATOR_LOAD_IN_PROGRESS while loading.
func (c *Coordinator) ownerLocked(p int32) (int32, error) {
	if c.closed {
		return -1, kerr.CoordinatorNotAvailable
	}
	st := c.partitions[p]
	switch {
	case st == nil:
		return -1, kerr.NotCoordinator
	case st.loading:
		return -1, kerr.CoordinatorLoadInProgress
	}
	return st.epoch, nil
}

// lookup finds the state of id on its coordinator (nil when the id is unknown) and the
// coordinator epoch.
func (c *Coordinator) lookup(id string) (*txnMetadata, int32, error) {
	p := c.PartitionFor(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	epoch, err := c.ownerLocked(p)
	if err != nil {
		return nil, -1, err
	}
	return c.txns[id], epoch, nil
}

// partitionCtx is the context of partition p's hold: it ends when this broker resigns p.
func (c *Coordinator) partitionCtx(p int32) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.partitions[p]; st != nil {
		return st.ctx
	}
	ctx, cancel := context.WithCancel(c.ctx)
	cancel()
	return ctx
}

// stillOwner reports whether partition p is still held at coordinator epoch epoch.
func (c *Coordinator) stillOwner(p, epoch int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, err := c.ownerLocked(p)
	return err == nil && e == epoch
}

// write persists next as t's state (the caller has set t.pending = &next) and, if the append
// succeeds while this broker still coordinates the id at epoch, makes it current. It maps log
// errors as Kafka's TransactionStateManager.appendTransactionToLog does.
func (c *Coordinator) write(ctx context.Context, t *txnMetadata, epoch int32, next snapshot) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WriteTimeout)
	defer cancel()
	err := c.log.Append(ctx, t.partition, encodeBatch(t.id, &next, c.nowMs()))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = nil
	if err != nil {
		c.logger.Warn().Err(err).Str("transactional_id", t.id).Str("state", next.state.String()).
			Msg("appending to __transaction_state failed")
		return appendError(err)
	}
	if t.removed || !c.stillOwner(t.partition, epoch) {
		return kerr.NotCoordinator
	}
	prev := t.cur
	if !canFollow(next.state, prev.state) {
		// Kafka's prepareTransitionTo throws IllegalStateException here: a bug, not a
		// client's error. The log has the record; the next load replays it.
		c.logger.Error().Str("transactional_id", t.id).Str("from", prev.state.String()).Str("to", next.state.String()).
			Msg("illegal transaction state transition")
		return kerr.UnknownServerError
	}
	t.cur = next
	c.publishTransition(t, prev, next)
	return nil
}

// appendError is the error a client gets for a failed append to __transaction_state.
func appendError(err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.NotEnoughReplicas),
		errors.Is(err, kerr.NotEnoughReplicasAfterAppend), errors.Is(err, kerr.RequestTimedOut),
		errors.Is(err, context.DeadlineExceeded):
		return kerr.CoordinatorNotAvailable
	case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.KafkaStorageError),
		errors.Is(err, context.Canceled):
		return kerr.NotCoordinator
	}
	return kerr.UnknownServerError
}
