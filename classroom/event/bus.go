package event

import (
	"sync"
	"time"
)

// DefaultRetain is how many events a Bus keeps for subscribers that connect later.
const DefaultRetain = 4096

// subscriberBuffer is how many events may wait for one subscriber. A subscriber that falls
// further behind is disconnected; it reconnects with Last-Event-ID and is replayed what the
// bus still retains, so a slow page costs the broker a bounded amount of memory.
const subscriberBuffer = 256

// Bus numbers, stamps and retains the events of one process, and fans them out to
// subscribers. Its methods are safe for concurrent use; Publish never blocks.
type Bus struct {
	mu          sync.Mutex
	source      string
	run         int64 // this process's run: an event id is run.seq, unique across restarts
	brokerEpoch int64
	now         func() time.Time
	next        uint64  // seq of the next event
	ring        []Event // retained events, oldest first once full
	start       int     // index of the oldest event in ring when len(ring) == cap
	retain      int
	subs        map[*Subscription]struct{}
}

// NewBus makes a bus whose events carry source (a broker id, "zookeeper", ...), retaining
// the last retain events (DefaultRetain when retain <= 0).
func NewBus(source string, retain int) *Bus {
	if retain <= 0 {
		retain = DefaultRetain
	}
	return &Bus{source: source, run: time.Now().UnixNano(), now: time.Now, next: 1, retain: retain,
		subs: map[*Subscription]struct{}{}}
}

// Run identifies this bus's process: a restarted broker has a new run and numbers its events
// from 1 again.
func (b *Bus) Run() int64 { return b.run }

// SetBrokerEpoch records the publishing broker's epoch (the czxid of its registration), stamped
// on every later event.
func (b *Bus) SetBrokerEpoch(epoch int64) {
	b.mu.Lock()
	b.brokerEpoch = epoch
	b.mu.Unlock()
}

// Publish stamps e with the next sequence number, the time (unless set), the bus's source
// (unless set) and broker epoch, retains it and hands it to every subscriber.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e.Seq = b.next
	e.Run = b.run
	b.next++
	if e.Time.IsZero() {
		e.Time = b.now().UTC()
	}
	if e.Source == "" {
		e.Source = b.source
	}
	if e.BrokerEpoch == 0 {
		e.BrokerEpoch = b.brokerEpoch
	}
	if len(b.ring) < b.retain {
		b.ring = append(b.ring, e)
	} else {
		b.ring[b.start] = e
		b.start = (b.start + 1) % b.retain
	}
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			// Too far behind: drop the subscriber; it resumes from the ring.
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// Since returns the retained events with a sequence number above seq, oldest first.
func (b *Bus) Since(seq uint64) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sinceLocked(seq)
}

func (b *Bus) sinceLocked(seq uint64) []Event {
	var out []Event
	n := len(b.ring)
	for i := 0; i < n; i++ {
		e := b.ring[(b.start+i)%n]
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

// Subscription is one subscriber's feed: the retained history it asked for, then every new
// event on C until the bus drops it (C closed) or Close is called.
type Subscription struct {
	bus     *Bus
	History []Event
	ch      chan Event
	C       <-chan Event
}

// Subscribe returns the retained events after seq and a channel of the events published from
// now on, with nothing lost or repeated between the two.
func (b *Bus) Subscribe(seq uint64) *Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan Event, subscriberBuffer)
	s := &Subscription{bus: b, History: b.sinceLocked(seq), ch: ch, C: ch}
	b.subs[s] = struct{}{}
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}
