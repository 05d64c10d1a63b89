package streams

// store is the key-value store of one task of sub-topology 1: word -> count, in memory (Kafka
// Streams' InMemoryKeyValueStore, where WordCountDemo's default is a RocksDB store on local
// disk). Its memory grows with the vocabulary of its partition, as a Kafka Streams store does.
//
// Under exactly_once_v2 a store is changed inside a transaction that may abort; it keeps the
// value each word had before the transaction began (undo), so that rollback puts back the
// state that matches the changelog and the committed offsets, and the aborted records can be
// processed again. Kafka Streams gets there by wiping the task's state and restoring it from
// the changelog; with an in-memory store the undo log is the cheaper equal.
//
// Ownership: a store is touched by the processing loop between a poll and the end of its
// transaction, and created and dropped by the rebalance callbacks, which franz-go runs only
// outside that window (BlockRebalanceOnPoll); thread.mu orders the two.
type store struct {
	counts map[string]int64
	undo   map[string]prior // the values before the open transaction, for the words it changed
}

// prior is a word's value before the open transaction: absent, or n.
type prior struct {
	n       int64
	present bool
}

func newStore(counts map[string]int64) *store {
	if counts == nil {
		counts = map[string]int64{}
	}
	return &store{counts: counts, undo: map[string]prior{}}
}

// increment adds one to word's count and returns the new count (KStreamAggregate with
// count()'s initializer 0 and aggregator +1).
func (s *store) increment(word string) int64 {
	old, ok := s.counts[word]
	if _, saved := s.undo[word]; !saved {
		s.undo[word] = prior{n: old, present: ok}
	}
	s.counts[word] = old + 1
	return old + 1
}

// commit forgets the undo log: the transaction's changes are the state now.
func (s *store) commit() { clear(s.undo) }

// rollback puts back every value the open transaction changed.
func (s *store) rollback() {
	for w, p := range s.undo {
		if p.present {
			s.counts[w] = p.n
		} else {
			delete(s.counts, w)
		}
	}
	clear(s.undo)
}
