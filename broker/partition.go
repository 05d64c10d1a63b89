package broker

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
)

// partition is one replica of a partition hosted on this broker: its log and the replica state
// of classic Kafka (Kafka's Partition class). The log is fixed at creation; everything else is
// guarded by mu. Appends as leader hold mu, so a leadership change never interleaves with one.
type partition struct {
	tp     topicPartition
	b      *Broker
	self   int32
	log    *logstore.Log
	config *topicConfig // the topic's effective config, swapped on change (read under mu)

	mu               sync.Mutex
	topicID          [16]byte
	leaderID         int32 // -1 when unknown
	leaderEpoch      int32
	partitionEpoch   int32 // zkVersion of the state znode
	controllerEpoch  int32
	replicas         []int32
	isr              []int32
	hw               int64
	followers        map[int32]*replicaState // leader only: the other replicas' progress
	isrUpdating      bool                    // an ISR write to ZooKeeper is in flight
	isrRetry         isrRetry                // backoff after a refused ISR write
	epochStartOffset int64                   // log end offset when this leader epoch began
	stopped          bool                    // removed by StopReplica or deletion
	changed          chan struct{}           // closed and replaced on every LEO, HW, ISR or role change
	hwChanged        chan struct{}           // the same, but not on an append that leaves the HW where it was
}

// replicaState is what a leader knows of one follower (Kafka's Replica).
type replicaState struct {
	leo                int64 // the follower's log end offset, learned from its fetch offset; -1 unknown
	lastCaughtUpMs     int64 // last time the follower had everything the leader had
	lastFetchLeaderLEO int64 // leader's LEO at the follower's previous fetch
	lastFetchMs        int64
}

func newPartition(b *Broker, tp topicPartition, self int32, log *logstore.Log, cfg *topicConfig, hw int64) *partition {
	if leo := log.LogEndOffset(); hw > leo {
		hw = leo
	}
	if lso := log.LogStartOffset(); hw < lso {
		hw = lso
	}
	log.UpdateHighWatermark(hw)
	return &partition{
		tp: tp, b: b, self: self, log: log, config: cfg,
		leaderID: -1, leaderEpoch: -1, hw: hw,
		changed: make(chan struct{}), hwChanged: make(chan struct{}),
	}
}

// signal wakes everyone waiting on the partition. Caller holds mu.
//
// There are two kinds of waiters (Kafka's delayed operations): followers' fetches wait for the
// log end to move (changed), while acks=all produces and consumers' fetches wait for the high
// watermark (hwChanged), so an append that leaves the high watermark where it is (every
// append with followers: they have yet to fetch it) wakes only the followers (signalLEO).
func (p *partition) signal() {
	p.signalLEO()
	close(p.hwChanged)
	p.hwChanged = make(chan struct{})
}

// signalLEO wakes the waiters for the log end only. Caller holds mu.
func (p *partition) signalLEO() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *partition) isLeaderLocked() bool { return !p.stopped && p.leaderID == p.self }

// snapshot of the fields handlers read together.
type partitionView struct {
	isLeader    bool
	leaderID    int32
	leaderEpoch int32
	hw          int64
	leo         int64
	logStart    int64
	isr         []int32
	replicas    []int32
}

func (p *partition) view() partitionView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return partitionView{
		isLeader: p.isLeaderLocked(), leaderID: p.leaderID, leaderEpoch: p.leaderEpoch,
		hw: p.hw, leo: p.log.LogEndOffset(), logStart: p.log.LogStartOffset(),
		isr: slices.Clone(p.isr), replicas: slices.Clone(p.replicas),
	}
}

// checkEpoch validates a client's current leader epoch (KIP-320): older is fenced, newer is
// unknown to us; -1 skips the check.
func checkEpoch(requestEpoch, ours int32) error {
	switch {
	case requestEpoch < 0 || requestEpoch == ours:
		return nil
	case requestEpoch < ours:
		return kerr.FencedLeaderEpoch
	default:
		return kerr.UnknownLeaderEpoch
	}
}

// appendAsLeader appends a producer's batches. With acks=all it first checks
// min.insync.replicas against the current ISR (NOT_ENOUGH_REPLICAS, nothing appended).
func (p *partition) appendAsLeader(records []byte, acks int16, nowMs int64) (logstore.AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isLeaderLocked() {
		return logstore.AppendResult{}, kerr.NotLeaderForPartition
	}
	if acks == -1 && len(p.isr) < p.config.minInsyncReplicas {
		return logstore.AppendResult{}, p.notEnoughReplicasLocked()
	}
	res, err := p.log.AppendAsLeader(records, p.leaderEpoch, nowMs)
	if err != nil {
		return res, err
	}
	if !res.Duplicate {
		if p.maybeIncrementHWLocked() {
			p.signal()
		} else {
			p.signalLEO()
		}
	}
	return res, nil
}

// appendAsCoordinator appends a batch of this broker's group coordinator as leader with
// acks=all (Kafka's AppendOrigin.COORDINATOR: producer epochs are checked, sequences are not;
// see logstore's AppendAsCoordinator).
func (p *partition) appendAsCoordinator(records []byte, nowMs int64) (logstore.AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isLeaderLocked() {
		return logstore.AppendResult{}, kerr.NotLeaderForPartition
	}
	if len(p.isr) < p.config.minInsyncReplicas {
		return logstore.AppendResult{}, p.notEnoughReplicasLocked()
	}
	res, err := p.log.AppendAsCoordinator(records, p.leaderEpoch, nowMs)
	if err != nil {
		return res, err
	}
	p.maybeIncrementHWLocked()
	p.signal()
	return res, nil
}

// appendMarker appends a transaction marker as leader (WriteTxnMarkers). Markers are written
// with acks=all, so min.insync.replicas is checked first, as appendAsLeader does for acks=-1.
func (p *partition) appendMarker(producerID int64, producerEpoch int16, m record.EndTxnMarker, nowMs int64) (logstore.AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isLeaderLocked() {
		return logstore.AppendResult{}, kerr.NotLeaderForPartition
	}
	if len(p.isr) < p.config.minInsyncReplicas {
		return logstore.AppendResult{}, kerr.NotEnoughReplicas
	}
	res, err := p.log.AppendMarker(producerID, producerEpoch, m, p.leaderEpoch, nowMs)
	if err != nil {
		return res, err
	}
	p.maybeIncrementHWLocked()
	p.signal()
	return res, nil
}

// awaitHW waits until the high watermark passes last (an acks=all append ending there), the
// leadership goes, or ctx ends (REQUEST_TIMED_OUT).
func (p *partition) awaitHW(ctx context.Context, last int64) error {
	for {
		p.mu.Lock()
		ch := p.hwChanged
		done, err := p.ackStateLocked(last)
		p.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return kerr.RequestTimedOut
		}
	}
}

// setHWLocked moves the high watermark, telling the log (its last stable offset depends on
// it). Caller holds mu.
func (p *partition) setHWLocked(hw int64) {
	p.hw = hw
	p.log.UpdateHighWatermark(hw)
}

// maybeIncrementHWLocked moves the high watermark to the smallest log end offset in the ISR
// (Kafka's Partition.maybeIncrementLeaderHW). Caller holds mu and is leader.
func (p *partition) maybeIncrementHWLocked() bool {
	newHW := p.log.LogEndOffset()
	for _, id := range p.isr {
		if id == p.self {
			continue
		}
		f := p.followers[id]
		if f == nil || f.leo < 0 {
			return false // an ISR member we know nothing of yet holds the HW still
		}
		if f.leo < newHW {
			newHW = f.leo
		}
	}
	if newHW > p.hw {
		p.setHWLocked(newHW)
		return true
	}
	return false
}

// highWatermark returns the current high watermark.
func (p *partition) highWatermark() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hw
}

// notEnoughReplicasLocked is Kafka's NotEnoughReplicasException, naming the ISR and the
// setting that refused the write. Caller holds mu.
func (p *partition) notEnoughReplicasLocked() error {
	isr := make([]string, len(p.isr))
	for i, id := range p.isr {
		isr[i] = strconv.Itoa(int(id))
	}
	return errorf(kerr.NotEnoughReplicas, "The size of the current ISR Set(%s) is insufficient to satisfy the min.isr requirement of %d for partition %s-%d (min.insync.replicas)",
		strings.Join(isr, ", "), p.config.minInsyncReplicas, p.tp.topic, p.tp.partition)
}
