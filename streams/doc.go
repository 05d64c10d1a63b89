// Package streams is Kafka Streams' WordCountDemo (org.apache.kafka.streams.examples.wordcount,
// step 7 of Kafka's quickstart) written on franz-go, so that `klassik streams-wordcount` does
// what `bin/kafka-run-class.sh org.apache.kafka.streams.examples.wordcount.WordCountDemo`
// does, with the same topics, the same consumer group and the same bytes:
//
//	builder.stream("streams-plaintext-input")
//	    .flatMapValues(value -> Arrays.asList(value.toLowerCase(Locale.getDefault()).split("\\W+")))
//	    .groupBy((key, value) -> value)
//	    .count()
//	    .toStream().to("streams-wordcount-output", Produced.with(Serdes.String(), Serdes.Long()));
//
// Kafka Streams builds two sub-topologies from this, and so does this package:
//
//	sub-topology 0, task 0_p: streams-plaintext-input partition p
//	    -> lower-case, split on \W+ -> one record per word (key word, value word)
//	    -> <application.id>-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition,
//	       partition murmur2(word) % n, as Kafka's default partitioner chooses
//	sub-topology 1, task 1_p: the repartition topic's partition p
//	    -> count in the store of task 1_p (word -> count)
//	    -> <application.id>-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog partition p
//	       (compacted; key word, value the count), and streams-wordcount-output
//	       (key word, value the count as LongSerializer's 8 bytes, big-endian)
//
// The names are the ones Kafka generates for this topology: count() without Materialized.as
// takes the store name KSTREAM-AGGREGATE-STATE-STORE-0000000003 (the builder's counter after
// the source, flatMapValues and the key selector), and the repartition and changelog topics
// are named after the store with the application id in front (InternalTopologyBuilder).
// (Kafka's Streams tutorial writes the same WordCount with Materialized.as("counts-store"),
// which would make them streams-wordcount-counts-store-changelog and -repartition; the demo
// that the quickstart runs names no store.) The repartition step is what makes the counts
// right with several input partitions: every occurrence of a word, from any line on any
// partition, reaches the one task that counts it.
//
// The consumer group is the application id (streams-wordcount); one member consumes both the
// input topic and the repartition topic, so several instances share both sub-topologies' tasks
// as Kafka Streams instances do. A task's store is in memory (WordCountDemo's default is
// RocksDB on local disk); it is restored from the changelog when the group hands the task to
// an instance, so a restarted or second instance carries on from the last committed counts.
//
// Processing guarantees (processing.guarantee):
//
//   - exactly_once_v2 (KIP-447), the default where the cluster serves transactions: one
//     transactional producer per instance (franz-go's GroupTransactSession, transactional.id
//     <application.id>-<process id>-StreamThread-1 with a random process id, as a Kafka Streams
//     instance without a state directory has), and one transaction per poll holding the
//     repartition, changelog and output records and the input and repartition offsets. A
//     rebalance or failure aborts it; the store's changes of that transaction are rolled back
//     and the records are processed again. Consumers read with read_committed.
//   - at_least_once (Kafka Streams' own default): records are produced, flushed, and offsets
//     committed every commit.interval.ms (30000) and when partitions are revoked; a crash in
//     between counts some records twice.
//
// Output: WordCountDemo sets statestore.cache.max.bytes to 0, so there is no record cache and
// every count update is written, one output record per word occurrence, in order; so here.
// Kafka's quickstart shows that stream (all 1, streams 1, ..., kafka 3, summit 1).
//
// Kafka classes this package mirrors: KafkaStreams and StreamThread (app.go, thread.go),
// InternalTopicManager (topics.go), StoreChangelogReader (restore.go), the in-memory
// KeyValueStore with its change logging (store.go), and WordCountDemo (wordcount.go). It
// imports no klassik package: it runs against any Kafka cluster.
package streams
