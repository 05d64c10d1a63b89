package transaction

import (
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's TransactionMetadata: one transactional id's state, and the transitions between
// states (TransactionState.validPreviousStates).

// State is a transaction's state, numbered as in __transaction_state.
type State = kmsg.TransactionState

const (
	Empty             = kmsg.TransactionStateEmpty
	Ongoing           = kmsg.TransactionStateOngoing
	PrepareCommit     = kmsg.TransactionStatePrepareCommit
	PrepareAbort      = kmsg.TransactionStatePrepareAbort
	CompleteCommit    = kmsg.TransactionStateCompleteCommit
	CompleteAbort     = kmsg.TransactionStateCompleteAbort
	Dead              = kmsg.TransactionStateDead
	PrepareEpochFence = kmsg.TransactionStatePrepareEpochFence
)

// validPrevious is TransactionState.validPreviousStates: the states each state may follow.
var validPrevious = map[State][]State{
	Empty:          {Empty, CompleteCommit, CompleteAbort},
	Ongoing:        {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:  {Ongoing},
	PrepareAbort:   {Ongoing, PrepareEpochFence},
	CompleteCommit: {PrepareCommit},
	CompleteAbort:  {PrepareAbort},
	Dead:           {Empty, CompleteCommit, CompleteAbort},
	// PrepareEpochFence is in memory only; klassik goes from Ongoing to PrepareAbort with the
	// bumped epoch in one write instead.
}

func canFollow(next, prev State) bool {
	for _, s := range validPrevious[next] {
		if s == prev {
			return true
		}
	}
	return false
}

// TopicPartition names one partition of a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// snapshot is the persisted part of a transactional id's state: exactly what one
// __transaction_state record holds (Kafka's TxnTransitMetadata).
type snapshot struct {
	producerID     int64
	producerEpoch  int16
	lastEpoch      int16 // the epoch before the last bump (-1 none): lets a retried InitProducerId through (KIP-360)
	timeoutMs      int32
	state          State
	partitions     map[TopicPartition]struct{}
	startMs        int64 // when the transaction became Ongoing, -1 none
	lastUpdateMs   int64
	pendingMarkers bool // state is PrepareCommit/PrepareAbort: markers still to write
}

func (s snapshot) clone() snapshot {
	c := s
	c.partitions = make(map[TopicPartition]struct{}, len(s.partitions))
	for tp := range s.partitions {
		c.partitions[tp] = struct{}{}
	}
	return c
}

// sortedPartitions lists the partitions by topic, then partition.
func (s snapshot) sortedPartitions() []TopicPartition {
	out := make([]TopicPartition, 0, len(s.partitions))
	for tp := range s.partitions {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func (s snapshot) containsAll(tps []TopicPartition) bool {
	for _, tp := range tps {
		if _, ok := s.partitions[tp]; !ok {
			return false
		}
	}
	return true
}

// txnMetadata is one transactional id's state on its coordinator. mu guards everything below
// it. pending is the state being written to __transaction_state: while it is set, every
// request for the id answers CONCURRENT_TRANSACTIONS (Kafka's pendingState).
type txnMetadata struct {
	id        string
	partition int32 // of __transaction_state

	mu      sync.Mutex
	cur     snapshot
	pending *snapshot
	removed bool // expired or unloaded: a request holding it must look it up again
}

// epochExhausted is TransactionMetadata.isProducerEpochExhausted: the epoch cannot be bumped
// again (Short.MaxValue - 1, leaving room for the fencing bump).
func (s snapshot) epochExhausted() bool { return s.producerEpoch >= 1<<15-2 }

// markersDone is the Complete state that follows a Prepare state.
func markersDone(prepare State) State {
	if prepare == PrepareCommit {
		return CompleteCommit
	}
	return CompleteAbort
}
