package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// znodeJSON reads a znode and decodes its JSON into a map (numbers as json.Number).
func znodeJSON(t testing.TB, c *Cluster, path string) (map[string]any, *zk.Stat) {
	t.Helper()
	data, stat := c.ZKGet(t, path)
	m, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("%s holds %q, not a JSON object: %v", c.Path(path), data, err)
	}
	return m, stat
}

func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("null")
	}
	return m, nil
}

// jsonChecker checks the keys of one znode's JSON object, naming the znode in failures.
type jsonChecker struct {
	t    testing.TB
	path string
	m    map[string]any
}

func (j jsonChecker) get(key string) any {
	j.t.Helper()
	v, ok := j.m[key]
	if !ok {
		j.t.Fatalf("%s: no key %q in %v", j.path, key, j.m)
	}
	return v
}

// int checks that key is a JSON integer and returns it.
func (j jsonChecker) int(key string) int64 {
	j.t.Helper()
	n, ok := j.get(key).(json.Number)
	if !ok {
		j.t.Fatalf("%s: %q is %T %v, want a JSON number", j.path, key, j.m[key], j.m[key])
	}
	i, err := n.Int64()
	if err != nil {
		j.t.Fatalf("%s: %q is %v, want an integer", j.path, key, n)
	}
	return i
}

func (j jsonChecker) intIs(key string, want int64) {
	j.t.Helper()
	if got := j.int(key); got != want {
		j.t.Fatalf("%s: %q is %d, want %d", j.path, key, got, want)
	}
}

// str checks that key is a JSON string and returns it.
func (j jsonChecker) str(key string) string {
	j.t.Helper()
	s, ok := j.get(key).(string)
	if !ok {
		j.t.Fatalf("%s: %q is %T %v, want a JSON string", j.path, key, j.m[key], j.m[key])
	}
	return s
}

func (j jsonChecker) object(key string) map[string]any {
	j.t.Helper()
	o, ok := j.get(key).(map[string]any)
	if !ok {
		j.t.Fatalf("%s: %q is %T %v, want a JSON object", j.path, key, j.m[key], j.m[key])
	}
	return o
}

func (j jsonChecker) ints(key string) []int64 {
	j.t.Helper()
	return jsonInts(j.t, j.path+" "+key, j.get(key))
}

func jsonInts(t testing.TB, what string, v any) []int64 {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T %v, want a JSON array of integers", what, v, v)
	}
	out := []int64{}
	for _, e := range arr {
		n, ok := e.(json.Number)
		if !ok {
			t.Fatalf("%s: element %v is %T, want an integer", what, e, e)
		}
		i, err := n.Int64()
		if err != nil {
			t.Fatalf("%s: element %v is not an integer", what, e)
		}
		out = append(out, i)
	}
	return out
}

// msTimestamp checks that s is a decimal millisecond timestamp within the last hour (and not
// in the future by more than a minute), as Kafka writes System.currentTimeMillis() as a string.
func msTimestamp(t testing.TB, what, s string) {
	t.Helper()
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: timestamp %q is not a decimal integer", what, s)
	}
	ts := time.UnixMilli(ms)
	if time.Since(ts) > time.Hour || time.Until(ts) > time.Minute {
		t.Fatalf("%s: timestamp %q (%v) is not the time of writing", what, s, ts)
	}
}

// kafkaUUID checks that s is a Kafka Uuid as Kafka prints it (URL-safe base64 without
// padding of 16 bytes: 22 characters) and returns the bytes.
func kafkaUUID(t testing.TB, what, s string) [16]byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 || len(s) != 22 {
		t.Fatalf("%s: %q is not a Kafka Uuid (22 characters of URL-safe base64 for 16 bytes)", what, s)
	}
	var u [16]byte
	copy(u[:], b)
	if u == ([16]byte{}) {
		t.Fatalf("%s: %q is the zero Uuid", what, s)
	}
	return u
}

// TestZNodes checks every znode klassik writes against what Apache Kafka 3.x in ZooKeeper
// mode writes there (ZkData.scala), with keys and JSON types as Kafka's readers expect, all
// under the chroot of zookeeper.connect and nothing outside it. Ephemeral znodes
// (/brokers/ids/<id>, /controller) must be owned by a session; persistent ones by none.
func TestZNodes(t *testing.T) {
	c := NewCluster(t)
	b := c.Broker(1)

	// A topic with a config override and one without; an idempotent produce makes the
	// broker take a producer id block (/latest_producer_id_block).
	plain, configured := topicName(t, "plain"), topicName(t, "configured")
	c.CreateTopic(t, plain, 3, 1, nil)
	retention := "3600000"
	c.CreateTopic(t, configured, 1, 1, map[string]*string{"retention.ms": &retention})
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: plain, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("idempotent produce: %v", err)
	}

	// Nothing outside the chroot but ZooKeeper's own /zookeeper.
	roots, _, err := c.ZK().Children("/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(roots)
	if want := []string{strings.TrimPrefix(c.Chroot(), "/"), "zookeeper"}; !slices.Equal(roots, want) {
		t.Fatalf("znodes at the ZooKeeper root: %v, want %v (all of Kafka's under the chroot)", roots, want)
	}

	// Persistent paths Kafka creates at startup (ZkData.PersistentZkPaths, ConfigType.all).
	for _, p := range []string{
		"/consumers", "/brokers/ids", "/brokers/topics", "/brokers/seqid",
		"/config/changes", "/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips",
		"/admin/delete_topics", "/isr_change_notification", "/latest_producer_id_block",
		"/log_dir_event_notification", "/feature",
	} {
		_, st := c.ZKGet(t, p)
		if st.EphemeralOwner != 0 {
			t.Errorf("%s is ephemeral, want persistent", c.Path(p))
		}
	}

	t.Run("brokers/ids", func(t *testing.T) {
		p := "/brokers/ids/1"
		m, st := znodeJSON(t, c, p)
		j := jsonChecker{t, c.Path(p), m}
		if st.EphemeralOwner == 0 {
			t.Fatalf("%s is persistent, want ephemeral (owned by the broker's session)", j.path)
		}
		j.intIs("version", 5)
		if h := j.str("host"); h != "127.0.0.1" {
			t.Fatalf("%s: host %q, want 127.0.0.1", j.path, h)
		}
		j.intIs("port", int64(b.Port))
		j.intIs("jmx_port", -1)
		msTimestamp(t, j.path, j.str("timestamp"))
		eps, ok := j.get("endpoints").([]any)
		want := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.Port)
		if !ok || len(eps) != 1 || eps[0] != want {
			t.Fatalf("%s: endpoints %v, want [%s]", j.path, j.m["endpoints"], want)
		}
		if sp := j.object("listener_security_protocol_map"); len(sp) != 1 || sp["PLAINTEXT"] != "PLAINTEXT" {
			t.Fatalf("%s: listener_security_protocol_map %v, want {PLAINTEXT: PLAINTEXT}", j.path, sp)
		}
		if f := j.object("features"); len(f) != 0 {
			t.Fatalf("%s: features %v, want {}", j.path, f)
		}
		if ids := c.ZKChildren(t, "/brokers/ids"); !slices.Equal(ids, []string{"1"}) {
			t.Fatalf("/brokers/ids children %v, want [1]", ids)
		}
	})

	var controllerEpoch int64
	t.Run("controller", func(t *testing.T) {
		m, st := znodeJSON(t, c, "/controller")
		j := jsonChecker{t, c.Path("/controller"), m}
		if st.EphemeralOwner == 0 {
			t.Fatalf("%s is persistent, want ephemeral", j.path)
		}
		j.intIs("version", 1)
		j.intIs("brokerid", 1)
		msTimestamp(t, j.path, j.str("timestamp"))

		data, st := c.ZKGet(t, "/controller_epoch")
		if st.EphemeralOwner != 0 {
			t.Fatalf("/controller_epoch is ephemeral, want persistent")
		}
		epoch, err := strconv.ParseInt(string(data), 10, 32)
		if err != nil || epoch < 1 {
			t.Fatalf("%s holds %q, want a plain integer >= 1", c.Path("/controller_epoch"), data)
		}
		controllerEpoch = epoch
	})

	t.Run("cluster/id", func(t *testing.T) {
		m, _ := znodeJSON(t, c, "/cluster/id")
		j := jsonChecker{t, c.Path("/cluster/id"), m}
		if v := j.str("version"); v != "1" {
			t.Fatalf("%s: version %q, want the string \"1\"", j.path, v)
		}
		id := j.str("id")
		kafkaUUID(t, j.path, id)
		// Metadata v2+ reports the same cluster id.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ClusterID == nil || *resp.ClusterID != id {
			t.Fatalf("metadata cluster id %v, /cluster/id has %q", resp.ClusterID, id)
		}
	})

	t.Run("brokers/topics", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		md, err := c.Metadata(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		p := "/brokers/topics/" + plain
		m, st := znodeJSON(t, c, p)
		j := jsonChecker{t, c.Path(p), m}
		if st.EphemeralOwner != 0 {
			t.Fatalf("%s is ephemeral", j.path)
		}
		j.intIs("version", 3)
		parts := j.object("partitions")
		if len(parts) != 3 {
			t.Fatalf("%s: partitions %v, want 3", j.path, parts)
		}
		for i := range 3 {
			reps := jsonInts(t, fmt.Sprintf("%s partitions[%d]", j.path, i), parts[fmt.Sprint(i)])
			if !slices.Equal(reps, []int64{1}) {
				t.Fatalf("%s: partition %d replicas %v, want [1]", j.path, i, reps)
			}
		}
		if a := j.object("adding_replicas"); len(a) != 0 {
			t.Fatalf("%s: adding_replicas %v, want {}", j.path, a)
		}
		if r := j.object("removing_replicas"); len(r) != 0 {
			t.Fatalf("%s: removing_replicas %v, want {}", j.path, r)
		}
		id := kafkaUUID(t, j.path+" topic_id", j.str("topic_id"))
		if len(md.Topics) != 1 || md.Topics[0].TopicID != id {
			t.Fatalf("metadata topic id %x differs from %s topic_id %x", md.Topics[0].TopicID, j.path, id)
		}
		if got := c.ZKChildren(t, p+"/partitions"); !slices.Equal(got, []string{"0", "1", "2"}) {
			t.Fatalf("%s/partitions children %v, want [0 1 2]", j.path, got)
		}
	})

	t.Run("partition state", func(t *testing.T) {
		for i := range 3 {
			p := fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", plain, i)
			m, st := znodeJSON(t, c, p)
			j := jsonChecker{t, c.Path(p), m}
			if st.EphemeralOwner != 0 {
				t.Fatalf("%s is ephemeral", j.path)
			}
			j.intIs("version", 1)
			j.intIs("leader", 1)
			j.intIs("leader_epoch", 0)
			if controllerEpoch > 0 {
				j.intIs("controller_epoch", controllerEpoch)
			} else {
				j.int("controller_epoch")
			}
			if isr := j.ints("isr"); !slices.Equal(isr, []int64{1}) {
				t.Fatalf("%s: isr %v, want [1]", j.path, isr)
			}
		}
	})

	t.Run("config/topics", func(t *testing.T) {
		for topic, want := range map[string]map[string]any{
			plain:      {},
			configured: {"retention.ms": retention},
		} {
			p := "/config/topics/" + topic
			m, _ := znodeJSON(t, c, p)
			j := jsonChecker{t, c.Path(p), m}
			j.intIs("version", 1)
			cfg := j.object("config")
			if fmt.Sprint(cfg) != fmt.Sprint(want) {
				t.Fatalf("%s: config %v, want %v (values as strings)", j.path, cfg, want)
			}
		}
	})

	t.Run("latest_producer_id_block", func(t *testing.T) {
		p := "/latest_producer_id_block"
		m, _ := znodeJSON(t, c, p)
		j := jsonChecker{t, c.Path(p), m}
		j.intIs("version", 1)
		j.intIs("broker", 1)
		start, err1 := strconv.ParseInt(j.str("block_start"), 10, 64)
		end, err2 := strconv.ParseInt(j.str("block_end"), 10, 64)
		if err1 != nil || err2 != nil || start < 0 || end < start {
			t.Fatalf("%s: block %q..%q, want decimal strings with start <= end", j.path, j.m["block_start"], j.m["block_end"])
		}
		// The producer id the broker handed out comes from that block (KIP-98).
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionTimeoutMillis = -1
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || resp.ProducerID < start || resp.ProducerID > end {
			t.Fatalf("InitProducerID gave producer id %d (error %d), outside the block %d..%d in %s", resp.ProducerID, resp.ErrorCode, start, end, j.path)
		}
	})
}
