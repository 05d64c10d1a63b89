package scenario

import "context"

// scenario is one entry of the catalog: what it asks, and the body that acts and checks.
type scenario struct {
	info Info
	body func(ctx context.Context, r *runner) (bool, string, error)
}

var catalog = []scenario{
	{Info{Name: "kill-leader",
		Summary:  "kill -9 the leader of a partition; the controller elects a new leader from the ISR once the dead broker's ZooKeeper session expires",
		Question: "The leader of a partition is killed with SIGKILL. What happens to the partition?",
		Choices: []string{
			"It stays offline until the killed broker comes back",
			"After the dead broker's ZooKeeper session times out, the controller elects another in-sync replica as leader",
			"The followers elect a new leader among themselves at once",
		}, Answer: 1}, killLeader},
	{Info{Name: "kill-controller",
		Summary:  "kill -9 the controller; another broker wins /controller with a higher controller epoch",
		Question: "The controller broker is killed with SIGKILL. What happens?",
		Choices: []string{
			"The cluster has no controller until that broker restarts",
			"Once its session expires, /controller vanishes, another broker creates it and the controller epoch goes up by one",
			"The broker with the lowest id becomes controller immediately, with the same epoch",
		}, Answer: 1}, killController},
	{Info{Name: "stop-broker",
		Summary:  "SIGTERM a leader: controlled shutdown moves its leaderships before it exits",
		Question: "A broker leading a partition is stopped with SIGTERM (controlled shutdown). What happens?",
		Choices: []string{
			"Its partitions are offline until the session timeout passes",
			"It asks the controller to move its leaderships first, so a new leader is elected at once, before it exits",
			"Nothing changes until the broker restarts",
		}, Answer: 1}, stopBroker},
	{Info{Name: "expire-session",
		Summary:  "expire a broker's ZooKeeper session: its registration vanishes, the controller treats it as failed, and it registers again",
		Question: "A broker's ZooKeeper session expires while the process keeps running. What happens?",
		Choices: []string{
			"Nothing: the process is alive, so the cluster ignores it",
			"Its ephemeral /brokers/ids/N vanishes, the controller moves its leaderships, then the broker re-registers with a new broker epoch",
			"The broker shuts itself down for good",
		}, Answer: 1}, expireSession},
	{Info{Name: "slow-follower",
		Summary:  "pause one follower's fetcher: the leader removes it from the ISR after replica.lag.time.max.ms, and adds it back once it catches up",
		Question: "One follower stops fetching from the leader. What happens to the ISR?",
		Choices: []string{
			"The follower is removed at once, on its first missed fetch",
			"After replica.lag.time.max.ms the leader shrinks the ISR; when the follower catches up again it is added back",
			"The ISR never changes while the follower's broker is alive",
		}, Answer: 1}, slowFollower},
	{Info{Name: "below-min-isr",
		Summary:  "pause both followers of a replication-factor-3 partition with min.insync.replicas=2: acks=all is refused, acks=1 still goes through",
		Question: "The ISR of a partition with min.insync.replicas=2 shrinks to the leader alone. What do producers see?",
		Choices: []string{
			"Every produce fails",
			"acks=all produces fail with NOT_ENOUGH_REPLICAS, while acks=1 produces still succeed",
			"All produces succeed; min.insync.replicas only matters for consumers",
		}, Answer: 1}, belowMinISR},
	{Info{Name: "unclean-election",
		Summary:  "the ISR shrinks to the leader, then the leader dies: the partition stays offline until unclean.leader.election.enable lets an out-of-sync replica lead",
		Question: "The ISR is only the leader, and the leader is killed. With unclean.leader.election.enable=false, what happens?",
		Choices: []string{
			"An out-of-sync follower becomes leader at once",
			"The partition has no leader (offline) until an ISR member returns, or unclean election is enabled, which elects an out-of-sync replica and may lose data",
			"The controller restores the leader from ZooKeeper",
		}, Answer: 1}, uncleanElection},
	{Info{Name: "preferred-leader-election",
		Summary:  "move leadership off the preferred replica, then a preferred replica election puts it back",
		Question: "Leadership moved off a partition's preferred (first) replica. What does a preferred replica election do?",
		Choices: []string{
			"Nothing: leadership only moves when a broker fails",
			"The controller makes the first replica of the assignment leader again, if it is alive and in the ISR",
			"It picks the replica with the highest log end offset",
		}, Answer: 1}, preferredLeaderElection},
	{Info{Name: "group-rebalance",
		Summary:  "consumers join a group; one more joins, one leaves: each change is a new generation with a new assignment",
		Question: "A consumer joins a group whose members are already consuming. What happens?",
		Choices: []string{
			"The new member waits until a partition is free",
			"The coordinator starts a rebalance: every member rejoins, a new generation begins and the partitions are reassigned",
			"The new member reads the same partitions as an existing one",
		}, Answer: 1}, groupRebalance},
	{Info{Name: "kill-transaction-coordinator",
		Summary:  "kill -9 the transaction coordinator while a transaction is open; the new leader of its __transaction_state partition takes over and the producer's commit completes there",
		Question: "A producer has a transaction open when its transaction coordinator's broker is killed with SIGKILL. What happens to the transaction?",
		Choices: []string{
			"It is lost, and its records become visible to read_committed consumers anyway",
			"The new leader of the __transaction_state partition loads the transaction's state; the producer's commit completes there, and read_committed consumers see the whole transaction",
			"The broker deletes the transaction's records from the partition",
		}, Answer: 1}, killTxnCoordinator},
}
