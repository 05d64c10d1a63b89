package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Partition reassignment (KIP-455) as Kafka does it in ZooKeeper mode, driven by
// `klassik reassign-partitions` the way a user grows a cluster with
// kafka-reassign-partitions.sh: the controller writes the full replica set with
// adding_replicas/removing_replicas in /brokers/topics/<t>, the new replicas catch up, a
// leader is elected among the targets, and the old replicas are deleted.

// createTopicAssigned creates topic with an explicit replica assignment (CreateTopics'
// assignments), so the test knows which broker holds nothing of it.
func createTopicAssigned(t *testing.T, c *Cluster, topic string, assignment [][]int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = topic
	rt.NumPartitions, rt.ReplicationFactor = -1, -1
	for p, rs := range assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(p), rs
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, c.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	c.WaitForTopic(t, topic, len(assignment))
	c.WaitForFullISR(t, 60*time.Second)
}

// pauseFetch stops broker id's replica fetcher for d (the pause-fetch fault), so a new
// replica cannot catch up while the test looks at the reassignment in flight; resumeFetch
// ends it. The brokers need ClassroomBrokers (the fault endpoints on metrics.listener, whose
// port the broker registers as jmx_port).
func faultPost(t *testing.T, c *Cluster, id int32, what string) {
	t.Helper()
	data, _ := c.ZKGet(t, fmt.Sprintf("/brokers/ids/%d", id))
	var reg struct {
		JMXPort int `json:"jmx_port"`
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.JMXPort <= 0 {
		t.Fatalf("broker %d registration %q: no metrics port (%v)", id, data, err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/klassik/faults/%s", reg.JMXPort, what), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s to broker %d: %s", what, id, resp.Status)
	}
}

func pauseFetch(t *testing.T, c *Cluster, id int32) {
	faultPost(t, c, id, "pause-fetch?duration_ms=120000")
}

func resumeFetch(t *testing.T, c *Cluster, id int32) { faultPost(t, c, id, "resume-fetch") }

// topicZnode is /brokers/topics/<t> as Kafka writes it.
type topicZnode struct {
	Partitions map[string][]int32 `json:"partitions"`
	Adding     map[string][]int32 `json:"adding_replicas"`
	Removing   map[string][]int32 `json:"removing_replicas"`
}

func readTopicZnode(t *testing.T, c *Cluster, topic string) topicZnode {
	t.Helper()
	data, _ := c.ZKGet(t, "/brokers/topics/"+topic)
	var z topicZnode
	if err := json.Unmarshal(data, &z); err != nil {
		t.Fatalf("topic znode %q: %v", data, err)
	}
	return z
}

// reassignTool runs `klassik reassign-partitions args...` and returns its stdout and stderr.
func reassignTool(t *testing.T, c *Cluster, args ...string) (string, string, int) {
	t.Helper()
	var seeds []string
	for _, b := range c.Brokers() {
		if b.Running() {
			seeds = append(seeds, b.Addr())
		}
	}
	cmd := exec.Command(klassikBin, append([]string{"reassign-partitions", "--bootstrap-server", strings.Join(seeds, ",")}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), exitCode(err)
}

func writePlan(t *testing.T, plan map[int32][]int32, topic string) (string, string) {
	t.Helper()
	parts := make([]int32, 0, len(plan))
	for p := range plan {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var items []string
	for _, p := range parts {
		rs, _ := json.Marshal(plan[p])
		items = append(items, fmt.Sprintf(`{"topic":%q,"partition":%d,"replicas":%s}`, topic, p, rs))
	}
	body := `{"version":1,"partitions":[` + strings.Join(items, ",") + `]}`
	f := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, body
}

func sameSet(a, b []int32) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// waitReassigned waits until the topic znode holds plan with nothing adding or removing and
// every state znode's ISR is the plan's replicas.
func waitReassigned(t *testing.T, c *Cluster, topic string, plan map[int32][]int32, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		z := readTopicZnode(t, c, topic)
		for p, want := range plan {
			key := fmt.Sprint(p)
			if !slices.Equal(z.Partitions[key], want) || len(z.Adding[key])+len(z.Removing[key]) > 0 {
				return fmt.Errorf("%s-%d: replicas %v adding %v removing %v, want %v", topic, p, z.Partitions[key], z.Adding[key], z.Removing[key], want)
			}
			st, err := c.ZKPartitionState(t, topic, p)
			if err != nil {
				return err
			}
			if !sameSet(st.ISR, want) || !slices.Contains(want, st.Leader) {
				return fmt.Errorf("%s-%d: leader %d ISR %v, want the ISR %v", topic, p, st.Leader, st.ISR, want)
			}
		}
		return nil
	})
}

// TestReassignOntoFourthBroker grows a topic onto broker 4 while an idempotent acks=all
// producer runs: the plan is in ZooKeeper while the new replicas catch up (broker 4's
// fetcher is paused meanwhile, so the test sees it), the new assignment after; nothing acknowledged is
// lost, and broker 4's logs hold the same bytes as the other replicas'.
func TestReassignOntoFourthBroker(t *testing.T) {
	c := NewCluster(t, Brokers(4), ClassroomBrokers())
	c.WaitForBrokers(4)
	const topic = "grow"
	createTopicAssigned(t, c, topic, [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	chk := StartChecker(t, c, topic, 3, CheckerOptions{MaxDuration: 2 * time.Minute})
	chk.WaitProgress(t, 300, 60*time.Second)

	plan := map[int32][]int32{0: {4, 2, 3}, 1: {2, 4, 1}, 2: {3, 1, 4}}
	file, _ := writePlan(t, plan, topic)
	pauseFetch(t, c, 4)
	start := time.Now()
	out, errOut, code := reassignTool(t, c, "--execute", "--reassignment-json-file", file)
	if code != 0 {
		t.Fatalf("--execute: exit %d\n%s%s", code, out, errOut)
	}
	wantOut := "Current partition replica assignment\n\n" +
		`{"version":1,"partitions":[{"topic":"grow","partition":0,"replicas":[1,2,3],"log_dirs":["any","any","any"]},` +
		`{"topic":"grow","partition":1,"replicas":[2,3,1],"log_dirs":["any","any","any"]},` +
		`{"topic":"grow","partition":2,"replicas":[3,1,2],"log_dirs":["any","any","any"]}]}` + "\n\n" +
		"Save this to use as the --reassignment-json-file option during rollback\n" +
		"Successfully started partition reassignments for grow-0,grow-1,grow-2\n"
	if out != wantOut {
		t.Fatalf("--execute printed:\n%s\nwant:\n%s", out, wantOut)
	}
	// While broker 4 does not fetch: RS = TRS + ORS with adding [4] and removing the replaced one.
	z := readTopicZnode(t, c, topic)
	if !slices.Equal(z.Partitions["0"], []int32{4, 2, 3, 1}) || !slices.Equal(z.Adding["0"], []int32{4}) || !slices.Equal(z.Removing["0"], []int32{1}) {
		t.Fatalf("topic znode while reassigning: %+v", z)
	}
	out, _, _ = reassignTool(t, c, "--verify", "--reassignment-json-file", file)
	if want := "Status of partition reassignment:\nReassignment of partition grow-0 is still in progress.\n" +
		"Reassignment of partition grow-1 is still in progress.\nReassignment of partition grow-2 is still in progress.\n\n"; out != want {
		t.Fatalf("--verify while running:\n%s", out)
	}
	out, _, _ = reassignTool(t, c, "--list")
	if !strings.Contains(out, "Current partition reassignments:\ngrow-0: replicas: 4,2,3,1. adding: 4. removing: 1.\n") {
		t.Fatalf("--list:\n%s", out)
	}
	resumeFetch(t, c, 4)
	resumed := time.Now()

	waitReassigned(t, c, topic, plan, 90*time.Second)
	t.Logf("reassignment of 3 partitions (%d records acknowledged so far) onto broker 4 completed %v after broker 4 resumed fetching (%v after --execute)",
		chk.Acked(), time.Since(resumed).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	out, _, _ = reassignTool(t, c, "--verify", "--reassignment-json-file", file)
	if want := "Status of partition reassignment:\nReassignment of partition grow-0 is completed.\n" +
		"Reassignment of partition grow-1 is completed.\nReassignment of partition grow-2 is completed.\n\n" +
		"Clearing broker-level throttles on brokers 1,2,3,4\nClearing topic-level throttles on topic grow\n"; out != want {
		t.Fatalf("--verify after:\n%s", out)
	}
	if _, err := os.Stat(c.Broker(4).LogDir()); err != nil {
		t.Fatal(err)
	}

	chk.WaitProgress(t, chk.Acked()+300, 60*time.Second)
	chk.Stop(t)
	res := chk.Verify(t)
	t.Logf("checker: %v", res)

	// Broker 4 holds what the others hold, byte for byte; the removed replica is deleted.
	eventually(t, 60*time.Second, func() error {
		for p, rs := range plan {
			dir := func(b int32) string { return filepath.Join(c.Broker(b).LogDir(), fmt.Sprintf("%s-%d", topic, p)) }
			mine, err := os.ReadFile(filepath.Join(dir(4), "00000000000000000000.log"))
			if err != nil {
				return err
			}
			other := rs[0]
			if other == 4 {
				other = rs[1]
			}
			theirs, err := os.ReadFile(filepath.Join(dir(other), "00000000000000000000.log"))
			if err != nil {
				return err
			}
			if len(mine) == 0 || string(mine) != string(theirs) {
				return fmt.Errorf("%s-%d: broker 4's log has %d bytes, broker %d's %d", topic, p, len(mine), other, len(theirs))
			}
			for b := int32(1); b <= 4; b++ {
				if !slices.Contains(rs, b) {
					if _, err := os.Stat(dir(b)); err == nil {
						return fmt.Errorf("%s-%d: removed replica on broker %d still has its log", topic, p, b)
					}
				}
			}
		}
		return nil
	})
}

// TestReassignAcrossControllerKill: the controller is killed (kill -9) while a reassignment
// waits for its new replica; the next controller reads adding/removing from the topic znode
// (Kafka's initializePartitionReassignments) and completes it.
func TestReassignAcrossControllerKill(t *testing.T) {
	c := NewCluster(t, Brokers(4), ClassroomBrokers())
	c.WaitForBrokers(4)
	ctl := c.WaitForController(t)
	// The new broker is one that is not the controller; the target leaves the controller out,
	// so that the reassignment can complete while it is dead.
	var others []int32
	for b := int32(1); b <= 4; b++ {
		if b != ctl {
			others = append(others, b)
		}
	}
	newBroker := others[len(others)-1]
	var orig []int32
	for b := int32(1); b <= 4; b++ {
		if b != newBroker {
			orig = append(orig, b)
		}
	}
	const topic = "failover-move"
	createTopicAssigned(t, c, topic, [][]int32{orig, orig})
	plan := map[int32][]int32{0: others, 1: others}
	file, _ := writePlan(t, plan, topic)

	pauseFetch(t, c, newBroker)
	if out, errOut, code := reassignTool(t, c, "--execute", "--reassignment-json-file", file); code != 0 {
		t.Fatalf("--execute: exit %d\n%s%s", code, out, errOut)
	}
	if z := readTopicZnode(t, c, topic); !slices.Equal(z.Adding["0"], []int32{newBroker}) || !slices.Equal(z.Removing["0"], []int32{ctl}) {
		t.Fatalf("topic znode while reassigning: %+v", z)
	}
	killed := time.Now()
	c.KillBroker(ctl)
	resumeFetch(t, c, newBroker)
	waitReassigned(t, c, topic, plan, 120*time.Second)
	t.Logf("reassignment completed %v after the controller (broker %d) was killed; new controller %d",
		time.Since(killed).Round(time.Millisecond), ctl, c.WaitForController(t))
}

// TestReassignCancel: --cancel reverts a running reassignment to its original replicas
// (ORS = RS - adding) and deletes what the new replica had; the legacy
// /admin/reassign_partitions znode starts a reassignment and is deleted once it is done.
func TestReassignCancel(t *testing.T) {
	c := NewCluster(t, Brokers(4), ClassroomBrokers())
	c.WaitForBrokers(4)
	const topic = "cancel-me"
	createTopicAssigned(t, c, topic, [][]int32{{1, 2, 3}})
	plan := map[int32][]int32{0: {4, 2, 3}}
	file, _ := writePlan(t, plan, topic)

	pauseFetch(t, c, 4)
	if out, errOut, code := reassignTool(t, c, "--execute", "--reassignment-json-file", file); code != 0 {
		t.Fatalf("--execute: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := reassignTool(t, c, "--execute", "--reassignment-json-file", file)
	if code != 1 || !strings.Contains(errOut, "Cannot execute because there is an existing partition assignment.") {
		t.Fatalf("second --execute: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = reassignTool(t, c, "--cancel", "--reassignment-json-file", file)
	if code != 0 || out != "Successfully cancelled partition reassignment for: cancel-me-0\nNone of the specified partition moves are active.\n" {
		t.Fatalf("--cancel: exit %d\n%s%s", code, out, errOut)
	}
	z := readTopicZnode(t, c, topic)
	if !sameSet(z.Partitions["0"], []int32{1, 2, 3}) || len(z.Adding["0"])+len(z.Removing["0"]) > 0 {
		t.Fatalf("topic znode after cancel: %+v", z)
	}
	out, _, _ = reassignTool(t, c, "--verify", "--reassignment-json-file", file)
	if want := fmt.Sprintf("Status of partition reassignment:\nThere is no active reassignment of partition cancel-me-0, but replica set is %s rather than 4,2,3.\n\n"+
		"Clearing broker-level throttles on brokers 1,2,3,4\nClearing topic-level throttles on topic cancel-me\n",
		joinInts(z.Partitions["0"])); out != want {
		t.Fatalf("--verify after cancel:\n%s\nwant:\n%s", out, want)
	}
	if out, _, _ = reassignTool(t, c, "--cancel", "--reassignment-json-file", file); out != "None of the specified partition reassignments are active.\nNone of the specified partition moves are active.\n" {
		t.Fatalf("second --cancel:\n%s", out)
	}
	if out, _, _ = reassignTool(t, c, "--list"); out != "No partition reassignments found.\n" {
		t.Fatalf("--list:\n%s", out)
	}
	resumeFetch(t, c, 4)
	// Broker 4 got a StopReplica(delete=true) for what it had.
	dir := filepath.Join(c.Broker(4).LogDir(), topic+"-0")
	eventually(t, 60*time.Second, func() error {
		if _, err := os.Stat(dir); err == nil {
			return fmt.Errorf("%s still exists after the cancel", dir)
		}
		return nil
	})

	// The legacy path: what kafka-reassign-partitions.sh --zookeeper wrote.
	legacy := fmt.Sprintf(`{"version":1,"partitions":[{"topic":%q,"partition":0,"replicas":[2,3,4]}]}`, topic)
	if _, err := c.ZK().Create(c.Path("/admin/reassign_partitions"), []byte(legacy), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	waitReassigned(t, c, topic, map[int32][]int32{0: {2, 3, 4}}, 60*time.Second)
	eventually(t, 30*time.Second, func() error {
		if c.ZKExists(t, "/admin/reassign_partitions") {
			return fmt.Errorf("/admin/reassign_partitions is still there")
		}
		return nil
	})
}

func joinInts(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
