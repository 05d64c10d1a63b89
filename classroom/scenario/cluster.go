package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file is how a scenario sees the cluster: ZooKeeper for brokers, the controller and
// partition state (as Kafka's own tools in ZooKeeper mode did), the brokers' HTTP listeners
// found from their registrations, and the Kafka protocol for topics, configs and clients.

// poll is how often a scenario re-reads ZooKeeper while it waits for an outcome.
const poll = 200 * time.Millisecond

// connect opens ZooKeeper and a Kafka admin client.
func (r *runner) connect(ctx context.Context) error {
	zc, err := zkclient.Connect(r.env.ZooKeeper, 10*time.Second, 10*time.Second, zerolog.Nop())
	if err != nil {
		return err
	}
	r.zk = zc
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.env.Bootstrap...), kgo.RetryTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", strings.Join(r.env.Bootstrap, ","), err)
	}
	r.kc = cl
	r.adm = kadm.NewClient(cl)
	r.lagMs = r.brokerConfigMs(ctx, "replica.lag.time.max.ms", 30000)
	r.sessionMs = r.brokerConfigMs(ctx, "zookeeper.session.timeout.ms", 18000)
	return nil
}

func (r *runner) close() {
	if r.cancelFollow != nil {
		r.cancelFollow()
	}
	if r.kc != nil {
		r.kc.Close()
	}
	if r.zk != nil {
		r.zk.Close()
	}
}

// brokerConfigMs reads a broker setting over DescribeConfigs, def when it cannot.
func (r *runner) brokerConfigMs(ctx context.Context, name string, def int64) int64 {
	ids := r.brokerIDs()
	if len(ids) == 0 {
		return def
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rcs, err := r.adm.DescribeBrokerConfigs(ctx, ids[0])
	if err != nil {
		return def
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == name && c.Value != nil {
				if v, err := strconv.ParseInt(*c.Value, 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return def
}

// brokers reads /brokers/ids.
func (r *runner) brokers() map[int32]zkclient.BrokerInfo {
	m, err := r.zk.Brokers(false)
	if err != nil {
		return nil
	}
	return m
}

func (r *runner) brokerIDs() []int32 {
	var ids []int32
	for id := range r.brokers() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// httpBase is a broker's HTTP listener (metrics.listener) from its registration: the port in
// jmx_port on the first of the registration's hosts that answers from here (in docker
// compose that is kafkaN inside the network, localhost on the host). Found once per
// registration (broker epoch).
func (r *runner) httpBase(ctx context.Context, info zkclient.BrokerInfo) (string, error) {
	key := fmt.Sprintf("%d/%d/%s", info.ID, info.Epoch, strings.Join(info.HTTPAddrs(), ","))
	r.httpMu.Lock()
	base, ok := r.httpBases[key]
	r.httpMu.Unlock()
	if ok {
		return base, nil
	}
	base, err := event.HTTPBase(ctx, info.HTTPAddrs(), 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("broker %d: %w", info.ID, err)
	}
	r.httpMu.Lock()
	if r.httpBases == nil {
		r.httpBases = map[string]string{}
	}
	r.httpBases[key] = base
	r.httpMu.Unlock()
	return base, nil
}

// fault posts one fault to a broker's HTTP listener.
func (r *runner) fault(ctx context.Context, broker int32, name string, q url.Values) error {
	info, ok := r.brokers()[broker]
	if !ok {
		return fmt.Errorf("broker %d is not registered in ZooKeeper", broker)
	}
	base, err := r.httpBase(ctx, info)
	if err != nil {
		return err
	}
	u := base + "/klassik/faults/" + name
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.env.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	r.say(KindStep, "POST /klassik/faults/%s to broker %d: %s", name, broker, strings.TrimSpace(string(body)))
	return nil
}

// state reads the partition state znode.
func (r *runner) state() (zkclient.PartitionState, error) {
	return r.zk.PartitionState(r.topic, r.partition)
}

// replicas reads the partition's assignment from /brokers/topics/<t>.
func (r *runner) replicas() ([]int32, error) {
	a, err := r.zk.TopicAssignment(r.topic, false)
	if err != nil {
		return nil, err
	}
	reps, ok := a.Partitions[r.partition]
	if !ok {
		return nil, fmt.Errorf("%s has no partition %d", r.topic, r.partition)
	}
	return reps, nil
}

// waitState polls the partition state znode until ok accepts it or timeout passes.
func (r *runner) waitState(ctx context.Context, timeout time.Duration, ok func(zkclient.PartitionState) bool) (zkclient.PartitionState, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st, err := r.state()
		if err == nil && ok(st) {
			return st, true
		}
		select {
		case <-ctx.Done():
			return st, false
		case <-time.After(poll):
		}
	}
}

// waitFor polls cond until it is true or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(poll):
		}
	}
}

// setupTopic makes sure the scenario's topic exists (made when Env.Topic is empty) and is
// healthy: a leader and every replica in the ISR.
func (r *runner) setupTopic(ctx context.Context, name string, partitions int32, configs map[string]*string) error {
	if r.env.Topic != "" {
		r.topic, r.partition = r.env.Topic, r.env.Partition
	} else {
		r.topic, r.partition = name, 0
		ids := r.brokerIDs()
		if len(ids) < 3 {
			return fmt.Errorf("the scenario needs 3 live brokers; ZooKeeper has %v", ids)
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		resp, err := r.adm.CreateTopic(cctx, partitions, 3, configs, name)
		cancel()
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil:
			r.say(KindStep, "Created topic %s: %d partitions, replication factor 3", name, partitions)
		case errors.Is(err, kerr.TopicAlreadyExists):
		default:
			return fmt.Errorf("creating topic %s: %w", name, err)
		}
	}
	reps := []int32(nil)
	if !waitFor(ctx, 30*time.Second, func() bool {
		var err error
		reps, err = r.replicas()
		return err == nil
	}) {
		return fmt.Errorf("%s-%d: no assignment in ZooKeeper", r.topic, r.partition)
	}
	st, ok := r.waitState(ctx, 60*time.Second, func(st zkclient.PartitionState) bool {
		return st.Leader >= 0 && len(st.ISR) == len(reps)
	})
	if !ok {
		return fmt.Errorf("%s-%d is not healthy: leader %d, ISR %v, replicas %v (a broker still down?)", r.topic, r.partition, st.Leader, st.ISR, reps)
	}
	r.say(KindObserve, "%s-%d: replicas %v, leader %d, leader epoch %d, ISR %v, zkVersion %d (from /brokers/topics/%s/partitions/%d/state)",
		r.topic, r.partition, reps, st.Leader, st.LeaderEpoch, st.ISR, st.ZkVersion, r.topic, r.partition)
	return nil
}

// produce sends n small records to the scenario's partition with the given acks.
func (r *runner) produce(ctx context.Context, n int, acks kgo.Acks) error {
	opts := []kgo.Opt{kgo.SeedBrokers(r.env.Bootstrap...), kgo.RequiredAcks(acks),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1),
		kgo.RecordDeliveryTimeout(8 * time.Second), kgo.ProduceRequestTimeout(5 * time.Second),
		kgo.DisableIdempotentWrite()} // a plain producer: the broker's answer, not the client's retries
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: r.topic, Partition: r.partition, Value: []byte("classroom " + strconv.Itoa(i))}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// endOffset is the partition's high watermark as consumers see it (ListOffsets latest).
func (r *runner) endOffset(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	offs, err := r.adm.ListEndOffsets(ctx, r.topic)
	if err != nil {
		return -1, err
	}
	o, ok := offs.Lookup(r.topic, r.partition)
	if !ok {
		return -1, fmt.Errorf("no end offset for %s-%d", r.topic, r.partition)
	}
	return o.Offset, o.Err
}

func without(ids []int32, drop int32) []int32 {
	var out []int32
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}
