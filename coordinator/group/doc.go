// Package group is klassik's group coordinator: Kafka's GroupCoordinator and
// GroupMetadataManager (core/src/main/scala/kafka/coordinator/group) for classic consumer
// groups, as in Kafka 3.6 running on ZooKeeper.
//
// # Role in classic Kafka
//
// Consumers that share a group.id form a group. Each group belongs to one partition of the
// internal topic __consumer_offsets, Utils.abs(groupId.hashCode) % offsets.topic.num.partitions
// (PartitionFor), and the broker that leads that partition is the group's coordinator: clients
// find it with FindCoordinator and send it JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit and OffsetFetch. The coordinator keeps groups in memory and makes them durable
// by appending records to its __consumer_offsets partition with acks=all:
//
//	key version 0/1 (OffsetCommitKey: group, topic, partition)
//	    -> OffsetCommitValue v3 (offset, leader epoch, metadata, commit timestamp),
//	       v1 when the commit carries an expire timestamp (OffsetCommit v2-v4)
//	key version 2 (GroupMetadataKey: group)
//	    -> GroupMetadataValue v3 (protocol type, generation, protocol, leader, members with
//	       their subscriptions and assignments), written after every completed rebalance
//	a null value is a tombstone: a deleted offset, a deleted group
//
// Transactional producers commit offsets with TxnOffsetCommit (txn.go): the same offset
// records, in a transactional batch of the producer (its id and epoch, base sequence 0),
// pending until the producer's COMMIT marker (then visible, unless a commit later in the log
// won) or ABORT marker (dropped) is written to the partition; WriteTxnMarkers tells the
// coordinator through CompleteTxn. Meanwhile OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for those partitions (KIP-447).
//
// The topic is compacted, so the last record of a key is its state. When a broker becomes
// leader of an __consumer_offsets partition (BecomeLeader, from LeaderAndIsr), it replays the
// partition from its log start to its log end (transactional commits held until their
// producer's marker, pending if there is none yet) and rebuilds the groups; meanwhile their
// requests get COORDINATOR_LOAD_IN_PROGRESS. When it loses the leadership (Resign), it forgets
// them and answers NOT_COORDINATOR, and the clients look for the new coordinator.
//
// The broker implements Log (append with acks=all, read below the high watermark) and forwards
// the Kafka requests to the methods named after the APIs; this package imports no klassik
// package. The broker should pass the request's client id and host with WithClient.
//
// # The group state machine (GroupMetadata.scala)
//
//	                 first JoinGroup
//	+-------+ ---------------------------> +--------------------+
//	| Empty |                              | PreparingRebalance | <------------------+
//	+-------+ <--------------------------- +--------------------+                    |
//	    |      nobody rejoined: all members          |                               |
//	    |      left or timed out                     | every known member rejoined,  |
//	    |      (generation+1)                        | or the rebalance timeout ran  |
//	    |                                            v out (generation+1; protocol   |
//	    |                               +---------------------+ chosen by vote)      |
//	    |                               | CompletingRebalance | ---------------------+
//	    |                               +---------------------+ a member joins, leaves,
//	    |                                            |           changes metadata or   |
//	    |       SyncGroup from the leader, its       |           misses the sync       |
//	    |       assignment persisted                 v           deadline              |
//	    |                                       +--------+                             |
//	    |                                       | Stable | ----------------------------+
//	    v                                       +--------+ a member joins, leaves, expires
//	+------+  DeleteGroups; retention expired              or changes metadata; the
//	| Dead |  the last offsets; the partition moved        leader rejoins
//	+------+  away (from any state)
//
// The first member to join leads: its JoinGroup response lists every member's metadata, it
// computes the assignment client-side and sends it in its SyncGroup; the coordinator persists
// it and answers every member's parked SyncGroup with its share. A group's first rebalance
// waits group.initial.rebalance.delay.ms (InitialDelayedJoin), longer while new members keep
// arriving, up to the rebalance timeout. Members heartbeat within their session timeout or are
// removed. JoinGroup v4+ without a member id gets MEMBER_ID_REQUIRED and a "<clientId>-<uuid>"
// id to rejoin with (KIP-394). Static members (group.instance.id, KIP-345) that restart rejoin
// a Stable group without a rebalance; their previous member id is fenced (FENCED_INSTANCE_ID).
// Incremental cooperative rebalancing (KIP-429) needs nothing more: a member that rejoins a
// Stable group with a changed subscription (its owned partitions) starts a new rebalance and
// keeps its member id.
//
// # Concurrency
//
// One mutex per group (group.mu) guards everything about the group: members, state, timers,
// offsets. The coordinator's mutex only guards which partitions it owns and which groups
// exist. JoinGroup and SyncGroup park: the request's goroutine registers a one-slot channel in
// the member, releases the lock and waits; whoever completes the rebalance (another request,
// or a timer) sends the answer. Timers (session expiry, rebalance and sync deadlines, the
// initial delay, pending member ids) are time.AfterFunc callbacks that take the group's lock
// and check that they are still current (a token or pointer) before acting. Appends to
// __consumer_offsets run on their own goroutine without the lock, in the order they were
// prepared under it (a per-group ticket), and apply their result under the lock. Close stops
// every timer and waits for every goroutine.
package group
