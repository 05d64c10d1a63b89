// Package tools is Kafka's command-line toolbox for klassik. Each command is named after the
// Kafka script it stands for and takes that script's flags (as of Kafka 3.6), so a Kafka
// tutorial works with `klassik X` in place of `kafka-X.sh`:
//
//	klassik topics              kafka-topics.sh               (TopicCommand)
//	klassik console-producer    kafka-console-producer.sh     (ConsoleProducer)
//	klassik console-consumer    kafka-console-consumer.sh     (ConsoleConsumer)
//	klassik consumer-groups     kafka-consumer-groups.sh      (ConsumerGroupCommand)
//	klassik configs             kafka-configs.sh              (ConfigCommand)
//	klassik zookeeper-shell     zookeeper-shell.sh            (ZooKeeper's ZooKeeperMain)
//	klassik producer-perf-test  kafka-producer-perf-test.sh   (ProducerPerformance)
//	klassik consumer-perf-test  kafka-consumer-perf-test.sh   (ConsumerPerformance)
//	klassik transactions        kafka-transactions.sh         (TransactionsCommand)
//	klassik leader-election     kafka-leader-election.sh      (LeaderElectionCommand)
//	klassik log-dirs            kafka-log-dirs.sh             (LogDirsCommand)
//	klassik delete-records      kafka-delete-records.sh       (DeleteRecordsCommand)
//	klassik get-offsets         kafka-get-offsets.sh          (GetOffsetShell)
//	klassik broker-api-versions kafka-broker-api-versions.sh  (BrokerApiVersionsCommand)
//	klassik dump-log            kafka-dump-log.sh             (DumpLogSegments)
//	klassik reassign-partitions kafka-reassign-partitions.sh  (ReassignPartitionsCommand)
//	klassik acls                kafka-acls.sh                 (AclCommand)
//	klassik streams-wordcount   kafka-run-class.sh ...WordCountDemo (Kafka Streams' WordCount; package streams)
//	klassik healthcheck         (none: a Metadata probe for container healthchecks)
//
// The tools speak only the Kafka protocol (through franz-go's kgo and kadm) and, for
// zookeeper-shell, the ZooKeeper protocol (go-zookeeper); dump-log reads segment files
// directly through package record, the one decoder of record bytes, and streams-wordcount runs
// package streams, Kafka Streams' WordCountDemo on franz-go. They import no other
// klassik package, so they work against any Kafka cluster and its files. Only the --bootstrap-server forms are
// supported: the --zookeeper forms that Kafka removed in 3.0 are not.
//
// Every command writes to the writers it is given and returns an exit code, so it can be
// tested without a process: 0 on success (and for --help), 1 on any error, with the error
// printed as one sentence on stderr.
package tools

import "io"

// Command is one subcommand of the klassik binary.
type Command struct {
	Name    string // e.g. "topics"
	Summary string
	Run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int // exit code
}

// Commands lists the tools in the order they are shown in the binary's usage.
func Commands() []Command {
	return []Command{
		{"topics", "create, delete, describe, or change a topic (kafka-topics.sh)", runTopics},
		{"console-producer", "read lines from stdin and produce them to a topic (kafka-console-producer.sh)", runConsoleProducer},
		{"console-consumer", "consume a topic and print the records to stdout (kafka-console-consumer.sh)", runConsoleConsumer},
		{"consumer-groups", "list, describe, delete consumer groups, or reset their offsets (kafka-consumer-groups.sh)", runConsumerGroups},
		{"configs", "describe or alter topic and broker configs (kafka-configs.sh)", runConfigs},
		{"zookeeper-shell", "run ZooKeeper shell commands: ls, get, stat, ... (zookeeper-shell.sh)", runZookeeperShell},
		{"producer-perf-test", "measure producer throughput and latency (kafka-producer-perf-test.sh)", runProducerPerfTest},
		{"consumer-perf-test", "measure consumer throughput (kafka-consumer-perf-test.sh)", runConsumerPerfTest},
		{"transactions", "list, describe transactions and producers, abort hanging transactions (kafka-transactions.sh)", runTransactions},
		{"leader-election", "elect the preferred (or, unclean, any live) replica as leader (kafka-leader-election.sh)", runLeaderElection},
		{"log-dirs", "describe the log directories of brokers as JSON (kafka-log-dirs.sh)", runLogDirs},
		{"delete-records", "delete records up to an offset per partition (kafka-delete-records.sh)", runDeleteRecords},
		{"get-offsets", "print the offsets of partitions at a time: earliest, latest, ... (kafka-get-offsets.sh)", runGetOffsets},
		{"broker-api-versions", "print the API versions each broker supports (kafka-broker-api-versions.sh)", runBrokerAPIVersions},
		{"dump-log", "print the batches and records of segment and index files (kafka-dump-log.sh)", runDumpLog},
		{"reassign-partitions", "generate, execute, verify or cancel partition reassignments (kafka-reassign-partitions.sh)", runReassignPartitions},
		{"acls", "add, remove or list ACLs (kafka-acls.sh)", runAcls},
		{"streams-wordcount", "count words from streams-plaintext-input into streams-wordcount-output (Kafka Streams' WordCountDemo)", runStreamsWordCount},
		{"healthcheck", "exit 0 if a broker answers a Metadata request (for container healthchecks)", runHealthcheck},
	}
}
