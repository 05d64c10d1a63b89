package streams

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// This file is Kafka Streams' InternalTopicManager for WordCount: the source and sink topics
// must exist (Kafka Streams fails with MissingSourceTopicException without the input topic;
// WordCountDemo's javadoc asks for both to be created first), and the internal topics are
// created with Kafka's configs when missing and checked when present.

// repartitionConfigs is RepartitionTopicConfig's overrides (with InternalTopicConfig's
// message.timestamp.type): a delete-policy topic kept forever, purged by the application
// with DeleteRecords once its records are committed.
func repartitionConfigs() map[string]*string {
	return map[string]*string{
		"cleanup.policy":         kadm.StringPtr("delete"),
		"segment.bytes":          kadm.StringPtr("52428800"),
		"retention.ms":           kadm.StringPtr("-1"),
		"message.timestamp.type": kadm.StringPtr("CreateTime"),
	}
}

// changelogConfigs is UnwindowedUnversionedChangelogTopicConfig's overrides: compacted, so
// the changelog keeps each word's last count.
func changelogConfigs() map[string]*string {
	return map[string]*string{
		"cleanup.policy":         kadm.StringPtr("compact"),
		"message.timestamp.type": kadm.StringPtr("CreateTime"),
	}
}

// ensureTopics checks the input and output topics, creates the repartition and changelog
// topics where missing with as many partitions as the input topic (Kafka Streams' partition
// count for a repartition topic is its source's; a changelog has one partition per task),
// and returns that count.
func ensureTopics(ctx context.Context, adm *kadm.Client, cfg Config) (int32, error) {
	rep, chg := RepartitionTopic(cfg.ApplicationID), ChangelogTopic(cfg.ApplicationID)
	md, err := adm.Metadata(ctx, InputTopic, OutputTopic, rep, chg)
	if err != nil {
		return 0, fmt.Errorf("Could not read the metadata of the WordCount topics: %w", err)
	}
	count := func(t string) (int32, error) {
		d, ok := md.Topics[t]
		if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return 0, nil
		}
		if d.Err != nil {
			return 0, fmt.Errorf("Topic %s: %w", t, d.Err)
		}
		return int32(len(d.Partitions)), nil
	}
	n, err := count(InputTopic)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("Source topic %s does not exist: create it first, as Kafka's Streams quickstart does (klassik topics --create --topic %s --bootstrap-server ...)", InputTopic, InputTopic)
	}
	if out, err := count(OutputTopic); err != nil {
		return 0, err
	} else if out == 0 {
		return 0, fmt.Errorf("Sink topic %s does not exist: create it first, as Kafka's Streams quickstart does (klassik topics --create --topic %s --config cleanup.policy=compact --bootstrap-server ...)", OutputTopic, OutputTopic)
	}
	for _, it := range []struct {
		topic   string
		configs map[string]*string
	}{{rep, repartitionConfigs()}, {chg, changelogConfigs()}} {
		have, err := count(it.topic)
		if err != nil {
			return 0, err
		}
		if have == 0 {
			resp, err := adm.CreateTopic(ctx, n, cfg.ReplicationFactor, it.configs, it.topic)
			switch {
			case errors.Is(err, kerr.TopicAlreadyExists):
				// Another instance made it at the same moment: check what it made.
				md2, err := adm.Metadata(ctx, it.topic)
				if err != nil {
					return 0, err
				}
				have = int32(len(md2.Topics[it.topic].Partitions))
			case err != nil:
				return 0, fmt.Errorf("Could not create internal topic %s (%d partitions, replication.factor %d): %s", it.topic, n, cfg.ReplicationFactor, errText(err, resp.ErrMessage))
			default:
				continue
			}
		}
		if have != n {
			// InternalTopicManager's check: the tasks of sub-topology 1 are the repartition
			// topic's partitions, and each needs its own changelog partition.
			return 0, fmt.Errorf("Existing internal topic %s has invalid partitions: expected: %d; actual: %d. Use 'kafka-streams-application-reset.sh' to reset, or delete the topic (klassik topics --delete --topic %s)", it.topic, n, have, it.topic)
		}
	}
	return n, nil
}

// errText is a Kafka error with the broker's message where it sent one.
func errText(err error, msg string) string {
	if msg != "" {
		return msg
	}
	return err.Error()
}
