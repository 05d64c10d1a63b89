#!/usr/bin/python3
"""kafka-python (pure Python; SaslHandshake v0 and raw SASL tokens) against a secured listener:
the client's security settings come as a JSON object of KafkaProducer/KafkaConsumer keyword
arguments (security_protocol, sasl_mechanism, sasl_plain_username, sasl_plain_password,
ssl_cafile, ssl_certfile, ssl_keyfile). It produces COUNT messages to partition 0, reads them
back, and prints one JSON object (as kafkapython_roundtrip.py); a client that cannot connect or
authenticate is reported as an error.

usage: kafkapython_secure.py BOOTSTRAP TOPIC COUNT CONFIG_JSON
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count, security = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
deadline = time.monotonic() + 60
result = {"client": "kafka-python", "acked": [], "errors": [], "records": []}

try:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             request_timeout_ms=30000, api_version_auto_timeout_ms=10000, **security)
except Exception as e:  # noqa: BLE001 - an authentication failure ends here
    result["errors"].append("connect: %r" % e)
    print(json.dumps(result))
    sys.exit(0)

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
                         consumer_timeout_ms=1000, **security)
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
