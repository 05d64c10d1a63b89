#!/usr/bin/python3
"""A consumer group member with kafka-python (pure Python), for groups_clients_test.go.

Joins GROUP as a subscriber of TOPIC (kafka-python's default eager assignors, range first),
commits what it consumed synchronously after every poll, and reports on stdout, one line
per event:

    A 0,1,2     its whole assignment after every change
    R 3 17      a consumed record: partition, offset

When its stdin closes it commits, leaves the group (close) and exits 0. The test kills it
with SIGKILL to make it die.

usage: kafkapython_group.py BOOTSTRAP GROUP TOPIC SESSION_TIMEOUT_MS
"""
import os
import select
import sys

from kafka import ConsumerRebalanceListener, KafkaConsumer

bootstrap, group, topic, session_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
owned = set()


def report():
    print("A %s" % ",".join(str(p) for p in sorted(owned)), flush=True)


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        owned.difference_update(tp.partition for tp in revoked)
        report()

    def on_partitions_assigned(self, assigned):
        owned.update(tp.partition for tp in assigned)
        report()


consumer = KafkaConsumer(
    bootstrap_servers=bootstrap.split(","),
    group_id=group,
    client_id="kafka-python-member-%d" % os.getpid(),
    enable_auto_commit=False,
    auto_offset_reset="earliest",
    session_timeout_ms=session_ms,
    heartbeat_interval_ms=500,
    fetch_max_wait_ms=200,
)
consumer.subscribe([topic], listener=Listener())

stdin_open = True
while stdin_open:
    batches = consumer.poll(timeout_ms=200)
    done = [r for recs in batches.values() for r in recs]
    if done:
        try:
            consumer.commit()
        except Exception as e:  # a commit that fails: the records are consumed again
            print("commit: %s" % e, file=sys.stderr, flush=True)
            continue
        for r in done:
            print("R %d %d" % (r.partition, r.offset), flush=True)
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r and not sys.stdin.read(1):
        stdin_open = False

consumer.close(autocommit=False)
