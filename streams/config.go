package streams

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The processing.guarantee values Kafka Streams 3.x takes.
const (
	AtLeastOnce   = "at_least_once"
	ExactlyOnceV2 = "exactly_once_v2"
)

// Config is the StreamsConfig of WordCountDemo: its defaults, and the properties of the
// optional config file the demo takes as its first argument.
type Config struct {
	ApplicationID string   // application.id (streams-wordcount)
	Bootstrap     []string // bootstrap.servers (localhost:9092)
	// Guarantee is processing.guarantee; "" picks exactly_once_v2 where the cluster serves
	// transactions (KIP-447) and at_least_once elsewhere. Kafka's own default is
	// at_least_once; the issue that asked for this tool wants exactly-once where it can be had.
	Guarantee string
	// CommitInterval is commit.interval.ms for at_least_once (Kafka's 30000). Under
	// exactly_once_v2 every poll's records are one transaction.
	CommitInterval time.Duration
	// ReplicationFactor is replication.factor for the internal topics: -1, the broker's
	// default.replication.factor, as in Kafka Streams 3.x.
	ReplicationFactor int16
	// SessionTimeout is the consumer's session.timeout.ms (45000): how long the group waits
	// for an instance that died without leaving before its tasks move.
	SessionTimeout time.Duration
	// TransactionTimeout is the producer's transaction.timeout.ms under exactly_once_v2
	// (Kafka Streams sets 10000): how long a dead instance's open transaction blocks
	// read_committed readers before the coordinator aborts it.
	TransactionTimeout time.Duration
	// ResetEarliest is auto.offset.reset=earliest, which WordCountDemo sets so that lines
	// written before it started are counted. It applies to the repartition topic too (Kafka
	// Streams reads that from the earliest offset whatever the setting), which matters only
	// to a group with no committed offsets, before anything was repartitioned.
	ResetEarliest bool
	// RestoreTimeout bounds the restoration of a task's store from its changelog, waiting for
	// a dead owner's transaction to be aborted included.
	RestoreTimeout time.Duration
}

// DefaultConfig is WordCountDemo's configuration.
func DefaultConfig() Config {
	return Config{
		ApplicationID:      DefaultApplicationID,
		Bootstrap:          []string{"localhost:9092"},
		CommitInterval:     30 * time.Second,
		ReplicationFactor:  -1,
		SessionTimeout:     45 * time.Second,
		TransactionTimeout: 10 * time.Second,
		ResetEarliest:      true,
		RestoreTimeout:     5 * time.Minute,
	}
}

// ParseProperties applies Kafka Streams properties (the demo's config file) over the
// defaults. A property Kafka Streams knows but this demo does not act on is noted on w and
// ignored; a bad value is an error naming the property.
func ParseProperties(props map[string]string, w io.Writer) (Config, error) {
	cfg := DefaultConfig()
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := strings.TrimSpace(props[k])
		// Kafka Streams passes consumer. and producer. prefixed properties to its clients.
		name := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(k, "consumer."), "main.consumer."), "producer.")
		switch name {
		case "application.id":
			if v == "" {
				return cfg, fmt.Errorf("Invalid value for configuration application.id: it must not be empty")
			}
			cfg.ApplicationID = v
		case "bootstrap.servers":
			cfg.Bootstrap = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					cfg.Bootstrap = append(cfg.Bootstrap, s)
				}
			}
		case "processing.guarantee":
			switch v {
			case AtLeastOnce, ExactlyOnceV2:
				cfg.Guarantee = v
			case "exactly_once", "exactly_once_beta":
				fmt.Fprintf(w, "Note: processing.guarantee=%s is deprecated in Kafka 3.x; klassik runs it as exactly_once_v2.\n", v)
				cfg.Guarantee = ExactlyOnceV2
			default:
				return cfg, fmt.Errorf("Invalid value %s for configuration processing.guarantee: String must be one of: at_least_once, exactly_once, exactly_once_beta, exactly_once_v2", v)
			}
		case "commit.interval.ms", "session.timeout.ms", "transaction.timeout.ms":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return cfg, fmt.Errorf("Invalid value %s for configuration %s: Not a non-negative number", v, name)
			}
			d := time.Duration(n) * time.Millisecond
			switch name {
			case "commit.interval.ms":
				cfg.CommitInterval = d
			case "session.timeout.ms":
				cfg.SessionTimeout = d
			default:
				cfg.TransactionTimeout = d
			}
		case "replication.factor":
			n, err := strconv.ParseInt(v, 10, 16)
			if err != nil || n == 0 || n < -1 {
				return cfg, fmt.Errorf("Invalid value %s for configuration replication.factor: must be -1 (the broker's default) or at least 1", v)
			}
			cfg.ReplicationFactor = int16(n)
		case "auto.offset.reset":
			switch v {
			case "earliest":
				cfg.ResetEarliest = true
			case "latest":
				cfg.ResetEarliest = false
			default:
				return cfg, fmt.Errorf("Invalid value %s for configuration auto.offset.reset: String must be one of: latest, earliest", v)
			}
		case "statestore.cache.max.bytes", "cache.max.bytes.buffering":
			if v != "0" {
				fmt.Fprintf(w, "Note: %s=%s is ignored: klassik's WordCount has no record cache and writes every update, as WordCountDemo with 0.\n", k, v)
			}
		case "default.key.serde", "default.value.serde":
			if !strings.HasSuffix(v, "StringSerde") {
				return cfg, fmt.Errorf("Invalid value %s for configuration %s: WordCountDemo reads strings (Serdes$StringSerde)", v, k)
			}
		default:
			fmt.Fprintf(w, "Note: property %s is not supported by klassik's WordCount and is ignored.\n", k)
		}
	}
	if len(cfg.Bootstrap) == 0 {
		return cfg, fmt.Errorf("Invalid value for configuration bootstrap.servers: no address given")
	}
	return cfg, nil
}
