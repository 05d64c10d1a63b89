package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/klassik/klassik/classroom/event"
)

// maxReplicasBytes caps one /klassik/replicas answer.
const maxReplicasBytes = 8 << 20

// replicaPoller asks every live broker with an HTTP listener for its replicas every
// interval, each request with a short timeout, and keeps the last answer per broker.
type replicaPoller struct {
	client   *http.Client
	interval time.Duration
	targets  func() map[int32]string // broker id -> http base URL, of live brokers
	change   func()

	mu   sync.Mutex
	last map[int32]event.Replicas // only brokers whose last poll answered
	raw  map[int32]string         // the last answer's bytes, to tell a change
}

func newReplicaPoller(targets func() map[int32]string, change func()) *replicaPoller {
	return &replicaPoller{client: &http.Client{Timeout: 400 * time.Millisecond}, interval: 500 * time.Millisecond,
		targets: targets, change: change, last: map[int32]event.Replicas{}, raw: map[int32]string{}}
}

func (r *replicaPoller) run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *replicaPoller) pollOnce(ctx context.Context) {
	targets := r.targets()
	var wg sync.WaitGroup
	type answer struct {
		id  int32
		raw string
		br  *event.Replicas
	}
	answers := make(chan answer, len(targets))
	for id, base := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br, raw := r.fetch(ctx, base)
			answers <- answer{id, raw, br}
		}()
	}
	wg.Wait()
	close(answers)
	changed := false
	r.mu.Lock()
	seen := map[int32]bool{}
	for a := range answers {
		seen[a.id] = true
		if a.br == nil {
			if _, ok := r.last[a.id]; ok {
				delete(r.last, a.id)
				delete(r.raw, a.id)
				changed = true
			}
			continue
		}
		if r.raw[a.id] != a.raw {
			r.last[a.id], r.raw[a.id] = *a.br, a.raw
			changed = true
		}
	}
	for id := range r.last {
		if !seen[id] { // no longer alive in ZooKeeper
			delete(r.last, id)
			delete(r.raw, id)
			changed = true
		}
	}
	r.mu.Unlock()
	if changed {
		r.change()
	}
}

func (r *replicaPoller) fetch(ctx context.Context, base string) (*event.Replicas, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+event.ReplicasPath, nil)
	if err != nil {
		return nil, ""
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReplicasBytes))
	if err != nil {
		return nil, ""
	}
	var br event.Replicas
	if json.Unmarshal(b, &br) != nil {
		return nil, ""
	}
	return &br, string(b)
}

// snapshot returns the last answers, by broker.
func (r *replicaPoller) snapshot() map[int32]event.Replicas {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int32]event.Replicas, len(r.last))
	for k, v := range r.last {
		out[k] = v
	}
	return out
}
