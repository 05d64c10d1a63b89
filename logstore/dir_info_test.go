package logstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// Dirs lists every log dir in log.dirs order with the logs it holds (new logs go to the dir
// with the fewest, LogManager.nextLogDirs); a failed dir is offline and holds none.
func TestManagerDirs(t *testing.T) {
	d1, d2 := "/data/a", "/data/b"
	m, err := OpenManager(NewMemFS(), []string{d1, d2}, testConfig(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for p := int32(0); p < 3; p++ {
		l, err := m.GetOrCreate(TopicPartition{"t", p}, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, plain(int(p)+1, 1000).build())
	}
	dirs := m.Dirs()
	if len(dirs) != 2 || dirs[0].Path != d1 || dirs[1].Path != d2 {
		t.Fatalf("dirs %+v", dirs)
	}
	if len(dirs[0].Logs)+len(dirs[1].Logs) != 3 || len(dirs[0].Logs) == 0 || len(dirs[1].Logs) == 0 {
		t.Fatalf("logs per dir: %d and %d, want 3 spread over both", len(dirs[0].Logs), len(dirs[1].Logs))
	}
	for _, d := range dirs {
		if d.Offline || d.TotalBytes != -1 {
			t.Errorf("%s: offline %v total %d (memfs cannot tell space)", d.Path, d.Offline, d.TotalBytes)
		}
		for _, l := range d.Logs {
			if filepath.Dir(l.Dir()) != d.Path || l.Size() == 0 {
				t.Errorf("%s listed in %s with size %d", l.Dir(), d.Path, l.Size())
			}
		}
	}
	m.HandleLogDirFailure(d1)
	if dirs := m.Dirs(); !dirs[0].Offline || len(dirs[0].Logs) != 0 || dirs[1].Offline {
		t.Fatalf("after %s failed: %+v", d1, dirs)
	}
}

func TestOSDiskSpace(t *testing.T) {
	sfs, ok := OSFS().(spaceFS)
	if !ok {
		t.Skip("no disk space on this platform")
	}
	total, usable, err := sfs.DiskSpace(os.TempDir())
	if err != nil || total <= 0 || usable < 0 || usable > total {
		t.Fatalf("DiskSpace(%s) = %d, %d, %v", os.TempDir(), total, usable, err)
	}
}
