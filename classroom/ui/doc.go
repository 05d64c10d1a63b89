// Package ui is the classroom: `klassik ui`, a web page that shows a classic Kafka cluster
// working, live, from where classic Kafka keeps its truth.
//
// It reads ZooKeeper itself, with watches (never polling), for what the controller decides:
// the live brokers (/brokers/ids/N, whose czxid is the broker epoch and whose ephemeralOwner is
// the broker's ZooKeeper session), the controller (/controller, /controller_epoch), each
// topic's assignment and each partition's state znode (leader, ISR, leader epoch; its zkVersion
// is the partition epoch). It reads the Kafka protocol (kadm) for what only brokers know:
// consumer groups, committed offsets and lag. It polls each broker's HTTP listener
// (GET /klassik/replicas) for the high watermark and every replica's log end offset, and follows
// each broker's GET /klassik/events, merging them with what it saw in ZooKeeper into one
// bounded timeline that it keeps in its own memory, so the timeline outlives the broker that
// wrote it. Nothing here depends on one broker: a dead broker only loses its HTTP figures.
//
// Files, one job each: zkwatch.go (the ZooKeeper picture and its watches), replicas.go (the
// HTTP figures), groups.go (groups over the Kafka protocol), timeline.go (the merged events),
// snapshot.go (the /api/cluster document), znode.go (/api/zk: a decoded znode and what it
// means), scenarios.go (scenario buttons), server.go (the HTTP routes and the live push), and
// static/ (the page, embedded).
//
// The Kafka counterparts are the views that classic Kafka spreads over zkCli.sh,
// kafka-topics.sh --describe, kafka-consumer-groups.sh --describe and controller.log.
package ui
