package tools

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/klassik/klassik/streams"
	"github.com/twmb/franz-go/pkg/kgo"
)

// streams-wordcount runs Kafka Streams' WordCountDemo, which Kafka's quickstart starts with
// `bin/kafka-run-class.sh org.apache.kafka.streams.examples.wordcount.WordCountDemo`: it
// counts the words of streams-plaintext-input into streams-wordcount-output (package
// streams). Like the demo it takes an optional Kafka Streams properties file as its argument;
// --bootstrap-server, where given, overrides the file's bootstrap.servers. SIGINT or SIGTERM
// ends the last transaction, leaves the group and exits 0, as the demo's shutdown hook does.
// KLASSIK_LOG_LEVEL=debug (or info, warn, error) adds franz-go's own log lines.

func streamsWordCountFlags() *flagSet {
	fs := newFlagSet("streams-wordcount", "Count the words of streams-plaintext-input into streams-wordcount-output, as Kafka Streams' WordCountDemo does.\n\n"+
		"klassik streams-wordcount [--bootstrap-server B] [streams.properties]\n"+
		"The properties file takes Kafka Streams' names: application.id (streams-wordcount), bootstrap.servers,\n"+
		"processing.guarantee (exactly_once_v2 where the cluster serves transactions, else at_least_once),\n"+
		"commit.interval.ms, replication.factor, session.timeout.ms, transaction.timeout.ms, auto.offset.reset.")
	fs.Value("bootstrap-server", "String: server to connect to", "", "The server(s) to connect to (default: the file's bootstrap.servers, else localhost:9092, as WordCountDemo).")
	return fs
}

func runStreamsWordCount(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := streamsWordCountFlags()
	return run(fs, args, stdout, stderr, func() error {
		if len(fs.args) > 1 {
			io.WriteString(stderr, "Warning: Some command line arguments were ignored. This demo only accepts an optional configuration file.\n")
		}
		props := map[string]string{}
		if len(fs.args) > 0 {
			var err error
			if props, err = loadConfigFile(fs.args[0]); err != nil {
				return err
			}
		}
		if b := fs.byName["bootstrap-server"]; b.given {
			props["bootstrap.servers"] = b.str()
		}
		cfg, err := streams.ParseProperties(props, stderr)
		if err != nil {
			return err
		}
		var opts []kgo.Opt
		if l := clientLogLevel(os.Getenv("KLASSIK_LOG_LEVEL")); l != kgo.LogLevelNone {
			opts = append(opts, kgo.WithLogger(kgo.BasicLogger(stderr, l, nil)))
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return streams.Run(ctx, cfg, stderr, opts...)
	})
}

// clientLogLevel maps KLASSIK_LOG_LEVEL to franz-go's levels; unset is none.
func clientLogLevel(s string) kgo.LogLevel {
	switch strings.ToLower(s) {
	case "debug":
		return kgo.LogLevelDebug
	case "info":
		return kgo.LogLevelInfo
	case "warn":
		return kgo.LogLevelWarn
	case "error":
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}
