package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// connectTimeout bounds how long a tool waits for the first broker to answer before it gives
// up with a message naming the addresses it tried.
var connectTimeout = 10 * time.Second

// requestTimeout bounds each administrative call after the connection is made.
var requestTimeout = 30 * time.Second

// run wraps a command body: it parses the flags, prints usage on --help (exit 0) or on a usage
// error (exit 1), and prints any other error as one sentence (exit 1).
func run(fs *flagSet, args []string, stdout, stderr io.Writer, body func() error) int {
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelp) {
			fs.usage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "Run 'klassik %s --help' for usage.\n", fs.cmd)
		return 1
	}
	opts, err := commandConfigOpts(fs, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fs.clientOpts = opts
	if err := body(); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, ue.msg)
			fmt.Fprintf(stderr, "Run 'klassik %s --help' for usage.\n", fs.cmd)
			return 1
		}
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// exitCode ends a command with that code after it has printed what it has to say.
type exitCode int

func (e exitCode) Error() string { return "exit " + strconv.Itoa(int(e)) }

// splitServers splits a bootstrap list ("h1:9092,h2:9092") into addresses.
func splitServers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newClient makes a client for the bootstrap list and checks within connectTimeout that a
// broker answers, so an unreachable cluster fails with a clear sentence rather than a hang.
func newClient(bootstrap string, opts ...kgo.Opt) (*kgo.Client, error) {
	seeds := splitServers(bootstrap)
	if len(seeds) == 0 {
		return nil, usageErrorf("Missing required argument \"[bootstrap-server]\"")
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.DialTimeout(5 * time.Second),
		kgo.RetryTimeout(connectTimeout),
		kgo.ClientID("klassik-tools"),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := pingMetadata(ctx, cl); err != nil {
		cl.Close()
		return nil, fmt.Errorf("Could not reach any broker at %s within %s: %v", strings.Join(seeds, ","), connectTimeout, rootCause(err))
	}
	return cl, nil
}

// pingMetadata sends a Metadata request for no topics, again every half second until one is
// answered or ctx ends: a refused connection fails at once, and a broker starting up may
// answer a moment later.
func pingMetadata(ctx context.Context, cl *kgo.Client) error {
	for {
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		_, err := req.RequestWith(ctx, cl)
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// rootCause shortens context errors to what a user needs to read.
func rootCause(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out")
	}
	if strings.Contains(err.Error(), "broker is too old") {
		return errors.New("the broker does not support this request")
	}
	return err
}

func reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// adminFlags declares the options the admin commands (topics, consumer-groups, configs) share:
// --bootstrap-server, with the command's own help sentence, and --command-config.
func adminFlags(fs *flagSet, bootstrapHelp string) {
	fs.Value("bootstrap-server", "String: server to connect to", "", bootstrapHelp)
	fs.Value("command-config", "String: command config property file", "", commandConfigHelp)
}

// commandConfigHelp is --command-config's help line.
const commandConfigHelp = "Property file containing configs to be passed to Admin Client; klassik reads its security properties (security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, ssl.keystore.* in PEM)."

// adminBootstrap returns an admin command's required --bootstrap-server.
func adminBootstrap(fs *flagSet, _ io.Writer) (string, error) {
	if err := fs.requireGiven("bootstrap-server"); err != nil {
		return "", err
	}
	return fs.byName["bootstrap-server"].str(), nil
}

// withAdmin connects to bootstrap with opts (the --command-config security options) and runs
// f with the client, an admin client on it and a context bounded by requestTimeout; the client
// is closed when f returns. An error in connecting is returned as newClient gives it.
func withAdmin(bootstrap string, opts []kgo.Opt, f func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error) error {
	cl, err := newClient(bootstrap, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := reqCtx()
	defer cancel()
	return f(ctx, cl, kadm.NewClient(cl))
}

// brokerListFlags declares --bootstrap-server and the deprecated --broker-list that stands in
// for it, as console-producer and consumer-perf-test take them.
func brokerListFlags(fs *flagSet) {
	fs.Value("bootstrap-server", "String: server to connect to", "", "REQUIRED unless --broker-list (deprecated) is specified. The server(s) to connect to.")
	fs.Value("broker-list", "String: broker-list", "", "DEPRECATED, use --bootstrap-server instead.")
}

// bootstrapOrBrokerList returns --bootstrap-server, else --broker-list; one of them is required.
func bootstrapOrBrokerList(fs *flagSet) (string, error) {
	bootstrap := fs.byName["bootstrap-server"].str()
	if bootstrap == "" {
		bootstrap = fs.byName["broker-list"].str()
	}
	if bootstrap == "" {
		return "", missing("bootstrap-server")
	}
	return bootstrap, nil
}

// kafkaErr renders a Kafka error code and its optional message as a sentence.
func kafkaErr(err error, msg *string) string {
	if msg != nil && *msg != "" {
		return *msg
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Description
	}
	return err.Error()
}

// groupsSupported reports whether the cluster answers the consumer group APIs (FindCoordinator,
// JoinGroup, OffsetCommit), so tools can fall back to assigning partitions themselves.
func groupsSupported(ctx context.Context, cl *kgo.Client) bool {
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		return false
	}
	need := map[int16]bool{10: false, 11: false, 8: false, 9: false, 14: false}
	for _, k := range resp.ApiKeys {
		if _, ok := need[k.ApiKey]; ok {
			need[k.ApiKey] = true
		}
	}
	for _, ok := range need {
		if !ok {
			return false
		}
	}
	return true
}

// topicPartitions lists the partitions of a topic from metadata.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string) ([]int32, error) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		if ok && td.Err != nil && !errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return nil, td.Err
		}
		return nil, fmt.Errorf("Topic '%s' does not exist", topic)
	}
	var ps []int32
	for p := range td.Partitions {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps, nil
}

// loadConfigFile reads a --producer.config/--consumer.config/--command-config properties file.
func loadConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Could not read config file: %v", err)
	}
	return parsePropertiesFile(string(b)), nil
}

// producerOpts maps Kafka producer properties to kgo options. Properties that have no
// counterpart are reported on stderr and otherwise ignored.
func producerOpts(props map[string]string, stderr io.Writer) ([]kgo.Opt, error) {
	// Kafka's producer gives up on a record after delivery.timeout.ms (120000); kgo retries
	// forever unless told. The later options below override it.
	opts := []kgo.Opt{kgo.RecordDeliveryTimeout(120 * time.Second)}
	acks := "all"
	if v, ok := props["acks"]; ok {
		acks = v
	}
	switch acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration acks: String must be one of: all, -1, 0, 1", acks)
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		switch k {
		case "acks", "bootstrap.servers", "key.serializer", "value.serializer":
		case "enable.idempotence":
			if v == "false" && (acks == "all" || acks == "-1") {
				opts = append(opts, kgo.DisableIdempotentWrite())
			}
		case "linger.ms":
			n, err := propInt(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.ProducerLinger(time.Duration(n)*time.Millisecond))
		case "batch.size":
			n, err := propInt(k, v)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
			}
		case "max.request.size":
			n, err := propInt(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
		case "compression.type":
			c, err := codec(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.ProducerBatchCompression(c))
		case "client.id":
			opts = append(opts, kgo.ClientID(v))
		case "request.timeout.ms", "delivery.timeout.ms":
			n, err := propInt(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.RecordDeliveryTimeout(time.Duration(n)*time.Millisecond))
		case "buffer.memory", "max.in.flight.requests.per.connection", "retries", "retry.backoff.ms":
			// kgo manages its own buffering and retries.
		default:
			if isSecurityProp(k) {
				continue // clientSecurityOpts, below
			}
			fmt.Fprintf(stderr, "Note: producer property %s is not supported by klassik and is ignored.\n", k)
		}
	}
	sec, err := clientSecurityOpts(props)
	if err != nil {
		return nil, err
	}
	return append(opts, sec...), nil
}

// codec maps a Kafka compression name to a kgo codec.
func codec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("Unknown compression codec %q: expected none, gzip, snappy, lz4 or zstd", name)
}

// propInt reads the number a numeric client property k holds, with Kafka's error if it is none.
func propInt(k, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("Invalid value %s for configuration %s: Not a number", v, k)
	}
	return n, nil
}

// consumerIntOpts maps the numeric consumer properties to the kgo option each becomes.
var consumerIntOpts = map[string]func(n int) kgo.Opt{
	"fetch.max.bytes":           func(n int) kgo.Opt { return kgo.FetchMaxBytes(int32(n)) },
	"max.partition.fetch.bytes": func(n int) kgo.Opt { return kgo.FetchMaxPartitionBytes(int32(n)) },
	"fetch.max.wait.ms":         func(n int) kgo.Opt { return kgo.FetchMaxWait(time.Duration(n) * time.Millisecond) },
	"fetch.min.bytes":           func(n int) kgo.Opt { return kgo.FetchMinBytes(int32(n)) },
	"session.timeout.ms":        func(n int) kgo.Opt { return kgo.SessionTimeout(time.Duration(n) * time.Millisecond) },
	"heartbeat.interval.ms":     func(n int) kgo.Opt { return kgo.HeartbeatInterval(time.Duration(n) * time.Millisecond) },
}

// consumerOpts maps Kafka consumer properties to kgo options (group.id is handled by the caller).
func consumerOpts(props map[string]string, stderr io.Writer) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		if numOpt, ok := consumerIntOpts[k]; ok {
			n, err := propInt(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, numOpt(n))
			continue
		}
		switch k {
		case "group.id", "auto.offset.reset", "bootstrap.servers", "key.deserializer", "value.deserializer", "enable.auto.commit":
			// read by the caller
		case "client.id":
			opts = append(opts, kgo.ClientID(v))
		case "isolation.level":
			l, err := isolation(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, l)
		case "max.poll.records", "auto.commit.interval.ms", "request.timeout.ms":
		default:
			if isSecurityProp(k) {
				continue // clientSecurityOpts, below
			}
			fmt.Fprintf(stderr, "Note: consumer property %s is not supported by klassik and is ignored.\n", k)
		}
	}
	sec, err := clientSecurityOpts(props)
	if err != nil {
		return nil, err
	}
	return append(opts, sec...), nil
}

func isolation(v string) (kgo.Opt, error) {
	switch v {
	case "read_uncommitted":
		return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
	case "read_committed":
		return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
	}
	return nil, fmt.Errorf("Invalid value %s for configuration isolation.level: String must be one of: read_committed, read_uncommitted", v)
}

// joinInts renders broker ids like Kafka: 1,2,3.
func joinInts(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ",")
}
