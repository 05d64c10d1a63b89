package logstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Checkpoint files are Kafka's CheckpointFile text format:
//
//	0                  version
//	2                  number of entries
//	<entry>            one line each, fields separated by a space
//	<entry>
//
// They are replaced atomically: written to <name>.tmp, fsynced, renamed over <name>, and the
// directory fsynced.

const checkpointVersion = 0

func writeCheckpoint(fsys FS, path string, entries []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n%d\n", checkpointVersion, len(entries))
	for _, e := range entries {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return writeFileAtomic(fsys, path, []byte(b.String()))
}

// writeFileAtomic replaces path with data durably.
func writeFileAtomic(fsys FS, path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(path))
}

// readFile reads a whole file; a missing file is (nil, nil).
func readFile(fsys FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		return nil, err
	}
	return buf, nil
}

// readCheckpoint returns the entries of a checkpoint file split into fields, each entry with
// exactly nfields fields. A missing file has no entries.
func readCheckpoint(fsys FS, path string, nfields int) ([][]string, error) {
	data, err := readFile(fsys, path)
	if err != nil || data == nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	bad := func(why string) error { return fmt.Errorf("logstore: malformed checkpoint %s: %s", path, why) }
	if len(lines) < 2 {
		return nil, bad("no header")
	}
	if v, err := strconv.Atoi(strings.TrimSpace(lines[0])); err != nil || v != checkpointVersion {
		return nil, bad("unknown version " + lines[0])
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || n < 0 || n != len(lines)-2 {
		return nil, bad("entry count " + lines[1] + " does not match the lines")
	}
	out := make([][]string, 0, n)
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) != nfields {
			return nil, bad("entry " + strconv.Quote(l))
		}
		out = append(out, f)
	}
	return out, nil
}

// readOffsetsCheckpoint reads a per-log-dir "topic partition offset" checkpoint.
func readOffsetsCheckpoint(fsys FS, path string) (map[TopicPartition]int64, error) {
	entries, err := readCheckpoint(fsys, path, 3)
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]int64, len(entries))
	for _, e := range entries {
		p, err1 := strconv.ParseInt(e[1], 10, 32)
		o, err2 := strconv.ParseInt(e[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("logstore: malformed checkpoint %s: entry %q", path, strings.Join(e, " "))
		}
		out[TopicPartition{e[0], int32(p)}] = o
	}
	return out, nil
}

// writeOffsetsCheckpoint writes a per-log-dir "topic partition offset" checkpoint.
func writeOffsetsCheckpoint(fsys FS, path string, offsets map[TopicPartition]int64) error {
	entries := make([]string, 0, len(offsets))
	for tp, o := range offsets {
		entries = append(entries, fmt.Sprintf("%s %d %d", tp.Topic, tp.Partition, o))
	}
	slices.Sort(entries)
	return writeCheckpoint(fsys, path, entries)
}
