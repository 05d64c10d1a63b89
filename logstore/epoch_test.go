package logstore

import (
	"testing"
)

// Kafka's LeaderEpochFileCache semantics (KIP-101, KIP-279).
func TestLeaderEpochCache(t *testing.T) {
	fsys := NewMemFS()
	l := openT(t, fsys, "/d/t-0", testConfig(), 0)
	if e, o := l.EndOffsetForEpoch(0); e != -1 || o != -1 {
		t.Fatalf("empty cache: %d %d", e, o)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.AssignEpochStartOffset(1, 0))
	for i := 0; i < 5; i++ {
		if _, err := l.AppendAsLeader(plain(2, 1).build(), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	must(l.AssignEpochStartOffset(3, 10))
	for i := 0; i < 5; i++ {
		if _, err := l.AppendAsLeader(plain(2, 1).build(), 3, 1); err != nil {
			t.Fatal(err)
		}
	}
	// A leader append stamped with a newer epoch records where it starts.
	if _, err := l.AppendAsLeader(plain(2, 1).build(), 5, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ask  int32
		e    int32
		o    int64
		desc string
	}{
		{5, 5, 22, "latest: the log end"},
		{3, 3, 20, "start of the next epoch"},
		{4, 3, 20, "unknown epoch between: the largest below, ended by the next"},
		{2, 1, 10, "between 1 and 3"},
		{1, 1, 10, "first epoch"},
		{0, 0, 0, "below the earliest: itself and the earliest start"},
		{6, -1, -1, "above every epoch"},
		{-1, -1, -1, "undefined"},
	} {
		if e, o := l.EndOffsetForEpoch(c.ask); e != c.e || o != c.o {
			t.Errorf("%s: epoch %d -> (%d, %d), want (%d, %d)", c.desc, c.ask, e, o, c.e, c.o)
		}
	}
	if e, ok := l.LatestEpoch(); !ok || e != 5 {
		t.Fatalf("latest %d %v", e, ok)
	}
	data, _ := readFile(fsys, "/d/t-0/leader-epoch-checkpoint")
	if string(data) != "0\n3\n1 0\n3 10\n5 20\n" {
		t.Fatalf("checkpoint file %q", data)
	}
	// Truncation from the end drops epochs starting at or after the new end.
	must(l.TruncateTo(14))
	if got := l.EpochEntries(); len(got) != 2 || got[1] != [2]int64{3, 10} {
		t.Fatalf("%v", got)
	}
	if e, o := l.EndOffsetForEpoch(3); e != 3 || o != 14 {
		t.Fatalf("%d %d", e, o)
	}
	// Moving the log start moves the first epoch's start.
	must(l.IncrementLogStartOffset(4))
	if got := l.EpochEntries(); len(got) != 2 || got[0] != [2]int64{1, 4} {
		t.Fatalf("%v", got)
	}
	must(l.IncrementLogStartOffset(12))
	if got := l.EpochEntries(); len(got) != 1 || got[0] != [2]int64{3, 12} {
		t.Fatalf("%v", got)
	}
	// An assignment that is not monotonic replaces the entries it conflicts with.
	must(l.AssignEpochStartOffset(4, 14))
	must(l.AssignEpochStartOffset(4, 13))
	if got := l.EpochEntries(); len(got) != 2 || got[1] != [2]int64{4, 13} {
		t.Fatalf("%v", got)
	}
	l.Close()
	l = openT(t, fsys, "/d/t-0", testConfig(), 0)
	defer l.Close()
	if got := l.EpochEntries(); len(got) != 2 || got[0] != [2]int64{3, 12} || got[1] != [2]int64{4, 13} {
		t.Fatalf("after reopen %v", got)
	}
	if l.LogStartOffset() != 12 {
		// Open without a log-start checkpoint starts at the first segment.
		t.Logf("log start %d after reopen (no checkpoint)", l.LogStartOffset())
	}
}
