#!/usr/bin/python3
"""Transactions with confluent-kafka-python (librdkafka), for transactions_clients_test.go.

Prints one JSON object on stdout; the Go test checks it.

usage: confluent_txn.py BOOTSTRAP basic TOPIC PARTITIONS
    init_transactions; a committed transaction of 100 records ("first-i"), an aborted one of 50
    ("aborted-i"), a committed one of 100 ("second-i"); then fencing: the first producer opens
    a transaction with 10 records ("zombie-i"), a second producer with the same
    transactional.id calls init_transactions and commits 20 ("third-i"), and the first
    producer's commit_transaction fails. Finally it reads TOPIC from the start with
    read_committed and with read_uncommitted (assigned partitions, no group) and reports the
    values each saw.

usage: confluent_txn.py BOOTSTRAP eos INPUT OUTPUT GROUP N
    A consume-transform-produce loop: a group consumer (read_committed, no auto commit) reads
    INPUT; every 10 records (or the rest) go to OUTPUT upper-cased in one transaction, with
    send_offsets_to_transaction(position, consumer_group_metadata) before the commit; stops
    after N records.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

TIMEOUT = 30  # seconds, for each transactional call


def err_json(e):
    """What a user would look at in a KafkaError."""
    return {"name": e.name(), "code": e.code(), "str": e.str(), "fatal": e.fatal(),
            "retriable": e.retriable(), "txn_requires_abort": e.txn_requires_abort()}


def producer(bootstrap, txn_id, errors):
    return Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "transaction.timeout.ms": 60000,
        "linger.ms": 5,
        "error_cb": lambda e: errors.append(str(e)),
    })


def txn(p, topic, prefix, n, commit):
    p.begin_transaction()
    for i in range(n):
        p.produce(topic, key=str(i).encode(), value=("%s-%d" % (prefix, i)).encode())
    if commit:
        p.commit_transaction(TIMEOUT)
    else:
        p.flush(TIMEOUT)
        p.abort_transaction(TIMEOUT)


def read_all(bootstrap, topic, partitions, isolation, want):
    """Reads TOPIC from the start until every partition reached its end and at least want
    records came, then one more second for strays; returns the values."""
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "confluent-txn-reader-%s-%s" % (topic, isolation),
        "isolation.level": isolation,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 200,
    })
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values, eof = [], set()
    deadline, settle = time.time() + 60, None
    while time.time() < deadline and (settle is None or time.time() < settle):
        for m in c.consume(num_messages=500, timeout=0.2):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise KafkaException(m.error())
            eof.discard(m.partition())
            values.append(m.value().decode())
        if settle is None and len(eof) == partitions and len(values) >= want:
            settle = time.time() + 1
    c.close()
    return values


def basic(bootstrap, topic, partitions):
    out = {"errors": []}
    txn_id = "confluent-tx-" + topic
    p1 = producer(bootstrap, txn_id, out["errors"])
    start = time.time()
    p1.init_transactions(TIMEOUT)
    out["init_seconds"] = time.time() - start
    txn(p1, topic, "first", 100, True)
    out["first_txn_seconds"] = time.time() - start
    txn(p1, topic, "aborted", 50, False)
    txn(p1, topic, "second", 100, True)

    # Fencing: p2 takes the id while p1 has a transaction open with records written.
    p1.begin_transaction()
    for i in range(10):
        p1.produce(topic, value=("zombie-%d" % i).encode())
    p1.flush(TIMEOUT)
    p2 = producer(bootstrap, txn_id, out["errors"])
    p2.init_transactions(TIMEOUT)
    txn(p2, topic, "third", 20, True)
    try:
        p1.commit_transaction(TIMEOUT)
        out["fenced_commit"] = None
    except KafkaException as e:
        out["fenced_commit"] = err_json(e.args[0])
    # After a fatal error every call fails: begin_transaction shows what a user would see next.
    try:
        p1.begin_transaction()
        out["fenced_begin"] = None
    except KafkaException as e:
        out["fenced_begin"] = err_json(e.args[0])
    p2.flush(TIMEOUT)

    out["read_committed"] = read_all(bootstrap, topic, partitions, "read_committed", 220)
    out["read_uncommitted"] = read_all(bootstrap, topic, partitions, "read_uncommitted", 280)
    return out


def eos(bootstrap, inp, outp, group, n):
    out = {"errors": [], "transactions": 0, "processed": 0}
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 200,
        "error_cb": lambda e: out["errors"].append(str(e)),
    })
    consumer.subscribe([inp])
    p = producer(bootstrap, "confluent-eos-" + outp, out["errors"])
    p.init_transactions(TIMEOUT)
    start = time.time()
    deadline = start + 120
    while out["processed"] < n and time.time() < deadline:
        msgs = [m for m in consumer.consume(num_messages=10, timeout=1) if not m.error()]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce(outp, key=m.key(), value=m.value().upper(), partition=m.partition())
        positions = consumer.position(consumer.assignment())
        p.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), TIMEOUT)
        p.commit_transaction(TIMEOUT)
        out["transactions"] += 1
        out["processed"] += len(msgs)
    out["seconds"] = time.time() - start
    consumer.close()
    return out


def main():
    bootstrap, mode = sys.argv[1], sys.argv[2]
    try:
        if mode == "basic":
            res = basic(bootstrap, sys.argv[3], int(sys.argv[4]))
        else:
            res = eos(bootstrap, sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    except KafkaException as e:
        res = {"failed": err_json(e.args[0])}
    print(json.dumps(res), flush=True)


main()
