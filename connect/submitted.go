package connect

import "sync"

// submitted tracks a source task's records between send and commit, as Kafka's
// SubmittedRecords: records are appended in the order they were read; the producer
// acknowledges them in any order; the offset to commit is that of the last record of the
// acknowledged prefix, so a committed position never passes a record the broker has not
// acknowledged. Safe for concurrent use (the producer's callbacks ack from its goroutine).
type submitted struct {
	mu      sync.Mutex
	records []*submittedRecord // oldest first
	head    int                // records[:head] were committed and are dropped on the next compaction
}

type submittedRecord struct {
	offset int64
	acked  bool
}

// submit notes a record whose source offset, once committed, is offset.
func (s *submitted) submit(offset int64) *submittedRecord {
	r := &submittedRecord{offset: offset}
	s.mu.Lock()
	s.records = append(s.records, r)
	s.mu.Unlock()
	return r
}

// ack marks a record acknowledged by the broker.
func (s *submitted) ack(r *submittedRecord) {
	s.mu.Lock()
	r.acked = true
	s.mu.Unlock()
}

// committable removes the acknowledged prefix and returns its last offset and length;
// ok is false when the oldest record is not acknowledged yet.
func (s *submitted) committable() (offset int64, n int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.head < len(s.records) && s.records[s.head].acked {
		offset, ok = s.records[s.head].offset, true
		s.head++
		n++
	}
	if s.head > 0 && (s.head == len(s.records) || s.head > 1024) {
		s.records = append([]*submittedRecord(nil), s.records[s.head:]...)
		s.head = 0
	}
	return offset, n, ok
}

// pending is the number of records submitted and not yet committed.
func (s *submitted) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records) - s.head
}
