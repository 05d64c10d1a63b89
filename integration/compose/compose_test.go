// Package compose is the smoke test of the docker compose setup (docker-compose.yml,
// scripts/compose-up.sh, docker/): it starts the cluster the way the README says, from
// nothing, under a Compose project of its own, and checks that a client on the host can use
// it, including through the loss of one broker, and that the classroom (the ui service)
// shows what ZooKeeper says and runs a scenario that kills a broker.
//
// It needs Docker and Compose (v2 or docker-compose 1.29) and is skipped unless
// KLASSIK_COMPOSE=1, so that `go test ./...` never starts containers by accident:
//
//	KLASSIK_COMPOSE=1 go test -v -count=1 -timeout 20m ./integration/compose/
//
// The first run on a machine without registry access also builds the zookeeper:3.8
// stand-in image (about two minutes). The host ports are the documented 2181 and 9092-9094
// when they are free, otherwise free ports picked here; all traffic goes to 127.0.0.1.
package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	topic      = "compose-smoke"
	partitions = 3
	perRound   = 100
)

func TestComposeSmoke(t *testing.T) {
	if os.Getenv("KLASSIK_COMPOSE") != "1" {
		t.Skip("set KLASSIK_COMPOSE=1 to run the docker compose smoke test")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("KLASSIK_COMPOSE=1 but docker is not installed")
	}
	root := repoRoot(t)
	env := composeEnv(t)
	ports := []string{env["KLASSIK_KAFKA1_PORT"], env["KLASSIK_KAFKA2_PORT"], env["KLASSIK_KAFKA3_PORT"]}
	t.Logf("compose project %s, zookeeper 127.0.0.1:%s, brokers 127.0.0.1:%s, classroom 127.0.0.1:%s", env["COMPOSE_PROJECT_NAME"], env["KLASSIK_ZK_PORT"], strings.Join(ports, ","), env["KLASSIK_UI_PORT"])

	// Registered before up, so it runs however far up got.
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := run(root, env, 2*time.Minute, "bash", "-c", `. scripts/compose-lib.sh && compose_cmd && compose ps && compose logs --no-color --tail=40`)
			t.Logf("state and logs before teardown:\n%s", out)
		}
		out, err := run(root, env, 3*time.Minute, "scripts/compose-down.sh", "-v")
		if err != nil {
			t.Errorf("scripts/compose-down.sh -v: %v\n%s", err, out)
		}
	})

	// 1. The README's run command, from nothing.
	start := time.Now()
	out, err := run(root, env, 15*time.Minute, "scripts/compose-up.sh")
	upTook := time.Since(start)
	t.Logf("scripts/compose-up.sh (%s):\n%s", upTook.Round(time.Second), out)
	if err != nil {
		t.Fatalf("scripts/compose-up.sh: %v", err)
	}
	wantURL := "Classroom: http://127.0.0.1:" + env["KLASSIK_UI_PORT"] + "/"
	if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != wantURL {
		t.Errorf("compose-up.sh's last line is %q, want %q", lines[len(lines)-1], wantURL)
	}

	seeds := make([]string, len(ports))
	for i, p := range ports {
		seeds[i] = "127.0.0.1:" + p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	admCl := newClient(t, seeds)
	adm := kadm.NewClient(admCl)

	// 2. Three brokers in Metadata, advertised on the host ports.
	md := waitFor(t, ctx, 90*time.Second, "three brokers in Metadata", func(ctx context.Context) (kadm.Metadata, error) {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return md, err
		}
		if len(md.Brokers) != 3 {
			return md, fmt.Errorf("brokers %v", md.Brokers.NodeIDs())
		}
		return md, nil
	})
	usable := time.Since(start)
	for _, b := range md.Brokers {
		t.Logf("broker %d at %s:%d", b.NodeID, b.Host, b.Port)
	}

	// 3. A topic with replication factor 3 (min.insync.replicas=2 from the cluster default).
	if _, err := adm.CreateTopic(ctx, partitions, 3, nil, topic); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating %s: %v", topic, err)
	}
	waitFor(t, ctx, 60*time.Second, "every partition led, with three in-sync replicas", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, topicState(ctx, adm, func(p kadm.PartitionDetail) error {
			if p.Leader < 0 || len(p.ISR) != 3 {
				return fmt.Errorf("partition %d: leader %d, isr %v", p.Partition, p.Leader, p.ISR)
			}
			return nil
		})
	})

	// 4. Produce (acks=all) and consume through the host ports.
	prod := newClient(t, seeds, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
		kgo.RecordDeliveryTimeout(90*time.Second), kgo.DefaultProduceTopic(topic))
	produce(t, ctx, prod, "a", perRound)
	consume(t, ctx, seeds, map[string]bool{"a": true}, perRound)
	t.Logf("produced and consumed %d records with all three brokers up", perRound)

	// 4b. The classroom agrees with ZooKeeper; a scenario from the host kills a leader and the
	// restart policy brings it back; a scenario from the page's button runs inside the network.
	classroomStart := time.Now()
	checkClassroom(t, ctx, env, perRound)
	killLeaderScenario(t, ctx, root, env, seeds)
	uiScenario(t, ctx, env, "preferred-leader-election", 1)
	classroomTook := time.Since(classroomStart)

	// 4c. The README's "Growing the cluster", as written: a fourth broker, and
	// quickstart-events reassigned over brokers 1 to 4. Broker 4 is stopped again after.
	growStart := time.Now()
	growCluster(t, ctx, root, env, adm)
	growTook := time.Since(growStart)

	// 5. Stop kafka2 (SIGTERM: controlled shutdown); acks=all keeps working with ISR 2 = min ISR.
	stopStart := time.Now()
	if out, err := run(root, env, 3*time.Minute, "bash", "-c", `. scripts/compose-lib.sh && compose_cmd && compose stop kafka2`); err != nil {
		t.Fatalf("compose stop kafka2: %v\n%s", err, out)
	}
	t.Logf("compose stop kafka2 took %s", time.Since(stopStart).Round(time.Millisecond))
	waitFor(t, ctx, 60*time.Second, "broker 2 gone from Metadata and no partition led by it", func(ctx context.Context) (struct{}, error) {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if ids := md.Brokers.NodeIDs(); len(ids) != 2 || slices.Contains(ids, 2) {
			return struct{}{}, fmt.Errorf("brokers %v", ids)
		}
		return struct{}{}, topicState(ctx, adm, func(p kadm.PartitionDetail) error {
			if p.Leader < 0 || p.Leader == 2 {
				return fmt.Errorf("partition %d: leader %d", p.Partition, p.Leader)
			}
			return nil
		})
	})
	failoverTook := time.Since(stopStart)
	produce(t, ctx, prod, "b", perRound)
	consume(t, ctx, seeds, map[string]bool{"a": true, "b": true}, 2*perRound)
	t.Logf("produced %d more records with acks=all and kafka2 stopped; consumed all %d", perRound, 2*perRound)

	// For the closing note: how long to a usable cluster, and how big the images are.
	images, _ := run(root, env, time.Minute, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}\t{{.Size}}", "klassik")
	zkImages, _ := run(root, env, time.Minute, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}\t{{.Size}}", "zookeeper")
	t.Logf("timings: compose-up.sh %s; run command to three brokers in Metadata %s; classroom checks and two scenarios %s; growing onto broker 4 %s; stop kafka2 to leaders moved %s",
		upTook.Round(100*time.Millisecond), usable.Round(100*time.Millisecond), classroomTook.Round(100*time.Millisecond),
		growTook.Round(100*time.Millisecond), failoverTook.Round(100*time.Millisecond))
	t.Logf("images:\n%s%s", images, zkImages)
}

// composeEnv is the environment for the scripts: a project name of this run's own and the
// host ports (the documented ones when all are free).
func composeEnv(t *testing.T) map[string]string {
	env := map[string]string{
		"COMPOSE_PROJECT_NAME": fmt.Sprintf("klassiksmoke%d%d", os.Getpid(), time.Now().Unix()%100000),
		"KLASSIK_WAIT_TIMEOUT": "300",
	}
	names := []string{"KLASSIK_ZK_PORT", "KLASSIK_KAFKA1_PORT", "KLASSIK_KAFKA2_PORT", "KLASSIK_KAFKA3_PORT",
		"KLASSIK_KAFKA1_HTTP_PORT", "KLASSIK_KAFKA2_HTTP_PORT", "KLASSIK_KAFKA3_HTTP_PORT", "KLASSIK_UI_PORT",
		"KLASSIK_KAFKA4_PORT", "KLASSIK_KAFKA4_HTTP_PORT"}
	defaults := []int{2181, 9092, 9093, 9094, 9404, 9405, 9406, 8080, 9095, 9407}
	free := true
	for _, p := range defaults {
		if !portFree(p) {
			free = false
		}
	}
	taken := map[int]bool{}
	for i, n := range names {
		p := defaults[i]
		for !free && (p == defaults[i] || taken[p]) {
			p = freePort(t)
		}
		taken[p] = true
		env[n] = strconv.Itoa(p)
	}
	if !free {
		t.Logf("one of 127.0.0.1:2181,9092-9095,9404-9407,8080 is taken: using free ports instead")
	}
	return env
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort picks a free port on 127.0.0.1 that is also not one of the documented ones nor in
// the range where the brokers' internal port lives.
func freePort(t *testing.T) int {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p != 29092 {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// run runs a command in dir with env added to this process's environment, bounded by limit,
// and returns its combined output.
func run(dir string, env map[string]string, limit time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = nil
	cmd.WaitDelay = 10 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (gave up after %s)", err, limit)
	}
	return buf.String(), err
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "docker-compose.yml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("docker-compose.yml not found above the test's directory")
		}
		dir = parent
	}
}

// loopbackDialer dials only 127.0.0.0/8: the brokers advertise localhost:<port>, which is
// resolved here to 127.0.0.1 rather than whatever the resolver prefers (::1 first, say).
func loopbackDialer(ctx context.Context, network, host string) (net.Conn, error) {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return nil, err
	}
	if h == "localhost" {
		h = "127.0.0.1"
	}
	ip := net.ParseIP(h)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return nil, fmt.Errorf("refusing to dial %s: this test talks to 127.0.0.0/8 only", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp4", net.JoinHostPort(h, port))
}

func newClient(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.Dialer(loopbackDialer),
		kgo.ClientID("klassik-compose-smoke"),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.MetadataMaxAge(5 * time.Second),
		kgo.RetryTimeout(30 * time.Second),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitFor polls check until it succeeds or limit passes.
func waitFor[T any](t *testing.T, ctx context.Context, limit time.Duration, what string, check func(context.Context) (T, error)) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := check(rctx)
		rcancel()
		if err == nil {
			return v
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting %s for %s: %v", limit, what, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// topicState checks every partition of the smoke topic.
func topicState(ctx context.Context, adm *kadm.Client, ok func(kadm.PartitionDetail) error) error {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return err
	}
	td, found := md.Topics[topic]
	if !found {
		return errors.New("topic not in metadata")
	}
	if td.Err != nil {
		return td.Err
	}
	if len(td.Partitions) != partitions {
		return fmt.Errorf("%d partitions", len(td.Partitions))
	}
	for _, p := range td.Partitions.Sorted() {
		if p.Err != nil {
			return fmt.Errorf("partition %d: %w", p.Partition, p.Err)
		}
		if err := ok(p); err != nil {
			return err
		}
	}
	return nil
}

// produce writes n records "<round>-<i>" and waits for every acknowledgement.
func produce(t *testing.T, ctx context.Context, cl *kgo.Client, round string, n int) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, "%s-%d", round, i)}
	}
	if err := cl.ProduceSync(pctx, rs...).FirstErr(); err != nil {
		t.Fatalf("producing round %s (acks=all): %v", round, err)
	}
}

// consume reads the smoke topic from the start, without a group, until it has seen want
// distinct values, all from the given rounds.
func consume(t *testing.T, ctx context.Context, seeds []string, rounds map[string]bool, want int) {
	t.Helper()
	cl := newClient(t, seeds, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < want {
		fs := cl.PollFetches(cctx)
		if cctx.Err() != nil {
			t.Fatalf("consuming: %d of %d records after 90s", len(seen), want)
		}
		fs.EachError(func(tp string, p int32, err error) {
			t.Logf("fetch %s/%d: %v", tp, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			round, _, _ := strings.Cut(v, "-")
			if !rounds[round] {
				t.Errorf("unexpected record %q at %s/%d@%d", v, r.Topic, r.Partition, r.Offset)
			}
			seen[v] = true
		})
	}
	if len(seen) != want {
		t.Fatalf("consumed %d distinct records, want %d", len(seen), want)
	}
}
