package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// leader-election mirrors kafka-leader-election.sh (Kafka 3.6's kafka.admin.LeaderElectionCommand,
// KIP-460): it asks the controller, through ElectLeaders, to elect the preferred replica (or,
// with --election-type unclean, any live replica of a leaderless partition) for one
// partition, the partitions of a JSON file, or every partition.
//
//	klassik leader-election --bootstrap-server B --election-type preferred --all-topic-partitions
//	klassik leader-election --bootstrap-server B --election-type unclean --topic T --partition P
//	klassik leader-election --bootstrap-server B --election-type preferred --path-to-json-file F
//
// F is {"partitions":[{"topic":"foo","partition":1}, ...]}. The output is Kafka's: one line for
// the partitions elected, one for those whose leader was already valid, one per failure; a
// failure makes the exit code 1.

func leaderElectionFlags() *flagSet {
	fs := newFlagSet("leader-election", "This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas (kafka-leader-election.sh).")
	fs.Value("bootstrap-server", "host:port", "", "A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given. REQUIRED.")
	fs.Value("admin.config", "config file", "", "Configuration properties files to pass to the admin client (klassik reads its security properties).")
	fs.Value("path-to-json-file", "Path to JSON file", "", `The JSON file with the list of partition for which leader elections should be performed, such as {"partitions": [{"topic": "foo", "partition": 1}, {"topic": "foobar", "partition": 2}]}. Not allowed if --all-topic-partitions or --topic flags are specified.`)
	fs.Value("topic", "topic name", "", "Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified.")
	fs.Value("partition", "partition id", "", "Partition id for which to perform an election. REQUIRED if --topic is specified.")
	fs.Bool("all-topic-partitions", "Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified.")
	fs.Value("election-type", "election type", "", `Type of election to attempt. Possible values are "preferred" for preferred leader election or "unclean" for unclean leader election. If preferred election is selection, the election is only performed if the current leader is not the preferred leader for the topic partition. If unclean election is selected, the election is only performed if there are no leader for the topic partition. REQUIRED.`)
	return fs
}

// tp is a topic partition, printed as Kafka's TopicPartition.toString: "topic-partition".
type tp struct {
	Topic     string
	Partition int32
}

func (p tp) String() string { return p.Topic + "-" + strconv.Itoa(int(p.Partition)) }

func sortTPs(ps []tp) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Topic != ps[j].Topic {
			return ps[i].Topic < ps[j].Topic
		}
		return ps[i].Partition < ps[j].Partition
	})
}

func joinTPs(ps []tp, sep string) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, sep)
}

// parseElectionType reads --election-type as Kafka's ElectionType (either case).
func parseElectionType(s string) (kadm.ElectLeadersHow, string, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "PREFERRED":
		return kadm.ElectPreferredReplica, "PREFERRED", nil
	case "UNCLEAN":
		return kadm.ElectLiveReplica, "UNCLEAN", nil
	}
	return 0, "", usageErrorf("Value [%s] for option [election-type] is not one of [PREFERRED, UNCLEAN]", s)
}

// validateLeaderElection checks the options as LeaderElectionCommand.validate does.
func validateLeaderElection(fs *flagSet) error {
	// Kafka prepends each missing option to the list: election-type comes first.
	var missingOpts []string
	for _, n := range []string{"election-type", "bootstrap-server"} {
		if !fs.byName[n].given {
			missingOpts = append(missingOpts, n)
		}
	}
	if len(missingOpts) > 0 {
		return usageErrorf("Missing required option(s): %s", strings.Join(missingOpts, ", "))
	}
	n := 0
	for _, o := range []string{"topic", "all-topic-partitions", "path-to-json-file"} {
		if fs.byName[o].given {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file")
	}
	switch t, p := fs.byName["topic"].given, fs.byName["partition"].given; {
	case t && !p:
		return usageErrorf("Missing required option(s): partition")
	case !t && p:
		return usageErrorf("Option partition is only allowed if topic is used")
	}
	return nil
}

// parseReplicaElectionData reads --path-to-json-file's content (parseReplicaElectionData).
func parseReplicaElectionData(text string) ([]tp, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &doc); err != nil || doc == nil {
		return nil, errors.New("Replica election data is empty")
	}
	raw, ok := doc["partitions"]
	if !ok {
		return nil, errors.New(`Replica election data is missing "partitions" field`)
	}
	var entries []struct {
		Topic     *string `json:"topic"`
		Partition *int32  `json:"partition"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("Replica election data is not valid: %v", err)
	}
	var out, dups []tp
	seen := map[tp]int{}
	for _, e := range entries {
		if e.Topic == nil {
			return nil, errors.New("No such field exists: `topic`")
		}
		if e.Partition == nil {
			return nil, errors.New("No such field exists: `partition`")
		}
		p := tp{*e.Topic, *e.Partition}
		if seen[p]++; seen[p] == 2 {
			dups = append(dups, p)
		}
		if seen[p] == 1 {
			out = append(out, p)
		}
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("Replica election data contains duplicate partitions: %s", joinTPs(dups, ","))
	}
	return out, nil
}

func runLeaderElection(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := leaderElectionFlags()
	return run(fs, args, stdout, stderr, func() error {
		if err := validateLeaderElection(fs); err != nil {
			return err
		}
		how, howName, err := parseElectionType(fs.byName["election-type"].str())
		if err != nil {
			return err
		}
		var set kadm.TopicsSet // nil: every partition
		switch {
		case fs.byName["path-to-json-file"].given:
			b, err := os.ReadFile(fs.byName["path-to-json-file"].str())
			if err != nil {
				return err
			}
			parts, err := parseReplicaElectionData(string(b))
			if err != nil {
				return err
			}
			set = kadm.TopicsSet{}
			for _, p := range parts {
				set.Add(p.Topic, p.Partition)
			}
		case fs.byName["topic"].given:
			p, err := fs.byName["partition"].integer()
			if err != nil {
				return usageErrorf("%v", err)
			}
			set = kadm.TopicsSet{}
			set.Add(fs.byName["topic"].str(), int32(p))
		}
		return withAdmin(fs.byName["bootstrap-server"].str(), fs.clientOpts, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
			res, err := adm.ElectLeaders(ctx, how, set)
			if err != nil {
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					fmt.Fprintln(stdout, "Timeout waiting for election results")
				case errors.Is(err, kerr.ClusterAuthorizationFailed):
					fmt.Fprintln(stdout, "Not authorized to perform leader election")
				default:
					fmt.Fprintln(stdout, "Error while making request")
				}
				return fmt.Errorf("Error: %v", rootCause(err))
			}
			return printElectionResults(stdout, howName, res)
		})
	})
}

// printElectionResults prints the outcome as LeaderElectionCommand.electLeaders does, with the
// partitions of each line in topic and partition order.
func printElectionResults(w io.Writer, howName string, res kadm.ElectLeadersResults) error {
	var ok, noop, failed []tp
	errs := map[tp]kadm.ElectLeadersResult{}
	for t, ps := range res {
		for p, r := range ps {
			k := tp{t, p}
			switch {
			case r.Err == nil:
				ok = append(ok, k)
			case errors.Is(r.Err, kerr.ElectionNotNeeded):
				noop = append(noop, k)
			default:
				failed = append(failed, k)
				errs[k] = r
			}
		}
	}
	sortTPs(ok)
	sortTPs(noop)
	sortTPs(failed)
	if len(ok) > 0 {
		fmt.Fprintf(w, "Successfully completed leader election (%s) for partitions %s\n", howName, joinTPs(ok, ", "))
	}
	if len(noop) > 0 {
		fmt.Fprintf(w, "Valid replica already elected for partitions %s\n", joinTPs(noop, ", "))
	}
	if len(failed) > 0 {
		for _, k := range failed {
			r := errs[k]
			fmt.Fprintf(w, "Error completing leader election (%s) for partition: %s: %s\n", howName, k, javaError(r.Err, &r.ErrMessage))
		}
		return fmt.Errorf("Error: %d replica(s) could not be elected", len(failed))
	}
	return nil
}
