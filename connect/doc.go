// Package connect is Kafka Connect in standalone mode, enough of it for Kafka's quickstart
// (step 6): `klassik connect-standalone connect-standalone.properties
// connect-file-source.properties connect-file-sink.properties` runs Kafka's own files
// unchanged. It mirrors these classes of Apache Kafka 3.6:
//
//	ConnectStandalone, StandaloneHerder   Worker (worker.go): one process, connectors from files
//	WorkerConfig, ConnectorConfig         config.go: the same property names, defaults and errors
//	JsonConverter, StringConverter,       converter.go, json.go: the bytes Kafka writes,
//	ByteArrayConverter                    {"schema":{"type":"string","optional":false},"payload":"foo"}
//	FileStreamSourceTask, WorkerSourceTask source.go, lines.go, submitted.go
//	FileStreamSinkTask, WorkerSinkTask    sink.go
//	FileOffsetBackingStore                offsets.go (its own file format, see there)
//	ConnectRestServer, ConnectorsResource rest.go: GET /, /connectors, /connectors/NAME/status, ...
//
// The connectors are built in: connector.class names FileStreamSourceConnector or
// FileStreamSinkConnector (fully qualified, simple, or without "Connector", as Kafka's plugin
// aliases allow), and plugin.path is accepted and ignored.
//
// Delivery is Kafka's. A source task produces each line with acks=all and idempotence, and
// commits the file position of a line to the offsets file only once the broker acknowledged
// it and every line before it (Kafka's SubmittedRecords), every offset.flush.interval.ms and
// at shutdown: a clean stop loses and repeats nothing; a crash repeats at most the lines
// acknowledged since the last flush. A sink task appends each record to its file, syncs the
// file, and only then commits the consumer group's offsets (group connect-NAME), again every
// offset.flush.interval.ms, on a rebalance and at shutdown: a crash repeats at most the
// records written since the last commit.
//
// The package talks to Kafka only through franz-go (kgo), so it works against any Kafka
// cluster; it imports no other klassik package except internal/properties.
package connect
