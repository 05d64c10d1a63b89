package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/klassik/klassik/classroom/event"
)

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// snapshot builds GET /api/cluster from the ZooKeeper view, the brokers' replica figures
// and the groups.
func (s *Server) snapshot() Cluster {
	reps := s.replicas.snapshot()
	w := s.zk
	w.mu.Lock()
	c := Cluster{Controller: Controller{ID: w.view.controller, Epoch: w.view.controllerEpoch,
		EpochZkVersion: w.view.epochVersion}, Brokers: []Broker{}, Topics: []Topic{}}
	c.ZooKeeper = "reconnecting"
	if w.view.connected {
		c.ZooKeeper = "connected"
	}
	alive := map[int32]bool{}
	for id, b := range w.view.brokers {
		br := Broker{ID: id, Alive: b.alive, SessionID: fmt.Sprintf("0x%x", b.owner), BrokerEpoch: b.czxid,
			HTTP: b.httpURL, Rack: b.info.Rack, Registered: b.ctime, Endpoints: []string{}}
		for _, e := range b.info.Endpoints {
			br.Endpoints = append(br.Endpoints, e.ConnectionString())
		}
		_, br.HTTPUp = reps[id]
		alive[id] = b.alive
		c.Brokers = append(c.Brokers, br)
	}
	for name, parts := range w.view.topics {
		t := Topic{Name: name, Internal: strings.HasPrefix(name, "__"), Partitions: []Partition{}}
		for p, zp := range parts {
			pt := Partition{Partition: p, Leader: -1, Replicas: zp.replicas, ISR: []int32{},
				LogEndOffsets: map[int32]int64{}, StateMtime: zp.mtime}
			if zp.state != nil {
				pt.Leader, pt.ISR, pt.LeaderEpoch = zp.state.Leader, zp.state.ISR, zp.state.LeaderEpoch
				pt.ControllerEpoch, pt.ZkVersion = zp.state.ControllerEpoch, zp.state.ZkVersion
			}
			if pt.Replicas == nil {
				pt.Replicas = []int32{}
			}
			pt.UnderReplicated = len(pt.ISR) < len(pt.Replicas)
			pt.Offline = pt.Leader < 0 || !alive[pt.Leader]
			fillOffsets(&pt, name, reps)
			t.Partitions = append(t.Partitions, pt)
		}
		sort.Slice(t.Partitions, func(i, j int) bool { return t.Partitions[i].Partition < t.Partitions[j].Partition })
		c.Topics = append(c.Topics, t)
	}
	w.mu.Unlock()
	sort.Slice(c.Brokers, func(i, j int) bool { return c.Brokers[i].ID < c.Brokers[j].ID })
	sort.Slice(c.Topics, func(i, j int) bool {
		if c.Topics[i].Internal != c.Topics[j].Internal {
			return !c.Topics[i].Internal
		}
		return c.Topics[i].Name < c.Topics[j].Name
	})
	c.Groups = s.groups.snapshot()
	return c
}

// fillOffsets takes the high watermark from the leader's report and each replica's log end
// offset from its own report, or else from what the leader knows of its followers.
func fillOffsets(pt *Partition, topic string, reps map[int32]event.Replicas) {
	for id, br := range reps {
		for _, r := range br.Replicas {
			if r.Topic != topic || r.Partition != pt.Partition {
				continue
			}
			if !slices.Contains(pt.Replicas, id) {
				continue
			}
			pt.LogEndOffsets[id] = r.LogEndOffset
			if r.Leader && id == pt.Leader {
				hw, ls := r.HighWatermark, r.LogStartOffset
				pt.HighWatermark, pt.LogStartOffset = &hw, &ls
				for _, f := range r.Followers {
					if _, own := reps[f.Broker]; !own {
						pt.LogEndOffsets[f.Broker] = f.LogEndOffset
					}
				}
			}
		}
	}
}
