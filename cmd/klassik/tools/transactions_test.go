package tools

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Tables are printed as TransactionsCommand.prettyPrintTable prints them: every cell padded
// to its column's width and followed by a tab, the header first.
func TestTransactionsTables(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, describeProducersHeaders, describeProducersRows([]kadm.DescribedProducer{
		{ProducerID: 1000, ProducerEpoch: 3, CoordinatorEpoch: -1, LastSequence: 41, LastTimestamp: 1700000000123, CurrentTxnStartOffset: 17},
		{ProducerID: 7, ProducerEpoch: 0, CoordinatorEpoch: 12, LastSequence: -1, LastTimestamp: 5, CurrentTxnStartOffset: -1},
	}))
	want := "ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\tLastSequence\tLastTimestamp\tCurrentTransactionStartOffset\t\n" +
		"1000      \t3            \t-1                    \t41          \t1700000000123\t17                           \t\n" +
		"7         \t0            \t12                    \t-1          \t5            \tNone                         \t\n"
	if b.String() != want {
		t.Fatalf("describe-producers\n got %q\nwant %q", b.String(), want)
	}

	b.Reset()
	printTable(&b, listTransactionsHeaders, listTransactionRows(kadm.ListedTransactions{
		"b-app": {Coordinator: 2, TxnID: "b-app", ProducerID: 4000, State: "Ongoing"},
		"a-app": {Coordinator: 2, TxnID: "a-app", ProducerID: 4001, State: "CompleteCommit"},
		"zz":    {Coordinator: 1, TxnID: "zz", ProducerID: 9, State: "Empty"},
	}))
	want = "TransactionalId\tCoordinator\tProducerId\tTransactionState\t\n" +
		"zz             \t1          \t9         \tEmpty           \t\n" +
		"a-app          \t2          \t4001      \tCompleteCommit  \t\n" +
		"b-app          \t2          \t4000      \tOngoing         \t\n"
	if b.String() != want {
		t.Fatalf("list\n got %q\nwant %q", b.String(), want)
	}

	b.Reset()
	printTable(&b, listTransactionsHeaders, nil)
	if b.String() != "TransactionalId\tCoordinator\tProducerId\tTransactionState\t\n" {
		t.Fatalf("empty list %q", b.String())
	}

	now := time.UnixMilli(10_000)
	row := describeTransactionRow(kadm.DescribedTransaction{Coordinator: 3, TxnID: "app", State: "Ongoing", TimeoutMillis: 60000,
		StartTimestamp: 7_500, ProducerID: 11, ProducerEpoch: 2, Topics: kadm.TopicsSet{"b": {0: {}}, "a": {2: {}, 1: {}}}}, now)
	if want := []string{"3", "app", "11", "2", "Ongoing", "60000", "7500", "2500", "a-1,a-2,b-0"}; !reflect.DeepEqual(row, want) {
		t.Fatalf("describe row %q, want %q", row, want)
	}
	row = describeTransactionRow(kadm.DescribedTransaction{Coordinator: 3, TxnID: "app", State: "Empty", StartTimestamp: -1}, now)
	if row[6] != "None" || row[7] != "None" || row[8] != "" {
		t.Fatalf("describe row without a transaction %q", row)
	}
}

// abort --start-offset finds the producer whose open transaction starts there and uses its
// epoch and coordinator epoch, -1 (no marker yet) becoming 0 as Kafka's tool does; the
// explicit form takes the three options as given, again with -1 as 0.
func TestAbortSpec(t *testing.T) {
	producers := []kadm.DescribedProducer{
		{ProducerID: 5, ProducerEpoch: 1, CoordinatorEpoch: 4, CurrentTxnStartOffset: -1},
		{ProducerID: 6, ProducerEpoch: 2, CoordinatorEpoch: -1, CurrentTxnStartOffset: 30},
		{ProducerID: 7, ProducerEpoch: 3, CoordinatorEpoch: 9, CurrentTxnStartOffset: 40},
	}
	if s, ok := abortSpecAt(producers, "t", 1, 30); !ok || s != (abortSpec{"t", 1, 6, 2, 0}) {
		t.Fatalf("at 30: %+v %v", s, ok)
	}
	if s, ok := abortSpecAt(producers, "t", 1, 40); !ok || s != (abortSpec{"t", 1, 7, 3, 9}) {
		t.Fatalf("at 40: %+v %v", s, ok)
	}
	if _, ok := abortSpecAt(producers, "t", 1, -1); ok {
		t.Fatal("found a transaction at offset -1")
	}
	c, rest, ok := findTxnCommand([]string{"--bootstrap-server", "h:1", "abort", "--topic", "t", "--partition", "1",
		"--producer-id", "6", "--producer-epoch", "2", "--coordinator-epoch", "-1"})
	if !ok || c.name != "abort" {
		t.Fatalf("command %q %v", c.name, ok)
	}
	fs := transactionsFlags(c)
	if err := fs.parse(rest); err != nil {
		t.Fatal(err)
	}
	if err := validateTxnFlags("abort", fs); err != nil {
		t.Fatal(err)
	}
	if s := abortSpecFromFlags(fs, "t", 1); s != (abortSpec{"t", 1, 6, 2, 0}) {
		t.Fatalf("from flags %+v", s)
	}
	if got := (abortSpec{"t", 1, 6, 2, 0}).String(); got != "AbortTransactionSpec(topicPartition=t-1, producerId=6, producerEpoch=2, coordinatorEpoch=0)" {
		t.Fatalf("spec %q", got)
	}
}

// The command is found wherever it stands among the global options, and a value that looks
// like a command name (a topic called "list") is not taken for one.
func TestFindTxnCommand(t *testing.T) {
	tests := []struct {
		args []string
		cmd  string
		rest []string
	}{
		{[]string{"--bootstrap-server", "h:1", "list"}, "list", []string{"--bootstrap-server", "h:1"}},
		{[]string{"list", "--bootstrap-server=h:1"}, "list", []string{"--bootstrap-server=h:1"}},
		{[]string{"--bootstrap-server", "h:1", "describe-producers", "--topic", "list", "--partition", "0"}, "describe-producers",
			[]string{"--bootstrap-server", "h:1", "--topic", "list", "--partition", "0"}},
		{[]string{"--topic", "abort", "find-hanging"}, "find-hanging", []string{"--topic", "abort"}},
	}
	for _, tc := range tests {
		c, rest, ok := findTxnCommand(tc.args)
		if !ok || c.name != tc.cmd || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("%q: %q %q %v, want %q %q", tc.args, c.name, rest, ok, tc.cmd, tc.rest)
		}
	}
}

// Bad command lines fail before anything is sent, with argparse4j's and Kafka's sentences.
func TestTransactionsUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "a command is required"},
		{[]string{"--bootstrap-server", "x:1", "commit"}, "invalid choice: 'commit'"},
		{[]string{"list"}, "argument --bootstrap-server is required"},
		{[]string{"--bootstrap-server", "x:1", "list", "extra"}, "unrecognized arguments: 'extra'"},
		{[]string{"--bootstrap-server", "x:1", "describe"}, "argument --transactional-id is required"},
		{[]string{"--bootstrap-server", "x:1", "describe-producers", "--topic", "t"}, "argument --partition is required"},
		{[]string{"--bootstrap-server", "x:1", "describe-producers", "--partition", "0"}, "argument --topic is required"},
		{[]string{"--bootstrap-server", "x:1", "describe-producers", "--topic", "t", "--partition", "one"}, "argument --partition: could not convert 'one' to Integer"},
		{[]string{"--bootstrap-server", "x:1", "describe-producers", "--topic", "t", "--partition", "0", "--broker-id", "b"}, "argument --broker-id: could not convert 'b' to Integer"},
		{[]string{"--bootstrap-server", "x:1", "describe-producers", "--topic", "t", "--partition", "0", "--start-offset", "1"}, "start-offset is not a recognized option"},
		{[]string{"--bootstrap-server", "x:1", "abort", "--topic", "t", "--partition", "0"}, "must be identified either with --start-offset"},
		{[]string{"--bootstrap-server", "x:1", "abort", "--topic", "t", "--partition", "0", "--producer-id", "5"}, "Missing required argument --producer-epoch"},
		{[]string{"--bootstrap-server", "x:1", "abort", "--topic", "t", "--partition", "0", "--producer-id", "5", "--producer-epoch", "1"}, "Missing required argument --coordinator-epoch"},
		{[]string{"--bootstrap-server", "x:1", "abort", "--topic", "t", "--partition", "0", "--producer-id", "5", "--producer-epoch", "40000", "--coordinator-epoch", "0"}, "argument --producer-epoch: could not convert '40000' to Short"},
		{[]string{"--bootstrap-server", "x:1", "abort", "--topic", "t", "--partition", "0", "--start-offset", "x"}, "argument --start-offset: could not convert 'x' to Long"},
		{[]string{"--bootstrap-server", "x:1", "find-hanging", "--max-transaction-timeout", "m"}, "argument --max-transaction-timeout: could not convert 'm' to Integer"},
	}
	for _, tc := range tests {
		code, out, errOut := runCmd(t, "transactions", tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	code, out, _ := runCmd(t, "transactions", "--help")
	if code != 0 || !strings.Contains(out, "describe-producers") || !strings.Contains(out, "--bootstrap-server") {
		t.Errorf("--help: %d %q", code, out)
	}
	code, out, _ = runCmd(t, "transactions", "abort", "--help")
	if code != 0 || !strings.Contains(out, "--start-offset") || !strings.Contains(out, "--coordinator-epoch") {
		t.Errorf("abort --help: %d %q", code, out)
	}
}

// find-hanging keeps a candidate whose producer has no transactional id, whose transactional
// id is not described, or whose description does not hold the partition
// (FindHangingTransactionsCommand.filterHangingTransactions), and prints the minutes since
// its producer last wrote.
func TestFilterHanging(t *testing.T) {
	now := time.UnixMilli(100 * 60_000)
	candidates := []kadm.DescribedProducer{
		{Topic: "t", Partition: 0, ProducerID: 1, CurrentTxnStartOffset: 3, LastTimestamp: 0},         // no transactional id
		{Topic: "t", Partition: 1, ProducerID: 2, CurrentTxnStartOffset: 4, LastTimestamp: 60_000},    // coordinator has t-1: not hanging
		{Topic: "t", Partition: 2, ProducerID: 2, CurrentTxnStartOffset: 5, LastTimestamp: 120_000},   // coordinator does not list t-2
		{Topic: "t", Partition: 3, ProducerID: 3, CurrentTxnStartOffset: 6, LastTimestamp: 30 * 60e3}, // id not found
	}
	txnIDs := map[int64]string{2: "app", 3: "gone"}
	descs := kadm.DescribedTransactions{
		"app":  {TxnID: "app", Topics: kadm.TopicsSet{"t": {1: {}}}},
		"gone": {TxnID: "gone", Err: kerr.TransactionalIDNotFound},
	}
	hanging := filterHanging(candidates, txnIDs, descs)
	var parts []int32
	for _, h := range hanging {
		parts = append(parts, h.Partition)
	}
	if !reflect.DeepEqual(parts, []int32{0, 2, 3}) {
		t.Fatalf("hanging partitions %v, want [0 2 3]", parts)
	}
	rows := hangingRows(hanging, now)
	if want := []string{"t", "2", "2", "0", "0", "5", "120000", "98"}; !reflect.DeepEqual(rows[1], want) {
		t.Fatalf("row %q, want %q", rows[1], want)
	}
}

// A failure reads as Kafka's: the sentence, the broker's error, one period.
func TestTxnFailure(t *testing.T) {
	se := &kadm.ShardErrors{Name: "DescribeProducers", Errs: []kadm.ShardError{{Err: kerr.UnknownTopicOrPartition}}}
	got := txnFailure("Failed to describe producers for partition t-0 on leader", se).Error()
	if want := "Failed to describe producers for partition t-0 on leader: UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition."; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
