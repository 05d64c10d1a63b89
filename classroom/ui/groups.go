package ui

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupPoller describes every consumer group over the Kafka protocol (ListGroups,
// DescribeGroups, OffsetFetch, ListOffsets), as kafka-consumer-groups.sh --describe does.
// Its client is seeded with the bootstrap servers and every broker endpoint seen in
// ZooKeeper, so it finds a live broker while any one broker is dead; a new seed set makes a
// new client.
type groupPoller struct {
	bootstrap []string
	seeds     func() []string // broker endpoints from ZooKeeper
	interval  time.Duration
	change    func()
	gen       func(group string) int32 // the generation last seen in the timeline

	mu      sync.Mutex
	groups  []Group
	errText string

	client  *kgo.Client
	seedKey string
}

func newGroupPoller(bootstrap []string, seeds func() []string, gen func(string) int32, change func()) *groupPoller {
	return &groupPoller{bootstrap: bootstrap, seeds: seeds, gen: gen, change: change, interval: 1500 * time.Millisecond}
}

func (g *groupPoller) run(ctx context.Context) {
	defer func() {
		if g.client != nil {
			g.client.Close()
		}
	}()
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		g.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (g *groupPoller) admin() (*kadm.Client, error) {
	all := append(slices.Clone(g.bootstrap), g.seeds()...)
	sort.Strings(all)
	all = slices.Compact(all)
	key := strings.Join(all, ",")
	if g.client == nil || key != g.seedKey {
		cl, err := kgo.NewClient(kgo.SeedBrokers(all...), kgo.ClientID("klassik-classroom"),
			kgo.RetryBackoffFn(func(n int) time.Duration { return min(time.Duration(n)*100*time.Millisecond, time.Second) }),
			kgo.RequestRetries(2), kgo.DialTimeout(time.Second))
		if err != nil {
			return nil, err
		}
		if g.client != nil {
			g.client.Close()
		}
		g.client, g.seedKey = cl, key
	}
	return kadm.NewClient(g.client), nil
}

func (g *groupPoller) pollOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	adm, err := g.admin()
	var groups []Group
	if err == nil {
		groups, err = g.describe(ctx, adm)
	}
	g.mu.Lock()
	if err != nil {
		g.errText = err.Error() // keep the last good picture
	} else {
		g.errText = ""
		if !groupsEqual(g.groups, groups) {
			g.groups = groups
			g.mu.Unlock()
			g.change()
			return
		}
	}
	g.mu.Unlock()
}

func (g *groupPoller) describe(ctx context.Context, adm *kadm.Client) ([]Group, error) {
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := listed.Groups()
	sort.Strings(names)
	if len(names) == 0 {
		return []Group{}, nil
	}
	described, err := adm.DescribeGroups(ctx, names...)
	if err != nil && len(described) == 0 {
		return nil, err
	}
	var out []Group
	for _, name := range names {
		d, ok := described[name]
		if !ok {
			continue
		}
		grp := Group{Name: name, State: d.State, Protocol: d.Protocol, ProtoType: d.ProtocolType,
			Coordinator: d.Coordinator.NodeID, Generation: g.gen(name), Members: []Member{}, Offsets: []Lag{}}
		if d.Err != nil {
			grp.Error = d.Err.Error()
		}
		owner := map[tp]string{}
		for _, m := range d.Members {
			mem := Member{ID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: map[string][]int32{}}
			if m.InstanceID != nil {
				mem.InstanceID = *m.InstanceID
			}
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					ps := slices.Clone(t.Partitions)
					slices.Sort(ps)
					mem.Assigned[t.Topic] = ps
					for _, p := range ps {
						owner[tp{t.Topic, p}] = m.MemberID
					}
				}
			}
			grp.Members = append(grp.Members, mem)
		}
		grp.Offsets = g.lags(ctx, adm, name, owner)
		out = append(out, grp)
	}
	return out, nil
}

// tp names one partition.
type tp struct {
	t string
	p int32
}

// lags is the committed offset and lag of every committed or assigned partition.
func (g *groupPoller) lags(ctx context.Context, adm *kadm.Client, group string, owner map[tp]string) []Lag {
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return []Lag{}
	}
	topics := map[string]bool{}
	committed.Each(func(o kadm.OffsetResponse) { topics[o.Topic] = true })
	for k := range owner {
		topics[k.t] = true
	}
	var names []string
	for t := range topics {
		names = append(names, t)
	}
	ends, _ := adm.ListEndOffsets(ctx, names...)
	seen := map[tp]bool{}
	var out []Lag
	add := func(t string, p int32) {
		if seen[tp{t, p}] {
			return
		}
		seen[tp{t, p}] = true
		l := Lag{Topic: t, Partition: p, Member: owner[tp{t, p}], Committed: -1, End: -1, Lag: -1}
		if o, ok := committed.Lookup(t, p); ok && o.Err == nil {
			l.Committed = o.At
		}
		if e, ok := ends.Lookup(t, p); ok && e.Err == nil {
			l.End = e.Offset
		}
		if l.End >= 0 {
			if l.Committed >= 0 {
				l.Lag = l.End - l.Committed
			} else {
				l.Lag = l.End // nothing committed: the whole log is behind the group
			}
		}
		out = append(out, l)
	}
	committed.Each(func(o kadm.OffsetResponse) { add(o.Topic, o.Partition) })
	for k := range owner {
		add(k.t, k.p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	if out == nil {
		out = []Lag{}
	}
	return out
}

func (g *groupPoller) snapshot() []Group {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups == nil {
		return []Group{}
	}
	return g.groups
}

func groupsEqual(a, b []Group) bool {
	return mustJSON(a) == mustJSON(b)
}
