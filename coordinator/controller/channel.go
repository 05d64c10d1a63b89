package controller

import (
	"context"
	"sync"
	"time"

	timeline "github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// channelManager is Kafka's ControllerChannelManager: one queue and one sending goroutine
// (RequestSendThread) per live broker. The event loop only appends to queues, so a slow or
// dead broker never blocks it; requests to one broker are delivered in the order queued. A
// failed send is retried with backoff until it succeeds or the broker is removed.
//
// Its methods are called by the event loop goroutine only; each brokerQueue is shared with
// its sending goroutine under the queue's mutex.
type channelManager struct {
	sender     Sender
	log        zerolog.Logger
	backoff    time.Duration
	maxBackoff time.Duration

	brokers map[int32]*brokerQueue
	wg      sync.WaitGroup

	events timeline.Publisher // set before the first addBroker; request-sent events
	from   int32              // this controller's broker id, for the events
}

type brokerQueue struct {
	info   zkclient.BrokerInfo
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1

	mu sync.Mutex
	q  []kmsg.Request
}

func newChannelManager(sender Sender, log zerolog.Logger, backoff time.Duration) *channelManager {
	if backoff <= 0 {
		backoff = 100 * time.Millisecond
	}
	return &channelManager{
		sender:     sender,
		log:        log,
		backoff:    backoff,
		maxBackoff: 20 * backoff,
		brokers:    map[int32]*brokerQueue{},
		events:     timeline.Discard,
	}
}

// addBroker starts a queue for info (replacing any queue for the same id).
func (m *channelManager) addBroker(info zkclient.BrokerInfo) {
	m.removeBroker(info.ID)
	ctx, cancel := context.WithCancel(context.Background())
	b := &brokerQueue{info: info, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
	m.brokers[info.ID] = b
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(b)
	}()
}

// removeBroker drops the broker's queue; requests not yet delivered are discarded.
func (m *channelManager) removeBroker(id int32) {
	if b, ok := m.brokers[id]; ok {
		b.cancel()
		delete(m.brokers, id)
	}
}

// shutdown removes every broker and waits for the sending goroutines to end.
func (m *channelManager) shutdown() {
	for id := range m.brokers {
		m.removeBroker(id)
	}
	m.wg.Wait()
}

func (m *channelManager) enqueue(r outRequest) {
	b, ok := m.brokers[r.Broker]
	if !ok {
		m.log.Debug().Int32("to_broker", r.Broker).Str("request", apiName(r.Req)).Msg("dropping request for a broker that is not live")
		return
	}
	b.mu.Lock()
	b.q = append(b.q, r.Req)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (m *channelManager) run(b *brokerQueue) {
	for {
		b.mu.Lock()
		var req kmsg.Request
		if len(b.q) > 0 {
			req = b.q[0]
		}
		b.mu.Unlock()
		if req == nil {
			select {
			case <-b.ctx.Done():
				return
			case <-b.wake:
				continue
			}
		}
		if !m.deliver(b, req) {
			return
		}
		b.mu.Lock()
		b.q[0] = nil
		b.q = b.q[1:]
		b.mu.Unlock()
	}
}

// deliver sends req until it succeeds; false when the broker was removed first.
func (m *channelManager) deliver(b *brokerQueue, req kmsg.Request) bool {
	delay := m.backoff
	for attempt := 1; ; attempt++ {
		if b.ctx.Err() != nil {
			return false
		}
		m.log.Debug().Int32("to_broker", b.info.ID).Str("request", apiName(req)).Int("attempt", attempt).Msg("sending controller request")
		resp, err := m.sender.Send(b.ctx, b.info, req)
		if err == nil {
			publishSent(m.events, m.from, b.info.ID, req)
			m.checkResponse(b.info.ID, resp)
			return true
		}
		if b.ctx.Err() != nil {
			return false
		}
		m.log.Warn().Err(err).Int32("to_broker", b.info.ID).Str("request", apiName(req)).Dur("retry_in", delay).Msg("controller request failed")
		t := time.NewTimer(delay)
		select {
		case <-b.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, m.maxBackoff)
	}
}

// checkResponse logs the error codes of a controller request's response. As in Kafka, an
// error code is not retried: the broker has seen the request and refused it deliberately.
func (m *channelManager) checkResponse(broker int32, resp kmsg.Response) {
	logCode := func(code int16, what string, topic string, partition int32) {
		if code == 0 {
			return
		}
		ev := m.log.Warn().Int32("from_broker", broker).Str("response", what).Str("error", kerr.ErrorForCode(code).Error())
		if topic != "" {
			ev = ev.Str("topic", topic).Int32("partition", partition)
		}
		ev.Msg("broker returned an error for a controller request")
	}
	switch r := resp.(type) {
	case *kmsg.LeaderAndISRResponse:
		logCode(r.ErrorCode, "LeaderAndIsr", "", 0)
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				logCode(p.ErrorCode, "LeaderAndIsr", p.Topic, p.Partition)
			}
		}
		for _, p := range r.Partitions {
			logCode(p.ErrorCode, "LeaderAndIsr", p.Topic, p.Partition)
		}
	case *kmsg.UpdateMetadataResponse:
		logCode(r.ErrorCode, "UpdateMetadata", "", 0)
	case *kmsg.StopReplicaResponse:
		logCode(r.ErrorCode, "StopReplica", "", 0)
		for _, p := range r.Partitions {
			logCode(p.ErrorCode, "StopReplica", p.Topic, p.Partition)
		}
	}
}

func apiName(r kmsg.Request) string {
	switch r.(type) {
	case *kmsg.LeaderAndISRRequest:
		return "LeaderAndIsr"
	case *kmsg.UpdateMetadataRequest:
		return "UpdateMetadata"
	case *kmsg.StopReplicaRequest:
		return "StopReplica"
	}
	return kmsg.NameForKey(r.Key())
}
