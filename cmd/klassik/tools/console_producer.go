package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// console-producer mirrors kafka-console-producer.sh (Kafka's ConsoleProducer with its
// LineMessageReader): each line of stdin becomes one record; with --property parse.key=true
// the line is split at key.separator into key and value.

func consoleProducerFlags() *flagSet {
	fs := newFlagSet("console-producer", "Read lines from standard input and publish them to a topic (kafka-console-producer.sh).")
	brokerListFlags(fs)
	fs.Value("topic", "String: topic", "", "REQUIRED: The topic id to produce messages to.")
	fs.Value("property", "String: prop", "", "A mechanism to pass properties to the message reader: parse.key, key.separator, ignore.error, null.marker, parse.headers, headers.delimiter, headers.separator, headers.key.separator (repeatable).")
	fs.Value("producer-property", "String: producer_prop", "", "A mechanism to pass user-defined properties in the form key=value to the producer (repeatable).")
	fs.Value("producer.config", "String: config file", "", "Producer config properties file. Note that --producer-property takes precedence over this config.")
	fs.Value("request-required-acks", "String: request required acks", "", "The required acks of the producer requests (default: -1).")
	fs.Optional("compression-codec", "String: compression-codec", "gzip", "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. If specified without value, then it defaults to 'gzip'.")
	fs.Bool("sync", "If set message send requests to the brokers are synchronously, one at a time as they arrive.")
	fs.Value("linger-ms", "Integer: linger_ms", "", "The producer's linger.ms.")
	fs.Value("batch-size", "Integer: size", "", "Number of messages to send in a single batch if they are not being sent synchronously.")
	fs.Value("timeout", "Integer: timeout_ms", "", "The producer's linger.ms when sending asynchronously (Kafka's name for it).")
	fs.Value("request-timeout-ms", "Integer: request timeout ms", "", "The ack timeout of the producer requests.")
	fs.Value("max-block-ms", "Long: max block on send", "", "Accepted for compatibility; ignored.")
	fs.Value("message-send-max-retries", "Integer", "", "Accepted for compatibility; ignored.")
	fs.Value("retry-backoff-ms", "Long", "", "Accepted for compatibility; ignored.")
	return fs
}

// readerProps are the LineMessageReader properties.
type readerProps struct {
	parseKey      bool
	keySep        string
	ignoreError   bool
	nullMarker    string
	hasNullMarker bool
	parseHeaders  bool
	headersDelim  string
	headersSep    string
	headersKeySep string
}

func newReaderProps(m map[string]string) readerProps {
	r := readerProps{keySep: "\t", headersDelim: "\t", headersSep: ",", headersKeySep: ":"}
	for k, v := range m {
		switch k {
		case "parse.key":
			r.parseKey = strings.EqualFold(strings.TrimSpace(v), "true")
		case "key.separator":
			r.keySep = unescape(v)
		case "ignore.error":
			r.ignoreError = strings.EqualFold(strings.TrimSpace(v), "true")
		case "null.marker":
			r.nullMarker, r.hasNullMarker = v, true
		case "parse.headers":
			r.parseHeaders = strings.EqualFold(strings.TrimSpace(v), "true")
		case "headers.delimiter":
			r.headersDelim = unescape(v)
		case "headers.separator":
			r.headersSep = unescape(v)
		case "headers.key.separator":
			r.headersKeySep = unescape(v)
		}
	}
	return r
}

// lineToRecord turns one input line (numbered from 1) into a record, as LineMessageReader does.
func (r readerProps) lineToRecord(topic, line string, lineNo int) (*kgo.Record, error) {
	rec := &kgo.Record{Topic: topic}
	rest := line
	if r.parseHeaders {
		i := strings.Index(rest, r.headersDelim)
		if i < 0 {
			if !r.ignoreError {
				return nil, fmt.Errorf("No headers delimiter found on line number %d: '%s'", lineNo, line)
			}
		} else {
			hs := rest[:i]
			rest = rest[i+len(r.headersDelim):]
			if hs != "" {
				for _, h := range strings.Split(hs, r.headersSep) {
					k, v, ok := strings.Cut(h, r.headersKeySep)
					hdr := kgo.RecordHeader{Key: k}
					if ok && !(r.hasNullMarker && v == r.nullMarker) {
						hdr.Value = []byte(v)
					}
					rec.Headers = append(rec.Headers, hdr)
				}
			}
		}
	}
	value := rest
	if r.parseKey {
		i := strings.Index(rest, r.keySep)
		if i < 0 {
			if !r.ignoreError {
				return nil, fmt.Errorf("No key separator found on line number %d: '%s'", lineNo, line)
			}
		} else {
			key := rest[:i]
			value = rest[i+len(r.keySep):]
			if !(r.hasNullMarker && key == r.nullMarker) {
				rec.Key = []byte(key)
			}
		}
	}
	if !(r.hasNullMarker && value == r.nullMarker) {
		rec.Value = []byte(value)
	}
	return rec, nil
}

func runConsoleProducer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := consoleProducerFlags()
	return run(fs, args, stdout, stderr, func() error {
		bootstrap, err := bootstrapOrBrokerList(fs)
		if err != nil {
			return err
		}
		if err := fs.requireGiven("topic"); err != nil {
			return err
		}
		topic := fs.byName["topic"].str()
		rprops, err := parseProps(fs.byName["property"].all())
		if err != nil {
			return err
		}
		reader := newReaderProps(rprops)
		pprops, err := loadConfigFile(fs.byName["producer.config"].str())
		if err != nil {
			return err
		}
		if o := fs.byName["request-required-acks"]; o.given {
			pprops["acks"] = o.str()
		}
		if o := fs.byName["compression-codec"]; o.given {
			pprops["compression.type"] = o.str()
		}
		if o := fs.byName["linger-ms"]; o.given {
			pprops["linger.ms"] = o.str()
		}
		if o := fs.byName["timeout"]; o.given {
			pprops["linger.ms"] = o.str()
		}
		if o := fs.byName["request-timeout-ms"]; o.given {
			pprops["request.timeout.ms"] = o.str()
		}
		over, err := parseProps(fs.byName["producer-property"].all())
		if err != nil {
			return err
		}
		for k, v := range over {
			pprops[k] = v
		}
		popts, err := producerOpts(pprops, stderr)
		if err != nil {
			return err
		}
		popts = append([]kgo.Opt{kgo.ClientID("console-producer")}, popts...)
		clientID := "console-producer"
		if id := pprops["client.id"]; id != "" {
			clientID = id
		}
		popts = append(popts, kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
			kgo.WithLogger(&produceWarnings{w: stderr, clientID: clientID}))
		cl, err := newClient(bootstrap, popts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		return produceLines(cl, stdin, topic, reader, fs.byName["sync"].given, stderr)
	})
}

// produceLines reads stdin to EOF, producing a record per line, then flushes. A send that
// fails is reported on stderr (as Kafka's ErrorLoggingCallback does) and makes the exit code 1.
func produceLines(cl *kgo.Client, stdin io.Reader, topic string, reader readerProps, syncSend bool, stderr io.Writer) error {
	ctx := context.Background()
	var mu sync.Mutex
	failed := 0
	report := func(r *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed++
		key := "null"
		if r.Key != nil {
			key = string(r.Key)
		}
		fmt.Fprintf(stderr, "Error when sending message to topic %s with key: %s, value: %d bytes with error: %v\n", topic, key, len(r.Value), err)
	}
	br := bufio.NewReaderSize(stdin, 64*1024)
	lineNo := 0
	for {
		line, readErr := br.ReadString('\n')
		if readErr != nil && readErr != io.EOF {
			return fmt.Errorf("Error reading standard input: %v", readErr)
		}
		if line == "" && readErr == io.EOF {
			break
		}
		lineNo++
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		rec, err := reader.lineToRecord(topic, line, lineNo)
		if err != nil {
			return err
		}
		if syncSend {
			if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
				report(rec, err)
			}
		} else {
			cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
				if err != nil {
					report(r, err)
				}
			})
		}
		if readErr == io.EOF {
			break
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if failed > 0 {
		return errors.New(plural(failed, "message was", "messages were") + " not sent.")
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
