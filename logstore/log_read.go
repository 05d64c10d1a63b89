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
// consumers do). The bytes are a fresh copy that the caller owns.
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
			if err != nil || end+bh.Size() > len(buf) || bh.BaseOffset >= maxOffset {
				break
			}
			end += bh.Size()
		}
		return buf[:end], nil
	}
	return nil, nil
}

// FetchOffsetByTimestamp finds the first offset whose timestamp is at or after ts
// (ListOffsets). Kafka's special timestamps work too: -2 (earliest) is the log start, -1
// (latest) the log end, -3 (max timestamp, KIP-734) the last offset of the batch holding the
// largest timestamp; those return timestamp -1 except -3. In a compressed batch, records
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
		if best == nil || best.maxTsOffset < l.logStart.Load() {
			return 0, 0, false, nil
		}
		return best.maxTsOffset, best.maxTs, true, nil
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
	recs := b[BatchHeaderSize:]
	for len(recs) > 0 {
		length, n := varint(recs)
		if n <= 0 || length < 0 || int64(n)+length > int64(len(recs)) {
			break
		}
		r := recs[n : int64(n)+length]
		recs = recs[int64(n)+length:]
		if len(r) < 1 {
			break
		}
		tsDelta, m := varint(r[1:])
		if m <= 0 {
			break
		}
		offDelta, k := varint(r[1+m:])
		if k <= 0 {
			break
		}
		rts, roff := h.BaseTimestamp+tsDelta, h.BaseOffset+offDelta
		if roff >= minOffset && rts >= ts {
			return roff, rts, nil
		}
	}
	return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
}

// varint decodes a zigzag varint as Kafka's records use.
func varint(b []byte) (int64, int) {
	var ux uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		ux |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(ux>>1) ^ -int64(ux&1), i + 1
		}
	}
	return 0, 0
}
