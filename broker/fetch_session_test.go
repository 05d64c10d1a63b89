package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func fetchReq(id, epoch int32, parts map[int32]int64) *kmsg.FetchRequest {
	r := kmsg.NewPtrFetchRequest()
	r.SetVersion(12)
	r.ReplicaID = -1
	r.SessionID, r.SessionEpoch = id, epoch
	if len(parts) > 0 {
		t := kmsg.NewFetchRequestTopic()
		t.Topic = "t"
		for p := int32(0); p < 16; p++ {
			if off, ok := parts[p]; ok {
				rp := kmsg.NewFetchRequestTopicPartition()
				rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, off, 1<<20
				t.Partitions = append(t.Partitions, rp)
			}
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// answer is what fetchOnce would return for eff: hw per partition, records where given.
func answer(eff *kmsg.FetchRequest, hw map[int32]int64, records map[int32]bool) *kmsg.FetchResponse {
	resp := eff.ResponseKind().(*kmsg.FetchResponse)
	for _, t := range eff.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = t.Topic
		for _, rp := range t.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw[rp.Partition], hw[rp.Partition], 0
			if records[rp.Partition] {
				sp.RecordBatches = []byte{1}
			}
			rt.Partitions = append(rt.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func answered(resp *kmsg.FetchResponse) []int32 {
	var out []int32
	for _, rt := range resp.Topics {
		for _, sp := range rt.Partitions {
			out = append(out, sp.Partition)
		}
	}
	return out
}

func TestFetchSessionIncremental(t *testing.T) {
	c := newFetchSessionCache(10)
	now := time.Now()
	hw := map[int32]int64{0: 5, 1: 5, 2: 5}

	fc, refused := c.begin(fetchReq(0, 0, map[int32]int64{0: 5, 1: 5, 2: 5}), false, now)
	if refused != nil || fc.session == nil || !fc.full {
		t.Fatalf("a full fetch with epoch 0 opens a session: %+v %+v", fc, refused)
	}
	resp := answer(fc.request(fetchReq(0, 0, nil)), hw, nil)
	fc.finish(resp)
	id := resp.SessionID
	if id <= 0 || len(answered(resp)) != 3 {
		t.Fatalf("full answer: session %d, partitions %v", id, answered(resp))
	}

	// Nothing changed: an incremental fetch naming nothing reads all three and answers none.
	fc, refused = c.begin(fetchReq(id, 1, nil), false, now)
	if refused != nil || fc.full {
		t.Fatalf("incremental: %+v", refused)
	}
	eff := fc.request(fetchReq(id, 1, nil))
	if n := len(eff.Topics[0].Partitions); n != 3 {
		t.Fatalf("the session reads %d partitions, want 3", n)
	}
	resp = answer(eff, hw, nil)
	fc.finish(resp)
	if got := answered(resp); len(got) != 0 {
		t.Fatalf("nothing new, but answered %v", got)
	}

	// Partition 1 has records, partition 2's high watermark moved: only those are answered,
	// and partition 1 is read last next time.
	hw[2] = 7
	fc, _ = c.begin(fetchReq(id, 2, nil), false, now)
	resp = answer(fc.request(fetchReq(id, 2, nil)), hw, map[int32]bool{1: true})
	fc.finish(resp)
	if got := answered(resp); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("answered %v, want [1 2]", got)
	}
	fc, _ = c.begin(fetchReq(id, 3, map[int32]int64{1: 9}), false, now)
	eff = fc.request(fetchReq(id, 3, nil))
	ps := eff.Topics[0].Partitions
	if ps[2].Partition != 1 || ps[2].FetchOffset != 9 {
		t.Fatalf("partition 1 (fetch offset 9 now) should be read last: %+v", ps)
	}

	// Forgetting a partition; wrong epoch; unknown session; epoch -1 closes.
	forget := fetchReq(id, 4, nil)
	ft := kmsg.NewFetchRequestForgottenTopic()
	ft.Topic, ft.Partitions = "t", []int32{0}
	forget.ForgottenTopics = append(forget.ForgottenTopics, ft)
	fc, _ = c.begin(forget, false, now)
	if n := len(fc.request(forget).Topics[0].Partitions); n != 2 {
		t.Fatalf("after forgetting partition 0 the session reads %d partitions, want 2", n)
	}
	if _, refused = c.begin(fetchReq(id, 4, nil), false, now); refused == nil || refused.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("a repeated epoch: %+v, want INVALID_FETCH_SESSION_EPOCH", refused)
	}
	if _, refused = c.begin(fetchReq(id+1, 1, nil), false, now); refused == nil || refused.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("an unknown session: %+v, want FETCH_SESSION_ID_NOT_FOUND", refused)
	}
	if fc, refused = c.begin(fetchReq(id, -1, map[int32]int64{0: 0}), false, now); refused != nil || fc.session != nil || c.size() != 0 {
		t.Fatalf("epoch -1 is sessionless and closes the session: %+v, %d sessions", fc, c.size())
	}
}

func TestFetchSessionCacheEviction(t *testing.T) {
	c := newFetchSessionCache(2)
	now := time.Now()
	open := func(follower bool, at time.Time) *fetchSession {
		fc, _ := c.begin(fetchReq(0, 0, map[int32]int64{0: 0}), follower, at)
		return fc.session
	}
	old := open(false, now.Add(-3*time.Minute))
	young := open(false, now)
	if old == nil || young == nil {
		t.Fatal("two slots, two sessions")
	}
	third := open(false, now)
	if third == nil || c.sessions[old.id] != nil || c.sessions[young.id] == nil {
		t.Fatal("a full cache gives the slot of the session idle over two minutes")
	}
	if s := open(false, now); s != nil {
		t.Fatal("no session idle long enough: a consumer is answered sessionless")
	}
	if s := open(true, now); s == nil || c.size() != 2 {
		t.Fatal("a follower takes a consumer's slot")
	}
	if s := newFetchSessionCache(0); s.open(fetchReq(0, 0, nil), true, now) != nil {
		t.Fatal("max.incremental.fetch.session.cache.slots = 0 turns sessions off")
	}
}

func TestFetcherSession(t *testing.T) {
	var s fetcherSession
	req := fetchReq(0, -1, map[int32]int64{0: 5, 1: 5})
	c := s.shape(req)
	if !c.full || req.SessionEpoch != 0 || len(req.Topics[0].Partitions) != 2 {
		t.Fatalf("the first fetch is full and opens a session: %+v", req)
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.SessionID = 42
	if !s.done(resp, c) || s.id != 42 || s.epoch != 1 {
		t.Fatalf("session %d epoch %d", s.id, s.epoch)
	}

	req = fetchReq(0, -1, map[int32]int64{0: 5, 1: 8})
	c = s.shape(req)
	if c.full || req.SessionID != 42 || req.SessionEpoch != 1 || len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 || req.Topics[0].Partitions[0].Partition != 1 {
		t.Fatalf("incremental: only partition 1 moved: %+v", req)
	}
	s.done(kmsg.NewPtrFetchResponse(), c)

	req = fetchReq(0, -1, map[int32]int64{1: 8})
	c = s.shape(req)
	if len(req.Topics) != 0 || len(req.ForgottenTopics) != 1 || req.ForgottenTopics[0].Partitions[0] != 0 || req.SessionEpoch != 2 {
		t.Fatalf("partition 0 no longer fetched is forgotten, nothing else sent: %+v", req)
	}
	failed := kmsg.NewPtrFetchResponse()
	failed.ErrorCode = kerr.FetchSessionIDNotFound.Code
	if s.done(failed, c) || s.id != 0 {
		t.Fatal("a session error starts over")
	}
	req = fetchReq(0, -1, map[int32]int64{1: 8})
	if c = s.shape(req); !c.full {
		t.Fatal("after a session error the next fetch is full")
	}
}
