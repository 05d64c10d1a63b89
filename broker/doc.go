// Package broker is the klassik broker process: Kafka's KafkaServer, KafkaApis and
// ReplicaManager in one folder.
//
// A broker owns:
//
//   - the listeners (wire.Server), whose requests land in Broker.Handle and are dispatched to
//     one handler per Kafka API, each in its own file named after the API key
//     (00_produce.go, 01_fetch.go, ...). ApiVersions is built from what those files register,
//     so the broker never advertises an API it lacks;
//   - the logs of every partition it hosts (logstore.Manager) and, per partition, the replica
//     state of classic Kafka: leader or follower, leader epoch, ISR, high watermark
//     (partition.go, replica_manager.go);
//   - the metadata cache, fed only by the controller's UpdateMetadata requests, so that any
//     broker answers Metadata the same way (metadata_cache.go);
//   - the ZooKeeper session: registration at /brokers/ids/<id>, re-registration after a lost
//     session, and the watches it hands to the controller (zk.go);
//   - a controller (coordinator/controller), active only on the broker that wins /controller.
//     The controller talks to every broker, itself included, over the Kafka protocol
//     (controller_channel.go implements its Sender).
//
// Data path: Produce appends the record batches as they came (logstore validates the batch
// headers and CRCs, rewrites the base offsets, never decodes records); Fetch returns stored
// bytes up to the high watermark. acks=all and long-polling fetches wait on the partition's
// change signal rather than polling.
package broker
