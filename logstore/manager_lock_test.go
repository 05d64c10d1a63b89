package logstore

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// gatedSyncFS holds every fsync of a file whose path contains gate until release is closed:
// a disk whose writeback is seconds behind.
type gatedSyncFS struct {
	FS
	gate    string
	armed   atomic.Bool
	entered chan struct{} // one send when an armed fsync starts waiting
	release chan struct{}
}

func (g *gatedSyncFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.Contains(name, g.gate) {
		return f, err
	}
	return gatedFile{File: f, fs: g}, nil
}

type gatedFile struct {
	File
	fs *gatedSyncFS
}

func (f gatedFile) Sync() error {
	if f.fs.armed.Load() {
		select {
		case f.fs.entered <- struct{}{}:
		default:
		}
		<-f.fs.release
	}
	return f.File.Sync()
}

// A checkpoint's flush of a busy log must not hold up the manager: while it waits on the disk,
// a new partition is created, another deleted and the high watermarks written.
func TestCheckpointFlushDoesNotBlockTheManager(t *testing.T) {
	dir := t.TempDir()
	g := &gatedSyncFS{FS: OSFS(), gate: "busy-0", entered: make(chan struct{}, 1), release: make(chan struct{})}
	cfg := testConfig()
	m, err := OpenManager(g, []string{dir}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	busy, err := m.GetOrCreate(TopicPartition{"busy", 0}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetOrCreate(TopicPartition{"old", 0}, cfg); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, busy, plain(3, 1).build())

	g.armed.Store(true)
	checkpointed := make(chan error, 1)
	go func() { checkpointed <- m.Checkpoint() }()
	<-g.entered // the flush waits on the disk now
	done := make(chan error, 1)
	go func() {
		_, err := m.GetOrCreate(TopicPartition{"new", 0}, cfg)
		if err == nil {
			err = m.Delete(TopicPartition{"old", 0})
		}
		if err == nil {
			err = m.WriteHighWatermarks(map[TopicPartition]int64{{"new", 0}: 0})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("creating a partition waited for another log's flush")
	}
	select {
	case <-checkpointed:
		t.Fatal("the checkpoint finished before its flush was let through")
	default:
	}
	close(g.release)
	if err := <-checkpointed; err != nil {
		t.Fatal(err)
	}
	if busy.RecoveryPoint() != 3 {
		t.Fatalf("recovery point %d after the flush, want 3", busy.RecoveryPoint())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old-0")); !os.IsNotExist(err) {
		t.Fatalf("the deleted log's folder: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "-delete") {
			t.Fatalf("%s left after Close", e.Name())
		}
	}
}
