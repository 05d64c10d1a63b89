package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// transactions mirrors kafka-transactions.sh (Kafka's org.apache.kafka.tools.TransactionsCommand,
// KIP-664): the transactional state of producers, and the recovery of hanging transactions.
//
//	klassik transactions --bootstrap-server B list
//	klassik transactions --bootstrap-server B describe --transactional-id ID
//	klassik transactions --bootstrap-server B describe-producers --topic T --partition P [--broker-id N]
//	klassik transactions --bootstrap-server B abort --topic T --partition P --start-offset N
//	klassik transactions --bootstrap-server B abort --topic T --partition P --producer-id I --producer-epoch E --coordinator-epoch C
//	klassik transactions --bootstrap-server B find-hanging (--broker-id N | --topic T [--partition P]) [--max-transaction-timeout MIN]
//
// The global options may come before or after the command. Tables are printed as Kafka's tool
// prints them: each column padded to its widest cell and followed by a tab.

// txnCommand is one subcommand of transactions.
type txnCommand struct {
	name, help string
	flags      func(fs *flagSet)
	exec       func(ctx context.Context, cl *kgo.Client, adm *kadm.Client, fs *flagSet, stdout io.Writer) error
}

func txnCommands() []txnCommand {
	return []txnCommand{
		{"list", "list transactions", func(*flagSet) {}, execListTransactions},
		{"describe", "describe the state of an active transactional-id", func(fs *flagSet) {
			fs.Value("transactional-id", "String: transactional id", "", "transactional id")
		}, execDescribeTransaction},
		{"describe-producers", "describe the states of active producers for a topic partition", func(fs *flagSet) {
			fs.Value("broker-id", "Integer: broker id", "", "optional broker id to describe the producer state on a specific replica")
			fs.Value("topic", "String: topic", "", "topic name")
			fs.Value("partition", "Integer: partition", "", "partition number")
		}, execDescribeProducers},
		{"abort", "abort a hanging transaction (requires administrative privileges)", func(fs *flagSet) {
			fs.Value("topic", "String: topic", "", "topic name")
			fs.Value("partition", "Integer: partition", "", "partition number")
			fs.Value("start-offset", "Long: offset", "", "start offset of the transaction to abort (brokers on versions 3.0 and above)")
			fs.Value("producer-id", "Long: producer id", "", "producer id (brokers older than 3.0, with --producer-epoch and --coordinator-epoch)")
			fs.Value("producer-epoch", "Short: producer epoch", "", "producer epoch")
			fs.Value("coordinator-epoch", "Integer: coordinator epoch", "", "coordinator epoch")
		}, execAbortTransaction},
		{"find-hanging", "find hanging transactions", func(fs *flagSet) {
			fs.Value("broker-id", "Integer: broker id", "", "broker id to search for hanging transactions")
			fs.Value("max-transaction-timeout", "Integer: minutes", "15", "maximum transaction timeout in minutes to limit the scope of the search")
			fs.Value("topic", "String: topic", "", "topic name to limit search to")
			fs.Value("partition", "Integer: partition", "", "partition number")
		}, execFindHanging},
	}
}

const transactionsSummary = "This tool is used to analyze the transactional state of producers in the cluster. " +
	"It can be used to detect and recover from hanging transactions (kafka-transactions.sh)."

// transactionsGlobalFlags declares the options every subcommand takes.
func transactionsGlobalFlags(fs *flagSet) {
	fs.Value("bootstrap-server", "String: host:port", "", "REQUIRED: hostname and port for the broker to connect to, in the form `host:port` (multiple comma-separated entries can be given)")
	fs.Value("command-config", "String: FILE", "", "property file containing configs to be passed to admin client (klassik reads its security properties)")
}

// transactionsFlags is the flag set of one subcommand: the global options and its own.
func transactionsFlags(c txnCommand) *flagSet {
	fs := newFlagSet("transactions "+c.name, c.help+" (kafka-transactions.sh "+c.name+").")
	transactionsGlobalFlags(fs)
	c.flags(fs)
	return fs
}

// findTxnCommand picks the subcommand out of args: the first argument that is not an option
// or the value of one. It returns the command and the arguments without its name.
func findTxnCommand(args []string) (txnCommand, []string, bool) {
	takesValue := map[string]bool{}
	cmds := txnCommands()
	for _, c := range cmds {
		fs := transactionsFlags(c)
		for _, o := range fs.opts {
			if o.kind == kindValue {
				takesValue[o.name] = true
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if isOptionLike(a) {
			if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") && takesValue[name] {
				i++
			}
			continue
		}
		for _, c := range cmds {
			if c.name == a {
				rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
				return c, rest, true
			}
		}
		return txnCommand{name: a}, nil, false
	}
	return txnCommand{}, nil, false
}

// transactionsUsage is the help of the tool itself: the global options and the commands.
func transactionsUsage(w io.Writer) {
	fs := newFlagSet("transactions", transactionsSummary)
	transactionsGlobalFlags(fs)
	fs.usage(w)
	fmt.Fprintf(w, "\nCommands (klassik transactions COMMAND --help for each one's options):\n")
	for _, c := range txnCommands() {
		fmt.Fprintf(w, "  %-20s %s\n", c.name, c.help)
	}
}

func runTransactions(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c, rest, ok := findTxnCommand(args)
	if !ok {
		for _, a := range args {
			if a == "--help" || a == "-help" || a == "-h" {
				transactionsUsage(stdout)
				return 0
			}
		}
		if c.name != "" {
			fmt.Fprintf(stderr, "invalid choice: '%s' (choose from 'list', 'describe', 'describe-producers', 'abort', 'find-hanging')\n", c.name)
		} else {
			fmt.Fprintln(stderr, "too few arguments: a command is required (list, describe, describe-producers, abort, find-hanging)")
		}
		fmt.Fprintln(stderr, "Run 'klassik transactions --help' for usage.")
		return 1
	}
	fs := transactionsFlags(c)
	return run(fs, rest, stdout, stderr, func() error {
		if len(fs.args) > 0 {
			return usageErrorf("unrecognized arguments: '%s'", strings.Join(fs.args, " "))
		}
		if !fs.byName["bootstrap-server"].given {
			return usageErrorf("argument --bootstrap-server is required")
		}
		if err := validateTxnFlags(c.name, fs); err != nil {
			return err
		}
		return withAdmin(fs.byName["bootstrap-server"].str(), fs.clientOpts, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
			return c.exec(ctx, cl, adm, fs, stdout)
		})
	})
}

// validateTxnFlags checks each subcommand's required options and their types before anything
// is sent, with argparse4j's sentences (Kafka's tool parses its options with argparse4j).
func validateTxnFlags(cmd string, fs *flagSet) error {
	var required []string
	typed := map[string]int{} // option -> bit size of its integer type
	switch cmd {
	case "describe":
		required = []string{"transactional-id"}
	case "describe-producers":
		required = []string{"topic", "partition"}
		typed = map[string]int{"broker-id": 32, "partition": 32}
	case "abort":
		required = []string{"topic", "partition"}
		typed = map[string]int{"partition": 32, "start-offset": 64, "producer-id": 64, "producer-epoch": 16, "coordinator-epoch": 32}
	case "find-hanging":
		typed = map[string]int{"broker-id": 32, "partition": 32, "max-transaction-timeout": 32}
	}
	for _, n := range required {
		if !fs.byName[n].given {
			return usageErrorf("argument --%s is required", n)
		}
	}
	names := make([]string, 0, len(typed))
	for n := range typed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := fs.byName[n]
		if !o.given && o.def == "" {
			continue
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(o.str()), 10, typed[n]); err != nil {
			kind := map[int]string{16: "Short", 32: "Integer", 64: "Long"}[typed[n]]
			return usageErrorf("argument --%s: could not convert '%s' to %s", n, o.str(), kind)
		}
	}
	if cmd == "abort" && !fs.byName["start-offset"].given {
		if !fs.byName["producer-id"].given {
			return usageErrorf("The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) " +
				"or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)")
		}
		for _, n := range []string{"producer-epoch", "coordinator-epoch"} {
			if !fs.byName[n].given {
				return usageErrorf("Missing required argument --%s", n)
			}
		}
	}
	return nil
}

// intFlag is the value of an integer option validateTxnFlags has checked; ok is false when
// it was not given and has no default.
func intFlag(fs *flagSet, name string) (int64, bool) {
	o := fs.byName[name]
	if !o.given && o.def == "" {
		return 0, false
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(o.str()), 10, 64)
	return n, true
}

// printTable is TransactionsCommand.prettyPrintTable: every cell padded with spaces to its
// column's width (the widest of the header and the cells) and followed by a tab.
func printTable(w io.Writer, headers []string, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i := range headers {
			widths[i] = max(widths[i], len(r[i]))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i := range headers {
			b.WriteString(r[i])
			b.WriteString(strings.Repeat(" ", widths[i]-len(r[i])))
			b.WriteByte('\t')
		}
		fmt.Fprintln(w, b.String())
	}
	line(headers)
	for _, r := range rows {
		line(r)
	}
}

// txnFailure is Kafka's printErrorAndExit(message, cause): the message, the cause, a period.
// kadm's error of a request sent to one broker is that broker's error.
func txnFailure(msg string, cause error) error {
	var se *kadm.ShardErrors
	if errors.As(cause, &se) && len(se.Errs) == 1 {
		cause = se.Errs[0].Err
	}
	return fmt.Errorf("%s: %s.", msg, strings.TrimSuffix(rootCause(cause).Error(), "."))
}

var listTransactionsHeaders = []string{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}

func execListTransactions(ctx context.Context, _ *kgo.Client, adm *kadm.Client, _ *flagSet, stdout io.Writer) error {
	listed, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		return txnFailure("Failed to list transactions", err)
	}
	printTable(stdout, listTransactionsHeaders, listTransactionRows(listed))
	return nil
}

// listTransactionRows are the rows of list, by coordinator then transactional id.
func listTransactionRows(listed kadm.ListedTransactions) [][]string {
	all := listed.Sorted()
	sort.SliceStable(all, func(i, j int) bool { return all[i].Coordinator < all[j].Coordinator })
	rows := make([][]string, 0, len(all))
	for _, t := range all {
		rows = append(rows, []string{t.TxnID, strconv.Itoa(int(t.Coordinator)), strconv.FormatInt(t.ProducerID, 10), t.State})
	}
	return rows
}

var describeTransactionHeaders = []string{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
	"TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"}

func execDescribeTransaction(ctx context.Context, _ *kgo.Client, adm *kadm.Client, fs *flagSet, stdout io.Writer) error {
	id := fs.byName["transactional-id"].str()
	failed := "Failed to describe transaction state of transactional-id `" + id + "`"
	described, err := adm.DescribeTransactions(ctx, id)
	d, ok := described[id]
	switch {
	case ok && d.Err != nil:
		return txnFailure(failed, d.Err)
	case err != nil:
		return txnFailure(failed, err)
	case !ok:
		return txnFailure(failed, errors.New("the coordinator did not describe it"))
	}
	printTable(stdout, describeTransactionHeaders, [][]string{describeTransactionRow(d, time.Now())})
	return nil
}

// describeTransactionRow is the row of describe; the start time and duration are None when no
// transaction is in progress (a start timestamp of -1).
func describeTransactionRow(d kadm.DescribedTransaction, now time.Time) []string {
	start, duration := "None", "None"
	if d.StartTimestamp >= 0 {
		start = strconv.FormatInt(d.StartTimestamp, 10)
		duration = strconv.FormatInt(now.UnixMilli()-d.StartTimestamp, 10)
	}
	var parts []string
	for _, tp := range d.Topics.Sorted() {
		for _, p := range tp.Partitions {
			parts = append(parts, tp.Topic+"-"+strconv.Itoa(int(p)))
		}
	}
	return []string{strconv.Itoa(int(d.Coordinator)), d.TxnID, strconv.FormatInt(d.ProducerID, 10), strconv.Itoa(int(d.ProducerEpoch)),
		d.State, strconv.Itoa(int(d.TimeoutMillis)), start, duration, strings.Join(parts, ",")}
}
