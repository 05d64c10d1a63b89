#!/usr/bin/python3
"""Commits offsets with confluent-kafka-python (librdkafka), for offset_commit_test.go.

Commits, synchronously and outside any group generation, each TOPIC:PARTITION:OFFSET argument
on its own (Debian's confluent-kafka 1.7 cannot send offset metadata), and prints one line per commit: the argument and librdkafka's error
name for that partition ("NO_ERROR" when it was stored).

usage: confluent_commit.py BOOTSTRAP GROUP TOPIC:PARTITION:OFFSET...
"""
import sys

from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, group = sys.argv[1], sys.argv[2]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
              "api.version.request": True})
for arg in sys.argv[3:]:
    topic, partition, offset = arg.split(":")
    tp = TopicPartition(topic, int(partition), int(offset))
    try:
        res = c.commit(offsets=[tp], asynchronous=False)
        err = res[0].error
        print(arg, err.name() if err else "NO_ERROR", flush=True)
    except KafkaException as e:
        print(arg, e.args[0].name(), flush=True)
c.close()
