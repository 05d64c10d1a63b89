// The aborted-transaction index of a segment (Kafka's TransactionIndex).

package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// A <base>.txnindex file lists the transactions aborted by markers in its segment, in the
// order of their markers, as Kafka writes it (AbortedTxn, 34 bytes, big-endian):
//
//	version int16 (0) | producerId int64 | firstOffset int64 | lastOffset int64 | lastStableOffset int64
//
// firstOffset is the transaction's first data offset, lastOffset its ABORT marker's offset,
// lastStableOffset the LSO right after the marker (the first offset of the earliest other open
// transaction, else the marker's offset plus one): a reader collecting the aborted
// transactions of a fetched range stops at the first entry whose lastStableOffset is past the
// range. Like Kafka the file is created with its first entry; a segment without one has none.
const (
	txnIndexSuffix  = ".txnindex"
	txnEntrySize    = 34
	txnIndexVersion = 0
)

// AbortedTxn is one entry of a transaction index: a transaction aborted by the marker at
// LastOffset, whose data starts at FirstOffset (Kafka's AbortedTxn).
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// ErrCorruptTxnIndex: a .txnindex file that does not decode (Kafka's CorruptIndexException).
var ErrCorruptTxnIndex = errors.New("logstore: corrupt transaction index")

// DecodeTxnIndex parses the bytes of a .txnindex file of the segment at base. It checks what
// Kafka's TransactionIndex.sanityCheck does and a little more: whole entries, version 0,
// firstOffset <= lastOffset, lastOffset at or after base and increasing, no negative field.
// Any failure wraps ErrCorruptTxnIndex.
func DecodeTxnIndex(b []byte, base int64) ([]AbortedTxn, error) {
	if len(b)%txnEntrySize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte entries", ErrCorruptTxnIndex, len(b), txnEntrySize)
	}
	out := make([]AbortedTxn, 0, len(b)/txnEntrySize)
	for i := 0; i < len(b); i += txnEntrySize {
		if v := int16(binary.BigEndian.Uint16(b[i:])); v != txnIndexVersion {
			return nil, fmt.Errorf("%w: entry %d has version %d", ErrCorruptTxnIndex, i/txnEntrySize, v)
		}
		e := AbortedTxn{
			ProducerID:       int64(binary.BigEndian.Uint64(b[i+2:])),
			FirstOffset:      int64(binary.BigEndian.Uint64(b[i+10:])),
			LastOffset:       int64(binary.BigEndian.Uint64(b[i+18:])),
			LastStableOffset: int64(binary.BigEndian.Uint64(b[i+26:])),
		}
		switch {
		case e.ProducerID < 0, e.FirstOffset < 0, e.FirstOffset > e.LastOffset, e.LastOffset < base, e.LastStableOffset < 0:
			return nil, fmt.Errorf("%w: entry %d %+v is outside the segment at %d or inconsistent", ErrCorruptTxnIndex, i/txnEntrySize, e, base)
		}
		if n := len(out); n > 0 && e.LastOffset <= out[n-1].LastOffset {
			return nil, fmt.Errorf("%w: entry %d ends at %d, not after %d", ErrCorruptTxnIndex, i/txnEntrySize, e.LastOffset, out[n-1].LastOffset)
		}
		out = append(out, e)
	}
	return out, nil
}

func appendTxnEntry(b []byte, e AbortedTxn) []byte {
	b = binary.BigEndian.AppendUint16(b, txnIndexVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.ProducerID))
	b = binary.BigEndian.AppendUint64(b, uint64(e.FirstOffset))
	b = binary.BigEndian.AppendUint64(b, uint64(e.LastOffset))
	return binary.BigEndian.AppendUint64(b, uint64(e.LastStableOffset))
}

// txnIndex is one segment's transaction index, kept in memory and appended to its file.
// Writers hold the Log's writer lock; entries are read by fetches under mu.
type txnIndex struct {
	fsys FS
	name string
	f    File // nil until the first entry is written or the file is found at open

	mu      sync.RWMutex
	entries []AbortedTxn
}

func newTxnIndex(fsys FS, name string) *txnIndex { return &txnIndex{fsys: fsys, name: name} }

// load reads the file if there is one. A file that does not decode is ErrCorruptTxnIndex
// (the segment is then recovered, which rebuilds it).
func (x *txnIndex) load(base int64) error {
	if x.f == nil {
		if _, err := x.fsys.Stat(x.name); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		f, err := x.fsys.OpenFile(x.name, os.O_RDWR, 0o644)
		if err != nil {
			return err
		}
		x.f = f
	}
	b, err := readAllFile(x.f)
	if err != nil {
		return err
	}
	es, err := DecodeTxnIndex(b, base)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.entries = es
	x.mu.Unlock()
	return nil
}

func (x *txnIndex) open() error {
	if x.f != nil {
		return nil
	}
	f, err := x.fsys.OpenFile(x.name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	// The new name must survive a crash as the segment's other files do.
	if err := x.fsys.SyncDir(filepath.Dir(x.name)); err != nil {
		f.Close()
		return err
	}
	x.f = f
	return nil
}

// append writes one entry; its LastOffset must be after the last entry's.
func (x *txnIndex) append(e AbortedTxn) error {
	x.mu.RLock()
	n := len(x.entries)
	last := int64(-1)
	if n > 0 {
		last = x.entries[n-1].LastOffset
	}
	x.mu.RUnlock()
	if e.LastOffset <= last {
		return fmt.Errorf("logstore: aborted transaction ending at %d appended after one ending at %d", e.LastOffset, last)
	}
	if err := x.open(); err != nil {
		return err
	}
	if _, err := x.f.WriteAt(appendTxnEntry(nil, e), int64(n)*txnEntrySize); err != nil {
		return err
	}
	x.mu.Lock()
	x.entries = append(x.entries, e)
	x.mu.Unlock()
	return nil
}

// truncateTo drops the entries whose marker is at or after offset.
func (x *txnIndex) truncateTo(offset int64) error {
	x.mu.Lock()
	n := len(x.entries)
	for n > 0 && x.entries[n-1].LastOffset >= offset {
		n--
	}
	cut := n < len(x.entries)
	x.entries = x.entries[:n]
	x.mu.Unlock()
	if !cut || x.f == nil {
		return nil
	}
	return x.f.Truncate(int64(n) * txnEntrySize)
}

// reset empties the index, file included (before recovery rebuilds it).
func (x *txnIndex) reset() error {
	x.mu.Lock()
	x.entries = nil
	x.mu.Unlock()
	if x.f != nil {
		return x.f.Truncate(0)
	}
	if err := x.fsys.Remove(x.name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (x *txnIndex) sync() error {
	if x.f == nil {
		return nil
	}
	return x.f.Sync()
}

func (x *txnIndex) close() error {
	if x.f == nil {
		return nil
	}
	err := x.f.Close()
	x.f = nil
	return err
}

// collect appends the entries overlapping [from, upper): aborted transactions whose marker is
// at or after from and whose data starts before upper (TransactionIndex.collectAbortedTxns).
// complete reports that an entry's lastStableOffset passed upper: no later segment can hold
// one that matters.
func (x *txnIndex) collect(from, upper int64, out []AbortedTxn) ([]AbortedTxn, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.entries {
		if e.LastOffset >= from && e.FirstOffset < upper {
			out = append(out, e)
		}
		if e.LastStableOffset > upper {
			return out, true
		}
	}
	return out, false
}

// all returns a copy of the entries.
func (x *txnIndex) all() []AbortedTxn {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]AbortedTxn(nil), x.entries...)
}
