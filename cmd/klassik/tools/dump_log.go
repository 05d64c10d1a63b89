package tools

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klassik/klassik/record"
)

// dump-log mirrors kafka-dump-log.sh (Kafka 3.6's kafka.tools.DumpLogSegments): it reads a
// partition's files directly, without a broker, and prints them as Kafka does:
//
//	klassik dump-log --files 00000000000000000000.log [--deep-iteration] [--print-data-log]
//	klassik dump-log --files 00000000000000000000.index,00000000000000000000.timeindex
//
// For a .log file, one line per batch (baseOffset, lastOffset, count, sequences, producer id
// and epoch, leader epoch, transactional and control flags, position, timestamp, size, magic,
// codec, CRC and whether it is valid), and with --deep-iteration one "| offset: ..." line per
// record; --print-data-log adds each record's key and payload (as UTF-8 text) and implies
// --deep-iteration; a transaction marker shows "endTxnMarker: COMMIT coordinatorEpoch: N".
// For an .index file "offset: N position: M" lines (checked against the .log beside it), for
// a .timeindex "timestamp: T offset: N", for a .txnindex its aborted transactions.
//
// Batches are decoded by package record alone. A corrupt file never crashes the tool: what
// precedes the damage is printed, then the problem, and the exit code is 1, as Kafka's tool
// stops with an exception.

func dumpLogFlags() *flagSet {
	fs := newFlagSet("dump-log", "This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment (kafka-dump-log.sh).")
	fs.Bool("print-data-log", "if set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified.")
	fs.Bool("verify-index-only", "if set, just verify the index log without printing its content.")
	fs.Bool("index-sanity-check", "if set, just checks the index sanity without printing its content. This is the same check that is executed on broker startup to determine if an index needs rebuilding or not.")
	fs.Value("files", "file1, file2, ...", "", "REQUIRED: The comma separated list of data and index log files to be dumped.")
	fs.Value("max-message-size", "size", "5242880", "Size of largest message.")
	fs.Value("max-bytes", "size", strconv.Itoa(1<<31-1), "Limit the amount of total batches read in bytes avoiding reading the whole .log file(s).")
	fs.Bool("deep-iteration", "if set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled.")
	fs.Optional("value-decoder-class", "decoder", "kafka.serializer.StringDecoder", "if set, used to deserialize the messages (klassik: only kafka.serializer.StringDecoder).")
	fs.Optional("key-decoder-class", "decoder", "kafka.serializer.StringDecoder", "if set, used to deserialize the keys (klassik: only kafka.serializer.StringDecoder).")
	fs.Bool("offsets-decoder", "if set, log data will be parsed as offset data from the __consumer_offsets topic (not supported by klassik).")
	fs.Bool("transaction-log-decoder", "if set, log data will be parsed as transaction metadata from the __transaction_state topic (not supported by klassik).")
	fs.Bool("skip-record-metadata", "whether to skip printing metadata for each record.")
	return fs
}

// dumpOptions are the options that shape the output.
type dumpOptions struct {
	printData, deep, skipMeta bool
	verifyOnly, sanityOnly    bool
	maxMessageSize            int
	maxBytes                  int64
}

// dumpReport collects what DumpLogSegments prints on stderr after all files.
type dumpReport struct {
	nonConsecutive map[string][][2]int64 // file -> (last, next) pairs, newest first as Kafka's list
	indexMismatch  map[string][][2]int64 // file -> (index offset, log offset)
	timeErrors     []string
	order          []string
}

func (r *dumpReport) add(m map[string][][2]int64, file string, pair [2]int64) {
	if _, ok := r.nonConsecutive[file]; !ok {
		if _, ok := r.indexMismatch[file]; !ok {
			r.order = append(r.order, file)
		}
	}
	m[file] = append([][2]int64{pair}, m[file]...)
}

func (r *dumpReport) print(w io.Writer) {
	for _, f := range r.order {
		if ms, ok := r.indexMismatch[f]; ok {
			fmt.Fprintf(w, "Mismatches in :%s\n", f)
			for _, m := range ms {
				fmt.Fprintf(w, "  Index offset: %d, log offset: %d\n", m[0], m[1])
			}
		}
	}
	for _, s := range r.timeErrors {
		fmt.Fprintln(w, s)
	}
	for _, f := range r.order {
		if ps, ok := r.nonConsecutive[f]; ok {
			fmt.Fprintf(w, "Non-consecutive offsets in %s\n", f)
			for _, p := range ps {
				fmt.Fprintf(w, "  %d is followed by %d\n", p[0], p[1])
			}
		}
	}
}

func runDumpLog(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := dumpLogFlags()
	return run(fs, args, stdout, stderr, func() error {
		if err := fs.requireGiven("files"); err != nil {
			return err
		}
		for _, n := range []string{"offsets-decoder", "transaction-log-decoder"} {
			if fs.byName[n].given {
				return usageErrorf("--%s is not supported by klassik's dump-log: use --print-data-log to print the records' keys and values as text", n)
			}
		}
		for _, n := range []string{"value-decoder-class", "key-decoder-class"} {
			if v := fs.byName[n].str(); fs.byName[n].given && v != "kafka.serializer.StringDecoder" {
				return usageErrorf("--%s %s is not supported by klassik: only kafka.serializer.StringDecoder", n, v)
			}
		}
		mms, err := fs.byName["max-message-size"].integer()
		if err != nil {
			return usageErrorf("%v", err)
		}
		mb, err := fs.byName["max-bytes"].integer()
		if err != nil {
			return usageErrorf("%v", err)
		}
		o := dumpOptions{
			printData:  fs.byName["print-data-log"].given || fs.byName["value-decoder-class"].given || fs.byName["key-decoder-class"].given,
			skipMeta:   fs.byName["skip-record-metadata"].given,
			verifyOnly: fs.byName["verify-index-only"].given,
			sanityOnly: fs.byName["index-sanity-check"].given,
			maxBytes:   mb,
		}
		o.deep = fs.byName["deep-iteration"].given || o.printData
		o.maxMessageSize = int(max(1, min(mms, 1<<30)))
		rep := &dumpReport{nonConsecutive: map[string][][2]int64{}, indexMismatch: map[string][][2]int64{}}
		var failure error
		for _, f := range strings.Split(fs.byName["files"].str(), ",") {
			fmt.Fprintf(stdout, "Dumping %s\n", f)
			if err := dumpFile(f, o, rep, stdout, stderr); err != nil {
				failure = err
				break
			}
		}
		rep.print(stderr)
		return failure
	})
}

// dumpFile dumps one file by its suffix.
func dumpFile(path string, o dumpOptions, rep *dumpReport, stdout, stderr io.Writer) error {
	name := filepath.Base(path)
	suffix := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		suffix = name[i:]
	}
	switch suffix {
	case ".log", ".index", ".timeindex", ".txnindex":
	case ".snapshot":
		fmt.Fprintf(stderr, "klassik dump-log does not read producer state snapshots yet: skipping %s\n", path)
		return nil
	default:
		fmt.Fprintf(stderr, "Ignoring unknown file %s\n", path)
		return nil
	}
	base, err := strconv.ParseInt(strings.SplitN(name, ".", 2)[0], 10, 64)
	if err != nil {
		return fmt.Errorf("Error: %s is not named after a base offset (20 digits, as 00000000000000000000.log)", path)
	}
	abs, _ := filepath.Abs(path)
	switch suffix {
	case ".log":
		data, err := readAtMost(path, o.maxBytes)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Log starting offset: %d\n", base)
		return dumpLogData(stdout, name, abs, data, o, rep)
	case ".txnindex":
		data, err := readAtMost(path, 1<<31-1)
		if err != nil {
			return err
		}
		return dumpTxnIndex(stdout, abs, data)
	}
	data, err := readAtMost(path, 1<<31-1)
	if err != nil {
		return err
	}
	logPath := filepath.Join(filepath.Dir(path), strings.SplitN(name, ".", 2)[0]+".log")
	var logData []byte
	if !o.sanityOnly { // the sanity check reads the index alone
		if logData, err = readAtMost(logPath, 1<<31-1); err != nil {
			return err
		}
	}
	if suffix == ".index" {
		return dumpOffsetIndex(stdout, path, abs, base, data, logData, o, rep)
	}
	return dumpTimeIndex(stdout, path, abs, base, data, logData, o, rep)
}

// readAtMost reads up to limit bytes of a file.
func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("Error: cannot read %s: %v", path, pe.Err)
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max(0, limit)))
	if err != nil {
		return nil, fmt.Errorf("Error: reading %s: %v", path, err)
	}
	return b, nil
}

// Kafka's framing constants (FileLogInputStream, LegacyRecord).
const (
	headerSizeUpToMagic = 17 // baseOffset, length, leader epoch, magic
	recordOverheadV0    = 14 // the smallest length a batch may declare
	deleteHorizonFlag   = 0x40
)

var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// dumpLogData prints the batches of a .log file's bytes (DumpLogSegments.dumpLog). name is the
// file's base name (for the trailing bytes line), abs its absolute path (for stderr reports).
func dumpLogData(w io.Writer, name, abs string, data []byte, o dumpOptions, rep *dumpReport) error {
	var pos int64
	lastOffset := int64(-1)
	limit := 16 * o.maxMessageSize // decompression bound per batch
	for {
		rest := data[pos:]
		if len(rest) <= headerSizeUpToMagic {
			break
		}
		h, herr := record.ParseHeader(rest)
		if h.Length < recordOverheadV0 {
			return fmt.Errorf("org.apache.kafka.common.errors.CorruptRecordException: Found record size %d smaller than minimum record overhead (%d) in file %s.", h.Length, recordOverheadV0, abs)
		}
		size := int64(h.Length) + record.LogOverhead
		if size > int64(len(rest)) {
			break // a partial batch at the end: reported as invalid bytes below
		}
		b := rest[:size]
		if errors.Is(herr, record.ErrUnsupportedMagic) {
			return fmt.Errorf("Error: the batch at position %d of %s has magic %d; klassik reads only magic 2 (v2 record batches, Kafka 0.11 and later)", pos, abs, h.Magic)
		}
		if h, herr = record.ParseHeader(b); herr != nil {
			return fmt.Errorf("org.apache.kafka.common.errors.CorruptRecordException: the batch at position %d of %s: %v", pos, abs, herr)
		}
		codec := int(h.Compression())
		if codec >= len(codecNames) {
			return fmt.Errorf("java.lang.IllegalArgumentException: Unknown compression type id: %d (batch at position %d of %s)", codec, pos, abs)
		}
		tsType, ts := timestampType(h), h.MaxTimestamp
		horizon := "OptionalLong.empty"
		if h.Attributes&deleteHorizonFlag != 0 {
			horizon = fmt.Sprintf("OptionalLong[%d]", h.BaseTimestamp)
		}
		fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t deleteHorizonMs: %s",
			h.BaseOffset, h.LastOffset(), h.NumRecords, h.BaseSequence, h.LastSequence(), h.ProducerID, h.ProducerEpoch, h.PartitionLeaderEpoch, h.Transactional(), h.Control(), horizon)
		fmt.Fprintf(w, " position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			pos, tsType, ts, size, h.Magic, codecNames[codec], h.CRC, record.CRC(b) == h.CRC)
		if o.deep {
			if err := dumpRecords(w, h, b, limit, o, func(off int64) {
				if lastOffset != -1 && off != lastOffset+1 {
					rep.add(rep.nonConsecutive, abs, [2]int64{lastOffset, off})
				}
				lastOffset = off
			}); err != nil {
				return fmt.Errorf("org.apache.kafka.common.errors.CorruptRecordException: %v (batch at position %d of %s)", err, pos, abs)
			}
		}
		pos += size
	}
	if trailing := int64(len(data)) - pos; trailing > 0 && o.maxBytes == 1<<31-1 {
		fmt.Fprintf(w, "Found %d invalid bytes at the end of %s\n", trailing, name)
	}
	return nil
}

func timestampType(h record.BatchHeader) string {
	if h.LogAppendTime() {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// controlTypeNames are Kafka's ControlRecordType names by id.
var controlTypeNames = []string{"ABORT", "COMMIT", "LEADER_CHANGE", "SNAPSHOT_HEADER", "SNAPSHOT_FOOTER"}

// dumpRecords prints the records of one batch (the deep iteration of dumpLog).
func dumpRecords(w io.Writer, h record.BatchHeader, b []byte, limit int, o dumpOptions, seen func(int64)) error {
	recs, err := record.DecodeRecords(h, b, limit)
	if err != nil {
		return err
	}
	for _, r := range recs {
		seen(r.Offset)
		var line strings.Builder
		prefix := "| "
		if !o.skipMeta {
			ts := r.Timestamp
			if h.LogAppendTime() {
				ts = h.MaxTimestamp
			}
			keys := make([]string, len(r.Headers))
			for i, hd := range r.Headers {
				keys[i] = hd.Key
			}
			fmt.Fprintf(&line, "%soffset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s]",
				prefix, r.Offset, timestampType(h), ts, varLen(r.Key), varLen(r.Value),
				record.IncrementSequence(h.BaseSequence, int32(r.Offset-h.BaseOffset)), strings.Join(keys, ","))
			prefix = " "
			if h.Control() {
				t, err := record.ControlType(r.Key)
				if err != nil {
					return err
				}
				switch t {
				case record.ControlAbort, record.ControlCommit:
					m, ok, err := record.DecodeEndTxnMarker(h, b)
					if err != nil {
						return err
					}
					if ok {
						fmt.Fprintf(&line, " endTxnMarker: %s coordinatorEpoch: %d", m, m.CoordinatorEpoch)
					}
				default:
					name := "UNKNOWN"
					if t >= 0 && int(t) < len(controlTypeNames) {
						name = controlTypeNames[t]
					}
					fmt.Fprintf(&line, " controlType: %s(%d)", name, t)
				}
			}
		}
		if o.printData && !h.Control() {
			if r.Key != nil {
				fmt.Fprintf(&line, "%skey: %s", prefix, r.Key)
			}
			if r.Value != nil {
				fmt.Fprintf(&line, " payload: %s", r.Value)
			}
		}
		fmt.Fprintln(w, line.String())
	}
	return nil
}

// varLen is a record field's size as Kafka prints it: -1 for null.
func varLen(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}
