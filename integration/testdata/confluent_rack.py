#!/usr/bin/python3
"""Read one partition from the start with confluent-kafka-python (librdkafka) as a consumer
with a client.rack, and print one JSON object: how many records were read, and librdkafka's
own statistics of the bytes it received from each broker (statistics.interval.ms), taken
after the last record. The Go test (racks_test.go) judges which broker served the records.

usage: confluent_rack.py BOOTSTRAP TOPIC PARTITION RACK COUNT
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

bootstrap, topic, partition, rack, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
deadline = time.monotonic() + 60

result = {"client": "confluent-kafka", "read": 0, "errors": [], "rxbytes": {}}
stats = []

# assign() never joins the group; librdkafka still wants a group.id.
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "rack-test",
    "enable.auto.commit": False,
    "client.rack": rack,
    "statistics.interval.ms": 200,
    "stats_cb": stats.append,
})
consumer.assign([TopicPartition(topic, partition, 0)])
while result["read"] < count and time.monotonic() < deadline:
    msg = consumer.poll(0.2)
    if msg is None:
        continue
    if msg.error():
        if msg.error().code() != KafkaError._PARTITION_EOF:
            result["errors"].append("consume: %s" % msg.error())
        continue
    result["read"] += 1

# The statistics after the last record: wait for two more reports.
seen = len(stats)
while len(stats) < seen + 2 and time.monotonic() < deadline:
    consumer.poll(0.2)
consumer.close()
if stats:
    # librdkafka may hold more than one handle for a broker (the bootstrap one, with node id
    # -1 or the learned id, and the learned one): add up every handle of a node, finding a
    # bootstrap handle's node by its address.
    handles = json.loads(stats[-1])["brokers"].values()
    ids = {b["nodename"]: b["nodeid"] for b in handles if b["nodeid"] >= 0}
    for b in handles:
        node = b["nodeid"] if b["nodeid"] >= 0 else ids.get(b["nodename"], -1)
        if node >= 0:
            result["rxbytes"][str(node)] = result["rxbytes"].get(str(node), 0) + b["rxbytes"]
print(json.dumps(result))
