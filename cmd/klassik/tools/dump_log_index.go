package tools

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klassik/klassik/record"
)

// The index files of a segment, as DumpLogSegments prints them (dumpIndex, dumpTimeIndex,
// dumpTxnIndex). Big endian, fixed-size entries; offsets relative to the segment's base:
//
//	.index      relativeOffset int32, position int32                      8 bytes
//	.timeindex  timestamp int64, relativeOffset int32                    12 bytes
//	.txnindex   version int16, producerId int64, firstOffset int64,
//	            lastOffset int64, lastStableOffset int64                  34 bytes
//
// The parsers take any bytes: a trailing partial entry is left over (rem), never read.

const (
	offsetIndexEntry = 8
	timeIndexEntry   = 12
	txnIndexEntry    = 34
)

type offsetIndexEntryT struct{ Offset, Position int64 }

type timeIndexEntryT struct{ Timestamp, Offset int64 }

type abortedTxn struct {
	Version                                            int16
	ProducerID, FirstOffset, LastOffset, LastStableOff int64
}

// parseOffsetIndex returns the entries of an .index file and how many bytes were left over.
func parseOffsetIndex(b []byte, base int64) (es []offsetIndexEntryT, rem int) {
	for ; len(b) >= offsetIndexEntry; b = b[offsetIndexEntry:] {
		es = append(es, offsetIndexEntryT{
			Offset:   base + int64(int32(binary.BigEndian.Uint32(b))),
			Position: int64(int32(binary.BigEndian.Uint32(b[4:]))),
		})
	}
	return es, len(b)
}

// parseTimeIndex returns the entries of a .timeindex file and how many bytes were left over.
func parseTimeIndex(b []byte, base int64) (es []timeIndexEntryT, rem int) {
	for ; len(b) >= timeIndexEntry; b = b[timeIndexEntry:] {
		es = append(es, timeIndexEntryT{
			Timestamp: int64(binary.BigEndian.Uint64(b)),
			Offset:    base + int64(int32(binary.BigEndian.Uint32(b[8:]))),
		})
	}
	return es, len(b)
}

// parseTxnIndex returns the entries of a .txnindex file and how many bytes were left over.
func parseTxnIndex(b []byte) (es []abortedTxn, rem int) {
	for ; len(b) >= txnIndexEntry; b = b[txnIndexEntry:] {
		es = append(es, abortedTxn{
			Version:       int16(binary.BigEndian.Uint16(b)),
			ProducerID:    int64(binary.BigEndian.Uint64(b[2:])),
			FirstOffset:   int64(binary.BigEndian.Uint64(b[10:])),
			LastOffset:    int64(binary.BigEndian.Uint64(b[18:])),
			LastStableOff: int64(binary.BigEndian.Uint64(b[26:])),
		})
	}
	return es, len(b)
}

// logBatch is where a batch of the .log file is and what its header says.
type logBatch struct {
	Position, LastOffset, MaxTimestamp int64
}

// scanBatches lists the batches of a .log file's bytes from their headers, up to the first
// that is damaged or cut short.
func scanBatches(data []byte) []logBatch {
	var out []logBatch
	for pos := int64(0); ; {
		rest := data[pos:]
		h, err := record.ParseHeader(rest)
		if err != nil || h.Length < record.MinBatchLength || int64(h.Size()) > int64(len(rest)) {
			return out
		}
		out = append(out, logBatch{pos, h.LastOffset(), h.MaxTimestamp})
		pos += int64(h.Size())
	}
}

// batchAt is the last offset of the batch starting at position, or -1 if none does.
func batchAt(batches []logBatch, position int64) int64 {
	for _, b := range batches {
		if b.Position == position {
			return b.LastOffset
		}
	}
	return -1
}

// dumpOffsetIndex prints an .index file and records the entries that do not point at a batch
// ending at their offset (DumpLogSegments.dumpIndex).
func dumpOffsetIndex(w io.Writer, path, abs string, base int64, data, logData []byte, o dumpOptions, rep *dumpReport) error {
	es, rem := parseOffsetIndex(data, base)
	if len(es) == 0 {
		fmt.Fprintf(w, "%s is empty.\n", path)
		return nil
	}
	if o.sanityOnly {
		if rem != 0 {
			return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: Index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d.", abs, len(data), offsetIndexEntry)
		}
		if last := es[len(es)-1].Offset; last < base {
			return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: Corrupt index found, index file (%s) has non-zero size but the last offset is %d which is less than the base offset %d.", abs, last, base)
		}
		fmt.Fprintf(w, "%s passed sanity check.\n", path)
		return nil
	}
	batches := scanBatches(logData)
	for i, e := range es {
		// A sparse file after a crash may end in zero entries: stop at the first.
		if e.Offset == base && i > 0 {
			return nil
		}
		if last := batchAt(batches, e.Position); last != e.Offset {
			rep.add(rep.indexMismatch, abs, [2]int64{e.Offset, last})
		}
		if !o.verifyOnly {
			fmt.Fprintf(w, "offset: %d position: %d\n", e.Offset, e.Position)
		}
	}
	return nil
}

// dumpTimeIndex prints a .timeindex file and records its entries that do not match the log
// (DumpLogSegments.dumpTimeIndex).
func dumpTimeIndex(w io.Writer, path, abs string, base int64, data, logData []byte, o dumpOptions, rep *dumpReport) error {
	es, rem := parseTimeIndex(data, base)
	if o.sanityOnly {
		if rem != 0 {
			return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: Time index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d.", abs, len(data), timeIndexEntry)
		}
		if n := len(es); n > 0 {
			if es[n-1].Timestamp < es[0].Timestamp {
				return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: Corrupt time index found, time index file (%s) has non-zero size but the last timestamp is %d which is less than the first timestamp %d", abs, es[n-1].Timestamp, es[0].Timestamp)
			}
			if es[n-1].Offset < base {
				return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: Corrupt time index found, time index file (%s) has non-zero size but the last offset is %d which is less than the first offset %d", abs, es[n-1].Offset, base)
			}
		}
		fmt.Fprintf(w, "%s passed sanity check.\n", path)
		return nil
	}
	batches := scanBatches(logData)
	var mismatch, outOfOrder, notFound []string
	prev := int64(-1)
	for i, e := range es {
		if e.Offset == base && i > 0 {
			break
		}
		var found *logBatch
		for j := range batches {
			if batches[j].LastOffset >= e.Offset {
				found = &batches[j]
				break
			}
		}
		switch {
		case found == nil:
			notFound = append(notFound, fmt.Sprintf("Indexed offset: %d, found log offset: %d", e.Offset, -1))
		case found.LastOffset != e.Offset:
			notFound = append(notFound, fmt.Sprintf("Indexed offset: %d, found log offset: %d", e.Offset, found.LastOffset))
		default:
			if found.MaxTimestamp != e.Timestamp {
				mismatch = append(mismatch, fmt.Sprintf("  Index timestamp: %d, log timestamp: %d", e.Timestamp, found.MaxTimestamp))
			}
			if prev >= e.Timestamp {
				outOfOrder = append(outOfOrder, fmt.Sprintf("  Index timestamp: %d, Previously indexed timestamp: %d", e.Timestamp, prev))
			}
		}
		if !o.verifyOnly {
			fmt.Fprintf(w, "timestamp: %d offset: %d\n", e.Timestamp, e.Offset)
		}
		prev = e.Timestamp
	}
	if len(mismatch) > 0 {
		rep.timeErrors = append(rep.timeErrors, "Found timestamp mismatch in :"+abs)
		rep.timeErrors = append(rep.timeErrors, mismatch...)
	}
	if len(outOfOrder) > 0 {
		rep.timeErrors = append(rep.timeErrors, "Found out of order timestamp in :"+abs)
		rep.timeErrors = append(rep.timeErrors, outOfOrder...)
	}
	if len(notFound) > 0 {
		rep.timeErrors = append(rep.timeErrors, "The following indexed offsets are not found in the log.")
		rep.timeErrors = append(rep.timeErrors, notFound...)
	}
	return nil
}

// dumpTxnIndex prints a .txnindex file's aborted transactions (DumpLogSegments.dumpTxnIndex).
func dumpTxnIndex(w io.Writer, abs string, data []byte) error {
	es, rem := parseTxnIndex(data)
	for _, e := range es {
		if e.Version > 0 {
			return fmt.Errorf("org.apache.kafka.common.KafkaException: Unexpected aborted transaction version %d in transaction index %s, current version is 0", e.Version, abs)
		}
		fmt.Fprintf(w, "version: %d producerId: %d firstOffset: %d lastOffset: %d lastStableOffset: %d\n",
			e.Version, e.ProducerID, e.FirstOffset, e.LastOffset, e.LastStableOff)
	}
	if rem != 0 {
		return fmt.Errorf("org.apache.kafka.common.errors.CorruptIndexException: transaction index %s ends with %d bytes that are not a whole entry of %d bytes", abs, rem, txnIndexEntry)
	}
	return nil
}
