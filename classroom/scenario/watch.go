package scenario

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/classroom/event"
)

// maxSeen bounds the events a run keeps; a scenario lasts minutes, the brokers publish a few
// hundred events in that time.
const maxSeen = 20000

// timeline gathers the events every broker publishes from the scenario's start (the
// brokers' /klassik/events, followed with event.Follow), so a scenario narrates what the
// controller and the brokers said and checks its outcome against it.
type timeline struct {
	mu      sync.Mutex
	since   time.Time
	events  []event.Event
	changed chan struct{}
	follow  map[int32]bool
}

// follow subscribes to every registered broker's event stream (once per broker id; a
// restarted broker is followed again by the same Follow, which reconnects).
func (r *runner) followAll(ctx context.Context) {
	if r.tl == nil {
		ctx, r.cancelFollow = context.WithCancel(ctx)
		r.followCtx = ctx
		r.tl = &timeline{since: time.Now().Add(-time.Second), changed: make(chan struct{}), follow: map[int32]bool{}}
	}
	for id, info := range r.brokers() {
		base, err := r.httpBase(ctx, info)
		if err != nil {
			r.say(KindObserve, "cannot follow broker %d's events: %v", id, err)
			continue
		}
		r.tl.mu.Lock()
		seen := r.tl.follow[id]
		r.tl.follow[id] = true
		r.tl.mu.Unlock()
		if seen {
			continue
		}
		go event.Follow(r.followCtx, r.env.HTTP, base+event.Path, r.onEvent, nil)
	}
}

func (r *runner) onEvent(e event.Event) {
	t := r.tl
	if e.Time.Before(t.since) {
		return // history from before the scenario
	}
	t.mu.Lock()
	if len(t.events) < maxSeen {
		t.events = append(t.events, e)
	}
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
	if r.narrates(e) {
		r.env.Out(Line{Time: e.Time, Kind: KindObserve, Text: fmt.Sprintf("broker %s: %s", e.Source, e.Text)})
	}
}

// narrates picks the events worth a line: those about the scenario's partition or group,
// and the cluster-wide ones (brokers, controller, faults).
func (r *runner) narrates(e event.Event) bool {
	switch e.Kind {
	case event.RequestSent, event.HighWatermark, event.WatchFired:
		return false
	case event.ControllerElected, event.ControllerResigned, event.BrokerLost, event.BrokerRegistered, event.Fault:
		return true
	case event.GroupRebalance:
		return r.group != "" && e.Group == r.group
	case event.Transaction:
		return r.txnID != "" && e.TransactionalID == r.txnID
	}
	return e.Topic != "" && e.Topic == r.topic && e.Partition != nil && *e.Partition == r.partition
}

// waitEvent waits until an event after from matches ok, or timeout passes.
func (r *runner) waitEvent(ctx context.Context, from time.Time, timeout time.Duration, ok func(event.Event) bool) (event.Event, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := r.tl
	for {
		t.mu.Lock()
		for _, e := range t.events {
			if !e.Time.Before(from) && ok(e) {
				t.mu.Unlock()
				return e, true
			}
		}
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return event.Event{}, false
		case <-ch:
		case <-time.After(time.Second):
			r.followAll(ctx) // a broker that registered since (restarted) is followed too
		}
	}
}

// about matches events of kind on the scenario's partition.
func (r *runner) about(kind string) func(event.Event) bool {
	return func(e event.Event) bool {
		return e.Kind == kind && e.Topic == r.topic && e.Partition != nil && *e.Partition == r.partition
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
