#!/usr/bin/python3
"""Produce N messages to partition 0 of a topic with confluent-kafka-python (librdkafka),
then read partition 0 back from offset 0 with an assigned consumer (no group membership,
no offset commits), and print one JSON object with what was acknowledged and what was read.
The Go test (python_test.go) judges the result.

usage: confluent_roundtrip.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 60

result = {"client": "confluent-kafka", "acked": [], "errors": [], "records": []}

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})


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

# librdkafka wants a group.id for any consumer; assign() never joins the group and
# enable.auto.commit=false keeps it from committing offsets.
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "klassik-integration-assign-only",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "error",
})
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
