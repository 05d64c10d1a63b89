package group

import (
	"context"
	"testing"

	"github.com/klassik/klassik/record"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnCommitReq is a TxnOffsetCommit v3 of topic t1 partition p at offset, by producer pid at
// epoch, naming the group only (generation -1, no member), as a producer given
// ConsumerGroupMetadata(groupId) sends it.
func txnCommitReq(group string, pid int64, epoch int16, p int32, offset int64) *kmsg.TxnOffsetCommitRequest {
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.Version = 3
	r.TransactionalID = "tx"
	r.Group, r.ProducerID, r.ProducerEpoch = group, pid, epoch
	r.Generation = -1
	md := "txn-meta"
	r.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: p, Offset: offset, LeaderEpoch: 2, Metadata: &md}}}}
	return r
}

func txnCommit(t *testing.T, c *Coordinator, r *kmsg.TxnOffsetCommitRequest) int16 {
	t.Helper()
	resp := c.TxnOffsetCommit(context.Background(), r)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("response %+v", resp)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// fetchStable is an OffsetFetch v7 of t1 partition p; it returns the offset and error code.
func fetchStable(t *testing.T, c *Coordinator, group string, p int32, requireStable bool) (int64, int16) {
	t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 7
	r.Group = group
	r.RequireStable = requireStable
	r.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t1", Partitions: []int32{p}}}
	resp := c.OffsetFetch(context.Background(), r)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch: %+v", resp)
	}
	rp := resp.Topics[0].Partitions[0]
	return rp.Offset, rp.ErrorCode
}

// marker appends producer pid's COMMIT or ABORT marker to the fake log, as WriteTxnMarkers
// does, and tells the coordinator, as the broker's hook does.
func marker(t *testing.T, c *Coordinator, log *fakeLog, pid int64, epoch int16, commit bool) {
	t.Helper()
	if _, err := log.Append(context.Background(), 0, record.BuildEndTxnMarker(pid, epoch, record.EndTxnMarker{Commit: commit}, 1)); err != nil {
		t.Fatal(err)
	}
	if c != nil {
		c.CompleteTxn(pid, []int32{0}, commit)
	}
}

// KIP-98: a transactional offset commit is invisible until its transaction commits; KIP-447:
// meanwhile OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT.
func TestTxnOffsetCommitVisibleOnCommit(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 42)); code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	if off, code := fetchStable(t, c, "g", 0, false); off != -1 || code != 0 {
		t.Fatalf("fetch during the transaction: offset %d code %d, want -1 and no error", off, code)
	}
	if _, code := fetchStable(t, c, "g", 0, true); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require_stable during the transaction: code %d, want UNSTABLE_OFFSET_COMMIT", code)
	}
	if _, code := fetchStable(t, c, "g", 1, true); code != 0 {
		t.Fatalf("require_stable of a partition outside the transaction: code %d", code)
	}

	// The batch is the producer's: transactional, its id and epoch, base sequence 0.
	log.mu.Lock()
	raw := log.parts[0].batches[0]
	log.mu.Unlock()
	h, err := record.Check(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Transactional() || h.Control() || h.ProducerID != 7 || h.ProducerEpoch != 1 || h.BaseSequence != 0 {
		t.Fatalf("batch header %+v, want transactional, producer 7 epoch 1, sequence 0", h)
	}

	marker(t, c, log, 8, 0, true) // another producer's marker changes nothing
	if _, code := fetchStable(t, c, "g", 0, true); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("after another producer's commit: code %d", code)
	}
	marker(t, c, log, 7, 1, true)
	if off, code := fetchStable(t, c, "g", 0, true); off != 42 || code != 0 {
		t.Fatalf("after the commit: offset %d code %d, want 42", off, code)
	}
	r := fetch(t, c, "g", 7, []kmsg.OffsetFetchRequestTopic{{Topic: "t1", Partitions: []int32{0}}})
	if p := r.Topics[0].Partitions[0]; p.LeaderEpoch != 2 || p.Metadata == nil || *p.Metadata != "txn-meta" {
		t.Fatalf("committed partition %+v, want leader epoch 2 and the metadata", p)
	}
}

func TestTxnOffsetCommitAbort(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	if code := commit(t, c, "g", -1, "", 10); code != 0 { // a plain commit of t1-0 at 10
		t.Fatalf("commit: %d", code)
	}
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 42)); code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	marker(t, c, log, 7, 1, false)
	if off, code := fetchStable(t, c, "g", 0, true); off != 10 || code != 0 {
		t.Fatalf("after the abort: offset %d code %d, want the plain commit's 10", off, code)
	}
	// The next transaction of the producer starts afresh.
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 50)); code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	marker(t, c, log, 7, 1, true)
	if off, _ := fetchStable(t, c, "g", 0, true); off != 50 {
		t.Fatalf("after the next commit: offset %d, want 50", off)
	}
}

// GroupMetadata.completePendingTxnOffsetCommit: a transactional offset becomes the committed
// one only if it is later in the log than the committed one.
func TestTxnOffsetCommitOrderedByLogOffset(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 42)); code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	if code := commit(t, c, "g", -1, "", 60); code != 0 { // later in the log
		t.Fatalf("commit: %d", code)
	}
	marker(t, c, log, 7, 1, true)
	if off, _ := fetchStable(t, c, "g", 0, true); off != 60 {
		t.Fatalf("offset %d, want the later plain commit's 60", off)
	}
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 70)); code != 0 { // later than 60
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	marker(t, c, log, 7, 1, true)
	if off, _ := fetchStable(t, c, "g", 0, true); off != 70 {
		t.Fatalf("offset %d, want the later transactional commit's 70", off)
	}

	// A fresh coordinator reading the same log agrees.
	c2 := startCoordinator(t, testConfig(), log)
	if off, code := fetchStable(t, c2, "g", 0, true); off != 70 || code != 0 {
		t.Fatalf("reloaded: offset %d code %d, want 70", off, code)
	}
}

// KIP-447 (TxnOffsetCommit v3): a commit naming a member is checked against the group; one
// naming only the group is not, whatever the group's members.
func TestTxnOffsetCommitGenerationChecks(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 50
	c := startCoordinator(t, cfg, newFakeLog())
	inst := "instance-1"
	j := recvJoin(t, asyncJoin(c, "g", joinOpts{instanceID: &inst}))
	if j.ErrorCode != 0 {
		t.Fatalf("join: %+v", j)
	}
	ids, gen := []string{j.MemberID}, j.Generation
	if s := recvSync(t, asyncSync(c, syncReq("g", j.MemberID, gen, map[string][]byte{j.MemberID: []byte("A")}))); s.ErrorCode != 0 {
		t.Fatalf("sync: %+v", s)
	}
	req := func(gen int32, member string, instance *string) *kmsg.TxnOffsetCommitRequest {
		r := txnCommitReq("g", 7, 1, 0, 5)
		r.Generation, r.MemberID, r.InstanceID = gen, member, instance
		return r
	}
	other := "instance-2"
	for _, tc := range []struct {
		name     string
		req      *kmsg.TxnOffsetCommitRequest
		wantCode int16
	}{
		{"current member", req(gen, ids[0], &inst), 0},
		{"group only", req(-1, "", nil), 0},
		{"unknown member", req(gen, "nobody", nil), kerr.UnknownMemberID.Code},
		{"old generation", req(gen-1, ids[0], &inst), kerr.IllegalGeneration.Code},
		{"member with generation -1", req(-1, ids[0], nil), kerr.IllegalGeneration.Code},
		{"fenced instance", req(gen, "old-member-id", &inst), kerr.FencedInstanceID.Code},
		{"unknown instance", req(gen, ids[0], &other), kerr.UnknownMemberID.Code},
	} {
		if code := txnCommit(t, c, tc.req); code != tc.wantCode {
			t.Errorf("%s: code %d, want %d", tc.name, code, tc.wantCode)
		}
	}
	// v0-2 carry no generation: the same member fields are ignored.
	old := req(gen-1, "nobody", nil)
	old.Version = 2
	if code := txnCommit(t, c, old); code != 0 {
		t.Errorf("v2 with stale member fields: %d, want 0 (v2 has none)", code)
	}
	// An unknown group with a member named: created, and the member is unknown.
	r := txnCommitReq("fresh", 7, 1, 0, 5)
	r.Generation, r.MemberID = 3, "m"
	if code := txnCommit(t, c, r); code != kerr.UnknownMemberID.Code {
		t.Errorf("unknown group with a member: %d, want UNKNOWN_MEMBER_ID", code)
	}
}

func TestTxnOffsetCommitErrors(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetMetadataMaxBytes = 4
	log := newFakeLog()
	c := startCoordinator(t, cfg, log)

	// offset.metadata.max.bytes is checked per partition.
	r := txnCommitReq("g", 7, 1, 0, 5) // metadata "txn-meta": 8 bytes
	short := "ok"
	r.Topics[0].Partitions = append(r.Topics[0].Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Partition: 1, Offset: 6, LeaderEpoch: -1, Metadata: &short})
	resp := c.TxnOffsetCommit(context.Background(), r)
	if p := resp.Topics[0].Partitions; p[0].ErrorCode != kerr.OffsetMetadataTooLarge.Code || p[1].ErrorCode != 0 {
		t.Fatalf("codes %d %d, want OFFSET_METADATA_TOO_LARGE and 0", p[0].ErrorCode, p[1].ErrorCode)
	}
	marker(t, c, log, 7, 1, true)
	if off, _ := fetchStable(t, c, "g", 1, true); off != 6 {
		t.Fatalf("partition 1 offset %d, want 6", off)
	}
	if off, _ := fetchStable(t, c, "g", 0, true); off != -1 {
		t.Fatalf("partition 0 offset %d, want none", off)
	}

	// A fenced producer: the log refuses its epoch, the error reaches the producer, and
	// nothing stays pending.
	log.mu.Lock()
	log.appendErr = kerr.InvalidProducerEpoch
	log.mu.Unlock()
	zombie := txnCommitReq("g", 7, 0, 1, 9)
	zombie.Topics[0].Partitions[0].Metadata = &short
	if code := txnCommit(t, c, zombie); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("zombie's commit: %d, want INVALID_PRODUCER_EPOCH", code)
	}
	if off, code := fetchStable(t, c, "g", 1, true); off != 6 || code != 0 {
		t.Fatalf("after the failed commit: offset %d code %d, want 6 and stable", off, code)
	}
	log.mu.Lock()
	log.appendErr = nil
	log.mu.Unlock()

	// The group id must not be empty; other coordinators' groups are not ours.
	if code := txnCommit(t, c, txnCommitReq("", 7, 1, 0, 5)); code != kerr.InvalidGroupID.Code {
		t.Fatalf("empty group id: %d", code)
	}
	c.Resign(0, 5)
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 5)); code != kerr.NotCoordinator.Code {
		t.Fatalf("after resigning: %d, want NOT_COORDINATOR", code)
	}
}

// A group with pending transactional offsets only is not expired as empty (hasOffsets).
func TestTxnPendingGroupNotExpired(t *testing.T) {
	c := startCoordinator(t, testConfig(), newFakeLog())
	if code := txnCommit(t, c, txnCommitReq("g", 7, 1, 0, 5)); code != 0 {
		t.Fatal(code)
	}
	c.expireOffsets()
	if c.getGroup("g") == nil {
		t.Fatal("group with a pending transactional commit removed")
	}
	c.CompleteTxn(7, []int32{0}, true)
	if off, _ := fetchStable(t, c, "g", 0, true); off != 5 {
		t.Fatalf("offset %d, want 5", off)
	}
}

// GroupMetadataManager.doLoadGroupsAndOffsets: a transactional batch's offsets wait for their
// producer's marker; COMMIT applies them (unless a later commit in the log won), ABORT drops
// them, and without a marker they stay pending after the load.
func TestLoaderReplaysTransactions(t *testing.T) {
	log := newFakeLog()
	ctx := context.Background()
	txn := func(group string, pid int64, p int32, off int64) []byte {
		return encodeTxnBatch(1, []offsetsRecord{{Timestamp: 1, Key: offsetCommitKey(group, "t1", p),
			Value: offsetCommitValue(offsetEntry{offset: off, leaderEpoch: -1, expireTimestamp: -1})}}, pid, 0)
	}
	plainCommit := func(group string, p int32, off int64) []byte {
		return encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: offsetCommitKey(group, "t1", p),
			Value: offsetCommitValue(offsetEntry{offset: off, leaderEpoch: -1, expireTimestamp: -1})}})
	}
	for _, b := range [][]byte{
		plainCommit("g", 0, 1),
		txn("g", 1, 0, 10), // committed below
		txn("g", 2, 1, 20), // aborted below
		txn("g", 4, 2, 40), // committed below, but a later plain commit wins
		plainCommit("g", 2, 50),
		txn("open", 3, 0, 30), // never ended: pending
		txn("g", 1, 3, 11),    // producer 1's second commit of the same transaction
	} {
		if _, err := log.Append(ctx, 0, b); err != nil {
			t.Fatal(err)
		}
	}
	marker(t, nil, log, 1, 0, true)
	marker(t, nil, log, 2, 0, false)
	marker(t, nil, log, 4, 0, true)
	if _, err := log.Append(ctx, 0, txn("g", 2, 1, 21)); err != nil { // producer 2's next transaction: open
		t.Fatal(err)
	}

	c := startCoordinator(t, testConfig(), log)
	for _, tc := range []struct {
		group      string
		p          int32
		wantOffset int64
		wantCode   int16
	}{
		{"g", 0, 10, 0},
		{"g", 1, -1, kerr.UnstableOffsetCommit.Code}, // 20 aborted, 21 pending
		{"g", 2, 50, 0},
		{"g", 3, 11, 0},
		{"open", 0, -1, kerr.UnstableOffsetCommit.Code},
	} {
		off, code := fetchStable(t, c, tc.group, tc.p, true)
		if off != tc.wantOffset || code != tc.wantCode {
			t.Errorf("%s t1-%d: offset %d code %d, want %d code %d", tc.group, tc.p, off, code, tc.wantOffset, tc.wantCode)
		}
	}
	if off, _ := fetchStable(t, c, "g", 1, false); off != -1 {
		t.Errorf("g t1-1 without require_stable: %d, want -1 (the aborted 20 never shows)", off)
	}
	// The transactions still open complete on the coordinator that loaded them.
	c.CompleteTxn(3, []int32{0}, true)
	c.CompleteTxn(2, []int32{0}, false)
	if off, code := fetchStable(t, c, "open", 0, true); off != 30 || code != 0 {
		t.Errorf("open t1-0 after its commit: offset %d code %d, want 30", off, code)
	}
	if off, code := fetchStable(t, c, "g", 1, true); off != -1 || code != 0 {
		t.Errorf("g t1-1 after its abort: offset %d code %d, want none, stable", off, code)
	}
	if n := c.CorruptRecords(); n != 0 {
		t.Errorf("CorruptRecords %d", n)
	}
}

// The loader's view of an undecodable marker: counted as corrupt, the transaction stays open.
func TestLoaderCorruptMarker(t *testing.T) {
	log := newFakeLog()
	ctx := context.Background()
	if _, err := log.Append(ctx, 0, encodeTxnBatch(1, []offsetsRecord{{Timestamp: 1, Key: offsetCommitKey("g", "t1", 0),
		Value: offsetCommitValue(offsetEntry{offset: 3, leaderEpoch: -1, expireTimestamp: -1})}}, 5, 0)); err != nil {
		t.Fatal(err)
	}
	bad := record.Build(record.BatchHeader{Attributes: record.AttrControl | record.AttrTransactional, ProducerID: 5,
		ProducerEpoch: 0, BaseSequence: -1, PartitionLeaderEpoch: -1, NumRecords: 1},
		record.AppendRecord(nil, 0, 0, []byte{0, 0, 0, 1}, []byte{0}, nil)) // COMMIT with a short value
	if _, err := log.Append(ctx, 0, bad); err != nil {
		t.Fatal(err)
	}
	c := New(testConfig(), log, zerolog.Nop())
	defer c.Close()
	groups, err := c.readPartition(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || len(groups[0].offsets) != 0 || len(groups[0].pendingTxnOffsets[5]) != 1 {
		t.Fatalf("groups %+v, want g with producer 5's offset pending", groups)
	}
	if c.CorruptRecords() != 1 {
		t.Fatalf("CorruptRecords %d, want 1", c.CorruptRecords())
	}
}
