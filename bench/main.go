// Command bench measures produce and consume throughput of a franz-go client against klassik
// (with a real ZooKeeper) and against kfake, franz-go's in-process fake Kafka, in the same
// run, and prints records/s and MB/s for each and klassik's ratio to kfake.
//
// -brokers 1 (the default) runs one klassik broker and one kfake broker, replication factor
// 1. -brokers 3 runs three klassik brokers with the topic at replication factor 3 and
// min.insync.replicas 2, so every acks=all write waits for the followers to fetch it, next to
// a three-broker kfake (kfake.NumBrokers(3); kfake simulates replication).
//
// It is its own module so that kfake never becomes a dependency of klassik.
//
//	cd bench && go run . [-records 1000000] [-size 100] [-partitions 3] [-brokers 1|3] [-transactional N] [-klassik ../bin/klassik]
//
// -transactional N makes the producer transactional (a transactional.id, a commit every N
// records: Kafka's exactly-once write path, with AddPartitionsToTxn, EndTxn and the markers)
// and the consumer read_committed.
//
// Both targets get the same client settings: franz-go's defaults (idempotent producer,
// acks=all) without compression, so the bytes measured are the records' own. Every phase has
// a deadline (-phase-timeout); the program exits non-zero if one is missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	records      = flag.Int("records", 1_000_000, "records to produce and consume")
	size         = flag.Int("size", 100, "value size in bytes")
	partitions   = flag.Int("partitions", 3, "partitions of the benchmark topic")
	klassikPath  = flag.String("klassik", "", "klassik binary (default: go build ../cmd/klassik)")
	phaseTimeout = flag.Duration("phase-timeout", 5*time.Minute, "deadline of each produce or consume phase")
	keep         = flag.Bool("keep", false, "keep the temporary directory (broker and ZooKeeper logs)")
	brokers      = flag.Int("brokers", 1, "klassik and kfake brokers: 1 (replication factor 1) or 3 (replication factor 3, min.insync.replicas 2)")
	txnEvery     = flag.Int("transactional", 0, "produce transactionally, committing every N records, and consume read_committed (0: idempotent, no transactions)")
)

type result struct {
	target, phase string
	records       int
	bytes         int64
	took          time.Duration
}

func (r result) recsPerSec() float64 { return float64(r.records) / r.took.Seconds() }
func (r result) mbPerSec() float64   { return float64(r.bytes) / r.took.Seconds() / 1e6 }

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "klassik-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			_ = p.Wait()
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		for _, p := range procs {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
		os.Exit(1)
	}()

	bin := *klassikPath
	if bin == "" {
		bin = filepath.Join(dir, "klassik")
		fmt.Fprintln(os.Stderr, "bench: building klassik")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/klassik")
		cmd.Dir = ".."
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building klassik (run from bench/, or pass -klassik): %w", err)
		}
	}

	// ZooKeeper (Debian's package), standalone.
	zkPort, err := freePort()
	if err != nil {
		return err
	}
	zkDir := filepath.Join(dir, "zookeeper")
	if err := os.MkdirAll(filepath.Join(zkDir, "data"), 0o755); err != nil {
		return err
	}
	zkCfg := fmt.Sprintf("tickTime=500\ninitLimit=20\nsyncLimit=10\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
		filepath.Join(zkDir, "data"), zkPort)
	if err := os.WriteFile(filepath.Join(zkDir, "zoo.cfg"), []byte(zkCfg), 0o644); err != nil {
		return err
	}
	zk, err := start(filepath.Join(zkDir, "zookeeper.log"), "java", "-Xmx256m", "-XX:+UseSerialGC",
		"-Dzookeeper.jmx.log4j.disable=true",
		"-cp", "/etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(zkDir, "zoo.cfg"))
	if err != nil {
		return err
	}
	procs = append(procs, zk)
	zkAddr := fmt.Sprintf("127.0.0.1:%d", zkPort)
	if err := poll(90*time.Second, func() error {
		out, err := fourLetter(zkAddr, "srvr")
		if err == nil && !strings.Contains(out, "Mode: ") {
			err = errors.New("not serving")
		}
		return err
	}); err != nil {
		return fmt.Errorf("zookeeper: %w", err)
	}

	if *brokers != 1 && *brokers != 3 {
		return fmt.Errorf("-brokers must be 1 or 3, not %d", *brokers)
	}
	rf := *brokers
	minISR := min(rf, 2)
	var addrs []string
	var brokerLogs []string
	for id := 1; id <= *brokers; id++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		bDir := filepath.Join(dir, fmt.Sprintf("broker-%d", id))
		if err := os.MkdirAll(filepath.Join(bDir, "data"), 0o755); err != nil {
			return err
		}
		cfg := fmt.Sprintf(`broker.id = %d
listeners = "PLAINTEXT://127.0.0.1:%d"
zookeeper.connect = "%s/klassik"
log.dirs = "%s"
num.partitions = 1
default.replication.factor = %d
min.insync.replicas = %d
offsets.topic.replication.factor = %d
transaction.state.log.replication.factor = %d
transaction.state.log.min.isr = 1
`, id, port, zkAddr, filepath.Join(bDir, "data"), rf, minISR, rf, rf)
		if err := os.WriteFile(filepath.Join(bDir, "server.toml"), []byte(cfg), 0o644); err != nil {
			return err
		}
		logPath := filepath.Join(bDir, "stderr.log")
		broker, err := start(logPath, bin, "broker", "--config", filepath.Join(bDir, "server.toml"))
		if err != nil {
			return err
		}
		procs = append(procs, broker)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
		brokerLogs = append(brokerLogs, logPath)
	}

	// kfake with as many brokers.
	fake, err := kfake.NewCluster(kfake.NumBrokers(*brokers), kfake.DefaultNumPartitions(*partitions),
		kfake.SeedTopics(int32(*partitions), "bench"))
	if err != nil {
		return err
	}
	defer fake.Close()

	mode := "idempotent acks=all"
	if *txnEvery > 0 {
		mode = fmt.Sprintf("transactional (a commit every %d records), consumer read_committed", *txnEvery)
	}
	fmt.Printf("franz-go client, %d records of %d bytes, %d partitions, %s, no compression\n",
		*records, *size, *partitions, mode)
	fmt.Printf("%d brokers each, replication factor %d (klassik: min.insync.replicas %d)\n\n", *brokers, rf, minISR)
	fmt.Printf("%-8s %-8s %10s %9s %12s %8s\n", "target", "phase", "records", "seconds", "records/s", "MB/s")

	var results []result
	for _, target := range []struct {
		name   string
		addrs  []string
		create bool
	}{
		{"klassik", addrs, true},
		{"kfake", fake.ListenAddrs(), false},
	} {
		if target.create {
			if err := createTopic(target.addrs, "bench", int16(rf)); err != nil {
				return fmt.Errorf("%s: %w (broker logs: %s)", target.name, err, strings.Join(brokerLogs, " "))
			}
		}
		p, err := produce(target.name, target.addrs)
		if err != nil {
			return err
		}
		results = append(results, p)
		printResult(p)
		c, err := consume(target.name, target.addrs)
		if err != nil {
			return err
		}
		results = append(results, c)
		printResult(c)
	}
	fmt.Println()
	fmt.Printf("klassik / kfake: produce %.2f, consume %.2f (records/s)\n",
		results[0].recsPerSec()/results[2].recsPerSec(), results[1].recsPerSec()/results[3].recsPerSec())
	return nil
}

func printResult(r result) {
	fmt.Printf("%-8s %-8s %10d %9.2f %12.0f %8.1f\n", r.target, r.phase, r.records, r.took.Seconds(), r.recsPerSec(), r.mbPerSec())
}

func createTopic(addrs []string, topic string, rf int16) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return poll(90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := adm.CreateTopic(ctx, int32(*partitions), rf, nil, topic); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
			return err
		}
		md, err := adm.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		td := md.Topics[topic]
		if td.Err != nil || len(td.Partitions) != *partitions {
			return fmt.Errorf("topic not ready: %v", td.Err)
		}
		for _, p := range td.Partitions {
			if p.Leader < 0 {
				return errors.New("partition without leader")
			}
			if len(p.ISR) < int(rf) {
				return fmt.Errorf("partition %d: ISR %v, waiting for %d replicas in sync", p.Partition, p.ISR, rf)
			}
		}
		return nil
	})
}

func produce(target string, addrs []string) (result, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic("bench"),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(100_000)}
	if *txnEvery > 0 {
		opts = append(opts, kgo.TransactionalID("bench-"+target), kgo.TransactionTimeout(time.Minute))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *phaseTimeout)
	defer cancel()
	value := make([]byte, *size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	phase := "produce"
	if *txnEvery > 0 {
		if err := warmTxnCoordinator(ctx, cl, "bench-"+target); err != nil {
			return result{}, fmt.Errorf("%s: %w", target, err)
		}
	}
	start := time.Now()
	if *txnEvery > 0 {
		phase = "txn-prod"
		for done := 0; done < *records; {
			if err := cl.BeginTransaction(); err != nil {
				return result{}, fmt.Errorf("%s begin transaction: %w", target, err)
			}
			n := min(*txnEvery, *records-done)
			for range n {
				cl.Produce(ctx, &kgo.Record{Value: value}, promise)
			}
			if err := cl.Flush(ctx); err != nil {
				return result{}, fmt.Errorf("%s produce: %w", target, err)
			}
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				return result{}, fmt.Errorf("%s commit: %w", target, err)
			}
			done += n
		}
	} else {
		for range *records {
			cl.Produce(ctx, &kgo.Record{Value: value}, promise)
		}
		if err := cl.Flush(ctx); err != nil {
			return result{}, fmt.Errorf("%s produce: %w", target, err)
		}
	}
	took := time.Since(start)
	if n := failed.Load(); n > 0 {
		return result{}, fmt.Errorf("%s produce: %d records failed, first: %v", target, n, *firstErr.Load())
	}
	return result{target, phase, *records, int64(*records) * int64(*size), took}, nil
}

// warmTxnCoordinator waits until the transactional id has a coordinator, so that the timed
// phase does not include the creation of __transaction_state (which kfake has from the start).
func warmTxnCoordinator(ctx context.Context, cl *kgo.Client, id string) error {
	return poll(90*time.Second, func() error {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKey = 1, id
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
}

func consume(target string, addrs []string) (result, error) {
	offsets := map[int32]kgo.Offset{}
	for p := range int32(*partitions) {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"bench": offsets})}
	if *txnEvery > 0 {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *phaseTimeout)
	defer cancel()
	var n int
	var bytes int64
	start := time.Now()
	for n < *records {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return result{}, fmt.Errorf("%s consume: %d of %d records within %v", target, n, *records, *phaseTimeout)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return result{}, fmt.Errorf("%s consume: %v", target, errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			bytes += int64(len(r.Value))
		})
	}
	return result{target, "consume", n, bytes, time.Since(start)}, nil
}

func start(logPath string, argv ...string) (*exec.Cmd, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	return cmd, nil
}

func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		t := time.NewTimer(100 * time.Millisecond)
		<-t.C
	}
}

func fourLetter(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
