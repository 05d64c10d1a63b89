package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDescribeLogDirs: with two directories in log.dirs (Kafka's JBOD layout), DescribeLogDirs
// lists both by absolute path with the space of their file system (v4, KIP-827), and each
// partition in the one dir whose folder holds it, with its size (the bytes of its segment
// files on disk) and an offset lag of 0, as Kafka 3.6's ReplicaManager.describeLogDirs
// (issue 14, item 6). New partitions go to the dir with the fewest, so four partitions
// spread over both. Described with kadm.
func TestDescribeLogDirs(t *testing.T) {
	base := t.TempDir()
	dirA, dirB := filepath.Join(base, "a"), filepath.Join(base, "b")
	c := NewCluster(t, BrokerConfig("log.dirs", dirA+","+dirB))
	topic := topicName(t, "dirs")
	c.CreateTopic(t, topic, 4, 1, nil)
	cl := c.Client(t, manual())
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 4), Value: []byte(strings.Repeat("x", 100+i))})
	}
	if err := cl.ProduceSync(ctxT(t, time.Minute), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	adm := c.Admin(t)
	var dirs kadm.DescribedLogDirs
	eventually(t, 30*time.Second, func() error {
		var err error
		dirs, err = adm.DescribeBrokerLogDirs(ctxT(t, 30*time.Second), 1, nil)
		return err
	})
	if len(dirs) != 2 {
		t.Fatalf("described %d log dirs, want 2: %+v", len(dirs), dirs)
	}
	perDir := map[string]int{}
	for _, dir := range []string{dirA, dirB} {
		d, ok := dirs[dir]
		if !ok || d.Err != nil {
			t.Fatalf("log dir %s: %+v (described: %v)", dir, d, dirs)
		}
		if d.TotalBytes <= 0 || d.UsableBytes < 0 || d.UsableBytes > d.TotalBytes {
			t.Errorf("%s: total %d usable %d bytes", dir, d.TotalBytes, d.UsableBytes)
		}
		for p, dp := range d.Topics[topic] {
			perDir[dir]++
			folder := filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p))
			if onDisk := segmentBytes(t, folder); dp.Size != onDisk || dp.Size == 0 {
				t.Errorf("%s-%d in %s: size %d, its .log files hold %d bytes", topic, p, dir, dp.Size, onDisk)
			}
			if dp.OffsetLag != 0 || dp.IsFuture {
				t.Errorf("%s-%d: offset lag %d future %v, want 0 and false", topic, p, dp.OffsetLag, dp.IsFuture)
			}
		}
	}
	if perDir[dirA]+perDir[dirB] != 4 || perDir[dirA] != 2 {
		t.Errorf("partitions per dir: %v, want 2 in each", perDir)
	}

	// Asking for one partition: only it is described.
	want := kadm.TopicsSet{topic: {2: {}}}
	dirs, err := adm.DescribeBrokerLogDirs(ctxT(t, 30*time.Second), 1, want)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			n++
			if p.Topic != topic || p.Partition != 2 {
				t.Errorf("asked for %s-2, described %s-%d", topic, p.Topic, p.Partition)
			}
		})
	})
	if n != 1 {
		t.Errorf("asked for one partition, described %d", n)
	}
}

// segmentBytes sums the sizes of the .log files in a partition folder.
func segmentBytes(t *testing.T, folder string) int64 {
	t.Helper()
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".log") {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			n += fi.Size()
		}
	}
	return n
}
