// Package conf is klassik's broker configuration. It mirrors Apache Kafka's KafkaConfig: the
// same property names, the same types, the same defaults and, where Kafka has them, the same
// rules, so that Kafka's documentation describes a klassik broker truthfully.
//
// A broker's configuration comes from three layers, each overriding the one before.
//
// First, server.toml, written with Kafka's property names as TOML dotted keys, so that a line
// reads like a line of Kafka's server.properties:
//
//	broker.id = 1
//	listeners = "PLAINTEXT://127.0.0.1:9092"
//	zookeeper.connect = "127.0.0.1:2181/klassik"
//	log.dirs = "/var/lib/klassik"
//
// TOML turns broker.id into a table "broker" holding "id"; conf flattens the tables back into
// "broker.id". Quoted keys ("broker.id" = 1) and [sections] work as well.
//
// Second, KAFKA_* environment variables, read as the common Kafka container images read them
// (see EnvProperty): strip KAFKA_ (or bitnami's KAFKA_CFG_), lowercase, and turn _ into .,
// __ into _ and ___ into - (Confluent's rule), so KAFKA_ZOOKEEPER_CONNECT sets
// zookeeper.connect. The variables the images keep for the JVM (KAFKA_HEAP_OPTS, KAFKA_OPTS,
// KAFKA_JMX_*, KAFKA_LOG4J_*, ...) are ignored; any other unknown one is an error.
//
// Third, --override key=value flags, as kafka-server-start.sh takes them.
//
// Every property is one row of a single table (properties.go) holding its name, Kafka type,
// default, the Config field it fills, its rule and a line of documentation. That table drives
// the defaults, the three layers, Validate, the effective listing the broker logs at start
// (Config.Properties, Config.String) and the reference (Docs).
//
// Some properties are folded into another one, with Kafka's precedence:
// log.retention.ms > log.retention.minutes > log.retention.hours, log.roll.ms > log.roll.hours,
// log.dirs > log.dir. zookeeper.connection.timeout.ms defaults to zookeeper.session.timeout.ms,
// advertised.listeners to listeners, and inter.broker.listener.name to the advertised listener
// named PLAINTEXT if there is one (Kafka's default), else the first one.
//
// Errors are sentences that name the property, the value and what is allowed, and say where
// the value came from: an unknown property names the closest known one.
//
// conf is a leaf: it imports no klassik package.
package conf
