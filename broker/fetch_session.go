package broker

// Fetch sessions (KIP-227), the leader's side: Kafka's FetchManager and FetchSession. A
// consumer or follower that fetches the same partitions again and again sends them once, in a
// full fetch that opens a session (session id 0, epoch 0); the broker remembers each
// partition's fetch position under a session id it answers with. Every later fetch of the
// session (epoch 1, 2, ...) names only the partitions whose position changed, plus the ones to
// add or forget, and the answer lists only the partitions with something new: records, an
// error, or a high watermark, last stable offset or log start offset other than last time.
// A steady follower of a thousand partitions so sends and receives only the few that moved.
//
// Epoch -1 (with or without a session id) asks for a sessionless full fetch and closes the
// session named; epoch 0 with a session id closes it and opens a new one. A session that is
// unknown (evicted, or from before a restart) is FETCH_SESSION_ID_NOT_FOUND, an epoch out of
// step INVALID_FETCH_SESSION_EPOCH; the client then starts over with a full fetch. The cache
// holds max.incremental.fetch.session.cache.slots sessions (Kafka's default 1000, 0 turns
// sessions off); when it is full a new session takes the slot of one unused for two minutes,
// or a follower's takes a consumer's, least recently used first, as Kafka's eviction prefers;
// otherwise the fetch is answered without a session (session id 0), which clients accept.

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	sessionlessEpoch   = -1 // Kafka's FINAL_EPOCH
	sessionEvictionAge = 2 * time.Minute
	// maxSessionPartitions bounds what one session remembers: incremental fetches add
	// partitions a few at a time, and no request bound stops a client adding forever.
	maxSessionPartitions = 1 << 17
)

// sessionKey names a session's partition: by topic id from Fetch v13, by name before.
type sessionKey struct {
	topic     string
	id        [16]byte
	partition int32
}

// sessionPartition is what a session remembers of a partition: the request's fields as last
// sent, and the offsets last answered.
type sessionPartition struct {
	req               kmsg.FetchRequestTopicPartition
	answered          bool
	hw, lso, logStart int64
}

type fetchSession struct {
	mu         sync.Mutex
	id         int32
	epoch      int32 // the epoch the next incremental fetch must carry
	privileged bool  // a follower's
	used       time.Time
	order      []sessionKey // the order partitions are read in; those that returned data go last
	parts      map[sessionKey]*sessionPartition
}

type fetchSessionCache struct {
	mu       sync.Mutex
	slots    int
	sessions map[int32]*fetchSession
}

func newFetchSessionCache(slots int) *fetchSessionCache {
	return &fetchSessionCache{slots: slots, sessions: map[int32]*fetchSession{}}
}

// fetchContext is how one Fetch request is served: sessionless, as a session's full fetch
// (every partition answered), or as an incremental one.
type fetchContext struct {
	session *fetchSession // nil: sessionless
	full    bool
	topicID bool // the request names topics by id (v13+)
}

func nextEpoch(e int32) int32 {
	if e == math.MaxInt32 {
		return 1
	}
	return e + 1
}

func keyOf(r *kmsg.FetchRequest, t *kmsg.FetchRequestTopic, partition int32) sessionKey {
	if r.Version >= 13 {
		return sessionKey{id: t.TopicID, partition: partition}
	}
	return sessionKey{topic: t.Topic, partition: partition}
}

// begin finds or makes the session of a Fetch request. A non-nil error answer ends the
// request at once.
func (c *fetchSessionCache) begin(r *kmsg.FetchRequest, follower bool, now time.Time) (fetchContext, *kmsg.FetchResponse) {
	fc := fetchContext{topicID: r.Version >= 13}
	if r.Version < 7 {
		return fc, nil
	}
	switch {
	case r.SessionEpoch == sessionlessEpoch:
		if r.SessionID != 0 {
			c.remove(r.SessionID)
		}
		return fc, nil
	case r.SessionEpoch == 0:
		if r.SessionID != 0 {
			c.remove(r.SessionID)
		}
		fc.full = true
		fc.session = c.open(r, follower, now)
		return fc, nil
	}
	c.mu.Lock()
	s := c.sessions[r.SessionID]
	c.mu.Unlock()
	if s == nil {
		return fc, sessionError(r, kerr.FetchSessionIDNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != r.SessionEpoch {
		return fc, sessionError(r, kerr.InvalidFetchSessionEpoch)
	}
	for i := range r.ForgottenTopics {
		ft := &r.ForgottenTopics[i]
		for _, p := range ft.Partitions {
			k := sessionKey{topic: ft.Topic, partition: p}
			if r.Version >= 13 {
				k = sessionKey{id: ft.TopicID, partition: p}
			}
			delete(s.parts, k)
		}
	}
	for i := range r.Topics {
		t := &r.Topics[i]
		for _, rp := range t.Partitions {
			k := keyOf(r, t, rp.Partition)
			if sp := s.parts[k]; sp != nil {
				sp.req = rp
				continue
			}
			if len(s.parts) >= maxSessionPartitions {
				c.remove(s.id)
				return fc, sessionError(r, kerr.FetchSessionIDNotFound) // the client starts over
			}
			s.parts[k] = &sessionPartition{req: rp}
			s.order = append(s.order, k)
		}
	}
	s.compactOrder()
	s.epoch, s.used = nextEpoch(s.epoch), now
	fc.session = s
	return fc, nil
}

func sessionError(r *kmsg.FetchRequest, err *kerr.Error) *kmsg.FetchResponse {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	resp.ErrorCode = err.Code
	return resp
}

// open makes a session of a full fetch's partitions, or answers nil when no slot is free.
func (c *fetchSessionCache) open(r *kmsg.FetchRequest, follower bool, now time.Time) *fetchSession {
	if c.slots <= 0 {
		return nil
	}
	s := &fetchSession{epoch: 1, privileged: follower, used: now, parts: map[sessionKey]*sessionPartition{}}
	for i := range r.Topics {
		t := &r.Topics[i]
		for _, rp := range t.Partitions {
			k := keyOf(r, t, rp.Partition)
			if _, dup := s.parts[k]; !dup {
				s.order = append(s.order, k)
			}
			s.parts[k] = &sessionPartition{req: rp}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) >= c.slots && !c.evictLocked(follower, now) {
		return nil
	}
	for s.id == 0 || c.sessions[s.id] != nil {
		s.id = rand.Int32N(math.MaxInt32) + 1
	}
	c.sessions[s.id] = s
	return s
}

// evictLocked frees a slot: the least recently used session idle for two minutes, or, for a
// follower's new session, the least recently used consumer's.
func (c *fetchSessionCache) evictLocked(privileged bool, now time.Time) bool {
	var victim *fetchSession
	var victimUsed time.Time
	for _, s := range c.sessions {
		s.mu.Lock()
		used, priv := s.used, s.privileged
		s.mu.Unlock()
		if now.Sub(used) < sessionEvictionAge && (!privileged || priv) {
			continue
		}
		if victim == nil || used.Before(victimUsed) {
			victim, victimUsed = s, used
		}
	}
	if victim == nil {
		return false
	}
	delete(c.sessions, victim.id)
	return true
}

func (c *fetchSessionCache) remove(id int32) {
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
}

// size is the number of sessions held.
func (c *fetchSessionCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// stats answers the sessions held and the partitions they hold (Kafka's FetchSessionCache
// metrics NumIncrementalFetchSessions and NumIncrementalFetchPartitionsCached).
func (c *fetchSessionCache) stats() (sessions, partitions int) {
	c.mu.Lock()
	all := make([]*fetchSession, 0, len(c.sessions))
	for _, s := range c.sessions {
		all = append(all, s)
	}
	c.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		partitions += len(s.parts)
		s.mu.Unlock()
	}
	return len(all), partitions
}

// compactOrder drops forgotten partitions from the read order.
func (s *fetchSession) compactOrder() {
	if len(s.order) == len(s.parts) {
		return
	}
	kept := s.order[:0]
	seen := make(map[sessionKey]bool, len(s.parts))
	for _, k := range s.order {
		if s.parts[k] != nil && !seen[k] {
			seen[k] = true
			kept = append(kept, k)
		}
	}
	s.order = kept
}

// request is the Fetch to read for the context: for a session, every partition it holds, in
// its order, with the positions it remembers.
func (fc fetchContext) request(r *kmsg.FetchRequest) *kmsg.FetchRequest {
	if fc.session == nil {
		return r
	}
	s := fc.session
	s.mu.Lock()
	defer s.mu.Unlock()
	eff := *r
	eff.Topics, eff.ForgottenTopics = nil, nil
	idx := map[sessionKey]int{} // topic (partition 0) -> its index in eff.Topics
	for _, k := range s.order {
		tk := sessionKey{topic: k.topic, id: k.id}
		i, ok := idx[tk]
		if !ok {
			i = len(eff.Topics)
			idx[tk] = i
			t := kmsg.NewFetchRequestTopic()
			t.Topic, t.TopicID = k.topic, k.id
			eff.Topics = append(eff.Topics, t)
		}
		eff.Topics[i].Partitions = append(eff.Topics[i].Partitions, s.parts[k].req)
	}
	return &eff
}

// finish keeps in the response what the client must hear, remembers what it was told, and
// names the session. It returns resp.
func (fc fetchContext) finish(resp *kmsg.FetchResponse) *kmsg.FetchResponse {
	if fc.session == nil {
		return resp
	}
	s := fc.session
	s.mu.Lock()
	defer s.mu.Unlock()
	resp.SessionID = s.id
	var moved []sessionKey
	topics := resp.Topics[:0]
	for _, rt := range resp.Topics {
		parts := rt.Partitions[:0]
		for _, sp := range rt.Partitions {
			k := fc.responseKey(&rt, sp.Partition)
			cached := s.parts[k]
			if cached == nil {
				continue // forgotten while the fetch waited
			}
			news := !cached.answered || len(sp.RecordBatches) > 0 || sp.ErrorCode != 0 ||
				sp.HighWatermark != cached.hw || sp.LastStableOffset != cached.lso || sp.LogStartOffset != cached.logStart ||
				sp.PreferredReadReplica >= 0 || sp.DivergingEpoch.Epoch >= 0
			cached.answered = true
			cached.hw, cached.lso, cached.logStart = sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset
			if len(sp.RecordBatches) > 0 {
				moved = append(moved, k)
			}
			if fc.full || news {
				parts = append(parts, sp)
			}
		}
		if rt.Partitions = parts; len(parts) > 0 || fc.full {
			topics = append(topics, rt)
		}
	}
	resp.Topics = topics
	if len(moved) > 0 && len(moved) < len(s.order) {
		// Partitions that returned data are read last next time, so a response's byte
		// budget does not always go to the same ones (Kafka's IncrementalFetchContext).
		last := make(map[sessionKey]bool, len(moved))
		for _, k := range moved {
			last[k] = true
		}
		reordered := make([]sessionKey, 0, len(s.order))
		for _, k := range s.order {
			if !last[k] {
				reordered = append(reordered, k)
			}
		}
		s.order = append(reordered, moved...)
	}
	return resp
}

// unsent undoes what finish remembered of resp's partitions: the client never got them.
func (fc fetchContext) unsent(resp *kmsg.FetchResponse) {
	if fc.session == nil {
		return
	}
	s := fc.session
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range resp.Topics {
		for _, sp := range rt.Partitions {
			if cached := s.parts[fc.responseKey(&rt, sp.Partition)]; cached != nil {
				cached.answered = false
			}
		}
	}
}

// responseKey names a response's partition as the session does.
func (fc fetchContext) responseKey(rt *kmsg.FetchResponseTopic, partition int32) sessionKey {
	if fc.topicID {
		return sessionKey{id: rt.TopicID, partition: partition}
	}
	return sessionKey{topic: rt.Topic, partition: partition}
}
