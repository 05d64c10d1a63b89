package ui

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/klassik/klassik/classroom/event"
)

// TimelineRetain is how many events the classroom keeps: its own ZooKeeper observations,
// every broker's events and the scenarios' narration, newest last.
const TimelineRetain = 8192

// timeline merges every broker's /klassik/events into the classroom's own bus. It follows
// each broker it has seen in ZooKeeper for as long as the classroom runs (event.Follow
// reconnects with a backoff), so a broker that comes back is heard again, and what a dead
// broker said stays in the bus.
type timeline struct {
	bus    *event.Bus
	client *http.Client

	mu        sync.Mutex
	following map[int32]following
	gens      map[string]int32 // group -> last generation seen in a group-rebalance event
}

type following struct {
	url    string
	cancel context.CancelFunc
}

func newTimeline() *timeline {
	return &timeline{bus: event.NewBus("zookeeper", TimelineRetain),
		// No overall timeout: a stream lasts; the dial and the headers are bounded.
		client: &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 2 * time.Second,
			MaxIdleConnsPerHost: 2}},
		following: map[int32]following{}, gens: map[string]int32{}}
}

// publish is the one way events enter the classroom's bus.
func (t *timeline) publish(e event.Event) {
	if e.Kind == event.GroupRebalance && e.Group != "" && e.Generation != nil {
		t.mu.Lock()
		t.gens[e.Group] = *e.Generation
		t.mu.Unlock()
	}
	t.bus.Publish(e)
}

func (t *timeline) generation(group string) int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g, ok := t.gens[group]; ok {
		return g
	}
	return -1
}

// follow makes sure broker id's event stream at base (http://host:port) is followed.
func (t *timeline) follow(ctx context.Context, id int32, base string) {
	url := base + event.Path
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.following[id]; ok {
		if f.url == url {
			return
		}
		f.cancel() // the broker came back on another listener
	}
	fctx, cancel := context.WithCancel(ctx)
	t.following[id] = following{url: url, cancel: cancel}
	source := fmt.Sprint(id)
	go event.Follow(fctx, t.client, url, func(e event.Event) {
		if e.Source == "" {
			e.Source = source
		}
		t.publish(e)
	}, nil)
}
