package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Producer state: Kafka's ProducerStateManager / ProducerAppendInfo. Sequences and epochs of
// idempotent and transactional producers, and each producer's open transaction
// (transactions.go tells the transactional part). Owned by the Log and guarded by its writer
// lock.

const producerBatchWindow = 5 // batches remembered per producer for duplicate detection

type producerBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
}

type producerEntry struct {
	epoch      int16
	batches    []producerBatch // oldest first, at most producerBatchWindow
	lastTs     int64
	coordEpoch int32 // epoch of the coordinator that wrote the last marker, -1 none
	txnFirst   int64 // first offset of the open transaction, -1 none
}

func newProducerEntry(epoch int16) *producerEntry {
	return &producerEntry{epoch: epoch, coordEpoch: -1, txnFirst: -1}
}

func (e *producerEntry) clone() *producerEntry {
	c := *e
	c.batches = append([]producerBatch(nil), e.batches...)
	return &c
}

func (e *producerEntry) lastSeq() (int32, bool) {
	if len(e.batches) == 0 {
		return -1, false
	}
	return e.batches[len(e.batches)-1].lastSeq, true
}

// setEpoch moves to epoch, forgetting the old epoch's batches (maybeUpdateProducerEpoch).
func (e *producerEntry) setEpoch(epoch int16) {
	if epoch != e.epoch {
		e.epoch = epoch
		e.batches = e.batches[:0]
	}
}

// add records an appended data batch; a new epoch forgets the old epoch's batches. A
// transactional batch opens the producer's transaction at its base offset unless one is open.
func (e *producerEntry) add(h BatchHeader) {
	e.setEpoch(h.ProducerEpoch)
	if h.Transactional() && e.txnFirst < 0 {
		e.txnFirst = h.BaseOffset
	}
	if len(e.batches) == producerBatchWindow {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:producerBatchWindow-1]
	}
	e.batches = append(e.batches, producerBatch{h.BaseSequence, h.LastSequence(), h.BaseOffset, h.LastOffset()})
	e.lastTs = h.MaxTimestamp
}

func (e *producerEntry) findDuplicate(h BatchHeader) (producerBatch, bool) {
	if h.ProducerEpoch != e.epoch {
		return producerBatch{}, false
	}
	first, last := h.BaseSequence, h.LastSequence()
	for _, b := range e.batches {
		if b.firstSeq == first && b.lastSeq == last {
			return b, true
		}
	}
	return producerBatch{}, false
}

type producerState struct {
	producers map[int64]*producerEntry
	ongoing   map[int64]int64 // producer id -> first offset of its open transaction
}

func newProducerState() *producerState {
	return &producerState{producers: map[int64]*producerEntry{}, ongoing: map[int64]int64{}}
}

// update applies a data batch taken from the log (follower appends, recovery): no checks.
// Control batches go through marker (transactions.go).
func (s *producerState) update(h BatchHeader) {
	if !h.HasProducerID() || h.Control() {
		return
	}
	e := s.producers[h.ProducerID]
	if e == nil {
		e = newProducerEntry(h.ProducerEpoch)
		s.producers[h.ProducerID] = e
	}
	e.add(h)
	if e.txnFirst >= 0 {
		s.ongoing[h.ProducerID] = e.txnFirst
	}
}

// producerCheck validates the batches of one leader append against the state without
// changing it (ProducerAppendInfo). Batches of one request see each other's updates.
// completed collects the transactions its markers end, in offset order.
type producerCheck struct {
	state     *producerState
	pending   map[int64]*producerEntry
	completed []completedTxn
}

// entry is the pending copy of the producer's entry, made on first use.
func (c *producerCheck) entry(id int64) *producerEntry {
	if e := c.pending[id]; e != nil {
		return e
	}
	var e *producerEntry
	if cur := c.state.producers[id]; cur != nil {
		e = cur.clone()
	} else {
		e = newProducerEntry(-1)
	}
	if c.pending == nil {
		c.pending = map[int64]*producerEntry{}
	}
	c.pending[id] = e
	return e
}

func (s *producerState) check() *producerCheck { return &producerCheck{state: s} }

// dupOf reports whether h repeats a batch the log already has (UnifiedLog's
// findDuplicateBatch, against the state before this request).
func (c *producerCheck) dupOf(h BatchHeader) (producerBatch, bool) {
	if !h.HasProducerID() || h.Control() {
		return producerBatch{}, false
	}
	e := c.state.producers[h.ProducerID]
	if e == nil {
		return producerBatch{}, false
	}
	return e.findDuplicate(h)
}

// validate is ProducerAppendInfo.checkProducerEpoch and checkSequence (Kafka 3.6) for a
// client's batch, then records it as pending. An older epoch is fenced. A newer epoch must
// start at sequence 0, unless we know nothing of the producer. The same epoch must continue
// at lastSeq+1 (MaxInt32 wraps to 0), except when the producer is unknown: after retention or
// DeleteRecords removed its batches, or a first write, any sequence is accepted (KIP-360).
// A producer with an open transaction may only write transactional batches until a marker
// ends it (INVALID_TXN_STATE). A coordinator's batch (originCoordinator) has its epoch checked
// but not its sequence, as ProducerAppendInfo.maybeValidateDataBatch.
func (c *producerCheck) validate(h BatchHeader, offset int64, origin appendOrigin) error {
	if h.Control() {
		return fmt.Errorf("%w: control batches are written by the partition leader (AppendMarker), not appended", ErrInvalidRecord)
	}
	if !h.HasProducerID() {
		if h.Transactional() {
			return fmt.Errorf("%w: transactional batch without a producer id", ErrInvalidRecord)
		}
		return nil
	}
	e := c.entry(h.ProducerID)
	if h.ProducerEpoch < e.epoch {
		return fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.epoch)
	}
	if origin == originClient {
		if err := e.checkSequence(h); err != nil {
			return err
		}
	}
	if e.txnFirst >= 0 && !h.Transactional() {
		return fmt.Errorf("%w: producer %d has a transaction open since offset %d and sent a non-transactional batch", ErrInvalidTxnState, h.ProducerID, e.txnFirst)
	}
	h.BaseOffset = offset
	e.add(h)
	return nil
}

// checkSequence is ProducerAppendInfo.checkSequence for a client's batch h.
func (e *producerEntry) checkSequence(h BatchHeader) error {
	if h.ProducerEpoch != e.epoch {
		if h.BaseSequence != 0 && e.epoch != -1 {
			return fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d, not 0", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
	} else if last, ok := e.lastSeq(); ok && !inSequence(last, h.BaseSequence) {
		return fmt.Errorf("%w: producer %d epoch %d: sequence %d after %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, last)
	}
	return nil
}

// replicate applies a data batch copied from the leader (no checks, as Kafka's
// AppendOrigin.REPLICATION).
func (c *producerCheck) replicate(h BatchHeader) {
	if !h.HasProducerID() || h.Control() {
		return
	}
	c.entry(h.ProducerID).add(h)
}

func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == 1<<31-1)
}

// commit makes the pending entries the state.
func (c *producerCheck) commit() {
	for id, e := range c.pending {
		c.state.producers[id] = e
		if e.txnFirst >= 0 {
			c.state.ongoing[id] = e.txnFirst
		} else {
			delete(c.state.ongoing, id)
		}
	}
}

// Producer state snapshots: Kafka's <offset>.snapshot (ProducerStateManager, version 1), the
// state of every producer after the log's records below <offset>:
//
//	version int16 (1) | crc uint32 (CRC-32C of what follows) | count int32 | count entries of
//	producerId int64 | epoch int16 | lastSequence int32 | lastOffset int64 | offsetDelta int32 |
//	timestamp int64 | coordinatorEpoch int32 | currentTxnFirstOffset int64
//
// Kafka keeps only each producer's last batch in it, and so does this: after a restart the
// duplicate window is the last batch plus whatever is read back from the log after <offset>.
// A producer whose batches are gone but whose epoch, coordinator epoch or open transaction
// must be remembered (a marker ended its transaction with a bumped epoch) has last sequence
// -1, last offset -1 and offset delta 0, as Kafka writes an entry without batch metadata.

const (
	snapshotSuffix     = ".snapshot"
	snapshotVersion    = 1
	snapshotEntrySize  = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8
	snapshotHeaderSize = 2 + 4 + 4
)

func snapshotName(dir string, offset int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", offset, snapshotSuffix))
}

func (s *producerState) encodeSnapshot() []byte {
	ids := make([]int64, 0, len(s.producers))
	for id, e := range s.producers {
		if len(e.batches) > 0 || e.txnFirst >= 0 || e.coordEpoch >= 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	b := make([]byte, snapshotHeaderSize, snapshotHeaderSize+len(ids)*snapshotEntrySize)
	binary.BigEndian.PutUint16(b[0:], snapshotVersion)
	binary.BigEndian.PutUint32(b[6:], uint32(len(ids)))
	for _, id := range ids {
		e := s.producers[id]
		last := producerBatch{firstSeq: -1, lastSeq: -1, firstOffset: -1, lastOffset: -1}
		if len(e.batches) > 0 {
			last = e.batches[len(e.batches)-1]
		}
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(last.lastSeq))
		b = binary.BigEndian.AppendUint64(b, uint64(last.lastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(last.lastOffset-last.firstOffset))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastTs))
		b = binary.BigEndian.AppendUint32(b, uint32(e.coordEpoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.txnFirst))
	}
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], crcTable))
	return b
}

var errBadSnapshot = errors.New("logstore: corrupt producer state snapshot")

func decodeSnapshot(b []byte) (*producerState, error) {
	if len(b) < snapshotHeaderSize || binary.BigEndian.Uint16(b) != snapshotVersion {
		return nil, errBadSnapshot
	}
	if crc32.Checksum(b[6:], crcTable) != binary.BigEndian.Uint32(b[2:]) {
		return nil, errBadSnapshot
	}
	n := int(binary.BigEndian.Uint32(b[6:]))
	b = b[snapshotHeaderSize:]
	if n < 0 || len(b) != n*snapshotEntrySize {
		return nil, errBadSnapshot
	}
	s := newProducerState()
	for range n {
		id := int64(binary.BigEndian.Uint64(b[0:]))
		epoch := int16(binary.BigEndian.Uint16(b[8:]))
		lastSeq := int32(binary.BigEndian.Uint32(b[10:]))
		lastOff := int64(binary.BigEndian.Uint64(b[14:]))
		delta := int32(binary.BigEndian.Uint32(b[22:]))
		ts := int64(binary.BigEndian.Uint64(b[26:]))
		coordEpoch := int32(binary.BigEndian.Uint32(b[34:]))
		txnFirst := int64(binary.BigEndian.Uint64(b[38:]))
		b = b[snapshotEntrySize:]
		if txnFirst < -1 || delta < 0 || coordEpoch < -1 {
			return nil, errBadSnapshot
		}
		e := &producerEntry{epoch: epoch, lastTs: ts, coordEpoch: coordEpoch, txnFirst: txnFirst}
		if lastOff >= 0 {
			e.batches = []producerBatch{{decrementSequence(lastSeq, delta), lastSeq, lastOff - int64(delta), lastOff}}
		}
		s.producers[id] = e
		if txnFirst >= 0 {
			s.ongoing[id] = txnFirst
		}
	}
	return s, nil
}

// listSnapshots returns the offsets of the snapshot files in dir, ascending.
func listSnapshots(fsys FS, dir string) ([]int64, error) {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, snapshotSuffix) {
			continue
		}
		if off, err := strconv.ParseInt(strings.TrimSuffix(name, snapshotSuffix), 10, 64); err == nil {
			out = append(out, off)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
