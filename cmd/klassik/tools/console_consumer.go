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
	fs.Value("property", "String: prop", "", "The properties to initialize the message formatter: print.timestamp, print.key, print.offset, print.partition, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal, key.deserializer, value.deserializer, headers.deserializer (org.apache.kafka.common.serialization.StringDeserializer, LongDeserializer, IntegerDeserializer, ...) (repeatable).")
	fs.Value("formatter-config", "String: config file", "", "Config properties file to initialize the message formatter. Note that --property takes precedence over this config.")
	fs.Value("consumer-property", "String: consumer_prop", "", "A mechanism to pass user-defined properties in the form key=value to the consumer (repeatable).")
	fs.Value("consumer.config", "String: config file", "", "Consumer config properties file. Note that --consumer-property takes precedence over this config.")
	fs.Value("isolation-level", "String", "read_uncommitted", "Set to read_committed in order to filter out transactional messages which are not committed.")
	fs.Value("formatter", "String: class", "", "The name of a class to use for formatting kafka messages for display: only the default, kafka.tools.DefaultMessageFormatter (org.apache.kafka.tools.consumer.DefaultMessageFormatter), is supported.")
	fs.Bool("skip-message-on-error", "If there is an error when processing a message, skip it instead of halt.")
	fs.Bool("enable-systest-events", "Accepted for compatibility; ignored.")
	fs.Value("key-deserializer", "String: deserializer for key", "", "The formatter's key.deserializer (a --property key.deserializer=... takes precedence).")
	fs.Value("value-deserializer", "String: deserializer for values", "", "The formatter's value.deserializer (a --property value.deserializer=... takes precedence).")
	return fs
}

// formatter is DefaultMessageFormatter's settings.
type formatter struct {
	printTimestamp, printKey, printValue, printPartition, printOffset, printHeaders bool
	keySep, lineSep, headersSep, nullLiteral                                        string
	// key.deserializer, value.deserializer, headers.deserializer; nil prints the bytes.
	keyDeser, valueDeser, headersDeser deserializer
}

// newFormatter reads DefaultMessageFormatter's properties (--property, over
// --formatter-config). Its separators default to a tab between columns and a newline after
// each record, as Kafka's do.
func newFormatter(m map[string]string) (formatter, error) {
	f := formatter{printValue: true, keySep: "\t", lineSep: "\n", headersSep: ",", nullLiteral: "null"}
	for prop, d := range map[string]*deserializer{"key.deserializer": &f.keyDeser, "value.deserializer": &f.valueDeser, "headers.deserializer": &f.headersDeser} {
		if class, ok := m[prop]; ok {
			var err error
			if *d, err = lookupDeserializer(prop, class); err != nil {
				return f, err
			}
		}
	}
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
	return f, nil
}

// format writes one record as DefaultMessageFormatter does: the chosen columns joined by
// key.separator, ending with line.separator. A key, value or header that its deserializer
// cannot read is an error, and nothing of the record is written.
func (f formatter) format(w io.Writer, r *kgo.Record) error {
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
				v, err := f.render(h.Value, f.headersDeser)
				if err != nil {
					return err
				}
				hs[i] = h.Key + ":" + v
			}
			cols = append(cols, strings.Join(hs, f.headersSep))
		}
	}
	if f.printKey {
		k, err := f.render(r.Key, f.keyDeser)
		if err != nil {
			return err
		}
		cols = append(cols, k)
	}
	if f.printValue {
		v, err := f.render(r.Value, f.valueDeser)
		if err != nil {
			return err
		}
		cols = append(cols, v)
	}
	_, err := io.WriteString(w, strings.Join(cols, f.keySep)+f.lineSep)
	return err
}

// render is one column: null.literal for null, else the deserializer's text, else the bytes.
func (f formatter) render(b []byte, d deserializer) (string, error) {
	if b == nil {
		return f.nullLiteral, nil
	}
	if d == nil {
		return string(b), nil
	}
	return d(b)
}

// consumeOpts is the parsed command line.
type consumeOpts struct {
	bootstrap     string
	security      []kgo.Opt // from --consumer.config and --consumer-property (security.go)
	topic         string
	include       string
	group         string
	fromBeginning bool
	maxMessages   int64 // -1: unlimited
	timeout       time.Duration
	partition     int32 // -1: all
	offset        kgo.Offset
	props         map[string]string // the formatter's
	skipOnError   bool
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
	// ConsoleConsumerOptions.formatterArgs: the --formatter-config file, then
	// --key-deserializer and --value-deserializer, then every --property over them.
	props, err := loadConfigFile(fs.byName["formatter-config"].str())
	if err != nil {
		return nil, err
	}
	if d := fs.byName["key-deserializer"].str(); d != "" {
		props["key.deserializer"] = d
	}
	if d := fs.byName["value-deserializer"].str(); d != "" {
		props["value.deserializer"] = d
	}
	over, err := parseProps(fs.byName["property"].all())
	if err != nil {
		return nil, err
	}
	for k, v := range over {
		props[k] = v
	}
	if _, err := newFormatter(props); err != nil {
		return nil, err
	}
	o.props = props
	o.skipOnError = fs.byName["skip-message-on-error"].given
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
		if o.security, err = clientSecurityOpts(cprops); err != nil {
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
	probe, err := newClient(o.bootstrap, o.security...)
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

	f, err := newFormatter(o.props)
	if err != nil {
		return err
	}
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
			if fatal != nil {
				return
			}
			count++ // counted before it is formatted, as ConsoleConsumer counts
			if err := f.format(out, r); err != nil {
				if !o.skipOnError {
					fatal = fmt.Errorf("Unknown error when running consumer: %s-%d at offset %d: %w", r.Topic, r.Partition, r.Offset, err)
					return
				}
				fmt.Fprintf(stderr, "Error processing message, skipping this message: %s-%d at offset %d: %v\n", r.Topic, r.Partition, r.Offset, err)
			}
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
