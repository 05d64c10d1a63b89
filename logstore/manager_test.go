package logstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestParseLogDirName(t *testing.T) {
	for name, want := range map[string]TopicPartition{
		"orders-0":              {"orders", 0},
		"my-topic.v2-eu-12":     {"my-topic.v2-eu", 12},
		"__consumer_offsets-49": {"__consumer_offsets", 49},
	} {
		if got, ok := ParseLogDirName(name); !ok || got != want {
			t.Errorf("%s: %v %v", name, got, ok)
		}
	}
	for _, name := range []string{"orders", "-1", "orders-", "orders-x", "orders-0.abc-delete"} {
		if _, ok := ParseLogDirName(name); ok {
			t.Errorf("%s parsed", name)
		}
	}
}

func TestManagerOSFS(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	fsys := OSFS()
	cfg := testConfig()
	m, err := OpenManager(fsys, []string{d1, d2}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenManager(fsys, []string{d1}, cfg, zerolog.Nop()); err == nil {
		t.Fatal("a locked log dir opened twice")
	}
	tps := []TopicPartition{{"a", 0}, {"a", 1}, {"my-topic.v2", 0}, {"b", 7}}
	for i, tp := range tps {
		l, err := m.GetOrCreate(tp, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j <= i; j++ {
			mustAppend(t, l, plain(2, 1).build())
		}
	}
	if l, _ := m.GetOrCreate(tps[0], cfg); l.LogEndOffset() != 2 {
		t.Fatal("GetOrCreate made a second log")
	}
	// Spread over the folders with the fewest logs.
	for _, d := range []string{d1, d2} {
		ents, _ := os.ReadDir(d)
		n := 0
		for _, e := range ents {
			if e.IsDir() {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%s holds %d logs", d, n)
		}
	}
	if err := m.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	rp, err := os.ReadFile(filepath.Join(d1, RecoveryPointCheckpointFile))
	if err != nil || !strings.HasPrefix(string(rp), "0\n2\n") {
		t.Fatalf("%q %v", rp, err)
	}
	hw := map[TopicPartition]int64{tps[0]: 1, tps[2]: 4, {"gone", 0}: 9}
	if err := m.WriteHighWatermarks(hw); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(tps[3]); err != nil {
		t.Fatal(err)
	}
	if m.Get(tps[3]) != nil {
		t.Fatal("deleted log still there")
	}
	// A log deleted before a crash: its -delete folder is removed at the next open.
	stray := filepath.Join(d2, "x-0.0123456789abcdef0123456789abcdef-delete")
	os.MkdirAll(stray, 0o755)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{d1, d2} {
		if _, err := os.Stat(filepath.Join(d, CleanShutdownFile)); err != nil {
			t.Fatal("no clean shutdown marker")
		}
	}

	m, err = OpenManager(fsys, []string{d1, d2}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	all := m.All()
	if len(all) != 3 {
		t.Fatalf("%d logs after reopen", len(all))
	}
	for i, tp := range tps[:3] {
		l := all[tp]
		if l == nil || l.LogEndOffset() != int64(2*(i+1)) {
			t.Fatalf("%v: %v", tp, l)
		}
		readAll(t, l, 0)
	}
	got, err := m.ReadHighWatermarks()
	if err != nil || len(got) != 2 || got[tps[0]] != 1 || got[tps[2]] != 4 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatal("-delete folder kept")
	}
	if _, err := os.Stat(filepath.Join(d1, CleanShutdownFile)); !os.IsNotExist(err) {
		t.Fatal("clean shutdown marker kept after open")
	}
	for _, d := range []string{d1, d2} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "b-7") {
				t.Fatal("deleted log's folder kept")
			}
		}
	}
}

// TestManagerCrash: without a clean shutdown the manager recovers from the checkpointed
// recovery points; the log start offset checkpoint is honoured.
func TestManagerCrash(t *testing.T) {
	fsys := NewMemFS()
	cfg := testConfig()
	m, err := OpenManager(fsys, []string{"/kafka"}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	tp := TopicPartition{"t", 0}
	l, _ := m.GetOrCreate(tp, cfg)
	for i := 0; i < 10; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	if err := l.IncrementLogStartOffset(3); err != nil {
		t.Fatal(err)
	}
	if err := m.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	fsys.Crash()
	m, err = OpenManager(fsys, []string{"/kafka"}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l = m.Get(tp)
	if l == nil || l.LogEndOffset() != 20 || l.LogStartOffset() != 3 {
		t.Fatalf("%v", l)
	}
	mustAppend(t, l, plain(2, 1).build())
	readAll(t, l, 3)
}
