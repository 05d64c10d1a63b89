package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// console-consumer mirrors kafka-console-consumer.sh (Kafka's ConsoleConsumer with its
// DefaultMessageFormatter). Without --group it joins a fresh group console-consumer-NNNNN, as
// Kafka does; if the cluster does not serve the group APIs it assigns itself every partition.

func consoleConsumerFlags() *flagSet {
	fs := newFlagSet("console-consumer", "Consume a topic and print the records to standard output (kafka-console-consumer.sh).")
	fs.Value("bootstrap-server", "String: server to connect to", "", "REQUIRED: The server(s) to connect to.")
	fs.Value("topic", "String: topic", "", "The topic to consume on.")
	fs.Value("whitelist", "String: Java regex (String)", "", "DEPRECATED, use --include instead.")
	fs.Value("include", "String: Java regex (String)", "", "Regular expression specifying list of topics to include for consumption.")
	fs.Value("group", "String: consumer group id", "", "The consumer group id of the consumer.")
	fs.Bool("from-beginning", "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message.")
	fs.Value("max-messages", "Integer: num_messages", "", "The maximum number of messages to consume before exiting. If not set, consumption is continual.")
	fs.Value("timeout-ms", "Integer: timeout_ms", "", "If specified, exit if no message is available for consumption for the specified interval.")
	fs.Value("partition", "Integer: partition", "", "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified.")
	fs.Value("offset", "String: consume offset", "latest", "The offset to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end.")
	fs.Value("property", "String: prop", "", "The properties to initialize the message formatter: print.timestamp, print.key, print.offset, print.partition, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal (repeatable).")
	fs.Value("consumer-property", "String: consumer_prop", "", "A mechanism to pass user-defined properties in the form key=value to the consumer (repeatable).")
	fs.Value("consumer.config", "String: config file", "", "Consumer config properties file. Note that --consumer-property takes precedence over this config.")
	fs.Value("isolation-level", "String", "read_uncommitted", "Set to read_committed in order to filter out transactional messages which are not committed.")
	fs.Value("formatter", "String: class", "", "Only kafka.tools.DefaultMessageFormatter is supported.")
	fs.Bool("skip-message-on-error", "Accepted for compatibility; ignored.")
	fs.Bool("enable-systest-events", "Accepted for compatibility; ignored.")
	fs.Value("key-deserializer", "String", "", "Accepted for compatibility; keys are printed as bytes.")
	fs.Value("value-deserializer", "String", "", "Accepted for compatibility; values are printed as bytes.")
	return fs
}

// formatter is DefaultMessageFormatter's settings.
type formatter struct {
	printTimestamp, printKey, printValue, printPartition, printOffset, printHeaders bool
	keySep, lineSep, headersSep, nullLiteral                                        string
}

func newFormatter(m map[string]string) formatter {
	f := formatter{printValue: true, keySep: "\t", lineSep: "\n", headersSep: ",", nullLiteral: "null"}
	b := func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }
	for k, v := range m {
		switch k {
		case "print.timestamp":
			f.printTimestamp = b(v)
		case "print.key":
			f.printKey = b(v)
		case "print.value":
			f.printValue = b(v)
		case "print.partition":
			f.printPartition = b(v)
		case "print.offset":
			f.printOffset = b(v)
		case "print.headers":
			f.printHeaders = b(v)
		case "key.separator":
			f.keySep = unescape(v)
		case "line.separator":
			f.lineSep = unescape(v)
		case "headers.separator":
			f.headersSep = unescape(v)
		case "null.literal":
			f.nullLiteral = v
		}
	}
	return f
}

// format writes one record as DefaultMessageFormatter does: the chosen columns joined by
// key.separator, ending with line.separator.
func (f formatter) format(w io.Writer, r *kgo.Record) {
	var cols []string
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 1:
			cols = append(cols, "LogAppendTime:"+strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		case -1:
			cols = append(cols, "NO_TIMESTAMP")
		default:
			cols = append(cols, "CreateTime:"+strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		}
	}
	if f.printPartition {
		cols = append(cols, "Partition:"+strconv.Itoa(int(r.Partition)))
	}
	if f.printOffset {
		cols = append(cols, "Offset:"+strconv.FormatInt(r.Offset, 10))
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			cols = append(cols, "NO_HEADERS")
		} else {
			hs := make([]string, len(r.Headers))
			for i, h := range r.Headers {
				v := f.nullLiteral
				if h.Value != nil {
					v = string(h.Value)
				}
				hs[i] = h.Key + ":" + v
			}
			cols = append(cols, strings.Join(hs, f.headersSep))
		}
	}
	if f.printKey {
		cols = append(cols, f.bytes(r.Key))
	}
	if f.printValue {
		cols = append(cols, f.bytes(r.Value))
	}
	io.WriteString(w, strings.Join(cols, f.keySep)+f.lineSep)
}

func (f formatter) bytes(b []byte) string {
	if b == nil {
		return f.nullLiteral
	}
	return string(b)
}

// consumeOpts is the parsed command line.
type consumeOpts struct {
	bootstrap     string
	topic         string
	include       string
	group         string
	fromBeginning bool
	maxMessages   int64 // -1: unlimited
	timeout       time.Duration
	partition     int32 // -1: all
	offset        kgo.Offset
	props         map[string]string
}

func parseConsumeOpts(fs *flagSet) (*consumeOpts, error) {
	o := &consumeOpts{maxMessages: -1, partition: -1}
	if err := fs.requireGiven("bootstrap-server"); err != nil {
		return nil, err
	}
	o.bootstrap = fs.byName["bootstrap-server"].str()
	o.topic = fs.byName["topic"].str()
	o.include = fs.byName["include"].str()
	if o.include == "" {
		o.include = fs.byName["whitelist"].str()
	}
	n := 0
	for _, s := range []string{o.topic, o.include} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, usageErrorf("Exactly one of --include/--topic is required.")
	}
	o.group = fs.byName["group"].str()
	o.fromBeginning = fs.byName["from-beginning"].given
	if m := fs.byName["max-messages"]; m.given {
		v, err := m.integer()
		if err != nil {
			return nil, err
		}
		o.maxMessages = v
	}
	if t := fs.byName["timeout-ms"]; t.given {
		v, err := t.integer()
		if err != nil {
			return nil, err
		}
		o.timeout = time.Duration(v) * time.Millisecond
	}
	o.offset = kgo.NewOffset().AtEnd()
	if p := fs.byName["partition"]; p.given {
		if o.topic == "" {
			return nil, usageErrorf("The topic is required when partition is specified.")
		}
		v, err := p.integer()
		if err != nil {
			return nil, err
		}
		o.partition = int32(v)
		if o.group != "" {
			return nil, usageErrorf("Options group and partition cannot be specified together.")
		}
		if o.fromBeginning {
			if fs.byName["offset"].given {
				return nil, usageErrorf("Options from-beginning and offset cannot be specified together.")
			}
			o.offset = kgo.NewOffset().AtStart()
		}
	} else if fs.byName["offset"].given {
		return nil, usageErrorf("The partition is required when offset is specified.")
	}
	if fs.byName["offset"].given {
		switch s := strings.ToLower(fs.byName["offset"].str()); s {
		case "earliest":
			o.offset = kgo.NewOffset().AtStart()
		case "latest":
			o.offset = kgo.NewOffset().AtEnd()
		default:
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 {
				return nil, usageErrorf("The provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.", s)
			}
			o.offset = kgo.NewOffset().At(v)
		}
	}
	if f := fs.byName["formatter"].str(); f != "" && !strings.HasSuffix(f, "DefaultMessageFormatter") {
		return nil, fmt.Errorf("Only the default message formatter is supported, not %s", f)
	}
	props, err := parseProps(fs.byName["property"].all())
	if err != nil {
		return nil, err
	}
	o.props = props
	return o, nil
}

func runConsoleConsumer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := consoleConsumerFlags()
	return run(fs, args, stdout, stderr, func() error {
		o, err := parseConsumeOpts(fs)
		if err != nil {
			return err
		}
		cprops, err := loadConfigFile(fs.byName["consumer.config"].str())
		if err != nil {
			return err
		}
		over, err := parseProps(fs.byName["consumer-property"].all())
		if err != nil {
			return err
		}
		for k, v := range over {
			cprops[k] = v
		}
		if iso := fs.byName["isolation-level"]; iso.given {
			cprops["isolation.level"] = iso.str()
		}
		if o.group == "" {
			o.group = cprops["group.id"]
		} else if g, ok := cprops["group.id"]; ok && g != o.group {
			return fmt.Errorf("Conflicting group ids: --group %s and group.id=%s", o.group, g)
		}
		copts, err := consumerOpts(cprops, stderr)
		if err != nil {
			return err
		}
		if ar, ok := cprops["auto.offset.reset"]; ok && !o.fromBeginning {
			switch ar {
			case "earliest":
				o.fromBeginning = true
			case "latest", "none":
			default:
				return fmt.Errorf("Invalid value %s for configuration auto.offset.reset: String must be one of: latest, earliest, none", ar)
			}
		}
		return consume(o, copts, cprops["enable.auto.commit"] != "false", stdout, stderr)
	})
}

// consume runs the consumer to --max-messages, --timeout-ms, or an interrupt, then prints
// Kafka's "Processed a total of N messages" to stderr.
func consume(o *consumeOpts, copts []kgo.Opt, autoCommit bool, stdout, stderr io.Writer) error {
	probe, err := newClient(o.bootstrap)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx()
	groups := groupsSupported(ctx, probe)
	var topics []string
	if o.partition < 0 {
		if o.include != "" {
			tds, err := kadm.NewClient(probe).ListTopics(ctx)
			if err == nil {
				topics = matchTopics(tds.Names(), o.include)
			}
		} else {
			topics = []string{o.topic}
		}
	}
	var parts []int32
	if o.partition >= 0 || !groups {
		for _, t := range topics[:min(1, len(topics))] {
			parts, err = topicPartitions(ctx, kadm.NewClient(probe), t)
			if err != nil {
				cancel()
				probe.Close()
				return err
			}
		}
	}
	cancel()
	probe.Close()

	reset := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		reset = kgo.NewOffset().AtStart()
	}
	opts := append([]kgo.Opt{kgo.ClientID("console-consumer")}, copts...)
	switch {
	case o.partition >= 0:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: {o.partition: o.offset}}))
	case groups:
		if o.group == "" {
			o.group = fmt.Sprintf("console-consumer-%05d", rand.Intn(100000))
		}
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.ConsumeResetOffset(reset))
		if o.include != "" {
			opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+o.include+")$"))
		} else {
			opts = append(opts, kgo.ConsumeTopics(topics...))
		}
		if !autoCommit {
			opts = append(opts, kgo.DisableAutoCommit())
		}
	default:
		if o.group != "" {
			return fmt.Errorf("The cluster at %s does not support consumer groups, so --group %s cannot be used.", o.bootstrap, o.group)
		}
		m := map[string]map[int32]kgo.Offset{}
		for _, t := range topics {
			m[t] = map[int32]kgo.Offset{}
			for _, p := range parts {
				m[t][p] = reset
			}
		}
		opts = append(opts, kgo.ConsumePartitions(m))
	}
	cl, err := newClient(o.bootstrap, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	f := newFormatter(o.props)
	out := bufio.NewWriter(stdout)
	defer out.Flush()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		select {
		case <-sigs:
			stop()
		case <-runCtx.Done():
		}
	}()

	var count int64
	var procErr error
	for o.maxMessages < 0 || count < o.maxMessages {
		pollCtx, pollCancel := runCtx, context.CancelFunc(func() {})
		if o.timeout > 0 {
			pollCtx, pollCancel = context.WithTimeout(runCtx, o.timeout)
		}
		n := -1
		if o.maxMessages >= 0 {
			n = int(o.maxMessages - count)
		}
		fetches := cl.PollRecords(pollCtx, n)
		timedOut := errors.Is(pollCtx.Err(), context.DeadlineExceeded)
		pollCancel()
		var fatal error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
				return
			}
			fmt.Fprintf(stderr, "Error fetching %s-%d: %v\n", t, p, err)
			if fatal == nil && !isRetriable(err) {
				fatal = err
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			f.format(out, r)
			count++
		})
		out.Flush()
		if fatal != nil {
			procErr = fatal
			break
		}
		if runCtx.Err() != nil {
			break
		}
		if timedOut && fetches.NumRecords() == 0 {
			fmt.Fprintf(stderr, "Error processing message, terminating consumer process: no message received within %d ms (--timeout-ms)\n", o.timeout.Milliseconds())
			break
		}
	}
	out.Flush()
	if o.group != "" && autoCommit && o.partition < 0 && groups {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = cl.CommitUncommittedOffsets(cctx)
		ccancel()
	}
	fmt.Fprintf(stderr, "Processed a total of %d messages\n", count)
	return procErr
}

// isRetriable reports whether a fetch error is one the client keeps retrying by itself.
func isRetriable(err error) bool {
	return kerr.IsRetriable(err)
}
