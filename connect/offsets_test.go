package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOffsetStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	s, err := OpenOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("local-file-source", map[string]string{"filename": "test.txt"}); ok {
		t.Fatal("an empty store has an offset")
	}
	if err := s.Set("local-file-source", map[string]string{"filename": "test.txt"}, map[string]int64{"position": 12}); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("other", map[string]string{"filename": "b.txt"}, map[string]int64{"position": 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"offsets":[{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":12}},{"key":["other",{"filename":"b.txt"}],"value":{"position":1099511627776}}]}` + "\n"
	if string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
	s2, err := OpenOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := s2.Get("local-file-source", map[string]string{"filename": "test.txt"})
	if err != nil || !ok || string(v) != `{"position":12}` {
		t.Fatalf("reopened: %s %v %v", v, ok, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestOffsetStoreRefusals(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		content []byte
		want    string
	}{
		"kafka":   {[]byte{0xac, 0xed, 0x00, 0x05, 's', 'r'}, "Java serialization"},
		"garbage": {[]byte("hello"), "not a klassik offsets file"},
		"version": {[]byte(`{"version":2,"offsets":[]}`), "version 2"},
		"key":     {[]byte(`{"version":1,"offsets":[{"key":["only-name"],"value":{}}]}`), "entry 0"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := OpenOffsetStore(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "offset.storage.file.filename") {
			t.Errorf("%s: %v, want %q naming the setting", name, err, c.want)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if _, err := OpenOffsetStore(empty); err != nil {
		t.Fatalf("an empty file is an empty store: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, MaxOffsetFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenOffsetStore(filepath.Join(dir, "big")); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized file: %v", err)
	}
}

// FuzzDecodeOffsets: no file content panics the reader, and whatever it accepts it writes
// back to a file that reads the same.
func FuzzDecodeOffsets(f *testing.F) {
	f.Add([]byte(`{"version":1,"offsets":[{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":12}}]}`))
	f.Add([]byte{0xac, 0xed, 0, 5})
	f.Add([]byte(`{"version":1,"offsets":[{"key":["a",null],"value":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeOffsets(b)
		if err != nil {
			return
		}
		enc, err := encodeOffsets(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeOffsets(enc)
		if err != nil {
			t.Fatalf("re-read of what was written: %v\n%s", err, enc)
		}
		if len(again) != len(m) {
			t.Fatalf("%d entries became %d", len(m), len(again))
		}
		for k, v := range m {
			if string(again[k]) != string(v) {
				t.Fatalf("entry %s: %s became %s", k, v, again[k])
			}
		}
	})
}
