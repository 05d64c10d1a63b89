package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// scaleResult holds the controller's times at scale, as integration/scale_test.go
// (make bench-scale) measures them: three brokers, one topic of n partitions at replication
// factor 3, a kill -9 of a broker that is not the controller and a controlled shutdown of
// another.
type scaleResult struct {
	partitions     int
	created        time.Duration // CreateTopics sent until every partition has a leader
	fullISR        time.Duration // ... until every ISR is full
	killedLed      int           // partitions the killed broker led
	afterKill      time.Duration // kill -9 until none is led by the dead broker any more
	afterExpiry    time.Duration // its ZooKeeper session's expiry until then (-1: not seen)
	session        time.Duration
	shutdownLed    int
	shutdown       time.Duration // SIGTERM until the process exited
	shutdownErr    error
	rss            []int64
	preferredMoved time.Duration // preferred leader election after the restart
}

// scaleSessionTimeout is the brokers' zookeeper.session.timeout.ms here (as chaosConfig in
// the integration tests): the failover time is dominated by it, and it is subtracted.
const scaleSessionTimeout = 4 * time.Second

// scaleBrokerConfig is integration/chaos_test.go's chaosConfig, which the scale test uses.
var scaleBrokerConfig = fmt.Sprintf(`zookeeper.session.timeout.ms = %d
replica.lag.time.max.ms = 3000
replica.fetch.backoff.ms = 200
auto.leader.rebalance.enable = false
`, scaleSessionTimeout.Milliseconds())

// scaleSteps is the name of each timed step, the cases the profiler records.
var scaleSteps = []string{"scale-create", "scale-failover", "scale-shutdown"}

func runScale(b *bench, t *target, zkAddr, chroot string, n int) (scaleResult, error) {
	res := scaleResult{partitions: n, session: scaleSessionTimeout, afterExpiry: -1}
	const topic = "scale"
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...), kgo.RequestTimeoutOverhead(time.Minute))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// led counts the partitions each broker leads, or fails while one has none.
	led := func(adm *kadm.Client) (map[int32]int, error) {
		mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
		defer mcancel()
		md, err := adm.Metadata(mctx, topic)
		if err != nil {
			return nil, err
		}
		td := md.Topics[topic]
		if td.Err != nil {
			return nil, td.Err
		}
		if len(td.Partitions) != n {
			return nil, fmt.Errorf("metadata lists %d of %d partitions", len(td.Partitions), n)
		}
		count := map[int32]int{}
		for _, p := range td.Partitions {
			if p.Leader < 0 {
				return nil, fmt.Errorf("partition %d has no leader", p.Partition)
			}
			count[p.Leader]++
		}
		return count, nil
	}
	fullISR := func() error {
		mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
		defer mcancel()
		md, err := adm.Metadata(mctx, topic)
		if err != nil {
			return err
		}
		for _, p := range md.Topics[topic].Partitions {
			if len(p.ISR) < 3 {
				return fmt.Errorf("partition %d: ISR %v", p.Partition, p.ISR)
			}
		}
		return nil
	}

	// Creation.
	prof := b.prof.begin(scaleSteps[0], t)
	start := time.Now()
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Minute)
	_, err = adm.CreateTopic(cctx, int32(n), 3, nil, topic)
	ccancel()
	// CreateTopics answers REQUEST_TIMED_OUT when the brokers' metadata took longer than the
	// request's timeout; the topic is still being created, so carry on and poll.
	if err != nil && !errors.Is(err, kerr.RequestTimedOut) {
		prof.end()
		return res, fmt.Errorf("creating %d partitions: %w", n, err)
	}
	err = poll(10*time.Minute, func() error { _, err := led(adm); return err })
	res.created = time.Since(start)
	if err == nil {
		err = poll(10*time.Minute, fullISR)
	}
	res.fullISR = time.Since(start)
	prof.end()
	logf("scale: created in %v, every ISR full after %v", res.created.Round(time.Millisecond), res.fullISR.Round(time.Millisecond))
	if err != nil {
		return res, err
	}

	// kill -9 of a broker that is not the controller; its partitions move once ZooKeeper
	// expires its session. The survivors answer the Metadata.
	mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
	md, err := adm.BrokerMetadata(mctx)
	mcancel()
	if err != nil {
		return res, err
	}
	var others []*server
	for _, s := range t.servers {
		if s.id != md.Controller {
			others = append(others, s)
		}
	}
	if len(others) < 2 {
		return res, fmt.Errorf("controller %d: expected two other brokers", md.Controller)
	}
	victim, shut := others[0], others[1]
	var survivors []string
	for i, s := range t.servers {
		if s != victim {
			survivors = append(survivors, t.addrs[i])
		}
	}
	scl, err := kgo.NewClient(kgo.SeedBrokers(survivors...))
	if err != nil {
		return res, err
	}
	defer scl.Close()
	sadm := kadm.NewClient(scl)
	before, err := led(sadm)
	if err != nil {
		return res, err
	}
	res.killedLed = before[victim.id]

	prof = b.prof.begin(scaleSteps[1], t)
	killed := time.Now()
	expired := make(chan time.Time, 1)
	go watchEphemeral(ctx, zkAddr, fmt.Sprintf("/%s/brokers/ids/%d", chroot, victim.id), expired)
	logf("scale: kill -9 of broker %d (leading %d; broker %d is the controller)", victim.id, res.killedLed, md.Controller)
	victim.kill9()
	err = poll(5*time.Minute, func() error {
		count, err := led(sadm)
		if err == nil && count[victim.id] > 0 {
			err = fmt.Errorf("broker %d still leads %d partitions", victim.id, count[victim.id])
		}
		return err
	})
	moved := time.Now()
	res.afterKill = moved.Sub(killed)
	select {
	case at := <-expired:
		res.afterExpiry = moved.Sub(at)
	case <-time.After(2 * time.Second):
	}
	prof.end()
	if err != nil {
		return res, err
	}

	// Back to full strength with the leaders where they belong, so that the broker shut down
	// next leads its third.
	if _, err := b.procs.restart(t, victim); err != nil {
		return res, err
	}
	if err := poll(10*time.Minute, fullISR); err != nil {
		return res, err
	}
	electStart := time.Now()
	ectx, ecancel := context.WithTimeout(ctx, 5*time.Minute)
	_, err = adm.ElectLeaders(ectx, kadm.ElectPreferredReplica, nil)
	ecancel()
	if err != nil {
		return res, fmt.Errorf("preferred leader election: %w", err)
	}
	_ = poll(5*time.Minute, func() error {
		count, err := led(adm)
		if err == nil && count[victim.id] < before[victim.id] {
			err = fmt.Errorf("broker %d leads %d of its %d", victim.id, count[victim.id], before[victim.id])
		}
		return err
	})
	res.preferredMoved = time.Since(electStart)
	if count, err := led(adm); err == nil {
		res.shutdownLed = count[shut.id]
	}
	for _, s := range t.servers {
		rss, _ := s.rssBytes()
		res.rss = append(res.rss, rss)
	}

	// Controlled shutdown: SIGTERM until the process exits (it has handed its partitions
	// over to the controller by then).
	logf("scale: broker %d back, leaders preferred again after %v; SIGTERM to broker %d (leading %d)",
		victim.id, res.preferredMoved.Round(time.Millisecond), shut.id, res.shutdownLed)
	prof = b.prof.begin(scaleSteps[2], t)
	stopped := time.Now()
	res.shutdownErr = shut.stop(5 * time.Minute)
	res.shutdown = time.Since(stopped)
	prof.end()
	return res, nil
}

// watchEphemeral sends the time at which ZooKeeper no longer holds the ephemeral znode path
// (the session that owned it expired), as its "dump" command lists the ephemerals of every
// session. It polls every 20 ms until ctx ends; nothing is sent if dump never answers.
func watchEphemeral(ctx context.Context, zkAddr, path string, at chan<- time.Time) {
	for ctx.Err() == nil {
		out, err := fourLetter(zkAddr, "dump")
		if err == nil && strings.Contains(out, "Sessions with Ephemerals") && !strings.Contains(out, path+"\n") {
			at <- time.Now()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
