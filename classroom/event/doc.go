// Package event is the classroom's timeline of causes: what a broker or the controller
// decided, and why, as one small JSON object per event.
//
// Classic Kafka says what it decides in its logs (state-change.log, controller.log); klassik
// also publishes each decision as an Event on a Bus that the broker serves as Server-Sent
// Events on its HTTP listener (metrics.listener) at /klassik/events. The classroom
// (`klassik ui`) subscribes to every broker it finds in ZooKeeper and keeps what it was sent,
// so the timeline outlives the broker that wrote it: a learner who kills the controller still
// sees what it did, then what its successor did.
//
// The contract other tools rely on, one `data:` line per event:
//
//	id: 42
//	data: {"seq":42,"time":"2026-12-07T01:02:03.456Z","source":"1","kind":"leader-elected",
//	       "text":"Elected broker 2 leader of orders-0 (epoch 5): broker 1 failed",
//	       "topic":"orders","partition":0,"leader":2,"isr":[2,3],"leader_epoch":5,"zk_version":7}
//
// seq grows by one per event within one broker process (a restarted broker starts again at 1
// with a new broker_epoch); source is the broker id, or "zookeeper" for what the classroom
// itself saw in a watch, or "scenario" for a scenario's narration. A subscriber that sends
// Last-Event-ID (or ?since=N) gets only the events after N that the bus still retains.
//
// This package is a leaf: it imports no klassik package, so the controller, the group
// coordinator and the broker can all publish without importing each other.
package event
