package broker

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/zkclient"
)

// zkEventLoop demultiplexes ZooKeeper events: session changes and config change notifications
// are the broker's; the rest (and session changes too) go to the controller.
func (b *Broker) zkEventLoop() {
	expired := false
	var lastConfigSeq int64 = -1
	b.readConfigChanges(&lastConfigSeq, false) // at start the store reads configs fresh from ZooKeeper anyway
	for {
		select {
		case <-b.ctx.Done():
			return
		case ev := <-b.zk.Events():
			switch ev.Type {
			case zkclient.EventSessionExpired:
				expired = true
				b.log.Warn().Msg("ZooKeeper session expired; will register again with the new session")
			case zkclient.EventSessionEstablished:
				if expired {
					b.reRegister()
					b.readConfigChanges(&lastConfigSeq, true)
					if b.authz != nil {
						b.authz.Changed() // the new session has no watches: read and re-arm
					}
					expired = false
				}
			case zkclient.EventDisconnected:
				b.log.Warn().Msg("disconnected from ZooKeeper; still serving what this broker leads")
			case zkclient.EventConfigChanged:
				// The broker applies topic configs; the controller too must hear of the
				// change (an offline partition may now allow unclean election).
				b.readConfigChanges(&lastConfigSeq, true)
			case zkclient.EventAclChanged:
				if b.authz != nil {
					b.authz.Changed() // applied by the authorizer's own goroutine
				}
				continue // the controller has no use for it
			}
			b.ctrl.Enqueue(ev)
		}
	}
}

// reRegister writes /brokers/ids/<id> again after a session loss, retrying until it works or
// the broker stops. The new znode's czxid is the new broker epoch.
func (b *Broker) reRegister() {
	for b.ctx.Err() == nil {
		err := b.register()
		if err == nil {
			return
		}
		b.log.Error().Err(err).Msg("re-registering in ZooKeeper")
		select {
		case <-b.ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// readConfigChanges applies (with apply) the topic, broker and quota config changes announced under
// /config/changes after sequence number *last, re-arms the watch, and moves *last to the
// newest. The first call, at start, only takes the newest number: until a notification
// exists it stays -1, and then the first one is applied like any other.
func (b *Broker) readConfigChanges(last *int64, apply bool) {
	entities, newest, err := b.zk.ConfigChanges(*last, true)
	if err != nil {
		b.log.Error().Err(err).Msg("reading /config/changes")
		return
	}
	*last = newest
	if !apply {
		return
	}
	for _, e := range entities {
		if topic, ok := strings.CutPrefix(e, "topics/"); ok {
			b.topicConfigs.refresh(topic)
		}
		if e == "brokers/"+zkclient.BrokerDefault || e == "brokers/"+strconv.Itoa(int(b.cfg.BrokerID)) {
			b.dyn.reload()
		}
		if strings.HasPrefix(e, "clients/") || strings.HasPrefix(e, "users/") {
			b.quotas.refresh(e) // quotas.go
		}
		if strings.HasPrefix(e, "users/") {
			b.scram.refresh(e) // scram_credentials.go
		}
	}
}

// topicConfigStore caches each topic's effective config, read from /config/topics/<t>.
type topicConfigStore struct {
	b  *Broker
	mu sync.Mutex
	m  map[string]*topicConfig
}

func newTopicConfigStore(b *Broker) *topicConfigStore {
	return &topicConfigStore{b: b, m: map[string]*topicConfig{}}
}

func (s *topicConfigStore) get(topic string) *topicConfig {
	s.mu.Lock()
	tc := s.m[topic]
	s.mu.Unlock()
	if tc != nil {
		return tc
	}
	return s.refresh(topic)
}

// refresh re-reads the topic's overrides and applies them to its hosted partitions.
func (s *topicConfigStore) refresh(topic string) *topicConfig {
	overrides, err := s.b.zk.TopicConfig(topic)
	if err != nil {
		s.b.log.Warn().Err(err).Str("topic", topic).Msg("reading topic config; using broker defaults")
		overrides = map[string]string{}
	}
	tc := newTopicConfig(s.b.brokerCfg(), overrides)
	s.mu.Lock()
	s.m[topic] = tc
	s.mu.Unlock()
	for _, p := range s.b.rm.all() {
		if p.tp.topic == topic {
			p.log.SetConfig(tc.log)
			p.mu.Lock()
			p.config = tc
			p.mu.Unlock()
		}
	}
	return tc
}

// refreshAll recomputes every known and hosted topic's config: the broker defaults under them
// changed (a dynamic broker config).
func (s *topicConfigStore) refreshAll() {
	topics := map[string]bool{}
	s.mu.Lock()
	for t := range s.m {
		topics[t] = true
	}
	s.mu.Unlock()
	for _, p := range s.b.rm.all() {
		topics[p.tp.topic] = true
	}
	for t := range topics {
		s.refresh(t)
	}
}

func (s *topicConfigStore) forget(topic string) {
	s.mu.Lock()
	delete(s.m, topic)
	s.mu.Unlock()
}

// producerIDs hands out producer ids from blocks taken at /latest_producer_id_block
// (Kafka's ProducerIdManager for ZooKeeper mode).
type producerIDs struct {
	b          *Broker
	mu         sync.Mutex
	next, last int64
	have       bool
}

const producerIDBlockSize = 1000

func (p *producerIDs) nextID() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.have || p.next > p.last {
		first, last, err := p.b.zk.AllocateProducerIDBlock(p.b.cfg.BrokerID, producerIDBlockSize)
		if err != nil {
			return 0, err
		}
		p.next, p.last, p.have = first, last, true
	}
	id := p.next
	p.next++
	return id, nil
}
