package group

import (
	"context"
	"errors"
	"github.com/klassik/klassik/classroom/event"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Log is __consumer_offsets as this broker hosts it; the broker implements it.
type Log interface {
	// Append appends one v2 record batch (offsets carry no meaning; the log assigns them) to
	// partition p of __consumer_offsets as its leader, and waits for acks=all replication; it
	// returns the offset the log gave the batch. The append's origin is the coordinator
	// (Kafka's AppendOrigin.COORDINATOR): a transactional batch's producer epoch is checked
	// (an older one is INVALID_PRODUCER_EPOCH), its sequence is not, and it opens the
	// producer's transaction in the partition. Errors are *kerr.Error values
	// (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...).
	Append(ctx context.Context, partition int32, batch []byte) (baseOffset int64, err error)
	// Read returns whole record batches of partition p from offset, at most maxBytes (but at
	// least one batch), below the log end offset, and the log end offset (Kafka's loader reads
	// to the log end: a new leader's high watermark can lag behind acknowledged commits).
	Read(partition int32, offset int64, maxBytes int) (batches []byte, highWatermark int64, err error)
	// LogStartOffset is the first offset of partition p.
	LogStartOffset(partition int32) (int64, error)
}

// Config is the part of the broker configuration the group coordinator reads. Zero values take
// Kafka's defaults, except GroupInitialRebalanceDelayMs, where 0 means no delay as in Kafka.
type Config struct {
	BrokerID                        int32
	OffsetsTopicNumPartitions       int32 // offsets.topic.num.partitions (50)
	GroupInitialRebalanceDelayMs    int   // group.initial.rebalance.delay.ms (Kafka's default 3000; 0 here is 0)
	GroupMinSessionTimeoutMs        int   // group.min.session.timeout.ms (6000)
	GroupMaxSessionTimeoutMs        int   // group.max.session.timeout.ms (1800000)
	OffsetsRetentionMinutes         int   // offsets.retention.minutes (10080)
	OffsetsRetentionCheckIntervalMs int   // offsets.retention.check.interval.ms (600000)

	// Events receives each completed rebalance, for the classroom's timeline; nil means
	// event.Discard.
	Events event.Publisher

	// OffsetCommitTimeoutMs bounds each append to __consumer_offsets
	// (offsets.commit.timeout.ms, 5000).
	OffsetCommitTimeoutMs int
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes (4096).
	OffsetMetadataMaxBytes int
	// OffsetsLoadBufferSize is offsets.load.buffer.size (5 MiB): the maxBytes of each Log.Read
	// while loading a partition.
	OffsetsLoadBufferSize int
}

func (cfg *Config) defaults() {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if cfg.OffsetsTopicNumPartitions <= 0 {
		cfg.OffsetsTopicNumPartitions = 50
	}
	if cfg.GroupInitialRebalanceDelayMs < 0 {
		cfg.GroupInitialRebalanceDelayMs = 0
	}
	def(&cfg.GroupMinSessionTimeoutMs, 6000)
	def(&cfg.GroupMaxSessionTimeoutMs, 1800000)
	def(&cfg.OffsetsRetentionMinutes, 10080)
	def(&cfg.OffsetsRetentionCheckIntervalMs, 600000)
	def(&cfg.OffsetCommitTimeoutMs, 5000)
	def(&cfg.OffsetMetadataMaxBytes, 4096)
	def(&cfg.OffsetsLoadBufferSize, 5<<20)
}

// newMemberJoinTimeout is GroupCoordinator.NewMemberJoinTimeoutMs: a new member parked in a
// JoinGroup is dropped if the rebalance has not finished by then.
const newMemberJoinTimeout = 5 * time.Minute

// partitionState is this broker's hold on one __consumer_offsets partition.
type partitionState struct {
	epoch   int32
	loading bool
	cancel  context.CancelFunc
	// completed are the transactions CompleteTxn was told of while the partition loaded:
	// their markers may be past the loader's last read, so the loader applies them to the
	// groups it installs (Kafka runs both on one scheduler thread, so the completion comes
	// after the load).
	completed []txnCompletion
}

type txnCompletion struct {
	producerID int64
	commit     bool
}

// Coordinator is the group coordinator of one broker: it serves the groups whose
// __consumer_offsets partition this broker leads.
//
// Ownership: mu guards partitions, epochs and the groups map (which groups exist); each group's
// state is guarded by its own group.mu. Lock order: a group's mu, then mu, then timerMu (which
// guards the timer registry and closed); mu and timerMu are only held for map operations and
// never while taking a group's lock. No one holds a group's mu while calling Log or while
// waiting for a parked request.
type Coordinator struct {
	cfg    Config
	log    Log
	logger zerolog.Logger

	ctx    context.Context // cancelled by Close: aborts appends and loads
	cancel context.CancelFunc

	mu         sync.Mutex
	partitions map[int32]*partitionState
	epochs     map[int32]int32 // highest coordinator epoch seen per partition
	groups     map[string]*group
	// txnGroups are the groups with pending transactional offsets of each producer id
	// (GroupMetadataManager.openGroupsForProducer), for CompleteTxn.
	txnGroups map[int64]map[string]struct{}

	timerMu sync.Mutex
	closed  bool
	timers  map[*timer]struct{}
	wg      sync.WaitGroup // timers, loaders, appenders, the retention loop

	newMemberJoinTimeout time.Duration
	now                  func() time.Time

	corruptRecords atomic.Int64 // see CorruptRecords
}

// CorruptRecords counts the batches and records of __consumer_offsets that the loader could
// not decode and skipped (kafka_coordinator_group_corrupt_records_total).
func (c *Coordinator) CorruptRecords() int64 { return c.corruptRecords.Load() }

// New returns a coordinator that leads no partition yet; the broker calls BecomeLeader for each
// __consumer_offsets partition it leads.
func New(cfg Config, log Log, logger zerolog.Logger) *Coordinator {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg:                  cfg,
		log:                  log,
		logger:               logger.With().Str("component", "group-coordinator").Logger(),
		ctx:                  ctx,
		cancel:               cancel,
		partitions:           make(map[int32]*partitionState),
		epochs:               make(map[int32]int32),
		groups:               make(map[string]*group),
		txnGroups:            make(map[int64]map[string]struct{}),
		timers:               make(map[*timer]struct{}),
		newMemberJoinTimeout: newMemberJoinTimeout,
		now:                  time.Now,
	}
	c.goTracked(c.retentionLoop)
	return c
}

func (c *Coordinator) nowMs() int64 { return c.now().UnixMilli() }

// PartitionFor is the __consumer_offsets partition of a group: Kafka's
// Utils.abs(groupId.hashCode) % offsets.topic.num.partitions, where hashCode is Java's
// String.hashCode over the UTF-16 code units and Utils.abs maps Integer.MIN_VALUE to 0.
func (c *Coordinator) PartitionFor(group string) int32 {
	return partitionFor(group, c.cfg.OffsetsTopicNumPartitions)
}

func partitionFor(group string, n int32) int32 {
	h := javaStringHash(group)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % n
}

// javaStringHash is java.lang.String.hashCode: s[0]*31^(n-1) + ... + s[n-1] in int32
// arithmetic, over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// BecomeLeader starts loading partition p of __consumer_offsets in the background (Kafka's
// onElection). Until it is loaded, requests for its groups get COORDINATOR_LOAD_IN_PROGRESS.
// A call with an epoch older than one already seen is ignored; a call for a partition already
// owned or loading only records the newer epoch.
func (c *Coordinator) BecomeLeader(partition int32, leaderEpoch int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.epochs[partition]; ok && leaderEpoch < cur {
		c.logger.Info().Int32("partition", partition).Int32("epoch", leaderEpoch).Int32("current_epoch", cur).
			Msg("ignoring election with an old coordinator epoch")
		return
	}
	c.epochs[partition] = leaderEpoch
	if st := c.partitions[partition]; st != nil {
		st.epoch = leaderEpoch
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	st := &partitionState{epoch: leaderEpoch, loading: true, cancel: cancel}
	c.partitions[partition] = st
	c.logger.Info().Int32("partition", partition).Int32("epoch", leaderEpoch).Msg("elected group coordinator; loading")
	if !c.goTracked(func() { c.loadPartition(ctx, partition, st) }) {
		cancel()
		delete(c.partitions, partition)
	}
}

// Resign drops the groups of partition p (Kafka's onResignation): parked JoinGroup and
// SyncGroup requests get NOT_COORDINATOR, and so do later requests for these groups. A negative
// epoch means "no epoch" and always applies; an epoch older than one already seen is ignored.
func (c *Coordinator) Resign(partition int32, leaderEpoch int32) {
	c.mu.Lock()
	if leaderEpoch >= 0 {
		if cur, ok := c.epochs[partition]; ok && leaderEpoch < cur {
			c.mu.Unlock()
			c.logger.Info().Int32("partition", partition).Int32("epoch", leaderEpoch).Int32("current_epoch", cur).
				Msg("ignoring resignation with an old coordinator epoch")
			return
		}
		c.epochs[partition] = leaderEpoch
	}
	groups := c.removePartitionLocked(partition)
	c.mu.Unlock()
	c.unloadGroups(groups)
	c.logger.Info().Int32("partition", partition).Int("groups", len(groups)).Msg("resigned as group coordinator")
}

func (c *Coordinator) removePartitionLocked(partition int32) []*group {
	if st := c.partitions[partition]; st != nil {
		st.cancel()
		delete(c.partitions, partition)
	}
	var groups []*group
	for id, g := range c.groups {
		if g.partition == partition {
			groups = append(groups, g)
			delete(c.groups, id)
			c.removeProducerGroupAllLocked(id)
		}
	}
	return groups
}

// unloadGroups is onGroupUnloaded for each group: Dead, parked requests answered
// NOT_COORDINATOR, timers stopped.
func (c *Coordinator) unloadGroups(groups []*group) {
	for _, g := range groups {
		g.mu.Lock()
		prev := g.state
		g.transitionTo(stateDead, c.nowMs())
		for _, m := range g.members {
			switch prev {
			case statePreparingRebalance:
				g.maybeInvokeJoin(m, joinError(m.id, errNotCoordinator))
			case stateStable, stateCompletingRebalance:
				g.maybeInvokeSync(m, syncResult{err: errNotCoordinator})
			}
			m.heartbeat.stop()
			m.heartbeat = nil
		}
		for id := range g.pendingMembers {
			g.removePending(id)
		}
		c.stopJoinTimer(g)
		c.stopSyncTimer(g)
		clear(g.pendingSyncMembers)
		g.mu.Unlock()
	}
}

// Close resigns every partition, stops all timers and waits for every goroutine the coordinator
// started. Requests arriving afterwards get COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) Close() {
	c.timerMu.Lock()
	if c.closed {
		c.timerMu.Unlock()
		return
	}
	c.closed = true
	timers := c.timers
	c.timers = make(map[*timer]struct{})
	c.timerMu.Unlock()
	for tm := range timers {
		tm.t.Stop()
		c.wg.Done()
	}
	c.cancel()

	c.mu.Lock()
	var groups []*group
	for p := range c.partitions {
		groups = append(groups, c.removePartitionLocked(p)...)
	}
	for id, g := range c.groups { // groups of no partition cannot exist, but be thorough
		groups = append(groups, g)
		delete(c.groups, id)
	}
	c.mu.Unlock()
	c.unloadGroups(groups)
	c.wg.Wait()
}

func (c *Coordinator) isClosed() bool {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	return c.closed
}

// goTracked runs f on a goroutine that Close waits for; false if the coordinator is closed.
func (c *Coordinator) goTracked(f func()) bool {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
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

// timer is a time.AfterFunc that Close stops and waits for. The callback must re-check, under
// the group's lock, that it is still the timer in charge (stop may lose a race with firing).
type timer struct {
	c *Coordinator
	t *time.Timer
}

func (c *Coordinator) afterFunc(d time.Duration, f func()) *timer {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.closed {
		return nil
	}
	tm := &timer{c: c}
	c.timers[tm] = struct{}{}
	c.wg.Add(1)
	tm.t = time.AfterFunc(d, func() {
		c.timerMu.Lock()
		_, live := c.timers[tm]
		delete(c.timers, tm)
		c.timerMu.Unlock()
		if !live {
			return // stopped; stop (or Close) accounted for it
		}
		defer c.wg.Done()
		f()
	})
	return tm
}

func (tm *timer) stop() {
	if tm == nil {
		return
	}
	c := tm.c
	c.timerMu.Lock()
	_, live := c.timers[tm]
	delete(c.timers, tm)
	c.timerMu.Unlock()
	if live {
		tm.t.Stop()
		c.wg.Done()
	}
}

// groupStatus is validateGroupStatus: the error for a request about group id, or 0.
// allowEmptyID: OffsetCommit, OffsetFetch, DescribeGroups and DeleteGroups accept "".
func (c *Coordinator) groupStatus(id string, allowEmptyID bool) int16 {
	if id == "" && !allowEmptyID {
		return errInvalidGroupID
	}
	if c.isClosed() {
		return errCoordinatorNotAvailable
	}
	p := c.PartitionFor(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.partitions[p]
	switch {
	case st == nil:
		return errNotCoordinator
	case st.loading:
		return errCoordinatorLoadInProgress
	}
	return 0
}

func (c *Coordinator) getGroup(id string) *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[id]
}

// getOrCreateGroup returns the group, creating it Empty if it does not exist and the partition
// is owned and loaded; nil otherwise.
func (c *Coordinator) getOrCreateGroup(id string) *group {
	p := c.PartitionFor(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.groups[id]; g != nil {
		return g
	}
	if st := c.partitions[p]; st == nil || st.loading {
		return nil
	}
	g := newGroup(id, p, c.nowMs())
	c.groups[id] = g
	return g
}

// removeGroupIfSame drops g from the map if it is still the group under its id.
func (c *Coordinator) removeGroupIfSame(g *group) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[g.id] == g {
		delete(c.groups, g.id)
		return true
	}
	return false
}

func (c *Coordinator) ownsPartition(p int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.partitions[p]
	return st != nil && !st.loading
}

var errClosed = errors.New("group coordinator closed")

// store appends batch to g's partition after every write g prepared earlier, then calls done
// with the append's result while holding g.mu. The caller holds g.mu.
func (c *Coordinator) store(g *group, batch []byte, done func(error)) {
	c.storeAt(g, batch, func(_ int64, err error) { done(err) })
}

// storeAt is store whose done also gets the batch's offset in the log (-1 on error): offset
// commits remember it, so the later of two commits of a partition wins (Kafka's
// CommitRecordMetadataAndOffset.appendedBatchOffset).
func (c *Coordinator) storeAt(g *group, batch []byte, done func(baseOffset int64, err error)) {
	ticket := g.writeNext
	g.writeNext++
	ok := c.goTracked(func() {
		g.mu.Lock()
		for g.writeTurn != ticket {
			g.writeCond.Wait()
		}
		g.mu.Unlock()

		ctx, cancel := context.WithTimeout(c.ctx, time.Duration(c.cfg.OffsetCommitTimeoutMs)*time.Millisecond)
		base, err := c.log.Append(ctx, g.partition, batch)
		cancel()
		if err != nil {
			base = -1
		}

		g.mu.Lock()
		done(base, err)
		g.writeTurn++
		g.writeCond.Broadcast()
		g.mu.Unlock()
	})
	if !ok {
		g.writeNext--
		done(-1, errClosed)
	}
}

// appendErrorCode is the Kafka error of a failed Log.Append.
func appendErrorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, errClosed), errors.Is(err, context.Canceled):
		return kerr.NotLeaderForPartition.Code
	default:
		return kerr.UnknownServerError.Code
	}
}

// storeGroupError maps an append error of group metadata as GroupMetadataManager.storeGroup.
func storeGroupError(err error) int16 {
	return storeError(err, errRebalanceInProgress, kerr.UnknownServerError.Code)
}

// storeOffsetsError maps an append error of offset commits as GroupMetadataManager.storeOffsets.
func storeOffsetsError(err error) int16 {
	return storeError(err, kerr.RequestTimedOut.Code, kerr.InvalidCommitOffsetSize.Code)
}

// storeError is the mapping storeGroup and storeOffsets share; they differ only in what a
// timed-out append (timedOut) and a too-large one (tooLarge) become.
func storeError(err error, timedOut, tooLarge int16) int16 {
	if err == nil {
		return 0
	}
	switch code := appendErrorCode(err); code {
	case kerr.UnknownTopicOrPartition.Code, kerr.NotEnoughReplicas.Code, kerr.NotEnoughReplicasAfterAppend.Code:
		return errCoordinatorNotAvailable
	case kerr.NotLeaderForPartition.Code, kerr.KafkaStorageError.Code:
		return errNotCoordinator
	case kerr.RequestTimedOut.Code:
		return timedOut
	case kerr.MessageTooLarge.Code, kerr.RecordListTooLarge.Code, kerr.InvalidFetchSize.Code:
		return tooLarge
	default:
		return code
	}
}

// Error codes used throughout.
var (
	errNotCoordinator            = kerr.NotCoordinator.Code
	errCoordinatorNotAvailable   = kerr.CoordinatorNotAvailable.Code
	errCoordinatorLoadInProgress = kerr.CoordinatorLoadInProgress.Code
	errInvalidGroupID            = kerr.InvalidGroupID.Code
	errUnknownMemberID           = kerr.UnknownMemberID.Code
	errIllegalGeneration         = kerr.IllegalGeneration.Code
	errRebalanceInProgress       = kerr.RebalanceInProgress.Code
	errInconsistentProtocol      = kerr.InconsistentGroupProtocol.Code
	errFencedInstanceID          = kerr.FencedInstanceID.Code
	errMemberIDRequired          = kerr.MemberIDRequired.Code
	errInvalidSessionTimeout     = kerr.InvalidSessionTimeout.Code
	errGroupIDNotFound           = kerr.GroupIDNotFound.Code
	errNonEmptyGroup             = kerr.NonEmptyGroup.Code
)

// client identity of a request, handed in by the broker through the context.
type clientKey struct{}

type clientInfo struct{ id, host string }

// WithClient returns a context carrying the request header's client id and the client's host
// (Kafka shows the address as "/127.0.0.1"), which JoinGroup records for DescribeGroups and
// uses in generated member ids ("<clientId>-<uuid>", KIP-394).
func WithClient(ctx context.Context, clientID, clientHost string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{clientID, clientHost})
}

func clientFrom(ctx context.Context) clientInfo {
	ci, _ := ctx.Value(clientKey{}).(clientInfo)
	return ci
}
