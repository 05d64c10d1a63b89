// Applying partition state changes: conditional ZooKeeper writes, retries, and the requests
// they queue (PartitionStateMachine, ControllerBrokerRequestBatch).

package controller

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/klassik/klassik/zkclient"
)

// maxWriteRounds bounds the rounds of writing a batch of transitions. A write that lost a
// race (ErrBadVersion: a leader changed its ISR while we decided) is re-read and decided again
// at once, as Kafka's PartitionStateMachine does; any further round, and any round after a
// write ZooKeeper did not take (a lost connection, a timeout), first waits the controller's
// write backoff (write_retry.go). Partitions still pending after the last round are retried
// later by a scheduled retryOnlineEvent.
const maxWriteRounds = 10

func (c *Controller) flush(b *batch) {
	if c.st == nil || c.ch == nil || b.empty() {
		return
	}
	for _, r := range c.st.buildRequests(b, c.cfg.InterBrokerListenerName) {
		c.ch.enqueue(r)
	}
}

// uncleanLookup answers unclean.leader.election.enable per topic: the topic config in
// ZooKeeper, else the broker default. Memoized for one event.
func (c *Controller) uncleanLookup() func(string) bool {
	memo := map[string]bool{}
	return func(topic string) bool {
		if v, ok := memo[topic]; ok {
			return v
		}
		v := c.cfg.UncleanLeaderElectionEnable
		conf, err := c.zk.TopicConfig(topic)
		if err != nil {
			c.log.Warn().Err(err).Str("topic", topic).Msg("cannot read topic config; no unclean election")
			v = false
		} else if s, ok := conf["unclean.leader.election.enable"]; ok {
			if b, perr := strconv.ParseBool(s); perr == nil {
				v = b
			}
		}
		memo[topic] = v
		return v
	}
}

// runChanges decides and writes the transitions of parts, committing each successful write
// to the state and the batch. A write that lost a race (ErrBadVersion) re-reads the
// partition and is decided again; a write ZooKeeper refused for any other reason is retried
// after a backoff with jitter (never in a tight loop). It returns a per-partition outcome
// (nil: done) and a non-nil error only when the controller must resign
// (zkclient.ErrNotController).
func (c *Controller) runChanges(b *batch, parts []tp, what string, decide func(tp) (stateChange, error)) (map[tp]error, error) {
	st := c.st
	results := map[tp]error{}
	pending := parts
	bo := c.writeBackoff()
	wait := false // whether the next round waits for the backoff first
	for round := 0; len(pending) > 0; round++ {
		if round == maxWriteRounds {
			c.giveUp(pending, what, results, fmt.Errorf("gave up after %d rounds of refused ZooKeeper writes", maxWriteRounds))
			break
		}
		if wait {
			d := bo.Next()
			c.log.Info().Int("partitions", len(pending)).Str("transition", what).Int("attempt", round+1).Dur("retry_in", d).
				Msg("ZooKeeper refused partition state writes; retrying after a backoff")
			if err := c.sleep(d); err != nil {
				c.giveUp(pending, what, results, err)
				break
			}
		}
		var retry []tp
		refused := false // a write failed other than by losing a race
		creates := map[string][]stateChange{}
		var writes []pendingWrite
		for _, p := range pending {
			ch, err := decide(p)
			if err != nil {
				results[p] = err
				c.logFailed(p, what, err)
				continue
			}
			switch {
			case ch.Create:
				creates[p.Topic] = append(creates[p.Topic], ch)
				continue
			case ch.NoWrite:
				c.commit(b, ch, ch.New.ZkVersion)
				results[p] = nil
				continue
			}
			writes = append(writes, pendingWrite{p: p, ch: ch})
		}
		c.writeStates(st.epoch, writes)
		for _, w := range writes {
			p, ch, v, err := w.p, w.ch, w.version, w.err
			switch {
			case err == nil:
				c.commit(b, ch, v)
				results[p] = nil
			case errors.Is(err, zkclient.ErrNotController):
				return results, err
			case errors.Is(err, zkclient.ErrNoNode):
				results[p] = err // the partition is being deleted
				c.logFailed(p, what, err)
			default:
				if !errors.Is(err, zkclient.ErrBadVersion) {
					refused = true
				}
				if done, rerr := c.reread(b, ch); rerr != nil {
					results[p] = rerr
					c.logFailed(p, what, rerr)
				} else if done {
					results[p] = nil
				} else {
					c.log.Debug().Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Msg("partition state write refused; deciding again")
					retry = append(retry, p)
				}
			}
		}
		topics := make([]string, 0, len(creates))
		for t := range creates {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		for _, t := range topics {
			states := map[int32]zkclient.PartitionState{}
			for _, ch := range creates[t] {
				states[ch.P.Partition] = ch.New
			}
			err := c.zk.CreatePartitionStates(st.epoch, t, states)
			if errors.Is(err, zkclient.ErrNotController) {
				return results, err
			}
			for _, ch := range creates[t] {
				if err == nil {
					c.commit(b, ch, 0)
					results[ch.P] = nil
					continue
				}
				// The state may exist already (an earlier controller got this far, or our
				// write went through and its answer was lost): adopt it. Absent, the write
				// was refused: try again after the backoff.
				fresh, rerr := c.zk.PartitionState(t, ch.P.Partition)
				switch {
				case rerr == nil && sameState(fresh, ch.New):
					c.commit(b, ch, fresh.ZkVersion)
					results[ch.P] = nil
				case rerr == nil:
					st.leadership[ch.P] = fresh
					results[ch.P] = err
					c.logFailed(ch.P, what, err)
				case errors.Is(rerr, zkclient.ErrNoNode) && !errors.Is(err, zkclient.ErrNodeExists):
					refused = true
					retry = append(retry, ch.P)
				default:
					results[ch.P] = err
					c.logFailed(ch.P, what, err)
				}
			}
		}
		pending = retry
		wait = refused || round > 0
	}
	return results, nil
}

// reread is the answer to a refused conditional write of ch: it reads the partition's state
// again. When the state is what ch wrote (the write went through and only its answer was
// lost) the change is committed and done is true; otherwise the state is adopted, to be
// decided again.
func (c *Controller) reread(b *batch, ch stateChange) (done bool, err error) {
	fresh, err := c.zk.PartitionState(ch.P.Topic, ch.P.Partition)
	if err != nil {
		return false, err
	}
	if fresh.ZkVersion == ch.New.ZkVersion+1 && sameState(fresh, ch.New) {
		c.commit(b, ch, fresh.ZkVersion)
		return true, nil
	}
	c.st.leadership[ch.P] = fresh
	return false, nil
}

// sameState compares the contents of two partition states, not their zkVersions.
func sameState(a, b zkclient.PartitionState) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && a.ControllerEpoch == b.ControllerEpoch &&
		slices.Equal(a.ISR, b.ISR)
}

// commit records a written transition and queues its LeaderAndIsr (and UpdateMetadata).
func (c *Controller) commit(b *batch, ch stateChange, version int32) {
	st := ch.New
	st.ZkVersion = version
	c.st.leadership[ch.P] = st
	b.addLeaderAndIsr(c.st, ch.Recipients, ch.P, ch.IsNew)
	if ch.NoWrite {
		return
	}
	c.publishCommit(ch, st)
	if st.Leader != noLeader {
		delete(c.st.offline, ch.P)
	}
	oldLeader := ch.Old.Leader
	if ch.Create {
		oldLeader = noLeader
	}
	ev := c.log.Info().Str("topic", ch.P.Topic).Int32("partition", ch.P.Partition).
		Int32("old_leader", oldLeader).Int32("new_leader", st.Leader).Int32("leader_epoch", st.LeaderEpoch).
		Ints32("isr", st.ISR).Int32("zk_version", st.ZkVersion).Str("reason", ch.Reason)
	switch {
	case ch.Unclean:
		ev.Bool("unclean", true).Msg("partition leader elected outside the ISR (unclean election)")
	case ch.Create || oldLeader != st.Leader:
		ev.Msg("partition leader elected")
	default:
		ev.Ints32("old_isr", ch.Old.ISR).Msg("partition ISR changed")
	}
}

func (c *Controller) logFailed(p tp, what string, err error) {
	ev := c.log.Warn()
	if errors.Is(err, errNoEligibleLeader) || errors.Is(err, errNoLiveReplica) {
		ev = c.log.Info()
	}
	var isr []int32
	if st, ok := c.st.leadership[p]; ok {
		isr = st.ISR
	}
	ev.Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Str("transition", what).
		Ints32("replicas", c.st.replicas(p)).Ints32("isr", isr).Ints32("live_brokers", c.st.brokerIDs()).
		Msg("partition state change failed")
}

// triggerOnline is triggerOnlinePartitionStateChange: every New partition gets its first
// state, every Offline partition an offline election.
func (c *Controller) triggerOnline(b *batch) error {
	st := c.st
	var newParts, offline []tp
	for _, p := range st.partitions() {
		if !st.needsLeader(p) {
			continue
		}
		if _, ok := st.leadership[p]; ok {
			st.offline[p] = true
			offline = append(offline, p)
		} else {
			newParts = append(newParts, p)
		}
	}
	if _, err := c.runChanges(b, newParts, "NewPartition->OnlinePartition", st.decideNewPartition); err != nil {
		return err
	}
	unclean := c.uncleanLookup()
	_, err := c.runChanges(b, offline, "OfflinePartition->OnlinePartition", func(p tp) (stateChange, error) {
		return st.decideElection(p, offlineElection, unclean)
	})
	return err
}

// pendingWrite is one partition state write of a round, and its outcome.
type pendingWrite struct {
	p       tp
	ch      stateChange
	version int32
	err     error
}

// maxInflightWrites bounds the partition state writes in flight at once.
const maxInflightWrites = 64

// writeStates sends the round's conditional writes to ZooKeeper pipelined, up to
// maxInflightWrites at a time, as Kafka 1.1 made its controller do (KAFKA-5642: asynchronous
// ZooKeeper requests): each write is its own multi (controller epoch check, then the state
// znode at its zkVersion), so the writes are as independent as they were one after the other,
// but a failover or controlled shutdown of thousands of partitions waits for a few round
// trips, not one per partition. The outcomes are processed afterwards, in order, by the
// event loop.
func (c *Controller) writeStates(ce zkclient.ControllerEpoch, writes []pendingWrite) {
	if len(writes) == 1 {
		w := &writes[0]
		w.version, w.err = c.zk.UpdatePartitionState(ce, w.p.Topic, w.p.Partition, w.ch.New)
		return
	}
	sem := make(chan struct{}, maxInflightWrites)
	var wg sync.WaitGroup
	for i := range writes {
		sem <- struct{}{}
		wg.Add(1)
		go func(w *pendingWrite) {
			defer func() { <-sem; wg.Done() }()
			w.version, w.err = c.zk.UpdatePartitionState(ce, w.p.Topic, w.p.Partition, w.ch.New)
		}(&writes[i])
	}
	wg.Wait()
}
