package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// log-dirs mirrors kafka-log-dirs.sh (Kafka's org.apache.kafka.tools.LogDirsCommand): it asks
// each broker, with DescribeLogDirs, what its log directories hold and prints that as Kafka's
// JSON (version 1):
//
//	klassik log-dirs --bootstrap-server B --describe [--broker-list 1,2] [--topic-list t1,t2]
//
//	{"brokers":[{"broker":1,"logDirs":[{"error":null,"logDir":"/var/lib/klassik",
//	  "partitions":[{"partition":"t-0","size":123,"offsetLag":0,"isFuture":false}]}]}],"version":1}
//
// Brokers, directories and partitions are in order (Kafka prints them in hash order).

func logDirsFlags() *flagSet {
	fs := newFlagSet("log-dirs", "This tool helps to query log directory usage on the specified brokers (kafka-log-dirs.sh).")
	fs.Value("bootstrap-server", "The server(s) to use for bootstrapping", "", "REQUIRED: the server(s) to use for bootstrapping")
	fs.Value("command-config", "Admin client property file", "", "Property file containing configs to be passed to Admin Client (klassik reads its security properties).")
	fs.Bool("describe", "Describe the specified log directories on the specified brokers.")
	fs.Value("topic-list", "Topic list", "", `The list of topics to be queried in the form "topic1,topic2,topic3". All topics will be queried if no topic list is specified`)
	fs.Value("broker-list", "Broker list", "", `The list of brokers to be queried in the form "0,1,2". All brokers in the cluster will be queried if no broker list is specified`)
	return fs
}

// The JSON LogDirsCommand prints; the field order is Kafka's.
type logDirsJSON struct {
	Brokers []logDirsBrokerJSON `json:"brokers"`
	Version int                 `json:"version"`
}

type logDirsBrokerJSON struct {
	Broker  int32        `json:"broker"`
	LogDirs []logDirJSON `json:"logDirs"`
}

type logDirJSON struct {
	Error      *string               `json:"error"`
	LogDir     string                `json:"logDir"`
	Partitions []logDirPartitionJSON `json:"partitions"`
}

type logDirPartitionJSON struct {
	Partition string `json:"partition"`
	Size      int64  `json:"size"`
	OffsetLag int64  `json:"offsetLag"`
	IsFuture  bool   `json:"isFuture"`
}

// splitList splits a comma-separated option, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func runLogDirs(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := logDirsFlags()
	return run(fs, args, stdout, stderr, func() error {
		if err := fs.requireGiven("bootstrap-server", "describe"); err != nil {
			return err
		}
		var input []int32
		for _, s := range splitList(fs.byName["broker-list"].str()) {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return fmt.Errorf("For input string: %q (--broker-list takes broker ids: 0,1,2)", s)
			}
			input = append(input, int32(n))
		}
		topics := map[string]bool{}
		for _, t := range splitList(fs.byName["topic-list"].str()) {
			topics[t] = true
		}
		return withAdmin(fs.byName["bootstrap-server"].str(), fs.clientOpts, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
			bds, err := adm.ListBrokers(ctx)
			if err != nil {
				return fmt.Errorf("Error: %v", rootCause(err))
			}
			cluster := map[int32]bool{}
			var clusterIDs []int32
			for _, b := range bds {
				cluster[b.NodeID] = true
				clusterIDs = append(clusterIDs, b.NodeID)
			}
			sortInt32s(clusterIDs)
			brokers, missingIDs := clusterIDs, []int32(nil)
			if len(input) > 0 {
				brokers = nil
				for _, id := range dedupInt32s(input) {
					if cluster[id] {
						brokers = append(brokers, id)
					} else {
						missingIDs = append(missingIDs, id)
					}
				}
			}
			if len(missingIDs) > 0 {
				return fmt.Errorf("ERROR: The given brokers do not exist from --broker-list: %s. Current existent brokers: %s", joinInts(missingIDs), joinInts(clusterIDs))
			}
			fmt.Fprintln(stdout, "Querying brokers for log directories information")
			out := logDirsJSON{Brokers: []logDirsBrokerJSON{}, Version: 1}
			for _, id := range brokers {
				dirs, err := adm.DescribeBrokerLogDirs(ctx, id, nil)
				if err != nil {
					return fmt.Errorf("Error: describing the log directories of broker %d failed: %v", id, rootCause(err))
				}
				out.Brokers = append(out.Brokers, logDirsBroker(id, dirs, topics))
			}
			fmt.Fprintf(stdout, "Received log directory information from brokers %s\n", joinInts(brokers))
			b, err := json.Marshal(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, string(b))
			return nil
		})
	})
}

// logDirsBroker is one broker's entry: its directories in order, each with its partitions of
// the topics asked for (all when topics is empty), in topic and partition order.
func logDirsBroker(id int32, dirs kadm.DescribedLogDirs, topics map[string]bool) logDirsBrokerJSON {
	bj := logDirsBrokerJSON{Broker: id, LogDirs: []logDirJSON{}}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, name := range names {
		d := dirs[name]
		dj := logDirJSON{LogDir: name, Partitions: []logDirPartitionJSON{}}
		if d.Err != nil {
			e := javaException(d.Err)
			dj.Error = &e
		}
		var parts []kadm.DescribedLogDirPartition
		for t, ps := range d.Topics {
			if len(topics) > 0 && !topics[t] {
				continue
			}
			for _, p := range ps {
				parts = append(parts, p)
			}
		}
		sort.Slice(parts, func(i, j int) bool {
			if parts[i].Topic != parts[j].Topic {
				return parts[i].Topic < parts[j].Topic
			}
			return parts[i].Partition < parts[j].Partition
		})
		for _, p := range parts {
			dj.Partitions = append(dj.Partitions, logDirPartitionJSON{
				Partition: tp{p.Topic, p.Partition}.String(), Size: p.Size, OffsetLag: p.OffsetLag, IsFuture: p.IsFuture,
			})
		}
		bj.LogDirs = append(bj.LogDirs, dj)
	}
	return bj
}

func sortInt32s(xs []int32) { sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] }) }

// dedupInt32s returns the distinct values of xs in order, as Kafka's Set<Integer> of small ids.
func dedupInt32s(xs []int32) []int32 {
	seen := map[int32]bool{}
	var out []int32
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sortInt32s(out)
	return out
}
