package logstore

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/klassik/klassik/record"
)

// Log compaction (Kafka's LogCleaner and Cleaner, simplified) for cleanup.policy=compact and
// "compact,delete".
//
// A log is split at the cleaner checkpoint, firstDirty: below it the log was cleaned by an
// earlier pass (the clean section), from it to the first uncleanable segment it was not (the
// dirty section). The first uncleanable segment is the active one, or the first holding
// offsets at or above the high watermark (what is not committed may be truncated, and must
// not decide what older records go), or the first newer than min.compaction.lag.ms. A pass
// runs when the dirty section is at least min.cleanable.dirty.ratio of the cleanable log:
//
//  1. it builds a map key -> offset of the latest record for that key over the dirty section
//     (bounded: past maxMapKeys keys it stops at a segment boundary, and the rest waits for
//     the next pass);
//  2. it rewrites every segment from the log start to the end of that section, in groups of
//     consecutive segments whose sizes add up to at most segment.bytes, each group into one
//     new segment at the group's base offset. A record stays when its key is not in the map or
//     its offset is at least the map's (Kafka's rule), unless it is a tombstone (null value)
//     in a segment that was already clean before this pass and whose newest timestamp is more
//     than delete.retention.ms old. Records without a key go (the produce path rejects them
//     for compacted topics). Control batches are kept or dropped whole, and the batches of
//     aborted transactions go (cleaner_txn.go tells the rules for transactions).
//
// Batches keep their base offset and lastOffsetDelta, so surviving records keep their
// offsets; a batch that keeps every record is copied byte for byte, one that keeps some is
// re-encoded with the same codec (recompressed) and a new CRC, one that keeps none is dropped.
// Unlike Kafka, an emptied batch of an idempotent producer is not kept as an empty header:
// followers here reject batches without records; producer state lives in the snapshots.
//
// A group is written to <base>.log.cleaned (.index.cleaned, .timeindex.cleaned) and fsynced
// without any lock of the log: the cleaner reads the old segments through its own file
// handles. Then, under the writer lock, it checks the group is unchanged (no truncation, no
// retention, not active) and swaps, as Kafka's replaceSegments:
//
//	.cleaned -> .swap (indexes first, .log last), sync dir   the commit point
//	remove the group's other segments, sync dir
//	.swap -> final names (over the group's first segment), sync dir
//
// and, under the structure lock that readers hold for a whole read, replaces the segments in
// the list: no reader ever holds a closed file. A group that cleans to nothing is removed
// outright, unless it starts the log (its empty segment stays to keep the log start).
//
// Open completes a crash mid-swap (completeSwaps): .cleaned files are deleted; a .log.swap
// replaces the segments whose base offsets lie in its range [base, last offset] and is
// renamed into place. A segment left over past that range holds only old, uncleaned records:
// valid, and cleaned again by the next pass.

// CleanerCheckpointFile is Kafka's per-log-dir cleaner checkpoint: "topic partition offset"
// lines, the first dirty offset of every compacted log.
const CleanerCheckpointFile = "cleaner-offset-checkpoint"

const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

// maxMapKeys bounds the offset map of one pass (Kafka's log.cleaner.dedupe.buffer.size).
var maxMapKeys = 1 << 20

// errCleanAbandoned: the log changed under a pass (truncation, retention, close).
var errCleanAbandoned = errors.New("logstore: clean abandoned, the log changed")

// CompactStats describes one Compact call.
type CompactStats struct {
	FirstDirty        int64 // the dirty section cleaned: [FirstDirty, EndOffset)
	EndOffset         int64
	SegmentsRead      int
	SegmentsWritten   int
	BytesRead         int64
	BytesWritten      int64
	RecordsRead       int64
	RecordsRemoved    int64
	TombstonesRemoved int64
	AbortedRemoved    int64 // records of aborted transactions removed
	MarkersRemoved    int64 // transaction markers removed
	Cleaned           bool  // a pass ran
}

// cleanSource is one segment a pass reads, with the cleaner's own handle on its .log file.
type cleanSource struct {
	seg       *segment
	f         File
	size      int64
	end       int64 // the next segment's base: the segment holds offsets below it
	largestTs int64
}

type cleanPlan struct {
	txn             *txnClean
	decompressLimit int // cap on one batch's decompressed records (max.message.bytes based)
	srcs            []cleanSource
	firstDirty      int64
	firstIdx        int // first source of the dirty section
	truncations     int64
}

func (p *cleanPlan) close() {
	for _, s := range p.srcs {
		s.f.Close()
	}
}

// Compact runs one pass of the log cleaner when the log's cleanup.policy holds compact and
// enough of it is dirty (see above). It may run beside appends, reads, retention and
// truncation; concurrent Compact calls are serialised. highWatermark bounds what is cleaned.
// A pass that finds the log changed under it stops without error; the next one resumes.
func (l *Log) Compact(nowMs, highWatermark int64) (CompactStats, error) {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	cfg := l.config()
	if !cfg.compacts() {
		return CompactStats{}, nil
	}
	// Nothing at or above the last stable offset is cleaned: what is there may belong to a
	// transaction that has not ended (Kafka's firstUncleanableDirtyOffset).
	p, err := l.planClean(cfg, nowMs, l.LastStableOffset(highWatermark))
	if err != nil || p == nil {
		return CompactStats{}, err
	}
	defer p.close()
	st := CompactStats{FirstDirty: p.firstDirty, Cleaned: true}

	// 1. The offset map over the dirty section.
	keys := map[string]int64{}
	end := p.firstIdx
	for end < len(p.srcs) {
		if end > p.firstIdx && len(keys) >= maxMapKeys {
			break
		}
		src := p.srcs[end]
		err := forEachStoredBatch(src.f, src.size, func(h BatchHeader, b []byte) error {
			if h.Control() || h.LastOffset() < p.firstDirty || p.txn.isAborted(h) {
				return nil
			}
			recs, err := decodeRecords(h, b, p.decompressLimit)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Key != nil && r.Offset >= p.firstDirty {
					keys[string(r.Key)] = r.Offset
				}
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("logstore: cleaner reading segment %d: %w", src.seg.base, err)
		}
		end++
	}
	st.EndOffset = p.firstDirty
	if end > 0 {
		st.EndOffset = max(p.srcs[end-1].end, p.firstDirty)
	}

	// 2. Rewrite [log start, end of the dirty section) group by group.
	var due int64
	srcs := p.srcs[:end]
	for i := 0; i < len(srcs); {
		j := i + 1
		size := srcs[i].size
		for j < len(srcs) && size+srcs[j].size <= cfg.SegmentBytes && srcs[j].end-1-srcs[i].seg.base <= math.MaxInt32 {
			size += srcs[j].size
			j++
		}
		d, err := l.cleanGroup(p, srcs[i:j], keys, nowMs, cfg, &st)
		if errors.Is(err, errCleanAbandoned) {
			l.logger.Info().Msg("log changed during cleaning, the pass stops")
			return st, nil
		}
		if err != nil {
			return st, err
		}
		if d > 0 && (due == 0 || d < due) {
			due = d
		}
		i = j
	}

	l.wmu.Lock()
	if !l.closed.Load() && l.truncations.Load() == p.truncations {
		l.firstDirty.Store(max(l.firstDirty.Load(), st.EndOffset))
		l.tombstoneDue.Store(due)
	}
	l.wmu.Unlock()
	l.logger.Info().Int64("first_dirty", st.FirstDirty).Int64("end_offset", st.EndOffset).
		Int("segments_read", st.SegmentsRead).Int("segments_written", st.SegmentsWritten).
		Int64("bytes_read", st.BytesRead).Int64("bytes_written", st.BytesWritten).
		Int64("records_removed", st.RecordsRemoved).Int64("tombstones_removed", st.TombstonesRemoved).
		Int64("aborted_removed", st.AbortedRemoved).Int64("markers_removed", st.MarkersRemoved).
		Msg("cleaned log")
	return st, nil
}

// planClean picks the cleanable segments under the writer lock and opens the cleaner's own
// handles on them. It returns nil when there is nothing to do.
func (l *Log) planClean(cfg Config, nowMs, hw int64) (*cleanPlan, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	segs := l.segs
	k := 0
	for k < len(segs)-1 {
		if segs[k+1].base > hw {
			break
		}
		if cfg.MinCompactionLagMs > 0 && nowMs-l.largestTimestamp(segs[k]) < cfg.MinCompactionLagMs {
			break
		}
		k++
	}
	if k == 0 {
		return nil, nil
	}
	firstDirty := min(max(l.firstDirty.Load(), segs[0].base), segs[k].base)
	firstIdx := sort.Search(k, func(i int) bool { return segs[i+1].base > firstDirty })
	var total, dirty int64
	for i := 0; i < k; i++ {
		total += segs[i].size.Load()
		if i >= firstIdx {
			dirty += segs[i].size.Load()
		}
	}
	if firstIdx == k {
		// Nothing dirty: clean the clean section again only when tombstones may be due.
		if due := l.tombstoneDue.Load(); due == 0 || nowMs < due {
			return nil, nil
		}
	} else if total > 0 && float64(dirty)/float64(total) < cfg.MinCleanableDirtyRatio {
		return nil, nil
	}
	p := &cleanPlan{txn: l.newTxnClean(), decompressLimit: decompressLimit(cfg.MaxMessageBytes), firstDirty: firstDirty, firstIdx: firstIdx, truncations: l.truncations.Load()}
	for i := 0; i < k; i++ {
		s := segs[i]
		f, err := l.fsys.OpenFile(segmentName(l.dirPath(), s.base, logSuffix), os.O_RDONLY, 0)
		if err != nil {
			p.close()
			return nil, err
		}
		p.srcs = append(p.srcs, cleanSource{seg: s, f: f, size: s.size.Load(), end: segs[i+1].base, largestTs: l.largestTimestamp(s)})
	}
	return p, nil
}

// cleanGroup writes the cleaned form of grp and swaps it in. It returns when retained
// tombstones of the group become removable (0: none).
func (l *Log) cleanGroup(p *cleanPlan, grp []cleanSource, keys map[string]int64, nowMs int64, cfg Config, st *CompactStats) (int64, error) {
	base := grp[0].seg.base
	out, err := createCleaned(l.fsys, l.dirPath(), base)
	if err != nil {
		return 0, err
	}
	discard := func() {
		out.close()
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			l.fsys.Remove(segmentName(l.dirPath(), base, suf) + cleanedSuffix)
		}
	}
	interval := int64(cfg.IndexIntervalBytes)
	var (
		chunk   []byte
		hdrs    []BatchHeader
		removed int64
		due     int64
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := out.append(chunk, hdrs, interval)
		chunk, hdrs = chunk[:0], hdrs[:0]
		return err
	}
	for _, src := range grp {
		wasClean := src.end <= p.firstDirty
		horizon := nowMs - cfg.DeleteRetentionMs
		dropTombstones := wasClean && src.largestTs < horizon
		keep := func(r record.Record) bool {
			if r.Key == nil {
				return false
			}
			if o, ok := keys[string(r.Key)]; ok && r.Offset < o {
				return false
			}
			if r.Tombstone() {
				if dropTombstones {
					st.TombstonesRemoved++
					return false
				}
				if d := src.largestTs + cfg.DeleteRetentionMs + 1; due == 0 || d < due {
					due = max(d, 1)
				}
			}
			return true
		}
		var entries []AbortedTxn // of the ABORT markers kept
		err := forEachStoredBatch(src.f, src.size, func(h BatchHeader, b []byte) error {
			if _, err := CheckBatch(b); err != nil {
				return err
			}
			if h.Control() {
				drop, e, err := p.txn.onControl(h, b, dropTombstones)
				if err != nil {
					return err
				}
				if drop {
					st.RecordsRead += int64(h.NumRecords)
					st.MarkersRemoved++
					removed += int64(h.NumRecords)
					return nil
				}
				if e != nil {
					entries = append(entries, *e)
				}
				if d := src.largestTs + cfg.DeleteRetentionMs + 1; due == 0 || d < due {
					due = max(d, 1) // a kept marker may go once its segment is past the horizon
				}
			} else if p.txn.onData(h) {
				st.RecordsRead += int64(h.NumRecords)
				st.AbortedRemoved += int64(h.NumRecords)
				removed += int64(h.NumRecords)
				return nil
			}
			nb, kept, total, err := filterBatch(h, b, decompressLimit(cfg.MaxMessageBytes), keep)
			if err != nil {
				return err
			}
			st.RecordsRead += int64(total)
			removed += int64(total - kept)
			if nb == nil {
				return nil
			}
			nh, err := ParseBatchHeader(nb)
			if err != nil {
				return err
			}
			chunk = append(chunk, nb...)
			hdrs = append(hdrs, nh)
			if len(chunk) >= 1<<20 {
				return flush()
			}
			return nil
		})
		if err != nil {
			discard()
			return 0, fmt.Errorf("logstore: cleaner reading segment %d: %w", src.seg.base, err)
		}
		st.SegmentsRead++
		st.BytesRead += src.size
		if err := flush(); err != nil {
			discard()
			return 0, err
		}
		for _, e := range entries {
			if err := out.txn.append(e); err != nil {
				discard()
				return 0, err
			}
		}
	}
	st.RecordsRemoved += removed
	err = flush()
	if err == nil {
		err = out.sealTimeIndex()
	}
	if err == nil {
		err = out.sync()
	}
	if err != nil {
		discard()
		return 0, err
	}
	if removed == 0 && len(grp) == 1 {
		discard() // nothing to gain from a swap
		return due, nil
	}
	size := out.size.Load()
	if err := out.close(); err != nil {
		discard()
		return 0, err
	}
	if err := l.swapCleaned(p, grp, size); err != nil {
		discard()
		return 0, err
	}
	st.SegmentsWritten++
	st.BytesWritten += size
	return due, nil
}

// createCleaned opens a segment writing the .cleaned files of base.
func createCleaned(fsys FS, dir string, base int64) (*segment, error) {
	s := &segment{fsys: fsys, dir: dir, base: base, lastOffset: base - 1, maxTs: -1, firstTs: -1, maxTsOffset: -1}
	flag := os.O_RDWR | os.O_CREATE | os.O_TRUNC
	var files [4]File
	for i, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		f, err := fsys.OpenFile(segmentName(dir, base, suf)+cleanedSuffix, flag, 0o644)
		if err != nil {
			for _, g := range files[:i] {
				g.Close()
			}
			return nil, err
		}
		files[i] = f
	}
	s.log, s.oidx, s.tidx = files[0], files[1], files[2]
	// The cleaned segment always has a .txnindex, empty or not, so a swap replaces the old one.
	s.txn = newTxnIndex(fsys, segmentName(dir, base, txnIndexSuffix)+cleanedSuffix)
	s.txn.f = files[3]
	return s, nil
}

// swapCleaned replaces the segments of grp by the cleaned files of grp[0]'s base, under the
// writer lock, after checking that the log did not change under the pass.
func (l *Log) swapCleaned(p *cleanPlan, grp []cleanSource, size int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() || l.truncations.Load() != p.truncations {
		return errCleanAbandoned
	}
	pos := -1
	for i, s := range l.segs {
		if s == grp[0].seg {
			pos = i
			break
		}
	}
	if pos < 0 || pos+len(grp) >= len(l.segs) {
		return errCleanAbandoned
	}
	for j, src := range grp {
		s := l.segs[pos+j]
		if s != src.seg || s.removed || s.size.Load() != src.size {
			return errCleanAbandoned
		}
	}
	base := grp[0].seg.base
	name := func(suf string) string { return segmentName(l.dirPath(), base, suf) }
	rest := append([]*segment(nil), l.segs[pos+len(grp):]...)

	if size == 0 && pos > 0 {
		// The group cleaned to nothing: its segments go.
		l.smu.Lock()
		var err error
		for _, src := range grp {
			err = errors.Join(err, src.seg.remove())
		}
		l.segs = append(l.segs[:pos:pos], rest...)
		l.smu.Unlock()
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			l.fsys.Remove(name(suf) + cleanedSuffix)
		}
		return errors.Join(err, l.fsys.SyncDir(l.dirPath()))
	}

	// Commit: .cleaned -> .swap, the .log last.
	for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix} {
		if err := l.fsys.Rename(name(suf)+cleanedSuffix, name(suf)+swapSuffix); err != nil {
			return err
		}
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		return err
	}
	// Past the commit point a failure leaves the log unusable until it is reopened, which
	// completes the swap.
	l.smu.Lock()
	defer l.smu.Unlock()
	var err error
	for _, src := range grp[1:] {
		err = errors.Join(err, src.seg.remove())
	}
	if err == nil {
		err = l.fsys.SyncDir(l.dirPath())
	}
	grp[0].seg.removed = true
	err = errors.Join(err, grp[0].seg.close())
	if err != nil {
		return err
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix} {
		if err := l.fsys.Rename(name(suf)+swapSuffix, name(suf)); err != nil {
			return err
		}
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		return err
	}
	s, err := openSegmentFiles(l.fsys, l.dirPath(), base, false)
	if err != nil {
		return err
	}
	if err := s.txn.load(base); err != nil {
		s.close()
		return err
	}
	ok, err := s.loadIndexes(size)
	if err == nil && ok {
		err = s.loadTail(size)
	}
	if err != nil || !ok {
		if _, err := s.recover(int64(l.config().IndexIntervalBytes), nil); err != nil {
			s.close()
			return err
		}
	}
	l.segs = append(append(l.segs[:pos:pos], s), rest...)
	return nil
}

// forEachStoredBatch walks the whole batches of the first size bytes of a segment file.
func forEachStoredBatch(f File, size int64, fn func(BatchHeader, []byte) error) error {
	buf := make([]byte, min(size, 1<<20))
	var bufPos, bufLen int64
	for pos := int64(0); pos < size; {
		if pos+BatchHeaderSize > size {
			return errTorn
		}
		if pos+BatchHeaderSize > bufPos+bufLen {
			n := min(int64(len(buf)), size-pos)
			if err := readFull(f, buf[:n], pos); err != nil {
				return err
			}
			bufPos, bufLen = pos, n
		}
		h, err := ParseBatchHeader(buf[pos-bufPos:])
		if err != nil || h.Length < minBatchLength || pos+int64(h.Size()) > size {
			return errTorn
		}
		n := int64(h.Size())
		if pos+n > bufPos+bufLen {
			if n > int64(len(buf)) {
				buf = make([]byte, n)
			}
			m := min(int64(len(buf)), size-pos)
			if err := readFull(f, buf[:m], pos); err != nil {
				return err
			}
			bufPos, bufLen = pos, m
		}
		if err := fn(h, buf[pos-bufPos:pos-bufPos+n]); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// CleanerCheckpoint is the cleaner's first dirty offset as it may be checkpointed: never
// above the recovery point, so a checkpoint cannot claim cleaned what a crash may lose.
func (l *Log) CleanerCheckpoint() int64 {
	return max(min(l.firstDirty.Load(), l.recoveryPoint.Load()), l.logStart.Load())
}
