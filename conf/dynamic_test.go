package conf

import (
	"strings"
	"testing"
)

// Precedence of dynamic broker configs: the broker's own over the cluster default over
// server.toml over Kafka's default; what server.toml set stays its static value.
func TestWithDynamic(t *testing.T) {
	c, err := Load("", nil, []string{"broker.id=1", "zookeeper.connect=127.0.0.1:2181", "log.retention.ms=1000", "message.max.bytes=5000"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WithDynamic(map[string]string{"log.retention.ms": "2000", "min.insync.replicas": "2"}, map[string]string{"log.retention.ms": "3000"})
	if err != nil {
		t.Fatal(err)
	}
	if d.LogRetentionMs != 3000 || d.MinInsyncReplicas != 2 || d.MessageMaxBytes != 5000 || d.BrokerID != 1 {
		t.Fatalf("effective: retention %d, min.insync %d, message.max.bytes %d, broker.id %d", d.LogRetentionMs, d.MinInsyncReplicas, d.MessageMaxBytes, d.BrokerID)
	}
	if v, own, ok := d.DynamicValue("log.retention.ms"); !ok || !own || v != "3000" {
		t.Fatalf("DynamicValue(log.retention.ms) = %q %v %v", v, own, ok)
	}
	if v, own, ok := d.DynamicValue("min.insync.replicas"); !ok || own || v != "2" {
		t.Fatalf("DynamicValue(min.insync.replicas) = %q %v %v", v, own, ok)
	}
	if v, ok := d.StaticValue("log.retention.ms"); !ok || v != "1000" {
		t.Fatalf("StaticValue(log.retention.ms) = %q %v", v, ok)
	}
	if c.LogRetentionMs != 1000 {
		t.Fatal("WithDynamic changed the static config")
	}
	if _, err := c.WithDynamic(map[string]string{"min.insync.replicas": "zero"}, nil); err == nil || !strings.Contains(err.Error(), "min.insync.replicas") {
		t.Fatalf("a bad dynamic value: %v", err)
	}
}
