// Clients of a test cluster, and waiting until it reaches a state.

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client returns a franz-go client seeded with every broker, closed when t ends. Its log goes
// to the cluster's clients.log.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(c.clientOpts(t), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// clientOpts are the options every test client starts from: the cluster's brokers, and a log
// (in the cluster's directory) whose lines name the test.
func (c *Cluster) clientOpts(t testing.TB) []kgo.Opt {
	name := t.Name()
	return []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap()...),
		kgo.WithLogger(kgo.BasicLogger(c.clientLog, kgo.LogLevelInfo, func() string { return name + " " })),
	}
}

// Admin returns a kadm client over a new Client.
func (c *Cluster) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(c.Client(t))
}

func (c *Cluster) metaClient() *kgo.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meta == nil {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...),
			kgo.WithLogger(kgo.BasicLogger(c.clientLog, kgo.LogLevelWarn, func() string { return "harness " })),
			kgo.RequestRetries(2))
		if err != nil {
			c.t.Fatal(err)
		}
		c.meta = cl
	}
	return c.meta
}

// Metadata sends a Metadata request (no topics: all topics) without topic auto-creation.
func (c *Cluster) Metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, tp := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(tp)
		req.Topics = append(req.Topics, rt)
	}
	req.AllowAutoTopicCreation = false
	return req.RequestWith(ctx, c.metaClient())
}

// WaitForBrokers waits until Metadata lists exactly n brokers.
func (c *Cluster) WaitForBrokers(n int) {
	c.t.Helper()
	c.eventually(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			return err
		}
		var ids []int32
		for _, b := range resp.Brokers {
			ids = append(ids, b.NodeID)
		}
		if len(ids) != n {
			return fmt.Errorf("metadata lists brokers %v, want %d brokers", ids, n)
		}
		return nil
	})
}

// WaitForController waits until /controller names a broker and Metadata reports the same
// controller, and returns its id.
func (c *Cluster) WaitForController(t testing.TB) int32 {
	t.Helper()
	var id int32
	c.eventuallyT(t, 60*time.Second, func() error {
		data, _, err := c.ZK().Get(c.Path("/controller"))
		if err != nil {
			return fmt.Errorf("%s: %w", c.Path("/controller"), err)
		}
		var ctl struct {
			BrokerID *int32 `json:"brokerid"`
		}
		if err := json.Unmarshal(data, &ctl); err != nil || ctl.BrokerID == nil {
			return fmt.Errorf("/controller holds %q: %v", data, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			return err
		}
		if resp.ControllerID != *ctl.BrokerID {
			return fmt.Errorf("metadata controller %d, /controller says %d", resp.ControllerID, *ctl.BrokerID)
		}
		id = *ctl.BrokerID
		return nil
	})
	return id
}

// WaitForTopic waits until Metadata lists topic with n partitions, each with a leader.
func (c *Cluster) WaitForTopic(t testing.TB, topic string, partitions int) {
	t.Helper()
	c.eventuallyT(t, 60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 {
			return fmt.Errorf("metadata for %q returned %d topics", topic, len(resp.Topics))
		}
		rt := resp.Topics[0]
		if rt.ErrorCode != 0 {
			return fmt.Errorf("metadata for %q: error code %d", topic, rt.ErrorCode)
		}
		if len(rt.Partitions) != partitions {
			return fmt.Errorf("metadata for %q lists %d partitions, want %d", topic, len(rt.Partitions), partitions)
		}
		for _, p := range rt.Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				return fmt.Errorf("%s-%d: leader %d, error code %d", topic, p.Partition, p.Leader, p.ErrorCode)
			}
		}
		return nil
	})
}

// CreateTopic creates topic through CreateTopics (kadm) and waits until every partition has
// a leader.
func (c *Cluster) CreateTopic(t testing.TB, topic string, partitions int32, replicationFactor int16, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Admin(t).CreateTopic(ctx, partitions, replicationFactor, configs, topic); err != nil {
		t.Fatalf("create topic %q: %v", topic, err)
	}
	c.WaitForTopic(t, topic, int(partitions))
}

// eventually calls f until it returns nil, failing t with f's last error after timeout.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := 10 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not done after %v: %v", timeout, err)
		}
		timer := time.NewTimer(interval)
		<-timer.C
		interval = min(2*interval, 250*time.Millisecond)
	}
}

// eventually is eventually on the cluster's test, which also fails at once when a broker that
// should run has exited.
func (c *Cluster) eventually(timeout time.Duration, f func() error) {
	c.t.Helper()
	c.eventuallyT(c.t, timeout, f)
}

// checkAlive reports a broker that should run but has exited.
func (c *Cluster) checkAlive() error {
	for _, b := range c.brokers {
		if b.wantRunning && b.proc != nil && b.proc.exited() {
			return fmt.Errorf("broker %d %s; last lines of its log:\n%s", b.ID, describeState(b.proc.state), tailFile(b.StderrPath(), 40))
		}
	}
	return nil
}

// AssertAlive fails the test if a broker that should run has exited.
func (c *Cluster) AssertAlive(t testing.TB) {
	t.Helper()
	if err := c.checkAlive(); err != nil {
		t.Fatal(err)
	}
}
