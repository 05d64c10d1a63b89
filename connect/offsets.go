package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// MaxOffsetFileBytes bounds the offsets file read at start: a file source stores one small
// entry per file it reads, so a file this large is not an offsets file.
const MaxOffsetFileBytes = 64 << 20

// OffsetStore is the standalone worker's source offsets in offset.storage.file.filename,
// Kafka's FileOffsetBackingStore. Kafka writes a Java-serialized HashMap<ByteBuffer,
// ByteBuffer>, which klassik neither reads nor writes. klassik's file is JSON that holds the
// same keys and values Kafka serializes into that map, with Kafka's internal converter (JSON
// without schemas):
//
//	{"version":1,"offsets":[
//	  {"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":12}}]}
//
// key is [connector name, source partition], value the source offset. The file is replaced
// atomically (written aside, synced, renamed, directory synced), so a crash leaves the old
// offsets or the new ones, never a torn file. A file that starts with Java's serialization
// magic (0xACED) is refused with a sentence saying so, rather than read as empty, which would
// send every line again.
//
// Its methods are safe for concurrent use: every source task of the worker shares it.
type OffsetStore struct {
	path string

	mu      sync.Mutex
	offsets map[string]json.RawMessage // by the key's JSON
	dirty   bool
}

type offsetFile struct {
	Version int           `json:"version"`
	Offsets []offsetEntry `json:"offsets"`
}

type offsetEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// OpenOffsetStore reads the offsets file at path; a missing or empty file is an empty store.
func OpenOffsetStore(path string) (*OffsetStore, error) {
	s := &OffsetStore{path: path, offsets: map[string]json.RawMessage{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxOffsetFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxOffsetFileBytes {
		return nil, fmt.Errorf("offset.storage.file.filename %s is larger than %d bytes, the limit for an offsets file", path, MaxOffsetFileBytes)
	}
	if s.offsets, err = decodeOffsets(b); err != nil {
		return nil, fmt.Errorf("offset.storage.file.filename %s: %w", path, err)
	}
	return s, nil
}

// decodeOffsets parses the bytes of an offsets file.
func decodeOffsets(b []byte) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) == 0 {
		return out, nil
	}
	if len(b) >= 2 && b[0] == 0xac && b[1] == 0xed {
		return nil, errors.New("written by Apache Kafka's FileOffsetBackingStore (Java serialization), which klassik does not read: " +
			"move it away to read every source from its start, or set offset.storage.file.filename to another file")
	}
	var f offsetFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not a klassik offsets file: %v", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("offsets file version %d, klassik reads version 1", f.Version)
	}
	for i, e := range f.Offsets {
		var key []json.RawMessage
		if err := json.Unmarshal(e.Key, &key); err != nil || len(key) != 2 {
			return nil, fmt.Errorf("entry %d: key is not [connector, partition]", i)
		}
		var name string
		if err := json.Unmarshal(key[0], &name); err != nil {
			return nil, fmt.Errorf("entry %d: key does not start with a connector name", i)
		}
		k, err := offsetKey(name, key[1])
		if err != nil {
			return nil, fmt.Errorf("entry %d: %v", i, err)
		}
		v, err := canonicalJSON(e.Value)
		if err != nil {
			return nil, fmt.Errorf("entry %d: value is not JSON", i)
		}
		out[k] = v
	}
	return out, nil
}

// offsetKey is the canonical JSON of [connector, partition] (object keys sorted), the
// store's map key.
func offsetKey(connector string, partition any) (string, error) {
	if raw, ok := partition.(json.RawMessage); ok {
		v, err := decodeAny(raw)
		if err != nil {
			return "", err
		}
		partition = v
	}
	b, err := json.Marshal([]any{connector, partition})
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Get returns the offset stored for a connector's source partition.
func (s *OffsetStore) Get(connector string, partition any) (json.RawMessage, bool, error) {
	k, err := offsetKey(connector, partition)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.offsets[k]
	return v, ok, nil
}

// Set records a connector's offset for a source partition, written at the next Flush.
func (s *OffsetStore) Set(connector string, partition, offset any) error {
	k, err := offsetKey(connector, partition)
	if err != nil {
		return err
	}
	v, err := json.Marshal(offset)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.offsets[k], v) {
		s.offsets[k], s.dirty = v, true
	}
	return nil
}

// Flush writes the offsets to the file if they changed since the last Flush.
func (s *OffsetStore) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return nil
	}
	b, err := encodeOffsets(s.offsets)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return fmt.Errorf("writing offset.storage.file.filename %s: %w", s.path, err)
	}
	s.dirty = false
	return nil
}

// encodeOffsets is the content of an offsets file, entries in key order.
func encodeOffsets(offsets map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(offsets))
	for k := range offsets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f := offsetFile{Version: 1, Offsets: []offsetEntry{}}
	for _, k := range keys {
		f.Offsets = append(f.Offsets, offsetEntry{Key: json.RawMessage(k), Value: offsets[k]})
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeFileAtomic replaces path with data: written to a temporary file beside it, synced,
// renamed over path, and the directory synced so the rename survives a crash.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// decodeAny reads one JSON value, keeping numbers as written (json.Number), so that a large
// position survives exactly.
func decodeAny(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// canonicalJSON is raw as this package writes it (encoding/json's form: object keys sorted,
// HTML characters escaped, invalid UTF-8 replaced), so a value read back from the file is the
// value that was written, byte for byte.
func canonicalJSON(raw []byte) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty")
	}
	v, err := decodeAny(raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
