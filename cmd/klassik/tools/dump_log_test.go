package tools

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klassik/klassik/record"
)

const dumpTS = 1690000000000

// testSegment is a segment's bytes: a batch of three records from producer 7 (keys, a
// header, a null value), then a COMMIT marker at offset 3, then a plain batch at offset 4.
func testSegment() (data []byte, positions []int) {
	var recs []byte
	recs = record.AppendRecord(recs, 0, 0, nil, []byte("hello"), nil)
	recs = record.AppendRecord(recs, 1, 5, []byte("k1"), []byte("world"), []record.Header{{Key: "h1", Value: []byte("v")}, {Key: "h2"}})
	recs = record.AppendRecord(recs, 2, 9, []byte("k2"), nil, nil)
	b1 := record.Build(record.BatchHeader{
		BaseOffset: 0, PartitionLeaderEpoch: 0, LastOffsetDelta: 2, BaseTimestamp: dumpTS, MaxTimestamp: dumpTS + 9,
		ProducerID: 7, ProducerEpoch: 1, BaseSequence: 0, NumRecords: 3, Attributes: record.AttrTransactional,
	}, recs)
	marker := record.BuildEndTxnMarker(7, 1, record.EndTxnMarker{Commit: true, CoordinatorEpoch: 4}, dumpTS+20)
	record.SetBaseOffset(marker, 3)
	b3 := record.Build(record.BatchHeader{
		BaseOffset: 4, PartitionLeaderEpoch: 2, BaseTimestamp: dumpTS + 30, MaxTimestamp: dumpTS + 30,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1,
	}, record.AppendRecord(nil, 0, 0, nil, []byte("last"), nil))
	positions = []int{0, len(b1), len(b1) + len(marker)}
	data = append(append(append(data, b1...), marker...), b3...)
	return data, positions
}

func TestDumpLogBatchesAndRecords(t *testing.T) {
	dir := t.TempDir()
	data, pos := testSegment()
	path := writeFile(t, dir, "00000000000000000000.log", data)
	h1, _ := record.ParseHeader(data)
	code, out, errOut := runCmd(t, "dump-log", "--files", path, "--print-data-log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{
		"Dumping " + path,
		"Log starting offset: 0",
		fmt.Sprintf("baseOffset: 0 lastOffset: 2 count: 3 baseSequence: 0 lastSequence: 2 producerId: 7 producerEpoch: 1 partitionLeaderEpoch: 0 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: %d size: %d magic: 2 compresscodec: none crc: %d isvalid: true", dumpTS+9, pos[1], h1.CRC),
		fmt.Sprintf("| offset: 0 CreateTime: %d keySize: -1 valueSize: 5 sequence: 0 headerKeys: [] payload: hello", dumpTS),
		fmt.Sprintf("| offset: 1 CreateTime: %d keySize: 2 valueSize: 5 sequence: 1 headerKeys: [h1,h2] key: k1 payload: world", dumpTS+5),
		fmt.Sprintf("| offset: 2 CreateTime: %d keySize: 2 valueSize: -1 sequence: 2 headerKeys: [] key: k2", dumpTS+9),
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], w)
		}
	}
	if !strings.HasPrefix(lines[6], fmt.Sprintf("baseOffset: 3 lastOffset: 3 count: 1 baseSequence: -1 lastSequence: -1 producerId: 7 producerEpoch: 1 partitionLeaderEpoch: 0 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: %d CreateTime: %d", pos[1], dumpTS+20)) {
		t.Errorf("marker batch: %s", lines[6])
	}
	if w := fmt.Sprintf("| offset: 3 CreateTime: %d keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 4", dumpTS+20); lines[7] != w {
		t.Errorf("marker record:\n got %s\nwant %s", lines[7], w)
	}
	if !strings.Contains(lines[8], "partitionLeaderEpoch: 2") || lines[9] != fmt.Sprintf("| offset: 4 CreateTime: %d keySize: -1 valueSize: 4 sequence: -1 headerKeys: [] payload: last", dumpTS+30) {
		t.Errorf("last batch:\n%s\n%s", lines[8], lines[9])
	}

	// Without --deep-iteration only batches; with it and no --print-data-log no payloads.
	_, out, _ = runCmd(t, "dump-log", "--files", path)
	if n := strings.Count(out, "baseOffset:"); n != 3 || strings.Contains(out, "| offset") {
		t.Errorf("shallow: %s", out)
	}
	_, out, _ = runCmd(t, "dump-log", "--files", path, "--deep-iteration")
	if strings.Count(out, "| offset") != 5 || strings.Contains(out, "payload:") {
		t.Errorf("deep: %s", out)
	}
}

// A damaged file is reported, never a crash: a bad CRC is "isvalid: false", a cut-off tail
// is Kafka's invalid-bytes line, a nonsense length stops the dump with Kafka's exception.
func TestDumpLogCorrupt(t *testing.T) {
	dir := t.TempDir()
	data, pos := testSegment()
	bad := append([]byte(nil), data...)
	bad[pos[1]-1] ^= 0xff // a byte of the first batch's last record
	p := writeFile(t, dir, "00000000000000000000.log", bad[:len(bad)-10])
	code, out, errOut := runCmd(t, "dump-log", "--files", p)
	if code != 0 || !strings.Contains(out, "isvalid: false") || !strings.Contains(out, fmt.Sprintf("Found %d invalid bytes at the end of 00000000000000000000.log", len(data)-pos[2]-10)) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	zero := append(append([]byte(nil), data[:pos[1]]...), make([]byte, 40)...)
	p = writeFile(t, dir, "00000000000000000005.log", zero)
	code, out, errOut = runCmd(t, "dump-log", "--files", p, "--deep-iteration")
	if code != 1 || strings.Count(out, "baseOffset:") != 1 || !strings.Contains(errOut, "CorruptRecordException: Found record size 0 smaller than minimum record overhead (14)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// Records that do not decode: the batch header is printed, then the error.
	garbled := append([]byte(nil), data[:pos[1]]...)
	copy(garbled[record.HeaderSize:], []byte{0x7f, 0x7f, 0x7f})
	p = writeFile(t, dir, "00000000000000000009.log", garbled)
	code, _, errOut = runCmd(t, "dump-log", "--files", p, "--print-data-log")
	if code != 1 || !strings.Contains(errOut, "CorruptRecordException") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "dump-log", "--files", filepath.Join(dir, "missing.txt"))
	if code != 0 || !strings.Contains(errOut, "Ignoring unknown file") {
		t.Fatalf("unknown file: %d %s", code, errOut)
	}
}

func TestDumpIndexes(t *testing.T) {
	dir := t.TempDir()
	data, pos := testSegment()
	writeFile(t, dir, "00000000000000000100.log", rebase(t, data, 100))
	idx := binary.BigEndian.AppendUint32(nil, 2)
	idx = binary.BigEndian.AppendUint32(idx, 0)
	idx = binary.BigEndian.AppendUint32(idx, 4)
	idx = binary.BigEndian.AppendUint32(idx, uint32(pos[2]))
	idx = binary.BigEndian.AppendUint32(idx, 3) // wrong: the batch at pos[2] ends at 104
	idx = binary.BigEndian.AppendUint32(idx, uint32(pos[2]))
	ip := writeFile(t, dir, "00000000000000000100.index", idx)
	code, out, errOut := runCmd(t, "dump-log", "--files", ip)
	want := fmt.Sprintf("Dumping %s\noffset: 102 position: 0\noffset: 104 position: %d\noffset: 103 position: %d\n", ip, pos[2], pos[2])
	if code != 0 || out != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
	abs, _ := filepath.Abs(ip)
	if errOut != "Mismatches in :"+abs+"\n  Index offset: 103, log offset: 104\n" {
		t.Fatalf("stderr %q", errOut)
	}
	code, out, _ = runCmd(t, "dump-log", "--files", ip, "--index-sanity-check")
	if code != 0 || !strings.HasSuffix(out, ip+" passed sanity check.\n") {
		t.Fatalf("sanity: %d %s", code, out)
	}
	code, _, errOut = runCmd(t, "dump-log", "--files", writeFile(t, dir, "00000000000000000200.index", idx[:12]), "--index-sanity-check")
	if code != 1 || !strings.Contains(errOut, "CorruptIndexException: Index file ") || !strings.Contains(errOut, "found 12 bytes which is neither positive nor a multiple of 8.") {
		t.Fatalf("short index: %d %s", code, errOut)
	}

	ti := binary.BigEndian.AppendUint64(nil, dumpTS+9)
	ti = binary.BigEndian.AppendUint32(ti, 2)
	ti = binary.BigEndian.AppendUint64(ti, dumpTS+30)
	ti = binary.BigEndian.AppendUint32(ti, 4)
	tp := writeFile(t, dir, "00000000000000000100.timeindex", ti)
	code, out, errOut = runCmd(t, "dump-log", "--files", tp)
	want = fmt.Sprintf("Dumping %s\ntimestamp: %d offset: 102\ntimestamp: %d offset: 104\n", tp, dumpTS+9, dumpTS+30)
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d\n%s\nwant\n%s\nstderr %s", code, out, want, errOut)
	}

	txn := binary.BigEndian.AppendUint16(nil, 0)
	for _, v := range []int64{7, 100, 103, 105} {
		txn = binary.BigEndian.AppendUint64(txn, uint64(v))
	}
	xp := writeFile(t, dir, "00000000000000000100.txnindex", txn)
	code, out, _ = runCmd(t, "dump-log", "--files", xp)
	if code != 0 || !strings.HasSuffix(out, "version: 0 producerId: 7 firstOffset: 100 lastOffset: 103 lastStableOffset: 105\n") {
		t.Fatalf("txnindex: %d %s", code, out)
	}
}

// rebase moves every batch of a segment by delta offsets.
func rebase(t *testing.T, data []byte, delta int64) []byte {
	out := append([]byte(nil), data...)
	for p := 0; p < len(out); {
		h, err := record.ParseHeader(out[p:])
		if err != nil {
			t.Fatal(err)
		}
		record.SetBaseOffset(out[p:], h.BaseOffset+delta)
		p += h.Size()
	}
	return out
}

// FuzzDumpLog: no .log bytes make dump-log panic, whatever it prints.
func FuzzDumpLog(f *testing.F) {
	data, pos := testSegment()
	f.Add(data)
	f.Add(data[:pos[1]+20])
	f.Add(make([]byte, 30))
	f.Fuzz(func(t *testing.T, b []byte) {
		o := dumpOptions{deep: true, printData: true, maxMessageSize: 1 << 16, maxBytes: 1<<31 - 1}
		rep := &dumpReport{nonConsecutive: map[string][][2]int64{}, indexMismatch: map[string][][2]int64{}}
		var out strings.Builder
		_ = dumpLogData(&out, "f.log", "/f.log", b, o, rep)
		rep.print(&out)
	})
}

// FuzzDumpIndexes: no index bytes (nor log bytes beside them) make the index dumps panic, and
// the parsers account for every byte.
func FuzzDumpIndexes(f *testing.F) {
	data, _ := testSegment()
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4}, data)
	f.Add(make([]byte, 34), []byte{})
	f.Fuzz(func(t *testing.T, idx, log []byte) {
		for _, sanity := range []bool{false, true} {
			o := dumpOptions{sanityOnly: sanity, maxMessageSize: 1 << 16}
			rep := &dumpReport{nonConsecutive: map[string][][2]int64{}, indexMismatch: map[string][][2]int64{}}
			var out strings.Builder
			_ = dumpOffsetIndex(&out, "i", "/i", 5, idx, log, o, rep)
			_ = dumpTimeIndex(&out, "t", "/t", 5, idx, log, o, rep)
			_ = dumpTxnIndex(&out, "/x", idx)
			rep.print(&out)
		}
		es, rem := parseOffsetIndex(idx, 0)
		ts, trem := parseTimeIndex(idx, 0)
		xs, xrem := parseTxnIndex(idx)
		if len(es)*8+rem != len(idx) || len(ts)*12+trem != len(idx) || len(xs)*34+xrem != len(idx) {
			t.Fatalf("bytes unaccounted for: %d %d %d of %d", rem, trem, xrem, len(idx))
		}
	})
}
