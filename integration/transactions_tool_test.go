package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A hanging transaction found and aborted with `klassik transactions` as an operator does with
// kafka-transactions.sh (KIP-664): a producer opened a transaction in a partition and no
// coordinator will end it, so the partition's last stable offset is stuck and read_committed
// consumers stop there. describe-producers (on the leader, and with --broker-id on a follower)
// shows the producer with the start offset of its open transaction; abort --start-offset
// writes the ABORT marker to the leader; then the LSO is the log end, describe-producers shows
// no open transaction, and a read_committed consumer reads past it without the aborted
// records. A second hanging transaction is aborted with the older brokers' form
// (--producer-id, --producer-epoch, --coordinator-epoch -1); find-hanging then finds nothing.
//
// The transaction is opened without a transaction coordinator: a producer id from an
// idempotent InitProducerId and a transactional batch produced with a raw Produce request.
func TestTransactionsToolAbortsHangingTransaction(t *testing.T) {
	// A hanging transaction is what verification (KIP-890) prevents: made here by writing a
	// transactional batch no coordinator knows of, with verification off, as on a Kafka
	// cluster before 3.6.
	c := NewCluster(t, Brokers(3), BrokerConfig("transaction.partition.verification.enable", false))
	topic := topicName(t, "hanging")
	minISR := "2"
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": &minISR})
	waitFullISR(t, c, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cl := c.Client(t)
	adm := c.Admin(t)
	ireq := kmsg.NewPtrInitProducerIDRequest()
	ireq.TransactionTimeoutMillis = 60000
	ir, err := ireq.RequestWith(ctx, cl)
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v %v", err, kerr.ErrorForCode(ir.ErrorCode))
	}
	pid, epoch := ir.ProducerID, ir.ProducerEpoch
	leader := leaderOf(t, c, topic, 0)
	produce := func(txnID *string, batch []byte) int64 {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.TransactionID, req.Acks, req.TimeoutMillis = txnID, -1, 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := cl.Broker(int(leader)).Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		sp := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
		if sp.ErrorCode != 0 {
			t.Fatalf("produce: %v", kerr.ErrorForCode(sp.ErrorCode))
		}
		return sp.BaseOffset
	}
	before := time.Now()
	produce(nil, EncodeBatch(time.Now(), []byte("p0")))                        // 0
	start := produce(strp("hanging-app"), txnBatch(pid, epoch, 0, "h0", "h1")) // 1-2
	produce(nil, EncodeBatch(time.Now(), []byte("p1")))                        // 3
	lso := func() (int64, int64) {
		t.Helper()
		committed, err := adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		end, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		lc, _ := committed.Lookup(topic, 0)
		le, _ := end.Lookup(topic, 0)
		if lc.Err != nil || le.Err != nil {
			t.Fatalf("ListOffsets: %v %v", lc.Err, le.Err)
		}
		return lc.Offset, le.Offset
	}
	if got, end := lso(); got != start || end != 4 {
		t.Fatalf("with the transaction open: LSO %d, end %d; want %d, 4", got, end, start)
	}

	tool := func(args ...string) string {
		return runTool(t, 60*time.Second, "", klassikBin, append([]string{"transactions", "--bootstrap-server", c.BootstrapServers()}, args...)...)
	}
	describe := func(args ...string) map[int64][]string {
		t.Helper()
		out := tool(append([]string{"describe-producers", "--topic", topic, "--partition", "0"}, args...)...)
		rows := txnToolRows(t, out, "ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset")
		byPID := map[int64][]string{}
		for _, r := range rows {
			id, err := strconv.ParseInt(r[0], 10, 64)
			if err != nil {
				t.Fatalf("ProducerId %q:\n%s", r[0], out)
			}
			byPID[id] = r
		}
		return byPID
	}
	checkRow := func(where string, row []string, coordEpoch, lastSeq, txnStart string) {
		t.Helper()
		if row == nil {
			t.Fatalf("%s: producer %d not described", where, pid)
		}
		want := []string{strconv.FormatInt(pid, 10), strconv.Itoa(int(epoch)), coordEpoch, lastSeq}
		if !slices.Equal(row[:4], want) || row[5] != txnStart {
			t.Fatalf("%s: producer row %q, want %q ... %s", where, row, want, txnStart)
		}
		ts, err := strconv.ParseInt(row[4], 10, 64)
		if err != nil || ts < before.Add(-time.Minute).UnixMilli() || ts > time.Now().Add(time.Minute).UnixMilli() {
			t.Fatalf("%s: LastTimestamp %q is not the time of the producer's batch", where, row[4])
		}
	}
	checkRow("on the leader", describe()[pid], "-1", "1", strconv.FormatInt(start, 10))
	follower := otherThan(leader, c)
	c.eventually(30*time.Second, func() error {
		if row := describe("--broker-id", strconv.Itoa(int(follower)))[pid]; row == nil || row[5] != strconv.FormatInt(start, 10) {
			return fmt.Errorf("follower %d describes producer %d as %q", follower, pid, row)
		}
		return nil
	})

	if out := tool("abort", "--topic", topic, "--partition", "0", "--start-offset", strconv.FormatInt(start, 10)); out != "" {
		t.Fatalf("abort printed %q", out)
	}
	checkRow("after abort", describe()[pid], "0", "1", "None")
	if got, end := lso(); got != end || end != 5 {
		t.Fatalf("after abort: LSO %d, end %d; want both 5 (the marker at 4)", got, end)
	}
	code, stderr := runKlassikFailing(t, "transactions", "--bootstrap-server", c.BootstrapServers(),
		"abort", "--topic", topic, "--partition", "0", "--start-offset", strconv.FormatInt(start, 10))
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("Could not find any open transactions starting at offset %d on partition %s-0", start, topic)) {
		t.Fatalf("second abort at %d: exit %d, stderr %q", start, code, stderr)
	}

	// A second transaction of the same producer, aborted by producer id and epoch; -1 (as
	// describe-producers shows a producer no coordinator has written a marker for) is 0.
	start2 := produce(strp("hanging-app"), txnBatch(pid, epoch, 2, "h2")) // 5
	if got, _ := lso(); got != start2 {
		t.Fatalf("second transaction open: LSO %d, want %d", got, start2)
	}
	tool("abort", "--topic", topic, "--partition", "0", "--producer-id", strconv.FormatInt(pid, 10),
		"--producer-epoch", strconv.Itoa(int(epoch)), "--coordinator-epoch", "-1")
	checkRow("after the second abort", describe()[pid], "0", "2", "None")
	produce(nil, EncodeBatch(time.Now(), []byte("end")))
	if got, end := lso(); got != end {
		t.Fatalf("after the second abort: LSO %d, end %d", got, end)
	}
	// Nothing is open any more: find-hanging, even with no age limit, finds nothing, on the
	// leaders and on the follower.
	for _, args := range [][]string{{"--topic", topic}, {"--broker-id", strconv.Itoa(int(follower))}} {
		out := tool(append([]string{"find-hanging", "--max-transaction-timeout", "0"}, args...)...)
		if rows := txnToolRows(t, out, "Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset", "LastTimestamp", "Duration(min)"); len(rows) != 0 {
			t.Fatalf("find-hanging %q after the aborts: %q", args, rows)
		}
	}
	want := []string{"p0", "p1", "end"}
	if got := values(consumeUntil(t, c, topic, "end", kgo.FetchIsolationLevel(kgo.ReadCommitted()))); !slices.Equal(got, want) {
		t.Fatalf("read_committed consumed %q, want %q", got, want)
	}
}

// txnToolRows parses a table of `klassik transactions`: the header must be the columns given,
// each cell padded and followed by a tab; the rows come back with the padding trimmed.
func txnToolRows(t *testing.T, out string, header ...string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	cells := func(line string) []string {
		if !strings.HasSuffix(line, "\t") {
			t.Fatalf("line %q does not end with a tab:\n%s", line, out)
		}
		f := strings.Split(strings.TrimSuffix(line, "\t"), "\t")
		for i := range f {
			f[i] = strings.TrimRight(f[i], " ")
		}
		return f
	}
	if got := cells(lines[0]); !slices.Equal(got, header) {
		t.Fatalf("header %q, want %q:\n%s", got, header, out)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		r := cells(l)
		if len(r) != len(header) {
			t.Fatalf("row %q has %d cells, want %d:\n%s", l, len(r), len(header), out)
		}
		rows = append(rows, r)
	}
	return rows
}

// runKlassikFailing runs a klassik tool that is expected to fail and returns its exit code and
// stderr.
func runKlassikFailing(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, klassikBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatalf("klassik %s: %v", strings.Join(args, " "), err)
	}
	return 0, stderr.String()
}
