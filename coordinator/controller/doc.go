// Package controller is klassik's cluster controller in classic (ZooKeeper) Kafka: Kafka's
// KafkaController with its PartitionStateMachine, ReplicaStateMachine,
// ControllerChannelManager and (simplified) TopicDeletionManager.
//
// # Role
//
// Every broker runs a Controller. They race to create the ephemeral /controller znode; the
// winner bumps /controller_epoch and becomes the active controller until its ZooKeeper
// session ends. It alone decides who leads each partition and who is in its ISR (the state
// znodes /brokers/topics/<t>/partitions/<p>/state), and tells brokers with three requests:
//
//   - LeaderAndIsr (v6): "you lead / follow these partitions, with this leader epoch and ISR";
//     sent to the replicas of a partition whose state changed.
//   - UpdateMetadata (v7): the live brokers and partition states, for every broker's metadata
//     cache (what clients see in Metadata responses).
//   - StopReplica (v3): stop fetching a partition, and with delete=true remove its log.
//
// Every controller write is conditional on the partition znode's version and fenced by the
// controller epoch's zkVersion: a controller that lost its job cannot overwrite its
// successor (zkclient.ErrNotController), and resigns. Brokers reject requests that carry an
// older controller epoch.
//
// # Event loop
//
// One goroutine (Run) owns all controller state (clusterState: live brokers with their
// epochs, topic assignments and ids, partition states with zkVersions, the controller epoch,
// topics being deleted). It handles, one at a time:
//
//   - startup, SessionEstablished: try the election (elect).
//   - ControllerChanged (the /controller watch): resign when another broker holds it,
//     elect when it is gone.
//   - SessionExpired: resign at once (become inactive, drop all state).
//   - BrokersChanged: new, dead and bounced brokers (a bounced broker re-registered with a
//     new czxid, its broker epoch, and is handled as failed then started).
//   - TopicsChanged: new topics get ids and partition states; vanished topics are forgotten.
//   - PartitionsChanged{topic}: partitions added by CreatePartitions get states.
//   - TopicDeletionsChanged: /admin/delete_topics markers (when delete.topic.enable).
//   - IsrChangeNotification: leaders changed ISRs themselves; refresh and broadcast.
//   - LogDirEventNotification: a broker lost a log dir (KIP-112); it gets a LeaderAndIsr for
//     every replica, and the replicas it answers KAFKA_STORAGE_ERROR for go offline (a
//     LeaderAndIsr-response event): out of the ISR, new leaders elected (log_dir_failure.go).
//   - ConfigChanged: retry offline partitions (unclean.leader.election.enable may be on now).
//   - PartitionReassignment (/admin/reassign_partitions) and AlterPartitionReassignments /
//     ListPartitionReassignments requests: KIP-455 reassignments (reassign.go lists Kafka's
//     steps: RS = ORS + TRS with adding/removing replicas in the topic znode, new replicas
//     started, TRS in the ISR awaited on ISR change notifications, a leader among TRS, the
//     removed replicas stopped and deleted, the final assignment written). A new controller
//     resumes the reassignments it finds in the topic znodes; a broker start resumes those
//     that target it.
//   - ControlledShutdown and ElectLeaders requests from the broker's API handlers, each with
//     a reply channel.
//   - the auto leader rebalance tick (auto.leader.rebalance.enable): preferred elections for
//     brokers whose share of partitions led by someone else exceeds 10%.
//
// The decisions are pure functions of the state (election.go: Kafka's
// PartitionLeaderElectionAlgorithms and state transitions), returning the partition state to
// write and who must hear of it; batch.go turns what was written into requests, one
// LeaderAndIsr, UpdateMetadata and StopReplica per broker per event. The handlers
// (handlers.go) only read ZooKeeper, write the decided states (on ErrBadVersion re-read and
// decide again; a write ZooKeeper refused otherwise is retried after an exponential backoff
// with jitter, and elections given up on are retried later: write_retry.go), and queue
// requests. They are tested without ZooKeeper.
//
// The channel manager (channel.go) keeps one ordered queue and one sending goroutine per live
// broker, retrying a failed send with backoff until it succeeds or the broker leaves, so a
// slow broker never blocks the loop.
//
// # Leader election
//
// As in Kafka: an offline partition is led by the first replica in assignment order that is
// alive and in the ISR (the ISR then drops dead members); if there is none and unclean
// election is enabled for the topic, by the first live replica (the ISR becomes just it);
// otherwise no leader is elected and nothing is written by the election. A controlled
// shutdown elects the first replica alive, in the ISR and not shutting down; a preferred
// election the first replica of the assignment if it is alive and in the ISR. Every election
// bumps the leader epoch.
//
// # A failover, step by step
//
// Broker 2 leads partition t-0 (replicas [2,3,1], ISR [2,3,1], leader epoch 4) and crashes.
//
//  1. Its ZooKeeper session expires and /brokers/ids/2 vanishes; the controller gets
//     BrokersChanged, reads /brokers/ids and finds broker 2 dead.
//  2. t-0's leader is gone, so the partition is offline: the offline election picks 3 (the
//     first replica in assignment order that is alive and in the ISR), ISR [3,1], leader
//     epoch 5, written conditionally on the state znode's version.
//  3. Broker 2 is taken out of the ISR of every partition it follows (leader epoch bumped);
//     where it was the only ISR member, the state becomes leader -1 with the ISR kept, and
//     the partition stays offline until broker 2 returns (or unclean election is allowed).
//  4. LeaderAndIsr goes to 3 (become leader, epoch 5) and 1 (follow 3, truncating by leader
//     epoch); UpdateMetadata to every live broker, listing 2 as an offline replica.
//  5. When broker 2 restarts it registers with a new czxid; the controller sends it the full
//     metadata and a LeaderAndIsr for each of its replicas, so it follows 3 and catches up;
//     the leader adds it back to the ISR; later the auto rebalance (or ElectLeaders) moves
//     leadership back to 2, the preferred replica.
//
// If the controller itself dies, /controller vanishes, the other brokers' watches fire, one
// wins the next election with a higher epoch, reads everything from ZooKeeper, and sends
// UpdateMetadata and LeaderAndIsr for every partition.
//
// # Not done
//
// Replication throttles during reassignment, keeping a topic being reassigned from deletion,
// log dir failure notifications, /admin/preferred_replica_election,
// broker registration updates with an unchanged epoch, leader recovery state (KIP-704), and
// waiting for StopReplica responses before a topic's znodes are removed.
package controller
