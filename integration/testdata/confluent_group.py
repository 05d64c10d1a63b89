#!/usr/bin/python3
"""A consumer group member with confluent-kafka-python (librdkafka), for groups_clients_test.go.

Joins GROUP as a subscriber of TOPIC (librdkafka's default eager assignors, range first),
commits what it consumed synchronously after every batch, and reports on stdout, one line
per event:

    A 0,1,2     its whole assignment after every change
    R 3 17      a consumed record: partition, offset

When its stdin closes it commits, leaves the group (close) and exits 0. The test kills it
with SIGKILL to make it die.

usage: confluent_group.py BOOTSTRAP GROUP TOPIC SESSION_TIMEOUT_MS
"""
import os
import select
import sys

from confluent_kafka import Consumer, KafkaError

bootstrap, group, topic, session_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
owned = set()


def report():
    print("A %s" % ",".join(str(p) for p in sorted(owned)), flush=True)


def on_assign(consumer, parts):
    owned.update(p.partition for p in parts)
    report()


def on_revoke(consumer, parts):
    owned.difference_update(p.partition for p in parts)
    report()


consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "client.id": "confluent-member-%d" % os.getpid(),
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "session.timeout.ms": session_ms,
    "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 200,
})
consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)

stdin_open = True
while stdin_open:
    msgs = consumer.consume(num_messages=500, timeout=0.2)
    done = []
    for m in msgs:
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                print("error: %s" % m.error(), file=sys.stderr, flush=True)
            continue
        done.append(m)
    if done:
        try:
            consumer.commit(asynchronous=False)
        except Exception as e:  # a commit that fails: the records are consumed again
            print("commit: %s" % e, file=sys.stderr, flush=True)
            continue
        for m in done:
            print("R %d %d" % (m.partition(), m.offset()), flush=True)
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r and not sys.stdin.read(1):
        stdin_open = False

consumer.close()
