#!/usr/bin/python3
"""Ask for a topic of 2,000,000,000 partitions with kafka-python's admin client (which caps
nothing on the client side), once for real and once validate-only, and print one JSON object
per attempt with the error kafka-python raised. The Go test (huge_create_topics_test.go)
judges the result.

usage: kafkapython_huge_create_topics.py BOOTSTRAP TOPIC
"""
import json
import sys

from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
results = []
for validate_only in (False, True):
    res = {"validate_only": validate_only, "errno": 0, "error": "", "message": ""}
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2000000000, replication_factor=1)],
                            timeout_ms=10000, validate_only=validate_only)
    except Exception as e:  # kafka-python raises the error code's class
        res["errno"] = getattr(e, "errno", -1)
        res["error"] = type(e).__name__
        res["message"] = str(e)
    results.append(res)
admin.close()
print(json.dumps(results))
