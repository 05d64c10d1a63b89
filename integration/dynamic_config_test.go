package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Dynamic broker configs as kafka-configs.sh --entity-type brokers sets them (KIP-226, ZooKeeper
// mode): the cluster-wide default in /config/brokers/<default> and one broker's own in
// /config/brokers/<id>, each with a /config/changes notification; every broker applies them
// without a restart, topic configs take their defaults from them, DescribeConfigs shows where
// each value comes from, and a property klassik cannot change at run time is refused with
// Kafka's message.
func TestDynamicBrokerConfigs(t *testing.T) {
	c := NewCluster(t, Brokers(2))
	topic := topicName(t, "dyn")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := c.Admin(t)
	if _, err := adm.CreateTopic(ctx, -1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.WaitForTopic(t, topic, 1)
	configs := func(args ...string) string {
		return runTool(t, 60*time.Second, "", klassikBin, append([]string{"configs", "--bootstrap-server", c.BootstrapServers()}, args...)...)
	}

	out := configs("--entity-type", "brokers", "--entity-default", "--alter", "--add-config", "log.retention.ms=1234567")
	if !strings.Contains(out, "Completed updating default config for brokers in the cluster.") {
		t.Fatalf("configs --entity-default --alter: %q", out)
	}
	data, _ := c.ZKGet(t, "/config/brokers/<default>")
	var znode struct {
		Version int               `json:"version"`
		Config  map[string]string `json:"config"`
	}
	if err := json.Unmarshal(data, &znode); err != nil || znode.Version != 1 || znode.Config["log.retention.ms"] != "1234567" {
		t.Fatalf("/config/brokers/<default>: %s (%v)", data, err)
	}

	// Every broker applies it: the topic's retention.ms, unset on the topic, follows.
	for _, b := range c.Brokers() {
		eventually(t, 20*time.Second, func() error {
			v, src, err := describeOne(ctx, c, b.ID, kmsg.ConfigResourceTypeTopic, topic, "retention.ms")
			if err != nil {
				return err
			}
			if v != "1234567" || src != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
				return fmt.Errorf("broker %d: retention.ms = %s from %v", b.ID, v, src)
			}
			return nil
		})
	}

	// One broker's own value wins over the default there, and only there.
	out = configs("--entity-type", "brokers", "--entity-name", "2", "--alter", "--add-config", "log.retention.ms=7654321,message.max.bytes=2000")
	if !strings.Contains(out, "Completed updating config for broker 2.") {
		t.Fatalf("configs --entity-name 2 --alter: %q", out)
	}
	eventually(t, 20*time.Second, func() error {
		v, src, err := describeOne(ctx, c, 2, kmsg.ConfigResourceTypeBroker, "2", "log.retention.ms")
		if err != nil {
			return err
		}
		if v != "7654321" || src != kmsg.ConfigSourceDynamicBrokerConfig {
			return errors.New("broker 2: log.retention.ms = " + v + " from " + src.String())
		}
		return nil
	})
	if v, src, _ := describeOne(ctx, c, 1, kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms"); v != "1234567" || src != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("broker 1: log.retention.ms = %s from %v, want the cluster default", v, src)
	}
	// message.max.bytes = 2000 on broker 2: a 3,000-byte record to a partition it leads is
	// refused with MESSAGE_TOO_LARGE; broker 1 still takes it.
	big := make([]byte, 3000)
	_, _ = rand.Read(big) // and uncompressed: zeros would compress below the limit
	for _, leader := range []int32{1, 2} {
		name := topicName(t, "dyn-on-"+string(rune('0'+leader)))
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = 0, []int32{leader}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
		req.Topics = append(req.Topics, rt)
		if _, err := req.RequestWith(ctx, c.Client(t)); err != nil {
			t.Fatal(err)
		}
		c.WaitForTopic(t, name, 1)
		eventually(t, 20*time.Second, func() error {
			v, src, err := describeOne(ctx, c, leader, kmsg.ConfigResourceTypeTopic, name, "max.message.bytes")
			if err == nil && (leader == 2) != (v == "2000") {
				err = fmt.Errorf("broker %d: %s max.message.bytes = %s from %v", leader, name, v, src)
			}
			return err
		})
		p := c.Client(t, kgo.DefaultProduceTopic(name), kgo.ProducerBatchMaxBytes(1<<20), kgo.RecordRetries(2), kgo.ProducerBatchCompression(kgo.NoCompression()))
		err := p.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr()
		if leader == 2 && !errors.Is(err, kerr.MessageTooLarge) {
			t.Fatalf("3000 bytes to broker 2 with message.max.bytes=2000: %v, want MESSAGE_TOO_LARGE", err)
		}
		if leader == 1 && err != nil {
			t.Fatalf("3000 bytes to broker 1: %v", err)
		}
	}

	// Read-only properties are refused, naming them.
	cmdErr := configsFail(t, c, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "num.io.threads=16")
	if !strings.Contains(cmdErr, "Cannot update these configs dynamically: Set(num.io.threads)") {
		t.Fatalf("a read-only property: %q", cmdErr)
	}

	// A restarted broker starts with the dynamic values.
	c.RestartBroker(2)
	c.WaitForBrokers(2)
	eventually(t, 30*time.Second, func() error {
		v, _, err := describeOne(ctx, c, 2, kmsg.ConfigResourceTypeBroker, "2", "message.max.bytes")
		if err == nil && v != "2000" {
			err = errors.New("message.max.bytes after restart = " + v)
		}
		return err
	})
}

// describeOne asks broker id for one config of a resource.
func describeOne(ctx context.Context, c *Cluster, id int32, typ kmsg.ConfigResourceType, name, config string) (string, kmsg.ConfigSource, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = typ, name, []string{config}
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, c.metaClient().Broker(int(id)))
	if err != nil {
		return "", 0, err
	}
	res := resp.Resources[0]
	if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
		return "", 0, err
	}
	if len(res.Configs) != 1 || res.Configs[0].Value == nil {
		return "", 0, errors.New("no " + config + " in the answer")
	}
	return *res.Configs[0].Value, res.Configs[0].Source, nil
}

// configsFail runs klassik configs expecting it to fail, and returns its stderr.
func configsFail(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	code, stderr := runKlassikFailing(t, append([]string{"configs", "--bootstrap-server", c.BootstrapServers()}, args...)...)
	if code == 0 {
		t.Fatalf("klassik configs %v succeeded", args)
	}
	return stderr
}
