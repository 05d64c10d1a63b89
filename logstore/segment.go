package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
)

// Segment files: <base>.log, <base>.index, <base>.timeindex, base offset in 20 digits.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	offsetEntrySize = 8  // int32 relative offset, int32 position
	timeEntrySize   = 12 // int64 timestamp, int32 relative offset
)

func segmentName(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

type offsetEntry struct {
	offset int64 // absolute: the last offset of the batch at pos
	pos    int64
}

type timeEntry struct {
	ts     int64
	offset int64 // absolute
}

// segment is one LogSegment: a .log file of v2 batches and its two sparse indexes, which
// are kept in memory and appended to their files.
//
// Ownership: the Log's writer lock guards everything but size, the index slices and the
// files' lifetime. size is published atomically after the bytes are written; the index
// slices are guarded by imu; files are closed only under the Log's structure lock, which a
// reader holds (shared) for the whole read.
type segment struct {
	fsys FS
	dir  string
	base int64

	log, oidx, tidx File
	txn             *txnIndex    // <base>.txnindex, aborted transactions (txnindex.go)
	size            atomic.Int64 // bytes of whole batches in .log

	imu     sync.RWMutex
	offsets []offsetEntry
	times   []timeEntry

	// Guarded by the Log's writer lock.
	lastOffset    int64 // base-1 when empty
	maxTs         int64 // largest batch maxTimestamp, -1 when none
	maxTsOffset   int64
	firstTs       int64 // maxTimestamp of the first batch (the time roll's reference), -1 if none
	createdMs     int64 // when this process created or first appended to the segment, 0 unknown
	bytesSinceIdx int64
	idxSynced     int // offset index entries known on disk (Flush)
	tidxSynced    int
	oidxWritten   int // entries written to the .index file
	tidxWritten   int
	indexMissing  bool // an index file was absent at open: rebuild it
	txnRebuild    bool // recovered at open: the producer state replay rebuilds its .txnindex
	removed       bool
}

func openSegmentFiles(fsys FS, dir string, base int64, create bool) (*segment, error) {
	s := &segment{fsys: fsys, dir: dir, base: base, lastOffset: base - 1, maxTs: -1, firstTs: -1, maxTsOffset: -1}
	s.txn = newTxnIndex(fsys, segmentName(dir, base, txnIndexSuffix))
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_TRUNC
		// A new segment has no aborted transactions: a file left by an older one goes.
		if err := fsys.Remove(s.txn.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	var err error
	if s.log, err = fsys.OpenFile(segmentName(dir, base, logSuffix), flag, 0o644); err != nil {
		return nil, err
	}
	if !create {
		_, e1 := fsys.Stat(segmentName(dir, base, indexSuffix))
		_, e2 := fsys.Stat(segmentName(dir, base, timeIndexSuffix))
		s.indexMissing = e1 != nil || e2 != nil
	}
	flag |= os.O_CREATE
	if s.oidx, err = fsys.OpenFile(segmentName(dir, base, indexSuffix), flag, 0o644); err != nil {
		s.log.Close()
		return nil, err
	}
	if s.tidx, err = fsys.OpenFile(segmentName(dir, base, timeIndexSuffix), flag, 0o644); err != nil {
		s.log.Close()
		s.oidx.Close()
		return nil, err
	}
	return s, nil
}

func (s *segment) close() error {
	return errors.Join(s.log.Close(), s.oidx.Close(), s.tidx.Close(), s.txn.close())
}

// remove closes and deletes the segment's files.
func (s *segment) remove() error {
	s.removed = true
	err := s.close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		if e := s.fsys.Remove(segmentName(s.dir, s.base, suf)); e != nil && !errors.Is(e, os.ErrNotExist) {
			err = errors.Join(err, e)
		}
	}
	return err
}

func (s *segment) empty() bool { return s.size.Load() == 0 }

// readFull reads len(p) bytes at off.
func readFull(f File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// loadIndexes reads both index files and checks them against a log of logSize bytes (Kafka's
// sanityCheck): whole entries, strictly increasing offsets, increasing positions inside the
// log, non-decreasing timestamps. It reports whether they are sound.
func (s *segment) loadIndexes(logSize int64) (bool, error) {
	ob, err := readAllFile(s.oidx)
	if err != nil {
		return false, err
	}
	tb, err := readAllFile(s.tidx)
	if err != nil {
		return false, err
	}
	if len(ob)%offsetEntrySize != 0 || len(tb)%timeEntrySize != 0 {
		return false, nil
	}
	offs := make([]offsetEntry, 0, len(ob)/offsetEntrySize)
	for i := 0; i < len(ob); i += offsetEntrySize {
		rel := int32(binary.BigEndian.Uint32(ob[i:]))
		pos := int32(binary.BigEndian.Uint32(ob[i+4:]))
		e := offsetEntry{s.base + int64(rel), int64(pos)}
		if rel < 0 || pos < 0 || e.pos >= logSize {
			return false, nil
		}
		if n := len(offs); n > 0 && (e.offset <= offs[n-1].offset || e.pos <= offs[n-1].pos) {
			return false, nil
		}
		offs = append(offs, e)
	}
	times := make([]timeEntry, 0, len(tb)/timeEntrySize)
	for i := 0; i < len(tb); i += timeEntrySize {
		e := timeEntry{int64(binary.BigEndian.Uint64(tb[i:])), s.base + int64(int32(binary.BigEndian.Uint32(tb[i+8:])))}
		if e.offset < s.base {
			return false, nil
		}
		if n := len(times); n > 0 && (e.ts < times[n-1].ts || e.offset < times[n-1].offset) {
			return false, nil
		}
		times = append(times, e)
	}
	if len(offs) > 0 && len(times) > 0 && times[len(times)-1].offset > offs[len(offs)-1].offset+math.MaxInt32 {
		return false, nil
	}
	s.imu.Lock()
	s.offsets, s.times = offs, times
	s.imu.Unlock()
	s.oidxWritten, s.tidxWritten = len(offs), len(times)
	s.idxSynced, s.tidxSynced = len(offs), len(times)
	return true, nil
}

func readAllFile(f File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if size == 0 {
		return b, nil
	}
	return b, readFull(f, b, 0)
}

// lookup returns the position of a batch at or before the one holding offset.
func (s *segment) lookup(offset int64) int64 {
	s.imu.RLock()
	defer s.imu.RUnlock()
	i := sort.Search(len(s.offsets), func(i int) bool { return s.offsets[i].offset > offset })
	if i == 0 {
		return 0
	}
	return s.offsets[i-1].pos
}

// lookupTime returns the offset of the last time index entry whose timestamp is below ts
// (every record at or before it is older than ts), or base-1.
func (s *segment) lookupTime(ts int64) int64 {
	s.imu.RLock()
	defer s.imu.RUnlock()
	i := sort.Search(len(s.times), func(i int) bool { return s.times[i].ts >= ts })
	if i == 0 {
		return s.base - 1
	}
	return s.times[i-1].offset
}

const scanChunk = 8 << 10

// scan walks the batch headers in [from, to), calling fn with each header and its position
// until fn returns false. It checks only the framing: a header that is not a v2 header or
// whose batch would cross to is errTorn.
func (s *segment) scan(from, to int64, fn func(h BatchHeader, pos int64) bool) error {
	buf := make([]byte, scanChunk)
	var bufPos, bufLen int64 = 0, 0 // buf holds [bufPos, bufPos+bufLen)
	for pos := from; pos < to; {
		if pos+BatchHeaderSize > to {
			return errTorn
		}
		if pos < bufPos || pos+BatchHeaderSize > bufPos+bufLen {
			n := min(int64(len(buf)), to-pos)
			if err := readFull(s.log, buf[:n], pos); err != nil {
				return err
			}
			bufPos, bufLen = pos, n
		}
		h, err := ParseBatchHeader(buf[pos-bufPos : pos-bufPos+BatchHeaderSize])
		if err != nil || h.Length < minBatchLength || pos+int64(h.Size()) > to || h.LastOffsetDelta < 0 {
			return errTorn
		}
		if !fn(h, pos) {
			return nil
		}
		pos += int64(h.Size())
	}
	return nil
}

var errTorn = errors.New("logstore: torn or invalid batch")

// findBatch returns the position and header of the first batch in [from, to) whose last
// offset is at or after offset.
func (s *segment) findBatch(offset, from, to int64) (int64, BatchHeader, bool, error) {
	var (
		found bool
		fh    BatchHeader
		fpos  int64
	)
	err := s.scan(from, to, func(h BatchHeader, pos int64) bool {
		if h.LastOffset() >= offset {
			found, fh, fpos = true, h, pos
			return false
		}
		return true
	})
	return fpos, fh, found, err
}

// noteBatch updates the in-memory bookkeeping for a batch at pos (append and rebuild) and
// adds index entries by Kafka's rule: an entry when more than interval bytes were appended
// since the last one, keyed by the batch's last offset; the time index gets the largest
// timestamp so far when it grew.
func (s *segment) noteBatch(h BatchHeader, pos int64, interval int64) {
	if s.lastOffset < s.base { // first batch
		s.firstTs = h.MaxTimestamp
	}
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.LastOffset()
	}
	if s.bytesSinceIdx > interval {
		s.imu.Lock()
		s.offsets = append(s.offsets, offsetEntry{h.LastOffset(), pos})
		if s.maxTs >= 0 && (len(s.times) == 0 || s.maxTs > s.times[len(s.times)-1].ts) {
			s.times = append(s.times, timeEntry{s.maxTs, s.maxTsOffset})
		}
		s.imu.Unlock()
		s.bytesSinceIdx = 0
	}
	s.bytesSinceIdx += int64(h.Size())
	s.lastOffset = h.LastOffset()
}

// writeIndexes appends the index entries not yet in the files.
func (s *segment) writeIndexes() error {
	s.imu.RLock()
	oes := s.offsets[s.oidxWritten:]
	tes := s.times[s.tidxWritten:]
	s.imu.RUnlock()
	if len(oes) > 0 {
		b := make([]byte, 0, len(oes)*offsetEntrySize)
		for _, e := range oes {
			b = binary.BigEndian.AppendUint32(b, uint32(e.offset-s.base))
			b = binary.BigEndian.AppendUint32(b, uint32(e.pos))
		}
		if _, err := s.oidx.WriteAt(b, int64(s.oidxWritten)*offsetEntrySize); err != nil {
			return err
		}
		s.oidxWritten += len(oes)
	}
	if len(tes) > 0 {
		b := make([]byte, 0, len(tes)*timeEntrySize)
		for _, e := range tes {
			b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
			b = binary.BigEndian.AppendUint32(b, uint32(e.offset-s.base))
		}
		if _, err := s.tidx.WriteAt(b, int64(s.tidxWritten)*timeEntrySize); err != nil {
			return err
		}
		s.tidxWritten += len(tes)
	}
	return nil
}

// append writes whole batches (already validated and stamped) at the end of the segment and
// publishes the new size.
func (s *segment) append(data []byte, hdrs []BatchHeader, interval int64) error {
	end, err := s.write(data, hdrs, interval)
	if err != nil {
		return err
	}
	s.size.Store(end)
	return nil
}

// write writes whole batches past the published size, with their index entries, and returns
// the end position to publish: readers do not see the bytes until the caller stores it in
// size. After an error nothing is published (the log goes offline: the in-memory index may
// then hold entries past the size, which no one reads).
func (s *segment) write(data []byte, hdrs []BatchHeader, interval int64) (int64, error) {
	pos := s.size.Load()
	if _, err := s.log.WriteAt(data, pos); err != nil {
		return 0, err
	}
	p := pos
	for _, h := range hdrs {
		s.noteBatch(h, p, interval)
		p += int64(h.Size())
	}
	if err := s.writeIndexes(); err != nil {
		return 0, err
	}
	return p, nil
}

// sealTimeIndex adds a last time index entry holding the segment's largest timestamp, as
// Kafka does when a segment stops being active, so it can be read back from the index.
func (s *segment) sealTimeIndex() error {
	s.imu.Lock()
	if s.maxTs >= 0 && (len(s.times) == 0 || s.maxTs > s.times[len(s.times)-1].ts) {
		s.times = append(s.times, timeEntry{s.maxTs, s.maxTsOffset})
	}
	s.imu.Unlock()
	return s.writeIndexes()
}

// loadTail fills lastOffset, maxTs, firstTs and bytesSinceIdx of a segment whose indexes
// were loaded and trusted, by scanning the headers after the last offset index entry. It
// returns errTorn when the log does not end on a batch boundary there.
func (s *segment) loadTail(logSize int64) error {
	s.imu.RLock()
	var from int64
	if n := len(s.offsets); n > 0 {
		from = s.offsets[n-1].pos
	}
	if n := len(s.times); n > 0 {
		s.maxTs, s.maxTsOffset = s.times[n-1].ts, s.times[n-1].offset
	}
	s.imu.RUnlock()
	if logSize > 0 {
		var hb [BatchHeaderSize]byte
		if err := readFull(s.log, hb[:], 0); err != nil {
			return errTorn
		}
		h, err := ParseBatchHeader(hb[:])
		if err != nil {
			return errTorn
		}
		s.firstTs = h.MaxTimestamp
	}
	s.bytesSinceIdx = logSize - from
	err := s.scan(from, logSize, func(h BatchHeader, _ int64) bool {
		if h.MaxTimestamp > s.maxTs {
			s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.LastOffset()
		}
		s.lastOffset = h.LastOffset()
		return true
	})
	if err != nil {
		return err
	}
	if s.lastOffset < s.base-1 || s.lastOffset-s.base > math.MaxInt32 {
		return errTorn
	}
	s.imu.RLock()
	if n := len(s.offsets); n > 0 && s.offsets[n-1].offset > s.lastOffset {
		err = errTorn
	}
	if n := len(s.times); n > 0 && s.times[n-1].offset > s.lastOffset {
		err = errTorn
	}
	s.imu.RUnlock()
	if err != nil {
		return err
	}
	s.size.Store(logSize)
	return nil
}

// recover is LogSegment.recover: it validates every batch from the start (framing, magic,
// CRC, offsets increasing and within the segment's range), rebuilds both indexes, and
// truncates the file at the first invalid batch. onBatch sees every valid batch. It returns
// the number of bytes truncated.
func (s *segment) recover(interval int64, onBatch func(BatchHeader)) (int64, error) {
	fileSize, err := s.log.Size()
	if err != nil {
		return 0, err
	}
	s.imu.Lock()
	s.offsets, s.times = nil, nil
	s.imu.Unlock()
	s.lastOffset, s.maxTs, s.maxTsOffset, s.firstTs, s.bytesSinceIdx = s.base-1, -1, -1, -1, 0
	s.oidxWritten, s.tidxWritten, s.idxSynced, s.tidxSynced = 0, 0, 0, 0

	buf := make([]byte, 1<<20)
	var bufPos, bufLen int64
	pos := int64(0)
	for pos < fileSize {
		if pos+BatchHeaderSize > fileSize {
			break
		}
		if pos+BatchHeaderSize > bufPos+bufLen {
			n := min(int64(len(buf)), fileSize-pos)
			if err := readFull(s.log, buf[:n], pos); err != nil {
				return 0, err
			}
			bufPos, bufLen = pos, n
		}
		h, err := ParseBatchHeader(buf[pos-bufPos:])
		if err != nil || h.Length < minBatchLength || pos+int64(h.Size()) > fileSize {
			break
		}
		size := int64(h.Size())
		if pos+size > bufPos+bufLen {
			if size > int64(len(buf)) {
				buf = make([]byte, size)
			}
			n := min(int64(len(buf)), fileSize-pos)
			if err := readFull(s.log, buf[:n], pos); err != nil {
				return 0, err
			}
			bufPos, bufLen = pos, n
		}
		if _, err := CheckBatch(buf[pos-bufPos : pos-bufPos+size]); err != nil {
			break
		}
		if h.BaseOffset <= s.lastOffset || h.BaseOffset < s.base || h.LastOffset()-s.base > math.MaxInt32 {
			break
		}
		s.noteBatch(h, pos, interval)
		if onBatch != nil {
			onBatch(h)
		}
		pos += size
	}
	truncated := fileSize - pos
	if truncated > 0 {
		if err := s.log.Truncate(pos); err != nil {
			return 0, err
		}
	}
	if err := s.oidx.Truncate(0); err != nil {
		return 0, err
	}
	if err := s.tidx.Truncate(0); err != nil {
		return 0, err
	}
	if err := s.writeIndexes(); err != nil {
		return 0, err
	}
	s.size.Store(pos)
	return truncated, nil
}

// truncateTo removes every batch whose last offset is at or after offset (the batch holding
// offset goes whole) and returns the number of bytes removed.
func (s *segment) truncateTo(offset int64) (int64, error) {
	size := s.size.Load()
	pos, h, found, err := s.findBatch(offset, s.lookup(offset), size)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, nil
	}
	if err := s.log.Truncate(pos); err != nil {
		return 0, err
	}
	s.imu.Lock()
	oi := sort.Search(len(s.offsets), func(i int) bool { return s.offsets[i].pos >= pos })
	ti := sort.Search(len(s.times), func(i int) bool { return s.times[i].offset >= h.BaseOffset })
	s.offsets, s.times = s.offsets[:oi], s.times[:ti]
	s.imu.Unlock()
	if s.oidxWritten > oi {
		s.oidxWritten = oi
		if err := s.oidx.Truncate(int64(oi) * offsetEntrySize); err != nil {
			return 0, err
		}
	}
	if s.tidxWritten > ti {
		s.tidxWritten = ti
		if err := s.tidx.Truncate(int64(ti) * timeEntrySize); err != nil {
			return 0, err
		}
	}
	s.idxSynced, s.tidxSynced = min(s.idxSynced, oi), min(s.tidxSynced, ti)
	s.lastOffset, s.maxTs, s.maxTsOffset, s.firstTs = s.base-1, -1, -1, -1
	if err := s.loadTail(pos); err != nil {
		return 0, err
	}
	if err := s.txn.truncateTo(s.lastOffset + 1); err != nil {
		return 0, err
	}
	return size - pos, nil
}

func (s *segment) sync() error {
	return errors.Join(s.log.Sync(), s.oidx.Sync(), s.tidx.Sync(), s.txn.sync())
}
