package group

import (
	"context"
	"testing"

	"github.com/klassik/klassik/record"
	"github.com/rs/zerolog"
)

// FuzzOffsetsKey: no key bytes panic the parser of __consumer_offsets keys, and a parsed key
// re-encodes to one that parses the same.
func FuzzOffsetsKey(f *testing.F) {
	f.Add(offsetCommitKey("group", "topic", 3))
	f.Add(groupMetadataKey("group"))
	f.Add([]byte{0, 1, 0xff, 0xff})
	f.Add([]byte{0, 2, 0x7f, 0xff, 'g'})
	f.Add([]byte{0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseKey(b)
		if err != nil {
			return
		}
		var again []byte
		if k.isOffset {
			again = offsetCommitKey(k.group, k.topic, k.partition)
		} else {
			again = groupMetadataKey(k.group)
		}
		if k2, err := parseKey(again); err != nil || k2 != k {
			t.Fatalf("%+v re-parsed as %+v, %v", k, k2, err)
		}
	})
}

// FuzzOffsetsValue: no value bytes panic the offset commit or group metadata value parsers.
func FuzzOffsetsValue(f *testing.F) {
	f.Add(offsetCommitValue(offsetEntry{offset: 42, leaderEpoch: 3, metadata: "m", commitTimestamp: 1, expireTimestamp: -1}))
	f.Add(offsetCommitValue(offsetEntry{offset: 42, leaderEpoch: -1, commitTimestamp: 1, expireTimestamp: 99}))
	g := newGroup("g", 0, 1)
	g.protocolType = "consumer"
	f.Add(g.metadataValue(nil))
	f.Add([]byte{0, 3, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseOffsetValue(b)
		_, _ = loadGroupValue("g", 0, b, 1)
	})
}

// FuzzLoadBatches: the loader's walk over whatever bytes a __consumer_offsets read returns
// never panics, and only batches that pass their CRC check yield records.
func FuzzLoadBatches(f *testing.F) {
	commit := encodeBatch(1, []offsetsRecord{
		{Timestamp: 1, Key: offsetCommitKey("g", "t", 0), Value: offsetCommitValue(offsetEntry{offset: 5, leaderEpoch: -1, expireTimestamp: -1})},
		{Timestamp: 2, Key: groupMetadataKey("g")},
	})
	f.Add(commit)
	f.Add(append(append([]byte{}, commit...), commit[:30]...))
	f.Add(snappyBombBatch())
	f.Fuzz(func(t *testing.T, b []byte) {
		batches, _, _ := splitBatches(b, 1<<20)
		for _, d := range batches {
			for _, r := range d.Records {
				if k, err := parseKey(r.Key); err == nil && k.isOffset && r.Value != nil {
					_, _ = parseOffsetValue(r.Value)
				} else if err == nil && r.Value != nil {
					_, _ = loadGroupValue(k.group, 0, r.Value, 1)
				}
			}
		}
	})
}

// snappyBombBatch is a batch with a valid CRC whose snappy records are in the xerial framing
// with a block length far past the end: the bytes that crashed the old loader.
func snappyBombBatch() []byte {
	body := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3}
	return record.Build(record.BatchHeader{Attributes: record.CodecSnappy, LastOffsetDelta: 0, ProducerID: -1, ProducerEpoch: -1,
		BaseSequence: -1, PartitionLeaderEpoch: -1, NumRecords: 1}, body)
}

// TestLoaderSkipsCorruptRecords: corrupt batches and records in __consumer_offsets are
// skipped and counted, and the good records around them load.
func TestLoaderSkipsCorruptRecords(t *testing.T) {
	log := newFakeLog()
	c := New(testConfig(), log, zerolog.Nop())
	defer c.Close()
	ctx := context.Background()
	commit := func(group string, off int64) []byte {
		return encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: offsetCommitKey(group, "t", 0),
			Value: offsetCommitValue(offsetEntry{offset: off, leaderEpoch: -1, expireTimestamp: -1})}})
	}
	for _, b := range [][]byte{
		commit("before", 1),
		snappyBombBatch(),
		encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: []byte{0, 7, 1}, Value: []byte("x")}}),                    // unknown key version
		encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: offsetCommitKey("bad", "t", 0), Value: []byte{0, 3, 1}}}), // truncated value
		commit("after", 2),
	} {
		if _, err := log.Append(ctx, 0, b); err != nil {
			t.Fatal(err)
		}
	}
	groups, err := c.readPartition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, g := range groups {
		for _, o := range g.offsets {
			got[g.id] = o.offset
		}
	}
	if len(got) != 2 || got["before"] != 1 || got["after"] != 2 {
		t.Fatalf("loaded %v, want before=1 and after=2", got)
	}
	if n := c.CorruptRecords(); n != 3 {
		t.Fatalf("CorruptRecords %d, want 3", n)
	}
}
