// Reading a log: batches by offset and offsets by timestamp (UnifiedLog.read, fetchOffsetByTimestamp).

package logstore

import (
	"fmt"
	"math"
	"sort"
)

// Read returns whole batches starting with the one holding offset, at most maxBytes of them
// (but at least one whole batch when minOneBatch, KIP-74), none starting at or past maxOffset
// (a negative maxOffset is no limit). An offset below the log start or above the log end is
// ErrOffsetOutOfRange; offset equal to the log end returns nothing. The batches come from
// one segment: a read may return less than maxBytes when a segment ends.
//
// The first batch may start before offset (the caller skips records below it, as Kafka's
// consumers do). The bytes are a fresh copy that the caller owns. Every batch returned passed
// its CRC check; a first batch that fails it is an error wrapping ErrCorruptRecord (Kafka's
// CORRUPT_MESSAGE), never data (see "Corruption in the middle of a log" in doc.go).
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	b, err := l.read(offset, maxBytes, maxOffset, minOneBatch)
	return b, l.fail("read", err)
}

func (l *Log) read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	l.smu.RLock()
	defer l.smu.RUnlock()
	if err := l.usable("read"); err != nil {
		return nil, err
	}
	leo, start := l.leo.Load(), l.logStart.Load()
	if offset < start || offset > leo {
		return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, start, leo)
	}
	if offset == leo {
		return nil, nil
	}
	if maxOffset < 0 {
		maxOffset = math.MaxInt64
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	for i = max(i, 0); i < len(l.segs); i++ {
		s := l.segs[i]
		size := s.size.Load()
		pos, h, found, err := s.findBatch(offset, s.lookup(offset), size)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if h.BaseOffset >= maxOffset {
			return nil, nil
		}
		n := min(int64(max(maxBytes, 0)), size-pos)
		if n < int64(h.Size()) {
			if !minOneBatch {
				return nil, nil
			}
			n = int64(h.Size())
		}
		buf := make([]byte, n)
		if err := readFull(s.log, buf, pos); err != nil {
			return nil, err
		}
		end := 0
		for end+batchLogOverhead <= len(buf) {
			bh, err := ParseBatchHeader(buf[end:])
			if err == nil && (end+bh.Size() > len(buf) || bh.BaseOffset >= maxOffset) {
				break
			}
			if err == nil {
				_, err = CheckBatch(buf[end : end+bh.Size()])
			}
			if err != nil {
				if end > 0 {
					break // serve the valid batches before it; the next read reports it
				}
				// Never served as data: see "Corruption in the middle of a log" in doc.go.
				return nil, fmt.Errorf("%w: %s-%d offset %d: batch at position %d of segment %d: %v",
					ErrCorruptRecord, l.tp.Topic, l.tp.Partition, offset, pos, s.base, err)
			}
			end += bh.Size()
		}
		return buf[:end], nil
	}
	return nil, nil
}

// FetchOffsetByTimestamp finds the first offset whose timestamp is at or after ts
// (ListOffsets). Kafka's special timestamps work too: -2 (earliest) is the log start, -1
// (latest) the log end, -3 (max timestamp, KIP-734) the record with the largest timestamp
// (see maxTimestampRecord); those return timestamp -1 except -3. In a compressed batch, records
// are not decoded: the batch's base offset and max timestamp are returned.
func (l *Log) FetchOffsetByTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return 0, 0, false, ErrClosed
	}
	switch ts {
	case -2:
		return l.logStart.Load(), -1, true, nil
	case -1:
		return l.leo.Load(), -1, true, nil
	case -3:
		var best *segment
		for _, s := range l.segs {
			if s.maxTs >= 0 && (best == nil || s.maxTs > best.maxTs) {
				best = s
			}
		}
		if best == nil {
			return 0, 0, false, nil
		}
		off, err := l.maxTimestampRecord(best)
		if err != nil {
			return 0, 0, false, err
		}
		if off < l.logStart.Load() {
			return 0, 0, false, nil
		}
		return off, best.maxTs, true, nil
	}
	start := l.logStart.Load()
	for _, s := range l.segs {
		if s.maxTs < ts || s.lastOffset < start {
			continue
		}
		below := s.lookupTime(ts) // every record at or before it is older than ts
		from := max(below+1, start)
		var (
			bh   BatchHeader
			bpos int64
			ok   bool
		)
		err := s.scan(s.lookup(from), s.size.Load(), func(h BatchHeader, pos int64) bool {
			if h.LastOffset() >= from && h.MaxTimestamp >= ts {
				bh, bpos, ok = h, pos, true
				return false
			}
			return true
		})
		if err != nil {
			return 0, 0, false, err
		}
		if !ok {
			continue
		}
		off, t, err := l.findRecordByTime(s, bh, bpos, ts, start)
		return off, t, err == nil, err
	}
	return 0, 0, false, nil
}

// findRecordByTime returns the first record at or after minOffset in the batch whose
// timestamp is at least ts.
func (l *Log) findRecordByTime(s *segment, h BatchHeader, pos, ts, minOffset int64) (int64, int64, error) {
	if h.LogAppendTime() || h.Compression() != 0 {
		return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
	}
	b := make([]byte, h.Size())
	if err := readFull(s.log, b, pos); err != nil {
		return 0, 0, err
	}
	// An undecodable batch answers with its header's values, as before the records were
	// looked at (the batch passed its CRC check on append or recovery).
	recs, err := decodeRecords(h, b, len(b))
	if err != nil {
		return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
	}
	for _, r := range recs {
		if r.Offset >= minOffset && r.Timestamp >= ts {
			return r.Offset, r.Timestamp, nil
		}
	}
	return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
}

// maxTimestampRecord finds the offset Kafka 3.6 answers for the largest timestamp of segment
// s (LogSegment's offsetOfMaxTimestampSoFar as LogValidator sets it on the leader): in the
// first batch holding that timestamp, the first record that has it when the batch is
// uncompressed with CreateTime, else the batch's last offset (compressed or LogAppendTime
// batches are not looked into). s.maxTsOffset is that batch's last offset.
func (l *Log) maxTimestampRecord(s *segment) (int64, error) {
	var (
		bh   BatchHeader
		bpos int64
		ok   bool
	)
	err := s.scan(s.lookup(s.maxTsOffset), s.size.Load(), func(h BatchHeader, pos int64) bool {
		if h.LastOffset() >= s.maxTsOffset {
			bh, bpos, ok = h, pos, true
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if !ok || bh.LogAppendTime() || bh.Compression() != 0 {
		return s.maxTsOffset, nil
	}
	b := make([]byte, bh.Size())
	if err := readFull(s.log, b, bpos); err != nil {
		return 0, err
	}
	recs, err := decodeRecords(bh, b, len(b))
	if err != nil || len(recs) == 0 {
		return s.maxTsOffset, nil // as before the records were looked at
	}
	best := 0
	for i, r := range recs {
		if r.Timestamp > recs[best].Timestamp {
			best = i
		}
	}
	return recs[best].Offset, nil
}
