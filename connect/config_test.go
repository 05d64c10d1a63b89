package connect

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klassik/klassik/internal/properties"
)

func loadProps(t *testing.T, name string) map[string]string {
	t.Helper()
	p, err := properties.Load("../integration/testdata/connect/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Map()
}

// Kafka's quickstart files, unchanged, give the worker and connectors Kafka runs from them.
func TestQuickstartFiles(t *testing.T) {
	w, warnings, err := ParseWorkerConfig(loadProps(t, "connect-standalone.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings for Kafka's own file: %q", warnings)
	}
	if strings.Join(w.BootstrapServers, ",") != "localhost:9092" || w.OffsetFile != "/tmp/connect.offsets" ||
		w.OffsetFlushInterval != 10*time.Second || w.OffsetFlushTimeout != 5*time.Second {
		t.Fatalf("worker config %+v", w)
	}
	if len(w.Listeners) != 1 || w.Listeners[0] != (Listener{Host: "", Port: 8083}) {
		t.Fatalf("listeners %+v, want Kafka's default http://:8083", w.Listeners)
	}
	for _, c := range []Converter{w.KeyConverter, w.ValueConverter} {
		if j, ok := c.(*JSONConverter); !ok || !j.SchemasEnable {
			t.Fatalf("converter %#v, want JsonConverter with schemas", c)
		}
	}
	src, err := ParseConnectorConfig(loadProps(t, "connect-file-source.properties"), w)
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != "local-file-source" || src.Class != FileStreamSourceClass || src.Type != "source" ||
		src.File != "test.txt" || src.Topic != "connect-test" || src.TasksMax != 1 || src.BatchSize != 2000 {
		t.Fatalf("source %+v", src)
	}
	sink, err := ParseConnectorConfig(loadProps(t, "connect-file-sink.properties"), w)
	if err != nil {
		t.Fatal(err)
	}
	if sink.Name != "local-file-sink" || sink.Class != FileStreamSinkClass || sink.Type != "sink" ||
		sink.File != "test.sink.txt" || strings.Join(sink.Topics, ",") != "connect-test" {
		t.Fatalf("sink %+v", sink)
	}
	if GroupID(sink.Name) != "connect-local-file-sink" {
		t.Fatal(GroupID(sink.Name))
	}
}

func baseWorker() map[string]string {
	return map[string]string{"key.converter": "StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"offset.storage.file.filename": "/tmp/x"}
}

func TestWorkerConfigErrors(t *testing.T) {
	for _, c := range []struct {
		drop, key, value, want string
	}{
		{drop: "key.converter", want: `Missing required configuration "key.converter" which has no default value.`},
		{drop: "offset.storage.file.filename", want: `Missing required configuration "offset.storage.file.filename"`},
		{key: "value.converter", value: "com.example.AvroConverter", want: "Invalid value com.example.AvroConverter for configuration value.converter: Class com.example.AvroConverter could not be found."},
		{key: "offset.flush.interval.ms", value: "soon", want: "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"},
		{key: "listeners", value: "https://:8443", want: "HTTP only"},
		{key: "listeners", value: "localhost:8083", want: "Listener must be of format PROTOCOL://[HOST]:PORT"},
		{key: "security.protocol", value: "SSL", want: "PLAINTEXT only"},
		{key: "bootstrap.servers", value: " , ", want: "bootstrap.servers"},
		{key: "key.converter.schemas.enable", value: "yes", want: "key.converter.schemas.enable: Expected value to be either true or false"},
	} {
		props := baseWorker()
		delete(props, c.drop)
		if c.key != "" {
			props[c.key] = c.value
		}
		if strings.HasSuffix(c.key, "schemas.enable") {
			props["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
		}
		_, _, err := ParseWorkerConfig(props)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want %q", c.key, c.value, err, c.want)
		}
	}
}

func TestWorkerConfigListenersAndWarnings(t *testing.T) {
	props := baseWorker()
	props["listeners"] = "http://127.0.0.1:0, HTTP://localhost:18083"
	props["plugin.path"] = "libs/connect-file-3.6.2.jar"
	props["producer.linger.ms"] = "5"
	props["no.such.thing"] = "1"
	w, warnings, err := ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Listeners) != 2 || w.Listeners[0] != (Listener{"127.0.0.1", 0}) || w.Listeners[1] != (Listener{"localhost", 18083}) {
		t.Fatalf("listeners %+v", w.Listeners)
	}
	if len(warnings) != 2 || warnings[0] != "The configuration 'no.such.thing' was supplied but isn't a known config." ||
		!strings.Contains(warnings[1], "'producer.linger.ms' is not applied") {
		t.Fatalf("warnings %q", warnings)
	}
	if w.PluginPath == "" {
		t.Fatal("plugin.path not kept")
	}
	// The legacy rest.port still binds where listeners is unset, with a warning.
	props = baseWorker()
	props["rest.host.name"], props["rest.port"] = "127.0.0.1", "18084"
	w, warnings, err = ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	if w.Listeners[0] != (Listener{"127.0.0.1", 18084}) || len(warnings) != 1 || !strings.Contains(warnings[0], "removed in Kafka 3.0") {
		t.Fatalf("rest.port: %+v %q", w.Listeners, warnings)
	}
	if got := WorkerID(w, 18084); got != "127.0.0.1:18084" {
		t.Fatalf("worker id %q", got)
	}
	w.AdvertisedHost, w.AdvertisedPort = "connect.example", 9999
	if got := WorkerID(w, 18084); got != "connect.example:9999" {
		t.Fatalf("advertised worker id %q", got)
	}
}

func TestConnectorClassNames(t *testing.T) {
	w, _, err := ParseWorkerConfig(baseWorker())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"FileStreamSource": FileStreamSourceClass, "FileStreamSourceConnector": FileStreamSourceClass,
		FileStreamSourceClass: FileStreamSourceClass, "FileStreamSink": FileStreamSinkClass,
		"FileStreamSinkConnector": FileStreamSinkClass, FileStreamSinkClass: FileStreamSinkClass,
	} {
		c, err := ParseConnectorConfig(map[string]string{"name": "n", "connector.class": name, "topic": "t", "topics": "t"}, w)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Class != want {
			t.Fatalf("%s resolves to %s", name, c.Class)
		}
	}
	_, err = ParseConnectorConfig(map[string]string{"name": "n", "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector", "topic": "t"}, w)
	if err == nil || !strings.Contains(err.Error(), "io.confluent.connect.jdbc.JdbcSourceConnector") || !strings.Contains(err.Error(), FileStreamSourceClass) {
		t.Fatalf("unknown class: %v", err)
	}
}

func TestConnectorConfigErrors(t *testing.T) {
	w, _, _ := ParseWorkerConfig(baseWorker())
	for _, c := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"connector.class": "FileStreamSource", "topic": "t"}, `Missing required configuration "name"`},
		{map[string]string{"name": "n", "topic": "t"}, "contains no connector type"},
		{map[string]string{"name": "n", "connector.class": "FileStreamSource"}, `Missing required configuration "topic"`},
		{map[string]string{"name": "n", "connector.class": "FileStreamSource", "topic": ""}, "String must be non-empty"},
		{map[string]string{"name": "n", "connector.class": "FileStreamSource", "topic": "t", "tasks.max": "0"}, "tasks.max: Value must be at least 1"},
		{map[string]string{"name": "n", "connector.class": "FileStreamSink"}, "Must configure one of topics or topics.regex"},
		{map[string]string{"name": "n", "connector.class": "FileStreamSink", "topics": "a", "topics.regex": "a.*"}, "mutually exclusive"},
		{map[string]string{"name": "n\x01", "connector.class": "FileStreamSink", "topics": "a"}, "ISO control characters"},
		{map[string]string{"name": "n", "connector.class": "FileStreamSink", "topics": "a", "value.converter": "Nope"}, "Class Nope could not be found"},
	} {
		_, err := ParseConnectorConfig(c.props, w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.props, err, c.want)
		}
	}
	// A connector's own converter overrides the worker's, configured by its own prefix.
	c, err := ParseConnectorConfig(map[string]string{"name": "n", "connector.class": "FileStreamSink", "topics": "a",
		"value.converter": "JsonConverter", "value.converter.schemas.enable": "false"}, w)
	if err != nil {
		t.Fatal(err)
	}
	if j, ok := c.ValueConverter.(*JSONConverter); !ok || j.SchemasEnable {
		t.Fatalf("value converter %#v", c.ValueConverter)
	}
	if _, ok := c.KeyConverter.(StringConverter); !ok {
		t.Fatalf("key converter %#v, want the worker's", c.KeyConverter)
	}
}

// config/ holds the same Kafka files as the tests' testdata, byte for byte, so the README's
// quickstart runs what the tests check.
func TestConfigFolderHoldsKafkaFiles(t *testing.T) {
	for _, name := range []string{"connect-standalone.properties", "connect-file-source.properties", "connect-file-sink.properties"} {
		a, err := os.ReadFile("../config/" + name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("../integration/testdata/connect/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("config/%s differs from integration/testdata/connect/%s", name, name)
		}
	}
}
