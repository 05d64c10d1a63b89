package broker

// Waiting for a topic change to be seen everywhere. CreateTopics, CreatePartitions and
// DeleteTopics write ZooKeeper and then wait, up to the request's timeout, as Kafka's
// DelayedCreatePartitions and DelayedDeleteTopics do, so a client can use (or forget) a topic
// the moment it is told. Kafka waits for its own metadata cache only; the controller then
// updates the other brokers a little later, and a client that asks one of them at once can
// still be told "unknown topic". klassik waits for every live broker: first its own cache, then
// each other broker's answer to a Metadata request of its own, sent on a connection kept for
// these questions, so it does not queue behind the controller's requests to that broker. A
// broker that cannot be reached at all is not waited for (it answers no client either); one
// that answers but lags keeps the request waiting, and at the timeout the topic's answer is
// REQUEST_TIMED_OUT. A broker whose ACLs do not let the asking broker describe the topic
// cannot tell, and is not waited for either.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/klassik/klassik/internal/backoff"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicView is what one broker's metadata says of a topic.
type topicView struct {
	listed     bool
	partitions int // how many it lists
	led        int // how many of those have a leader
}

// topicWant is the condition a change waits for, per topic.
type topicWant func(topicView) bool

// ledWith wants at least n partitions, each with a leader.
func ledWith(n int) topicWant {
	return func(v topicView) bool { return v.listed && v.partitions >= n && v.led == v.partitions }
}

// unlisted wants the topic gone.
func unlisted(v topicView) bool { return !v.listed }

func localView(s *metadataSnapshot, name string) topicView {
	t := s.topics[name]
	if t == nil {
		return topicView{}
	}
	v := topicView{listed: true, partitions: len(t.partitions)}
	for _, st := range t.partitions {
		if st.Leader >= 0 {
			v.led++
		}
	}
	return v
}

func remoteView(t *kmsg.MetadataResponseTopic) topicView {
	if t.ErrorCode == kerr.UnknownTopicOrPartition.Code {
		return topicView{}
	}
	v := topicView{listed: true, partitions: len(t.Partitions)}
	for _, p := range t.Partitions {
		if p.Leader >= 0 {
			v.led++
		}
	}
	return v
}

// waitForTopics waits until every live broker's metadata meets want for each topic, or the
// deadline passes, and returns the topics still unmet somewhere (nil when none).
func (b *Broker) waitForTopics(ctx context.Context, deadline time.Time, want map[string]topicWant) map[string]bool {
	met := func(s *metadataSnapshot) bool {
		for name, w := range want {
			if !w(localView(s, name)) {
				return false
			}
		}
		return true
	}
	if !b.waitForMetadata(ctx, deadline, met) {
		unmet := map[string]bool{}
		s := b.meta.get()
		for name, w := range want {
			if !w(localView(s, name)) {
				unmet[name] = true
			}
		}
		return unmet
	}

	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	snap := b.meta.get()
	results := make(chan map[string]bool, len(snap.brokers))
	asked := 0
	for id, cb := range snap.brokers {
		if id == b.cfg.BrokerID {
			continue
		}
		ep, ok := cb.endpoints[b.cfg.InterBrokerListenerName]
		if !ok {
			continue
		}
		addr := net.JoinHostPort(ep.host, strconv.Itoa(int(ep.port)))
		asked++
		go func() { results <- b.waitForTopicsOn(wctx, id, addr, want) }()
	}
	var unmet map[string]bool
	for range asked {
		for name := range <-results {
			if unmet == nil {
				unmet = map[string]bool{}
			}
			unmet[name] = true
		}
	}
	return unmet
}

// waitForTopicsOn asks one broker for the topics until its answer meets want, the context
// ends (the topics still unmet are returned) or the broker turns out unreachable or gone
// from the live brokers (nil: nobody can be told otherwise by it).
func (b *Broker) waitForTopicsOn(ctx context.Context, id int32, addr string, want map[string]topicWant) map[string]bool {
	pending := map[string]bool{}
	for name := range want {
		pending[name] = true
	}
	bo := backoff.New(5*time.Millisecond, 100*time.Millisecond)
	for {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(9)
		for name := range pending {
			t := kmsg.NewMetadataRequestTopic()
			t.Topic = strp(name)
			req.Topics = append(req.Topics, t)
		}
		// Each question gets a second at most, so a broker that stopped answering (frozen,
		// or about to lose its session) is looked at again against the live brokers.
		actx, cancel := context.WithTimeout(ctx, time.Second)
		raw, err := b.probes.request(actx, id, addr, req)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return pending
			}
			if _, live := b.meta.get().brokers[id]; !live || isDialError(err) {
				b.log.Info().Err(err).Int32("to", id).Msg("not waiting for an unreachable broker to list a topic change")
				return nil
			}
		} else {
			for i := range raw.(*kmsg.MetadataResponse).Topics {
				t := &raw.(*kmsg.MetadataResponse).Topics[i]
				if t.Topic == nil || !pending[*t.Topic] {
					continue
				}
				if t.ErrorCode == kerr.TopicAuthorizationFailed.Code {
					// The brokers' principal may not describe the topic there (ACLs): that
					// broker cannot tell, so it is not waited for.
					b.log.Info().Str("topic", *t.Topic).Int32("to", id).Msg("not waiting for a broker whose ACLs refuse this broker Describe on the topic")
					delete(pending, *t.Topic)
					continue
				}
				if want[*t.Topic](remoteView(t)) {
					delete(pending, *t.Topic)
				}
			}
			if len(pending) == 0 {
				return nil
			}
		}
		if _, live := b.meta.get().brokers[id]; !live {
			return nil
		}
		timer := time.NewTimer(bo.Next())
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return pending
		}
	}
}

// isDialError reports whether err is a failure to connect, as opposed to one on a connection.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
