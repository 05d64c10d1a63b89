package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// get-offsets mirrors kafka-get-offsets.sh (Kafka 3.6's kafka.tools.GetOffsetShell): the
// offset of each matching partition for a time, through ListOffsets, one
// "topic:partition:offset" line each, in topic and partition order.
//
//	klassik get-offsets --bootstrap-server B [--topic REGEX] [--partitions 0,1] [--time -1|-2|-3|MS]
//	klassik get-offsets --bootstrap-server B --topic-partitions 'orders:0-3,audit' [--exclude-internal-topics]
//
// --time is latest (-1, the default), earliest (-2), max-timestamp (-3) or a timestamp in ms
// (the first offset whose timestamp is at or after it; a partition without one is left out).

func getOffsetsFlags() *flagSet {
	fs := newFlagSet("get-offsets", "An interactive shell for getting topic-partition offsets (kafka-get-offsets.sh).")
	fs.Value("broker-list", "HOST1:PORT1,...,HOST3:PORT3", "", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.")
	fs.Value("bootstrap-server", "HOST1:PORT1,...,HOST3:PORT3", "", "REQUIRED. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.")
	fs.Value("topic-partitions", "topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3", "", "Comma separated list of topic-partition patterns to get the offsets for, with the format of '"+topicPartitionPattern+"'. The first group is an optional regex for the topic name, if omitted, it matches any topic name. The section after ':' describes a 'partition' pattern, which can be: a number, a range in the format of 'NUMBER-NUMBER' (lower inclusive, upper exclusive), an inclusive lower bound in the format of 'NUMBER-', an exclusive upper bound in the format of '-NUMBER' or may be omitted to accept all partitions.")
	fs.Value("topic", "topic", "", "The topic to get the offsets for. It also accepts a regular expression. If not present, all authorized topics are queried. Cannot be used if --topic-partitions is present.")
	fs.Value("partitions", "partition ids", "", "Comma separated list of partition ids to get the offsets for. If not present, all partitions of the authorized topics are queried. Cannot be used if --topic-partitions is present.")
	fs.Value("time", "<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp", "latest", "timestamp of the offsets before that. [Note: No offset is returned, if the timestamp greater than recently committed record timestamp is given.]")
	fs.Value("command-config", "config file", "", "Property file containing configs to be passed to Admin Client (klassik reads its security properties).")
	fs.Bool("exclude-internal-topics", "By default, internal topics are included. If specified, internal topics are excluded.")
	return fs
}

const topicPartitionPattern = `([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?`

var topicPartitionRE = regexp.MustCompile(`^(?:` + topicPartitionPattern + `)$`)

// tpRule is one topic-partition filter: a topic regex and a partition range [lo, hi) or a
// set (an empty set: every partition).
type tpRule struct {
	topic  *regexp.Regexp
	lo, hi int64
	set    map[int32]bool
}

func (r tpRule) topicAllowed(t string) bool { return r.topic.MatchString(t) }

func (r tpRule) allowed(t string, p int32) bool {
	if !r.topicAllowed(t) {
		return false
	}
	if r.set != nil {
		return len(r.set) == 0 || r.set[p]
	}
	return int64(p) >= r.lo && int64(p) < r.hi
}

// includeList compiles a topic pattern as Kafka's IncludeList: commas are alternatives, spaces
// and surrounding quotes are dropped, and the whole name must match.
func includeList(s string) (*regexp.Regexp, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "|")
	s = strings.ReplaceAll(s, " ", "")
	s = strings.TrimLeft(s, `"'`)
	s = strings.TrimRight(s, `"'`)
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		return nil, fmt.Errorf("%q is an invalid regex: %v", s, err)
	}
	return re, nil
}

// parseTopicPartitionRules reads --topic-partitions (createTopicPartitionFilterWithPatternList).
func parseTopicPartitionRules(spec string) ([]tpRule, error) {
	var rules []tpRule
	for _, rs := range strings.Split(spec, ",") {
		m := topicPartitionRE.FindStringSubmatch(rs)
		if m == nil {
			return nil, fmt.Errorf("Invalid rule specification: %s", rs)
		}
		topic := m[1]
		if topic == "" {
			topic = ".*"
		}
		re, err := includeList(topic)
		if err != nil {
			return nil, err
		}
		num := func(s string, def int64) (int64, error) {
			if s == "" {
				return def, nil
			}
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("For input string: %q", s)
			}
			return n, nil
		}
		r := tpRule{topic: re}
		if m[2] != "" {
			p, err := num(m[2], 0)
			if err != nil {
				return nil, err
			}
			r.lo, r.hi = p, p+1
		} else {
			if r.lo, err = num(m[3], 0); err != nil {
				return nil, err
			}
			if r.hi, err = num(m[4], math.MaxInt32); err != nil {
				return nil, err
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parsePartitionSet reads --partitions (createPartitionSet).
func parsePartitionSet(s string) (map[int32]bool, error) {
	set := map[int32]bool{}
	if s == "" {
		return set, nil
	}
	for _, x := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(x, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--partitions expects a comma separated list of numeric partition ids, but received: %s", s)
		}
		set[int32(n)] = true
	}
	return set, nil
}

// parseOffsetSpec reads --time into ListOffsets' timestamp (-1 latest, -2 earliest, -3 max).
func parseOffsetSpec(s string) (int64, error) {
	switch s {
	case "earliest":
		return -2, nil
	case "latest":
		return -1, nil
	case "max-timestamp":
		return -3, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Malformed time argument %s, please use -1 or latest / -2 or earliest / -3 or max-timestamp, or a specified long format timestamp", s)
	}
	return n, nil
}

func runGetOffsets(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := getOffsetsFlags()
	if len(args) == 0 {
		fs.usage(stderr)
		return 1
	}
	return run(fs, args, stdout, stderr, func() error {
		// GetOffsetShell prints its errors on stdout as "Error occurred: ..." and exits 1.
		if err := getOffsets(fs, stdout, stderr); err != nil {
			var ue usageError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(stdout, "Error occurred: %v\n", err)
			return exitCode(1)
		}
		return nil
	})
}

func getOffsets(fs *flagSet, stdout, stderr io.Writer) error {
	bootstrap := fs.byName["bootstrap-server"].str()
	if !fs.byName["bootstrap-server"].given {
		bootstrap = fs.byName["broker-list"].str()
	}
	if bootstrap == "" {
		return missing("bootstrap-server")
	}
	if fs.byName["topic-partitions"].given && (fs.byName["topic"].given || fs.byName["partitions"].given) {
		return errors.New("--topic-partitions cannot be used with --topic or --partitions")
	}
	ts, err := parseOffsetSpec(fs.byName["time"].str())
	if err != nil {
		return err
	}
	var rules []tpRule
	if fs.byName["topic-partitions"].given {
		if rules, err = parseTopicPartitionRules(fs.byName["topic-partitions"].str()); err != nil {
			return err
		}
	} else {
		topic := ".*"
		if fs.byName["topic"].given {
			topic = fs.byName["topic"].str()
		}
		re, err := includeList(topic)
		if err != nil {
			return err
		}
		set, err := parsePartitionSet(fs.byName["partitions"].str())
		if err != nil {
			return err
		}
		rules = []tpRule{{topic: re, set: set}}
	}
	excludeInternal := fs.byName["exclude-internal-topics"].given
	return withAdmin(bootstrap, fs.clientOpts, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
		tds, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return rootCause(err)
		}
		var parts []tp
		for t, td := range tds {
			if td.Err != nil || (excludeInternal && td.IsInternal) {
				continue
			}
			for p := range td.Partitions {
				for _, r := range rules {
					if r.allowed(t, p) {
						parts = append(parts, tp{t, p})
						break
					}
				}
			}
		}
		if len(parts) == 0 {
			return errors.New("Could not match any topic-partitions with the specified filters")
		}
		sortTPs(parts)
		offsets := listOffsetsAt(ctx, cl, parts, ts, stderr)
		for _, p := range parts {
			if o, ok := offsets[p]; ok {
				fmt.Fprintf(stdout, "%s:%d:%d\n", p.Topic, p.Partition, o)
			}
		}
		return nil
	})
}

// listOffsetsAt sends ListOffsets for parts at timestamp ts (to each partition's leader; kgo
// splits the request) and returns the offsets found. A partition that failed is reported on
// stderr as GetOffsetShell reports it; one without an offset (-1) is left out.
func listOffsetsAt(ctx context.Context, cl *kgo.Client, parts []tp, ts int64, stderr io.Writer) map[tp]int64 {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	byTopic := map[string]int{}
	for _, p := range parts {
		i, ok := byTopic[p.Topic]
		if !ok {
			i = len(req.Topics)
			byTopic[p.Topic] = i
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = p.Topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p.Partition, ts, -1
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	out := map[tp]int64{}
	failed := map[tp]string{}
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			sreq, _ := shard.Req.(*kmsg.ListOffsetsRequest)
			if sreq == nil {
				sreq = req
			}
			for _, t := range sreq.Topics {
				for _, p := range t.Partitions {
					failed[tp{t.Topic, p.Partition}] = rootCause(shard.Err).Error()
				}
			}
			continue
		}
		resp := shard.Resp.(*kmsg.ListOffsetsResponse)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				k := tp{t.Topic, p.Partition}
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					failed[k] = kafkaErr(err, nil)
					continue
				}
				if p.Offset != -1 {
					out[k] = p.Offset
				}
			}
		}
	}
	var fk []tp
	for k := range failed {
		fk = append(fk, k)
	}
	sortTPs(fk)
	for _, k := range fk {
		fmt.Fprintf(stderr, "Skip getting offsets for topic-partition %s:%d due to error: %s\n", k.Topic, k.Partition, failed[k])
	}
	return out
}
