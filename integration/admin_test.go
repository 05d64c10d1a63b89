package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestTopicAdmin drives topic administration through kadm as Kafka's AdminClient does, and
// checks both the answers and what lands in ZooKeeper and on disk.
func TestTopicAdmin(t *testing.T) {
	c := NewCluster(t)
	adm := c.Admin(t)
	topic := topicName(t, "admin")

	t.Run("CreateTopics", func(t *testing.T) {
		// validate_only checks and answers like a real creation, but creates nothing
		// (KIP-108).
		rs, err := adm.ValidateCreateTopics(ctxT(t, 30*time.Second), 3, 1, nil, topic)
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[topic]; r.Err != nil {
			t.Fatalf("validate-only create: %v (%s)", r.Err, r.ErrMessage)
		}
		if c.ZKExists(t, "/brokers/topics/"+topic) {
			t.Fatalf("validate-only CreateTopics created %s", c.Path("/brokers/topics/"+topic))
		}

		r, err := adm.CreateTopic(ctxT(t, 30*time.Second), 3, 1, nil, topic)
		if err != nil {
			t.Fatalf("create: %v (%s)", err, r.ErrMessage)
		}
		c.WaitForTopic(t, topic, 3)
		m, _ := znodeJSON(t, c, "/brokers/topics/"+topic)
		if parts := (jsonChecker{t, c.Path("/brokers/topics/" + topic), m}).object("partitions"); len(parts) != 3 {
			t.Fatalf("%s lists %d partitions, want 3", c.Path("/brokers/topics/"+topic), len(parts))
		}

		// Kafka's refusals, each as a per-topic error code.
		bad := "no-such-config"
		for _, tc := range []struct {
			name       string
			topic      string
			partitions int32
			rf         int16
			configs    map[string]*string
			want       error
		}{
			{"exists", topic, 3, 1, nil, kerr.TopicAlreadyExists},
			{"rf above brokers", topicName(t, "rf"), 1, 2, nil, kerr.InvalidReplicationFactor},
			{"zero partitions", topicName(t, "zero"), 0, 1, nil, kerr.InvalidPartitions},
			{"illegal name", "bad/name", 1, 1, nil, kerr.InvalidTopicException},
			{"unknown config", topicName(t, "cfg"), 1, 1, map[string]*string{"no.such.config": &bad}, kerr.InvalidConfig},
		} {
			rs, err := adm.CreateTopics(ctxT(t, 30*time.Second), tc.partitions, tc.rf, tc.configs, tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			if got := rs[tc.topic].Err; !errors.Is(got, tc.want) {
				t.Errorf("create (%s): %v, want %v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("CreatePartitions", func(t *testing.T) {
		rs, err := adm.UpdatePartitions(ctxT(t, 30*time.Second), 5, topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := rs.Error(); err != nil {
			t.Fatalf("grow to 5 partitions: %v", err)
		}
		c.WaitForTopic(t, topic, 5)
		m, _ := znodeJSON(t, c, "/brokers/topics/"+topic)
		if parts := (jsonChecker{t, c.Path("/brokers/topics/" + topic), m}).object("partitions"); len(parts) != 5 {
			t.Fatalf("%s lists %d partitions after growing to 5", c.Path("/brokers/topics/"+topic), len(parts))
		}
		eventually(t, 30*time.Second, func() error {
			for p := 3; p < 5; p++ {
				if !c.ZKExists(t, fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p)) {
					return fmt.Errorf("no state znode for new partition %d", p)
				}
			}
			return nil
		})
		// Partitions can only grow.
		rs, err = adm.UpdatePartitions(ctxT(t, 30*time.Second), 2, topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := rs.Error(); !errors.Is(err, kerr.InvalidPartitions) {
			t.Fatalf("shrink to 2 partitions: %v, want INVALID_PARTITIONS", err)
		}
	})

	t.Run("Configs", func(t *testing.T) {
		retention := func() kadm.Config {
			t.Helper()
			rcs, err := adm.DescribeTopicConfigs(ctxT(t, 30*time.Second), topic)
			if err != nil {
				t.Fatal(err)
			}
			if len(rcs) != 1 || rcs[0].Err != nil {
				t.Fatalf("describe configs: %+v", rcs)
			}
			for _, cfg := range rcs[0].Configs {
				if cfg.Key == "retention.ms" {
					return cfg
				}
			}
			t.Fatalf("describe configs of %s lists no retention.ms", topic)
			return kadm.Config{}
		}
		// Kafka's default: log.retention.hours=168.
		if cfg := retention(); cfg.MaybeValue() != "604800000" || cfg.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("retention.ms = %q from %v, want 604800000 from DEFAULT_CONFIG", cfg.MaybeValue(), cfg.Source)
		}

		changesBefore := c.ZKChildren(t, "/config/changes")
		value := "3600000"
		rs, err := adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &value}}, topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatalf("incremental alter retention.ms: %v (%s)", r.Err, r.ErrMessage)
			}
		}
		if cfg := retention(); cfg.MaybeValue() != value || cfg.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Fatalf("after alter: retention.ms = %q from %v, want %s from DYNAMIC_TOPIC_CONFIG", cfg.MaybeValue(), cfg.Source, value)
		}
		// ZooKeeper: the override in /config/topics/<t> and a change notification
		// {"version":2,"entity_path":"topics/<t>"} that tells every broker to reload it.
		m, _ := znodeJSON(t, c, "/config/topics/"+topic)
		j := jsonChecker{t, c.Path("/config/topics/" + topic), m}
		j.intIs("version", 1)
		if cfg := j.object("config"); len(cfg) != 1 || cfg["retention.ms"] != value {
			t.Fatalf("%s: config %v, want {retention.ms: %q}", j.path, cfg, value)
		}
		found := false
		for _, name := range c.ZKChildren(t, "/config/changes") {
			if slices.Contains(changesBefore, name) {
				continue
			}
			if !strings.HasPrefix(name, "config_change_") || len(name) != len("config_change_")+10 {
				t.Fatalf("%s/%s: want config_change_ and a 10-digit sequence number", c.Path("/config/changes"), name)
			}
			m, _ := znodeJSON(t, c, "/config/changes/"+name)
			j := jsonChecker{t, c.Path("/config/changes/" + name), m}
			j.intIs("version", 2)
			if j.str("entity_path") == "topics/"+topic {
				found = true
			}
		}
		if !found {
			t.Fatalf("no /config/changes notification with entity_path topics/%s (children %v)", topic, c.ZKChildren(t, "/config/changes"))
		}

		// Deleting the override brings the default back.
		rs, err = adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "retention.ms"}}, topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatalf("incremental alter (delete) retention.ms: %v", r.Err)
			}
		}
		if cfg := retention(); cfg.MaybeValue() != "604800000" || cfg.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("after deleting the override: retention.ms = %q from %v, want the default", cfg.MaybeValue(), cfg.Source)
		}
	})

	t.Run("ListOffsets", func(t *testing.T) {
		lt := topicName(t, "offsets")
		c.CreateTopic(t, lt, 1, 1, nil)
		base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		cl := c.Client(t, kgo.ProducerLinger(50*time.Millisecond))
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: lt, Value: fmt.Appendf(nil, "%d", i), Timestamp: base.Add(time.Duration(i) * time.Second)})
		}
		if err := cl.ProduceSync(ctxT(t, time.Minute), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		one := func(what string) func(kadm.ListedOffsets, error) kadm.ListedOffset {
			return func(lo kadm.ListedOffsets, err error) kadm.ListedOffset {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				o, ok := lo.Lookup(lt, 0)
				if !ok || o.Err != nil {
					t.Fatalf("%s: %+v", what, o)
				}
				return o
			}
		}
		if o := one("earliest")(adm.ListStartOffsets(ctxT(t, 30*time.Second), lt)); o.Offset != 0 {
			t.Fatalf("earliest offset %d, want 0", o.Offset)
		}
		if o := one("latest")(adm.ListEndOffsets(ctxT(t, 30*time.Second), lt)); o.Offset != 10 {
			t.Fatalf("latest offset %d, want 10", o.Offset)
		}
		// By timestamp: the first record whose timestamp is at or after the target.
		o := one("by timestamp")(adm.ListOffsetsAfterMilli(ctxT(t, 30*time.Second), base.Add(3500*time.Millisecond).UnixMilli(), lt))
		if o.Offset != 4 || o.Timestamp != base.Add(4*time.Second).UnixMilli() {
			t.Fatalf("offset for timestamp base+3.5s: offset %d timestamp %d, want offset 4 timestamp %d", o.Offset, o.Timestamp, base.Add(4*time.Second).UnixMilli())
		}
		o = one("by exact timestamp")(adm.ListOffsetsAfterMilli(ctxT(t, 30*time.Second), base.Add(7*time.Second).UnixMilli(), lt))
		if o.Offset != 7 {
			t.Fatalf("offset for timestamp base+7s: %d, want 7", o.Offset)
		}
	})

	t.Run("DeleteTopics", func(t *testing.T) {
		logDir := c.Broker(1).LogDir()
		partitionDirs := func() []string {
			entries, err := os.ReadDir(logDir)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range entries {
				for p := range 5 {
					if e.Name() == fmt.Sprintf("%s-%d", topic, p) {
						out = append(out, e.Name())
					}
				}
			}
			return out
		}
		if dirs := partitionDirs(); len(dirs) != 5 {
			entries, _ := os.ReadDir(logDir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("log.dirs has partition folders %v for %s, want <topic>-<partition> for 5 partitions (contents: %v)", dirs, topic, names)
		}
		rs, err := adm.DeleteTopics(ctxT(t, 30*time.Second), topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := rs.Error(); err != nil {
			t.Fatalf("delete %s: %v", topic, err)
		}
		eventually(t, 60*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			md, err := c.Metadata(ctx, topic)
			if err != nil {
				return err
			}
			if len(md.Topics) != 1 || md.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
				return fmt.Errorf("metadata still lists %s: %+v", topic, md.Topics)
			}
			for _, p := range []string{"/brokers/topics/" + topic, "/config/topics/" + topic, "/admin/delete_topics/" + topic} {
				if c.ZKExists(t, p) {
					return fmt.Errorf("%s still exists", c.Path(p))
				}
			}
			if dirs := partitionDirs(); len(dirs) > 0 {
				return fmt.Errorf("partition folders %v still in %s", dirs, logDir)
			}
			return nil
		})
	})
}

// TestFirstTopicConfigChangeApplies alters a topic's config as the first config change the
// cluster ever sees (no /config/changes notification existed when the brokers started) and
// checks that the leader applies it: min.insync.replicas=4 on a replication-factor-3 topic
// refuses acks=all with NOT_ENOUGH_REPLICAS, as Kafka does, and acks=1 still writes.
func TestFirstTopicConfigChangeApplies(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	topic := topicName(t, "first-change")
	c.CreateTopic(t, topic, 1, 3, nil)
	four := "4"
	rs, err := c.Admin(t).AlterTopicConfigs(ctxT(t, 30*time.Second),
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.insync.replicas", Value: &four}}, topic)
	if err == nil {
		err = rs[0].Err
	}
	if err != nil {
		t.Fatalf("setting min.insync.replicas=4: %v", err)
	}
	produce := func(acks kgo.Acks) error {
		cl := c.Client(t, kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0),
			kgo.RecordDeliveryTimeout(5*time.Second))
		defer cl.Close()
		return cl.ProduceSync(ctxT(t, 10*time.Second), &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
	}
	c.eventually(20*time.Second, func() error {
		if err := produce(kgo.AllISRAcks()); !errors.Is(err, kerr.NotEnoughReplicas) {
			return fmt.Errorf("acks=all with min.insync.replicas=4 and 3 replicas: got %v, want NOT_ENOUGH_REPLICAS", err)
		}
		return nil
	})
	if err := produce(kgo.LeaderAck()); err != nil {
		t.Errorf("acks=1 with min.insync.replicas=4: %v", err)
	}
}
