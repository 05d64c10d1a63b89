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
	"github.com/twmb/franz-go/pkg/kmsg"
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

	// The controller answers every Metadata below: it stays up throughout (the brokers
	// killed and shut down are the other two), and asking one live broker keeps the
	// client's retries against a dead one out of the times.
	var controller int32 = -1
	if err := poll(time.Minute, func() error {
		mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
		defer mcancel()
		md, err := adm.BrokerMetadata(mctx)
		if err == nil && md.Controller < 0 {
			err = errors.New("no controller yet")
		}
		controller = md.Controller
		return err
	}); err != nil {
		return res, err
	}
	metadata := func() ([]kmsg.MetadataResponseTopicPartition, error) {
		mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
		defer mcancel()
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(mctx, cl.Broker(int(controller)))
		if err != nil {
			return nil, err
		}
		if len(resp.Topics) != 1 {
			return nil, fmt.Errorf("metadata lists %d topics", len(resp.Topics))
		}
		if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
			return nil, err
		}
		if ps := resp.Topics[0].Partitions; len(ps) != n {
			return nil, fmt.Errorf("metadata lists %d of %d partitions", len(ps), n)
		}
		return resp.Topics[0].Partitions, nil
	}
	// led counts the partitions each broker leads, or fails while one has none.
	led := func() (map[int32]int, error) {
		ps, err := metadata()
		if err != nil {
			return nil, err
		}
		count := map[int32]int{}
		for _, p := range ps {
			if p.Leader < 0 {
				return nil, fmt.Errorf("partition %d has no leader", p.Partition)
			}
			count[p.Leader]++
		}
		return count, nil
	}
	fullISR := func() error {
		ps, err := metadata()
		if err != nil {
			return err
		}
		for _, p := range ps {
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
	err = poll(10*time.Minute, func() error { _, err := led(); return err })
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
	// expires its session.
	var others []*server
	for _, s := range t.servers {
		if s.id != controller {
			others = append(others, s)
		}
	}
	if len(others) < 2 {
		return res, fmt.Errorf("controller %d: expected two other brokers", controller)
	}
	victim, shut := others[0], others[1]
	before, err := led()
	if err != nil {
		return res, err
	}
	res.killedLed = before[victim.id]

	prof = b.prof.begin(scaleSteps[1], t)
	killed := time.Now()
	expired := make(chan time.Time, 1)
	go watchEphemeral(ctx, zkAddr, fmt.Sprintf("/%s/brokers/ids/%d", chroot, victim.id), expired)
	logf("scale: kill -9 of broker %d (leading %d; broker %d is the controller)", victim.id, res.killedLed, controller)
	victim.kill9()
	err = poll(5*time.Minute, func() error {
		count, err := led()
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
	logf("scale: broker %d restarted", victim.id)
	if err := poll(10*time.Minute, fullISR); err != nil {
		return res, err
	}
	logf("scale: every ISR full again; preferred leader election")
	electStart := time.Now()
	ectx, ecancel := context.WithTimeout(ctx, 5*time.Minute)
	_, err = adm.ElectLeaders(ectx, kadm.ElectPreferredReplica, nil)
	ecancel()
	if err != nil {
		return res, fmt.Errorf("preferred leader election: %w", err)
	}
	_ = poll(5*time.Minute, func() error {
		count, err := led()
		if err == nil && count[victim.id] < before[victim.id] {
			err = fmt.Errorf("broker %d leads %d of its %d", victim.id, count[victim.id], before[victim.id])
		}
		return err
	})
	res.preferredMoved = time.Since(electStart)
	if count, err := led(); err == nil {
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
// session. It polls every 20 ms until ctx ends; nothing is sent unless dump listed the path
// first and then did not.
func watchEphemeral(ctx context.Context, zkAddr, path string, at chan<- time.Time) {
	seen := false
	for ctx.Err() == nil {
		out, err := fourLetter(zkAddr, "dump")
		if err == nil && strings.Contains(out, "Sessions with Ephemerals") {
			listed := strings.Contains(out, path+"\n")
			if seen && !listed {
				at <- time.Now()
				return
			}
			seen = seen || listed
		}
		time.Sleep(20 * time.Millisecond)
	}
}
