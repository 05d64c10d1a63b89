package zkclient

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/klassik/klassik/zkclient/zktest"
	"github.com/rs/zerolog"
)

// These tests run against a real ZooKeeper (zktest). One server serves every subtest; each
// subtest works under its own chroot, which also exercises chroot handling.

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func rawConn(t *testing.T, connect string) *zk.Conn {
	t.Helper()
	servers, _, _ := ParseConnect(connect)
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

func rawGet(t *testing.T, conn *zk.Conn, p string) string {
	t.Helper()
	var data []byte
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for { // the raw connection may still be establishing its session
		data, _, err = conn.Get(p)
		if err == nil || errors.Is(err, zk.ErrNoNode) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("get %s: %v", p, err)
	}
	return string(data)
}

func dial(t *testing.T, connect string, sessionTimeout time.Duration) *Client {
	t.Helper()
	c, err := Connect(connect, sessionTimeout, 15*time.Second, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitEvent reads c's events until one of type typ (and topic, if set) arrives.
func waitEvent(t *testing.T, c *Client, typ EventType, topic string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v", typ)
			}
			if ev.Type == typ && (topic == "" || ev.Topic == topic) {
				return
			}
		case <-timeout:
			t.Fatalf("no %v event within 20s", typ)
		}
	}
}

// eventually polls cond until it holds or 20s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAgainstZooKeeper(t *testing.T) {
	server, _ := zktest.Start(t)
	raw := rawConn(t, server)

	t.Run("znodes are Kafka's, under the chroot", func(t *testing.T) {
		connect := server + "/klassik/a"
		c := dial(t, connect, 6*time.Second)
		if ok, _, err := raw.Exists("/klassik/a"); err != nil || !ok {
			t.Fatalf("chroot not created: %v %v", ok, err)
		}
		if err := c.EnsurePersistentPaths(); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/consumers", "/brokers/ids", "/brokers/topics", "/brokers/seqid", "/config/changes",
			"/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips", "/admin/delete_topics",
			"/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification", "/feature"} {
			if ok, _, err := raw.Exists("/klassik/a" + p); err != nil || !ok {
				t.Errorf("%s missing under the chroot", p)
			}
			if ok, _, _ := raw.Exists(p); ok {
				t.Errorf("%s created outside the chroot", p)
			}
		}
		if err := c.EnsurePersistentPaths(); err != nil { // idempotent
			t.Fatal(err)
		}
		golden := func(p, want string) {
			t.Helper()
			if got := rawGet(t, raw, "/klassik/a"+p); got != want {
				t.Errorf("%s:\n got %s\nwant %s", p, got, want)
			}
		}
		golden("/feature", `{"features":{},"version":2,"status":1}`)

		id, err := c.GetOrCreateClusterID("Ab-_0123456789abcdefgh")
		if err != nil || id != "Ab-_0123456789abcdefgh" {
			t.Fatal(id, err)
		}
		if id, _ := c.GetOrCreateClusterID("other"); id != "Ab-_0123456789abcdefgh" {
			t.Fatalf("cluster id replaced: %s", id)
		}
		golden("/cluster/id", `{"version":"1","id":"Ab-_0123456789abcdefgh"}`)

		epoch, err := c.RegisterBroker(BrokerInfo{ID: 1, Timestamp: ts,
			Endpoints: []Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "host", Port: 9092}}})
		if err != nil {
			t.Fatal(err)
		}
		golden("/brokers/ids/1", `{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://host:9092"],"jmx_port":-1,"port":9092,"host":"host","version":5,"timestamp":"1700000000000"}`)
		_, stat, _ := raw.Get("/klassik/a/brokers/ids/1")
		if stat.Czxid != epoch || stat.EphemeralOwner != c.SessionID() {
			t.Errorf("broker epoch %d, czxid %d, owner %x, session %x", epoch, stat.Czxid, stat.EphemeralOwner, c.SessionID())
		}

		ce, err := c.TryElectController(1)
		if err != nil || ce.Epoch != 1 || ce.ZkVersion != 1 {
			t.Fatalf("election: %+v %v", ce, err)
		}
		if got := rawGet(t, raw, "/klassik/a/controller"); !regexp.MustCompile(`^\{"version":1,"brokerid":1,"timestamp":"\d{13}"\}$`).MatchString(got) {
			t.Errorf("/controller: %s", got)
		}
		golden("/controller_epoch", `1`)

		a := TopicAssignment{Topic: "t", TopicID: topicID, Partitions: map[int32][]int32{0: {1, 2, 3}, 1: {2, 3, 1}}}
		if err := c.CreateTopic(a, map[string]string{"retention.ms": "1000"}); err != nil {
			t.Fatal(err)
		}
		golden("/brokers/topics/t", `{"partitions":{"0":[1,2,3],"1":[2,3,1]},"topic_id":"AAECAwQFBgcICQoLDA0ODw","adding_replicas":{},"removing_replicas":{},"version":3}`)
		golden("/config/topics/t", `{"version":1,"config":{"retention.ms":"1000"}}`)
		if err := c.CreateTopic(a, nil); !errors.Is(err, ErrNodeExists) {
			t.Fatalf("second CreateTopic: %v", err)
		}
		if err := c.CreateTopic(TopicAssignment{Topic: "u", Partitions: map[int32][]int32{0: {1}}}, nil); err != nil {
			t.Fatal(err)
		}
		golden("/brokers/topics/u", `{"partitions":{"0":[1]},"adding_replicas":{},"removing_replicas":{},"version":3}`)
		golden("/config/topics/u", `{"version":1,"config":{}}`)

		got, err := c.TopicAssignment("t", false)
		if err != nil || got.TopicID != topicID || len(got.Partitions) != 2 || got.Partitions[1][0] != 2 || got.ZkVersion != 0 {
			t.Fatalf("TopicAssignment: %+v %v", got, err)
		}

		states := map[int32]PartitionState{
			0: {Leader: 1, LeaderEpoch: 0, ControllerEpoch: ce.Epoch, ISR: []int32{1, 2, 3}},
			1: {Leader: 2, LeaderEpoch: 0, ControllerEpoch: ce.Epoch, ISR: []int32{2, 3, 1}},
		}
		if err := c.CreatePartitionStates(ce, "t", states); err != nil {
			t.Fatal(err)
		}
		golden("/brokers/topics/t/partitions/0/state", `{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,3]}`)
		st, err := c.PartitionState("t", 1)
		if err != nil || st.Leader != 2 || st.ZkVersion != 0 {
			t.Fatalf("PartitionState: %+v %v", st, err)
		}
		st.ISR, st.LeaderEpoch = []int32{2}, 1
		v, err := c.UpdatePartitionState(ce, "t", 1, st)
		if err != nil || v != 1 {
			t.Fatalf("UpdatePartitionState: %d %v", v, err)
		}
		if _, err := c.UpdatePartitionState(ce, "t", 1, st); !errors.Is(err, ErrBadVersion) {
			t.Fatalf("stale zkVersion: %v", err)
		}
		st.ZkVersion, st.ISR = 1, []int32{2, 3}
		if v, err := c.UpdatePartitionStateAsLeader("t", 1, st); err != nil || v != 2 {
			t.Fatalf("UpdatePartitionStateAsLeader: %d %v", v, err)
		}
		golden("/brokers/topics/t/partitions/1/state", `{"controller_epoch":1,"leader":2,"version":1,"leader_epoch":1,"isr":[2,3]}`)

		if err := c.SetTopicConfig("t", map[string]string{"retention.ms": "5"}); err != nil {
			t.Fatal(err)
		}
		golden("/config/topics/t", `{"version":1,"config":{"retention.ms":"5"}}`)
		golden("/config/changes/config_change_0000000000", `{"version":2,"entity_path":"topics/t"}`)
		if cfg, err := c.TopicConfig("t"); err != nil || cfg["retention.ms"] != "5" {
			t.Fatalf("TopicConfig: %v %v", cfg, err)
		}
		if cfg, err := c.TopicConfig("nope"); err != nil || len(cfg) != 0 {
			t.Fatalf("TopicConfig of a missing topic: %v %v", cfg, err)
		}
		ents, newest, err := c.ConfigChanges(-1, false)
		if err != nil || newest != 0 || len(ents) != 1 || ents[0] != "topics/t" {
			t.Fatalf("ConfigChanges: %v %d %v", ents, newest, err)
		}
		if ents, newest, _ := c.ConfigChanges(0, false); len(ents) != 0 || newest != 0 {
			t.Fatalf("ConfigChanges after 0: %v %d", ents, newest)
		}

		if err := c.CreateIsrChangeNotification([]TopicPartition{{"t", 0}}); err != nil {
			t.Fatal(err)
		}
		golden("/isr_change_notification/isr_change_0000000000", `{"version":1,"partitions":[{"topic":"t","partition":0}]}`)
		if tps, err := c.IsrChangeNotifications(false); err != nil || len(tps) != 1 || tps[0] != (TopicPartition{"t", 0}) {
			t.Fatalf("IsrChangeNotifications: %v %v", tps, err)
		}
		if kids, _, _ := raw.Children("/klassik/a/isr_change_notification"); len(kids) != 0 {
			t.Fatalf("notifications not deleted: %v", kids)
		}

		if err := c.CreateLogDirEventNotification(2); err != nil {
			t.Fatal(err)
		}
		golden("/log_dir_event_notification/log_dir_event_0000000000", `{"version":1,"broker":2,"event":1}`)
		evs, err := c.LogDirEventNotifications(false)
		if err != nil || len(evs) != 1 || evs[0] != (LogDirEvent{"log_dir_event_0000000000", 2}) {
			t.Fatalf("LogDirEventNotifications: %v %v", evs, err)
		}
		if err := c.DeleteLogDirEventNotifications([]string{evs[0].Name}); err != nil {
			t.Fatal(err)
		}
		if kids, _, _ := raw.Children("/klassik/a/log_dir_event_notification"); len(kids) != 0 {
			t.Fatalf("log dir event notifications not deleted: %v", kids)
		}

		first, last, err := c.AllocateProducerIDBlock(1, 1000)
		if err != nil || first != 0 || last != 999 {
			t.Fatalf("first block: %d..%d %v", first, last, err)
		}
		golden("/latest_producer_id_block", `{"version":1,"broker":1,"block_start":"0","block_end":"999"}`)
		if first, last, _ = c.AllocateProducerIDBlock(2, 1000); first != 1000 || last != 1999 {
			t.Fatalf("second block: %d..%d", first, last)
		}
		golden("/latest_producer_id_block", `{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}`)

		if err := c.CreatePreferredReplicaElection([]TopicPartition{{"t", 1}}); err != nil {
			t.Fatal(err)
		}
		golden("/admin/preferred_replica_election", `{"version":1,"partitions":[{"topic":"t","partition":1}]}`)
		if tps, err := c.PreferredReplicaElection(false); err != nil || len(tps) != 1 {
			t.Fatalf("PreferredReplicaElection: %v %v", tps, err)
		}
		if err := c.DeletePreferredReplicaElection(ce); err != nil {
			t.Fatal(err)
		}

		if n, err := c.GenerateBrokerSequenceID(); err != nil || n != 1 {
			t.Fatalf("GenerateBrokerSequenceID: %d %v", n, err)
		}

		if err := c.MarkTopicForDeletion("t"); err != nil {
			t.Fatal(err)
		}
		if err := c.MarkTopicForDeletion("t"); !errors.Is(err, ErrNodeExists) {
			t.Fatalf("second mark: %v", err)
		}
		golden("/admin/delete_topics/t", ``)
		if ds, _ := c.TopicDeletions(false); len(ds) != 1 || ds[0] != "t" {
			t.Fatalf("TopicDeletions: %v", ds)
		}
		if err := c.DeleteTopic(ce, "t"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/brokers/topics/t", "/config/topics/t", "/admin/delete_topics/t"} {
			if ok, _, _ := raw.Exists("/klassik/a" + p); ok {
				t.Errorf("%s survived DeleteTopic", p)
			}
		}
		if ts, _ := c.Topics(false); len(ts) != 1 || ts[0] != "u" {
			t.Fatalf("Topics: %v", ts)
		}
		if err := c.DeleteTopic(ce, "t"); err != nil { // already gone: nothing to do
			t.Fatal(err)
		}
		if _, err := c.TopicAssignment("../x", false); err == nil {
			t.Fatal("a topic name with a slash must be refused")
		}
		if err := c.ResignController(1); err != nil {
			t.Fatal(err)
		}
		if id, _ := c.Controller(false); id != -1 {
			t.Fatalf("controller after resign: %d", id)
		}
	})

	t.Run("client quota entity configs, nested users/<u>/clients/<c>", func(t *testing.T) {
		c := dial(t, server+"/klassik/q", 6*time.Second)
		if err := c.EnsurePersistentPaths(); err != nil {
			t.Fatal(err)
		}
		golden := func(p, want string) {
			t.Helper()
			if got := rawGet(t, raw, "/klassik/q"+p); got != want {
				t.Errorf("%s:\n got %s\nwant %s", p, got, want)
			}
		}
		if err := c.SetEntityConfig("clients", "slow", map[string]string{"producer_byte_rate": "204800"}); err != nil {
			t.Fatal(err)
		}
		golden("/config/clients/slow", `{"version":1,"config":{"producer_byte_rate":"204800"}}`)
		if err := c.SetEntityConfig("users", "alice/clients/<default>", map[string]string{"request_percentage": "50.0"}); err != nil {
			t.Fatal(err)
		}
		golden("/config/users/alice/clients/<default>", `{"version":1,"config":{"request_percentage":"50.0"}}`)
		golden("/config/changes/config_change_0000000001", `{"version":2,"entity_path":"users/alice/clients/<default>"}`)
		// The parent was made without data; it reads as an empty config.
		if cfg, err := c.EntityConfig("users", "alice"); err != nil || len(cfg) != 0 {
			t.Fatalf("parent user config: %v %v", cfg, err)
		}
		if cfg, err := c.EntityConfig("users", "alice/clients/<default>"); err != nil || cfg["request_percentage"] != "50.0" {
			t.Fatalf("nested config: %v %v", cfg, err)
		}
		if err := c.SetEntityConfig("clients", "slow", map[string]string{}); err != nil {
			t.Fatal(err)
		}
		golden("/config/clients/slow", `{"version":1,"config":{}}`)
		if names, err := c.EntityNames("users"); err != nil || len(names) != 1 || names[0] != "alice" {
			t.Fatalf("EntityNames(users): %v %v", names, err)
		}
		if names, err := c.EntityNames("users/alice/clients"); err != nil || len(names) != 1 || names[0] != "<default>" {
			t.Fatalf("EntityNames(users/alice/clients): %v %v", names, err)
		}
		if names, err := c.EntityNames("users/bob/clients"); err != nil || names != nil {
			t.Fatalf("EntityNames of a user without client quotas: %v %v", names, err)
		}
		for _, bad := range []struct{ typ, name string }{
			{"users", "alice/topics/x"}, {"users", "alice/clients/"}, {"users", "a/clients/b/c"},
			{"clients", "a/clients/b"}, {"users", "../clients/x"},
		} {
			if err := c.SetEntityConfig(bad.typ, bad.name, nil); err == nil {
				t.Errorf("SetEntityConfig(%s, %s) accepted", bad.typ, bad.name)
			}
		}
		if _, err := c.EntityNames("topics/x/clients"); err == nil {
			t.Error("EntityNames(topics/x/clients) accepted")
		}
	})

	t.Run("broker registration and a taken id", func(t *testing.T) {
		connect := server + "/klassik/b"
		c1, c2 := dial(t, connect, 6*time.Second), dial(t, connect, 6*time.Second)
		info := BrokerInfo{ID: 7, Host: "127.0.0.1", Port: 9092, Rack: "r1"}
		e1, err := c1.RegisterBroker(info)
		if err != nil || e1 <= 0 {
			t.Fatal(e1, err)
		}
		if again, err := c1.RegisterBroker(info); err != nil || again != e1 {
			t.Fatalf("re-registration by the owning session: %d %v", again, err)
		}
		_, err = c2.RegisterBroker(info)
		if !errors.Is(err, ErrBrokerIDTaken) || !errors.Is(err, ErrNodeExists) || !strings.Contains(err.Error(), "broker id 7") {
			t.Fatalf("taken id: %v", err)
		}
		bs, err := c2.Brokers(false)
		if err != nil || len(bs) != 1 || bs[7].Epoch != e1 || bs[7].Rack != "r1" || bs[7].Endpoints[0].ConnectionString() != "PLAINTEXT://127.0.0.1:9092" {
			t.Fatalf("Brokers: %+v %v", bs, err)
		}
		c1.Close()
		e2, err := c2.RegisterBroker(info) // Close ended the session: the ephemeral is gone
		if err != nil || e2 <= e1 {
			t.Fatalf("register after the owner closed: %d %v", e2, err)
		}
	})

	t.Run("controller election and fencing", func(t *testing.T) {
		connect := server + "/klassik/c"
		c1, c2 := dial(t, connect, 6*time.Second), dial(t, connect, 6*time.Second)
		var wg sync.WaitGroup
		ces, errs := make([]ControllerEpoch, 2), make([]error, 2)
		for i, c := range []*Client{c1, c2} {
			wg.Add(1)
			go func() { defer wg.Done(); ces[i], errs[i] = c.TryElectController(int32(i + 1)) }()
		}
		wg.Wait()
		win := 0
		if errs[0] != nil {
			win = 1
		}
		lose := 1 - win
		if errs[win] != nil || !errors.Is(errs[lose], ErrNodeExists) || ces[win].Epoch != 1 {
			t.Fatalf("election: %+v %v", ces, errs)
		}
		winner, loser := []*Client{c1, c2}[win], []*Client{c1, c2}[lose]
		if id, _ := loser.Controller(false); id != int32(win+1) {
			t.Fatalf("controller is %d, want %d", id, win+1)
		}
		old := ces[win]
		if err := winner.CreateTopic(TopicAssignment{Topic: "f", Partitions: map[int32][]int32{0: {1}}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := winner.CreatePartitionStates(old, "f", map[int32]PartitionState{0: {Leader: 1, ControllerEpoch: 1, ISR: []int32{1}}}); err != nil {
			t.Fatal(err)
		}
		// The winner goes away; the other broker takes over with epoch 2.
		winner.Close()
		eventually(t, "the new controller", func() bool {
			ce, err := loser.TryElectController(int32(lose + 1))
			if err == nil {
				if ce.Epoch != 2 {
					t.Fatalf("second controller epoch %d", ce.Epoch)
				}
				return true
			}
			return false
		})
		// A zombie controller (a client still holding the old epoch) is fenced.
		zombie := dial(t, connect, 6*time.Second)
		st, err := zombie.PartitionState("f", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zombie.UpdatePartitionState(old, "f", 0, st); !errors.Is(err, ErrNotController) {
			t.Fatalf("fenced update: %v", err)
		}
		if err := zombie.CreatePartitionStates(old, "f", map[int32]PartitionState{1: {Leader: 1, ISR: []int32{1}}}); !errors.Is(err, ErrNotController) {
			t.Fatalf("fenced create: %v", err)
		}
		if err := zombie.DeleteTopic(old, "f"); !errors.Is(err, ErrNotController) {
			t.Fatalf("fenced delete: %v", err)
		}
		if ok, _, _ := raw.Exists("/klassik/c/brokers/topics/f/partitions/1"); ok {
			t.Fatal("a fenced write left a trace")
		}
	})

	t.Run("producer id blocks never overlap", func(t *testing.T) {
		connect := server + "/klassik/d"
		clients := []*Client{dial(t, connect, 6*time.Second), dial(t, connect, 6*time.Second)}
		if err := clients[0].EnsurePersistentPaths(); err != nil {
			t.Fatal(err)
		}
		type block struct{ first, last int64 }
		var mu sync.Mutex
		var blocks []block
		var wg sync.WaitGroup
		for i, c := range clients {
			for g := 0; g < 3; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; n < 8; n++ {
						f, l, err := c.AllocateProducerIDBlock(int32(i), 100)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						blocks = append(blocks, block{f, l})
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		sort.Slice(blocks, func(i, j int) bool { return blocks[i].first < blocks[j].first })
		if len(blocks) != 48 {
			t.Fatalf("%d blocks", len(blocks))
		}
		for i, b := range blocks {
			if b.first != int64(i)*100 || b.last != b.first+99 {
				t.Fatalf("block %d is %d..%d: overlap or gap", i, b.first, b.last)
			}
		}
	})

	t.Run("watches become typed events", func(t *testing.T) {
		connect := server + "/klassik/e"
		w, o := dial(t, connect, 6*time.Second), dial(t, connect, 6*time.Second)
		waitEvent(t, w, EventSessionEstablished, "")
		if err := w.EnsurePersistentPaths(); err != nil {
			t.Fatal(err)
		}
		check := func(name string, arm func() error, act func() error, typ EventType, topic string) {
			t.Helper()
			if err := arm(); err != nil {
				t.Fatalf("%s: arm: %v", name, err)
			}
			if err := act(); err != nil {
				t.Fatalf("%s: act: %v", name, err)
			}
			waitEvent(t, w, typ, topic)
		}
		check("brokers", func() error { _, err := w.Brokers(true); return err },
			func() error { _, err := o.RegisterBroker(BrokerInfo{ID: 1, Host: "h", Port: 1}); return err }, EventBrokersChanged, "")
		var ce ControllerEpoch
		check("controller", func() error { _, err := w.Controller(true); return err },
			func() (err error) { ce, err = o.TryElectController(1); return err }, EventControllerChanged, "")
		check("topics", func() error { _, err := w.Topics(true); return err },
			func() error {
				return o.CreateTopic(TopicAssignment{Topic: "w", TopicID: topicID, Partitions: map[int32][]int32{0: {1}}}, nil)
			}, EventTopicsChanged, "")
		check("partitions", func() error { _, err := w.TopicAssignment("w", true); return err },
			func() error {
				a, err := o.TopicAssignment("w", false)
				if err != nil {
					return err
				}
				a.Partitions[1] = []int32{1}
				return o.SetTopicAssignment(a)
			}, EventPartitionsChanged, "w")
		check("deletions", func() error { _, err := w.TopicDeletions(true); return err },
			func() error { return o.MarkTopicForDeletion("w") }, EventTopicDeletionsChanged, "")
		check("isr", func() error { _, err := w.IsrChangeNotifications(true); return err },
			func() error { return o.CreateIsrChangeNotification([]TopicPartition{{"w", 0}}) }, EventIsrChangeNotification, "")
		check("log dir event", func() error { _, err := w.LogDirEventNotifications(true); return err },
			func() error { return o.CreateLogDirEventNotification(1) }, EventLogDirEventNotification, "")
		check("config", func() error { _, _, err := w.ConfigChanges(-1, true); return err },
			func() error { return o.SetTopicConfig("w", map[string]string{"a": "b"}) }, EventConfigChanged, "")
		check("preferred", func() error { _, err := w.PreferredReplicaElection(true); return err },
			func() error { return o.CreatePreferredReplicaElection([]TopicPartition{{"w", 0}}) }, EventPreferredReplicaElection, "")
		check("controller gone", func() error { _, err := w.Controller(true); return err },
			func() error { return o.ResignController(1) }, EventControllerChanged, "")
		_ = ce
		// Many events, nobody reading for a while: none is lost, go-zookeeper never blocks.
		for i := 0; i < 50; i++ {
			if _, err := w.Topics(true); err != nil {
				t.Fatal(err)
			}
			if err := o.CreateTopic(TopicAssignment{Topic: fmt.Sprintf("x%d", i), Partitions: map[int32][]int32{0: {1}}}, nil); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the topic watch to fire", func() bool {
				w.mu.Lock()
				defer w.mu.Unlock()
				n := 0
				for _, ev := range w.queue {
					if ev.Type == EventTopicsChanged {
						n++
					}
				}
				return n == i // the pump holds the first one, blocked on the channel

			})
		}
		for i := 0; i < 50; i++ {
			waitEvent(t, w, EventTopicsChanged, "")
		}
	})

	t.Run("session expiry, then a new session and re-registration", func(t *testing.T) {
		proxy := zktest.NewProxy(t, server)
		connect := proxy.Addr + "/klassik/f"
		c := dial(t, connect, time.Second)
		waitEvent(t, c, EventSessionEstablished, "")
		info := BrokerInfo{ID: 5, Host: "h", Port: 1}
		e1, err := c.RegisterBroker(info)
		if err != nil {
			t.Fatal(err)
		}
		old := c.SessionID()
		proxy.Block()
		eventually(t, "the server to expire the session", func() bool {
			ok, _, err := raw.Exists("/klassik/f/brokers/ids/5")
			return err == nil && !ok
		})
		proxy.Unblock()
		waitEvent(t, c, EventSessionExpired, "")
		waitEvent(t, c, EventSessionEstablished, "")
		if c.SessionID() == old || c.SessionID() == 0 {
			t.Fatalf("session %x after expiry of %x", c.SessionID(), old)
		}
		e2, err := c.RegisterBroker(info)
		if err != nil || e2 <= e1 {
			t.Fatalf("re-registration: %d %v", e2, err)
		}
		if _, stat, err := raw.Get("/klassik/f/brokers/ids/5"); err != nil || stat.EphemeralOwner != c.SessionID() {
			t.Fatalf("owner after re-registration: %v", err)
		}
	})

	t.Run("a disconnect that keeps the session", func(t *testing.T) {
		proxy := zktest.NewProxy(t, server)
		c := dial(t, proxy.Addr+"/klassik/g", 10*time.Second)
		waitEvent(t, c, EventSessionEstablished, "")
		sid := c.SessionID()
		proxy.Block()
		waitEvent(t, c, EventDisconnected, "")
		proxy.Unblock()
		waitEvent(t, c, EventSessionEstablished, "")
		if c.SessionID() != sid {
			t.Fatalf("session changed from %x to %x", sid, c.SessionID())
		}
		if err := c.EnsurePersistentPaths(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Close closes Events", func(t *testing.T) {
		c := dial(t, server+"/klassik/h", 6*time.Second)
		c.Close()
		for range c.Events() {
		}
		c.Close() // idempotent
	})
}

func TestConnectFailureNamesTheEnsemble(t *testing.T) {
	port := zktest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	start := time.Now()
	_, err := Connect(addr+"/x", 2*time.Second, time.Second, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Connect to nothing: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Connect took %v", time.Since(start))
	}
}
