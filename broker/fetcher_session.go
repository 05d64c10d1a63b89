package broker

// The follower's side of a fetch session (KIP-227; Kafka's FetchSessionHandler). The first
// fetch from a leader names every partition and opens a session (epoch 0); each later one
// names only the partitions whose fetch offset, log start offset, leader epoch or size limit
// changed since the leader last heard them, and forgets the ones no longer fetched. The
// leader answers only partitions with news, so a follower in step with an idle leader sends
// and receives almost nothing. A session error (FETCH_SESSION_ID_NOT_FOUND,
// INVALID_FETCH_SESSION_EPOCH), a leader that answers session id 0, or a failed connection
// start over with a full fetch.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

type fetcherSession struct {
	id    int32
	epoch int32 // 0: the next fetch is a full one that opens a session
	sent  map[topicPartition]kmsg.FetchRequestTopicPartition
}

// pending is what one Fetch changes in the session, applied once the leader accepts it.
type sessionChange struct {
	full bool
	next map[topicPartition]kmsg.FetchRequestTopicPartition
}

// shape rewrites req, which names every partition ready to fetch, as the session's next
// fetch.
func (s *fetcherSession) shape(req *kmsg.FetchRequest) sessionChange {
	next := map[topicPartition]kmsg.FetchRequestTopicPartition{}
	for _, t := range req.Topics {
		for _, rp := range t.Partitions {
			next[topicPartition{t.Topic, rp.Partition}] = rp
		}
	}
	if s.id == 0 || s.epoch == 0 {
		req.SessionID, req.SessionEpoch = s.id, 0
		return sessionChange{full: true, next: next}
	}
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	topics := req.Topics[:0]
	for _, t := range req.Topics {
		parts := t.Partitions[:0]
		for _, rp := range t.Partitions {
			if old, ok := s.sent[topicPartition{t.Topic, rp.Partition}]; !ok || !sameFetch(old, rp) {
				parts = append(parts, rp)
			}
		}
		if t.Partitions = parts; len(parts) > 0 {
			topics = append(topics, t)
		}
	}
	req.Topics = topics
	forget := map[string]int{}
	for tp := range s.sent {
		if _, still := next[tp]; still {
			continue
		}
		i, ok := forget[tp.topic]
		if !ok {
			i = len(req.ForgottenTopics)
			forget[tp.topic] = i
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic = tp.topic
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, tp.partition)
	}
	return sessionChange{next: next}
}

func sameFetch(a, b kmsg.FetchRequestTopicPartition) bool {
	return a.FetchOffset == b.FetchOffset && a.LogStartOffset == b.LogStartOffset &&
		a.CurrentLeaderEpoch == b.CurrentLeaderEpoch && a.PartitionMaxBytes == b.PartitionMaxBytes &&
		a.LastFetchedEpoch == b.LastFetchedEpoch
}

// done takes the leader's answer to a fetch shaped by shape; it reports false when the
// session failed and the answer holds no partitions.
func (s *fetcherSession) done(resp *kmsg.FetchResponse, c sessionChange) bool {
	if resp.ErrorCode != 0 {
		s.reset()
		return false
	}
	switch {
	case c.full && resp.SessionID == 0:
		s.reset() // the leader keeps no session for us: full fetches every time
	case c.full:
		s.id, s.epoch, s.sent = resp.SessionID, 1, c.next
	default:
		s.epoch, s.sent = nextEpoch(s.epoch), c.next
	}
	return true
}

func (s *fetcherSession) reset() { s.id, s.epoch, s.sent = 0, 0, nil }
