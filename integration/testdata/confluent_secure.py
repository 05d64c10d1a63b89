#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) against a secured listener: the client's own security
configuration comes as a JSON object (security.protocol, sasl.mechanisms, sasl.username,
sasl.password, ssl.ca.location, ssl.certificate.location, ssl.key.location). It first asks for
the cluster's metadata, which fails fast when authentication fails; then it produces COUNT
messages to partition 0 and reads them back, and prints one JSON object (as
confluent_roundtrip.py) with what was acknowledged, what was read and every error.

usage: confluent_secure.py BOOTSTRAP TOPIC COUNT CONFIG_JSON
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

bootstrap, topic, count, security = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
deadline = time.monotonic() + 60
result = {"client": "confluent-kafka", "acked": [], "errors": [], "records": []}


def on_error(err):
    result["errors"].append("client: %s" % err)


producer = Producer(dict(security, **{"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                                      "message.timeout.ms": 30000, "error_cb": on_error}))
try:
    producer.list_topics(topic, timeout=5)
except KafkaException as e:
    result["errors"].append("metadata: %s" % e)
    producer.poll(1)  # serves error_cb, which has the authentication error's text
    print(json.dumps(result))
    sys.exit(0)


def on_delivery(err, msg):
    if err is not None:
        result["errors"].append("produce: %s" % err)
    else:
        result["acked"].append([msg.partition(), msg.offset()])


for i in range(count):
    producer.produce(topic, key=b"ck-%d" % i, value=b"confluent value %d" % i,
                     partition=0, headers=[("n", b"%d" % i)], on_delivery=on_delivery)
    producer.poll(0)
left = producer.flush(max(1, deadline - time.monotonic()))
if left:
    result["errors"].append("produce: %d messages not delivered in time" % left)

consumer = Consumer(dict(security, **{
    "bootstrap.servers": bootstrap,
    "group.id": "klassik-integration-assign-only",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "error",
    "error_cb": on_error,
}))
consumer.assign([TopicPartition(topic, 0, 0)])
while len(result["records"]) < count and time.monotonic() < deadline:
    msg = consumer.poll(1.0)
    if msg is None:
        continue
    if msg.error():
        if msg.error().code() != KafkaError._PARTITION_EOF:
            result["errors"].append("consume: %s" % msg.error())
        continue
    headers = [[k, v.decode()] for k, v in (msg.headers() or [])]
    result["records"].append([msg.partition(), msg.offset(), msg.key().decode(),
                              msg.value().decode(), headers])
consumer.close()

print(json.dumps(result))
