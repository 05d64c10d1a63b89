package conf

import "testing"

// TestStaticValue: what DescribeConfigs shows as STATIC_BROKER_CONFIG is exactly what was set
// (server.toml, KAFKA_ variables, --override), as text; the rest is Kafka's default, where
// Kafka has one (KafkaConfig: log.retention.ms has none, log.retention.hours has 168).
func TestStaticValue(t *testing.T) {
	c := mustLoad(t, base+"log.retention.hours = 24\nlog.cleaner.min.cleanable.ratio = 0.25\n",
		[]string{"KAFKA_LOG_PREALLOCATE=true"}, []string{"log.segment.bytes=1048576"})
	for name, want := range map[string]string{
		"log.retention.hours":             "24",
		"log.cleaner.min.cleanable.ratio": "0.25",
		"log.preallocate":                 "true",
		"log.segment.bytes":               "1048576",
		"zookeeper.connect":               "127.0.0.1:2181/klassik",
	} {
		if got, ok := c.StaticValue(name); !ok || got != want {
			t.Errorf("StaticValue(%s) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if v, ok := c.StaticValue("log.retention.ms"); ok {
		t.Errorf("StaticValue(log.retention.ms) = %q, want unset (only log.retention.hours was set)", v)
	}
	if c.LogRetentionMs != 24*3_600_000 || c.LogCleanerMinCleanableRatio != 0.25 || !c.LogPreallocate {
		t.Errorf("loaded log.retention.ms=%d ratio=%v preallocate=%v", c.LogRetentionMs, c.LogCleanerMinCleanableRatio, c.LogPreallocate)
	}
	for name, want := range map[string]string{"log.retention.hours": "168", "log.cleaner.min.cleanable.ratio": "0.5", "log.roll.jitter.hours": "0"} {
		if got, ok := DefaultValue(name); !ok || got != want {
			t.Errorf("DefaultValue(%s) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"log.retention.ms", "log.flush.interval.ms", "log.roll.jitter.ms", "no.such.property"} {
		if got, ok := DefaultValue(name); ok {
			t.Errorf("DefaultValue(%s) = %q, want none (Kafka's default is null)", name, got)
		}
	}
}

func TestDoubleProperty(t *testing.T) {
	c := mustLoad(t, base+"log.cleaner.min.cleanable.ratio = 1\n", nil, nil)
	if c.LogCleanerMinCleanableRatio != 1 {
		t.Errorf("an integer for a double property: got %v, want 1", c.LogCleanerMinCleanableRatio)
	}
	_, err := loadTOML(t, base+"log.cleaner.min.cleanable.ratio = 1.5\n", nil, nil)
	assertErrors(t, err, "log.cleaner.min.cleanable.ratio = 1.5: must be between 0 and 1 (in server.toml)")
	_, err = loadTOML(t, base, []string{"KAFKA_LOG_CLEANER_MIN_CLEANABLE_RATIO=half"}, nil)
	if err == nil {
		t.Fatal("log.cleaner.min.cleanable.ratio=half loaded")
	}
}

// TestMessageFormatVersion: the forms MetadataVersion.fromVersionString accepts in Kafka 3.6.
func TestMessageFormatVersion(t *testing.T) {
	for _, v := range []string{"0.8.0", "0.10.2", "0.10.2.1", "0.10.0-IV1", "1.0", "2.8", "2.8-IV1", "2.8.2", "3.0-IV1", "3.6-IV2", "3.6.1"} {
		if !ValidMessageFormatVersion(v) {
			t.Errorf("%s refused", v)
		}
	}
	for _, v := range []string{"", "3", "0.10", "3.7", "3.6-IV3", "2.5-IV1", "banana", "0.8.3"} {
		if ValidMessageFormatVersion(v) {
			t.Errorf("%s accepted", v)
		}
	}
}

func TestCompactionLagOrder(t *testing.T) {
	_, err := loadTOML(t, base+"log.cleaner.min.compaction.lag.ms = 10\nlog.cleaner.max.compaction.lag.ms = 5\n", nil, nil)
	assertErrors(t, err, "log.cleaner.min.compaction.lag.ms = 10: must be at most log.cleaner.max.compaction.lag.ms (5) (in server.toml)")
}
