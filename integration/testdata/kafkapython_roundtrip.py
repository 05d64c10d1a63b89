#!/usr/bin/python3
"""Produce N messages to partition 0 of a topic with kafka-python (a pure Python client
that infers the broker's version from ApiVersions), then read partition 0 back from the
beginning with an assigned consumer (group_id=None: no group, no commits), and print one
JSON object with what was acknowledged and what was read. The Go test (python_test.go)
judges the result.

usage: kafkapython_roundtrip.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 60

result = {"client": "kafka-python", "acked": [], "errors": [], "records": []}

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                         request_timeout_ms=30000)
futures = [producer.send(topic, key=b"pk-%d" % i, value=b"kafka-python value %d" % i,
                         partition=0, headers=[("n", b"%d" % i)])
           for i in range(count)]
producer.flush(timeout=max(1, deadline - time.monotonic()))
for f in futures:
    try:
        md = f.get(timeout=max(1, deadline - time.monotonic()))
        result["acked"].append([md.partition, md.offset])
    except Exception as e:  # noqa: BLE001 - report every failure to the Go test
        result["errors"].append("produce: %r" % e)
producer.close(timeout=10)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         consumer_timeout_ms=1000)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
while len(result["records"]) < count and time.monotonic() < deadline:
    batch = consumer.poll(timeout_ms=1000)
    for msgs in batch.values():
        for msg in msgs:
            headers = [[k, v.decode()] for k, v in (msg.headers or [])]
            result["records"].append([msg.partition, msg.offset, msg.key.decode(),
                                      msg.value.decode(), headers])
consumer.close()

print(json.dumps(result))
