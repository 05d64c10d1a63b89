package broker

// The broker's side of the classroom (`klassik ui`, `klassik scenario`), served on
// metrics.listener next to /metrics:
//
//	GET  /klassik/events      what this broker and its controller decided, as Server-Sent
//	                          Events (package classroom/event); the retained history first
//	GET  /klassik/replicas    this broker's replicas: leader or follower, leader epoch, log
//	                          start and end, high watermark, ISR and, on a leader, each
//	                          follower's log end offset (what Kafka shows in its
//	                          ReplicaManager MBeans and kafka-log-dirs.sh)
//	POST /klassik/faults/...  real faults, only with klassik.faults.enable (faults.go)
//
// Kafka has no such endpoints; its operators read state-change.log and JMX. The events carry
// the same lines those logs would.

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/klassik/klassik/classroom/event"
)

// replicasJSON renders GET /klassik/replicas.
func (b *Broker) replicasJSON() event.Replicas {
	var out []event.Replica
	for _, p := range b.rm.all() {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			continue
		}
		r := event.Replica{
			Topic: p.tp.topic, Partition: p.tp.partition, Leader: p.isLeaderLocked(), LeaderID: p.leaderID,
			LeaderEpoch: p.leaderEpoch, ZKVersion: p.partitionEpoch,
			LogStartOffset: p.log.LogStartOffset(), LogEndOffset: p.log.LogEndOffset(), HighWatermark: p.hw,
			Replicas: slices.Clone(p.replicas), ISR: slices.Clone(p.isr),
		}
		if r.Leader {
			for id, f := range p.followers {
				r.Followers = append(r.Followers, event.Follower{Broker: id, LogEndOffset: f.leo,
					CaughtUp: f.leo >= r.LogEndOffset, LastCaughtUp: f.lastCaughtUpMs})
			}
			sort.Slice(r.Followers, func(i, j int) bool { return r.Followers[i].Broker < r.Followers[j].Broker })
		} else {
			r.FetchPaused = b.fetchers.paused(p.tp)
		}
		p.mu.Unlock()
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	if out == nil {
		out = []event.Replica{}
	}
	return event.Replicas{BrokerID: b.cfg.BrokerID, Replicas: out}
}

// classroomRoutes adds the classroom's endpoints to the metrics listener's mux.
func (b *Broker) classroomRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+event.Path, event.Handler(b.bus))
	mux.HandleFunc("GET "+event.ReplicasPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b.replicasJSON())
	})
	b.faultRoutes(mux)
}

// busSource is the source of this broker's events: its id.
func busSource(id int32) string { return strconv.Itoa(int(id)) }
