package scenario

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Consumer group rebalances in the classic protocol (GroupCoordinator): every join or leave
// makes every member rejoin; the coordinator starts a new generation and the leader assigns
// the partitions again.

// consumer is one group member polling in its own goroutine.
type consumer struct {
	cl   *kgo.Client
	done chan struct{}
}

func (r *runner) startConsumer(ctx context.Context, name string) (*consumer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.env.Bootstrap...), kgo.ConsumerGroup(r.group),
		kgo.ConsumeTopics(r.topic), kgo.ClientID(name), kgo.SessionTimeout(10*time.Second),
		kgo.HeartbeatInterval(time.Second), kgo.Balancers(kgo.RoundRobinBalancer()))
	if err != nil {
		return nil, err
	}
	c := &consumer{cl: cl, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			fs := cl.PollRecords(ctx, 100)
			if fs.IsClientClosed() {
				return
			}
		}
	}()
	return c, nil
}

func (c *consumer) close() {
	c.cl.Close() // sends LeaveGroup
	<-c.done
}

func groupRebalance(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom-group", 6, nil); err != nil {
		return false, "", err
	}
	r.group = fmt.Sprintf("classroom-%d", time.Now().UnixNano()%1000000)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var members []*consumer
	defer func() {
		for _, m := range members {
			m.close()
		}
	}()
	steps := []struct {
		what    string
		join    bool
		members int
	}{
		{"consumer-a joins", true, 1},
		{"consumer-b joins", true, 2},
		{"consumer-c joins", true, 3},
		{"consumer-a leaves", false, 2},
	}
	var gens []int32
	for i, s := range steps {
		r.say(KindStep, "%s group %s", s.what, r.group)
		start := time.Now()
		if s.join {
			c, err := r.startConsumer(ctx, strings.Fields(s.what)[0])
			if err != nil {
				return false, "", err
			}
			members = append(members, c)
		} else {
			members[0].close()
			members = members[1:]
		}
		e, ok := r.waitEvent(ctx, start, 45*time.Second, func(e event.Event) bool {
			return e.Kind == event.GroupRebalance && e.Group == r.group && e.Generation != nil &&
				contains(e.Text, fmt.Sprintf("%d members", s.members))
		})
		if !ok {
			return false, fmt.Sprintf("no rebalance of %s to %d members after %q", r.group, s.members, s.what), nil
		}
		gens = append(gens, *e.Generation)
		if i > 0 && gens[i] <= gens[i-1] {
			return false, fmt.Sprintf("generation went from %d to %d", gens[i-1], gens[i]), nil
		}
		r.showAssignment(ctx)
	}
	return true, fmt.Sprintf("Each join and leave started a new generation of %s: %v", r.group, gens), nil
}

// showAssignment narrates who owns which partitions now (DescribeGroups).
func (r *runner) showAssignment(ctx context.Context) {
	waitFor(ctx, 10*time.Second, func() bool {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		gs, err := r.adm.DescribeGroups(dctx, r.group)
		if err != nil {
			return false
		}
		g, ok := gs[r.group]
		if !ok || g.State != "Stable" {
			return false
		}
		var parts []string
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok {
				return false
			}
			var ps []int
			for _, t := range a.Topics {
				for _, p := range t.Partitions {
					ps = append(ps, int(p))
				}
			}
			sort.Ints(ps)
			parts = append(parts, fmt.Sprintf("%s: %v", m.ClientID, ps))
		}
		sort.Strings(parts)
		r.say(KindObserve, "Group %s is %s (protocol %s, coordinator %d): %s", r.group, g.State, g.Protocol, g.Coordinator.NodeID, strings.Join(parts, "; "))
		return true
	})
}
