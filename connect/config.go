package connect

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is the Kafka Connect release whose REST API and behaviour this package follows; GET /
// reports it as Kafka's worker reports its own.
const Version = "3.6.2"

// Kafka's defaults (WorkerConfig, StandaloneConfig, RestServerConfig, ProducerConfig).
const (
	defaultBootstrap           = "localhost:9092"
	defaultListeners           = "http://:8083"
	defaultOffsetFlushInterval = 60 * time.Second
	defaultOffsetFlushTimeout  = 5 * time.Second
	defaultShutdownTimeout     = 5 * time.Second
	defaultMaxRequestSize      = 1048576
	defaultSourceBatchSize     = 2000
)

// Listener is one entry of listeners: where the REST server binds.
type Listener struct {
	Host string // empty: every interface
	Port int
}

// Addr is the host:port to bind.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// WorkerConfig is connect-standalone.properties, as StandaloneConfig reads it.
type WorkerConfig struct {
	BootstrapServers    []string
	KeyConverter        Converter
	ValueConverter      Converter
	OffsetFile          string        // offset.storage.file.filename
	OffsetFlushInterval time.Duration // offset.flush.interval.ms
	OffsetFlushTimeout  time.Duration // offset.flush.timeout.ms
	ShutdownTimeout     time.Duration // task.shutdown.graceful.timeout.ms
	Listeners           []Listener
	AdvertisedHost      string // rest.advertised.host.name
	AdvertisedPort      int    // rest.advertised.port; 0: the port bound
	MaxRequestSize      int    // producer.max.request.size: also the longest line a source reads
	PluginPath          string // accepted, ignored: the connectors are built in

	raw map[string]string
}

// workerKeys are the worker properties this package reads; knownWorkerKeys are Kafka's that
// it accepts without effect (they concern features klassik's Connect does not have).
var workerKeys = []string{
	"bootstrap.servers", "key.converter", "value.converter", "offset.storage.file.filename",
	"offset.flush.interval.ms", "offset.flush.timeout.ms", "task.shutdown.graceful.timeout.ms",
	"listeners", "rest.advertised.host.name", "rest.advertised.port", "rest.host.name", "rest.port",
	"plugin.path", "producer.max.request.size", "security.protocol",
}

var knownWorkerKeys = []string{
	"client.dns.lookup", "header.converter", "client.id", "metrics.sample.window.ms",
	"metrics.num.samples", "metrics.recording.level", "metric.reporters", "auto.include.jmx.reporter",
	"access.control.allow.origin", "access.control.allow.methods", "admin.listeners",
	"rest.extension.classes", "rest.advertised.listener", "config.providers",
	"connector.client.config.override.policy", "response.http.headers.config",
	"topic.creation.enable", "plugin.discovery", "task.shutdown.graceful.timeout.ms",
	"connections.max.idle.ms", "receive.buffer.bytes", "send.buffer.bytes", "request.timeout.ms",
	"reconnect.backoff.ms", "reconnect.backoff.max.ms", "retry.backoff.ms",
	"internal.key.converter", "internal.value.converter",
}

// workerPrefixes are families of worker properties passed to clients or converters.
var workerPrefixes = []string{"producer.", "consumer.", "admin.", "key.converter.", "value.converter.",
	"header.converter.", "internal.key.converter.", "internal.value.converter.", "listeners.https.",
	"config.providers.", "metric.reporters.", "ssl.", "sasl."}

// ParseWorkerConfig reads the worker's properties. Problems that stop the worker are errors in
// Kafka's words; properties that Kafka would not know either come back as warnings ("The
// configuration 'x' was supplied but isn't a known config."), as Kafka logs them.
func ParseWorkerConfig(props map[string]string) (*WorkerConfig, []string, error) {
	c := &WorkerConfig{raw: props}
	get := func(k string) string { return strings.TrimSpace(props[k]) }
	var err error
	bootstrap := defaultBootstrap
	if v, ok := props["bootstrap.servers"]; ok {
		bootstrap = v
	}
	c.BootstrapServers = splitList(bootstrap)
	if len(c.BootstrapServers) == 0 {
		return nil, nil, fmt.Errorf("No resolvable bootstrap urls given in bootstrap.servers")
	}
	if p := get("security.protocol"); p != "" && !strings.EqualFold(p, "PLAINTEXT") {
		return nil, nil, fmt.Errorf("Invalid value %s for configuration security.protocol: klassik's Connect speaks PLAINTEXT only", p)
	}
	for _, which := range []string{"key.converter", "value.converter"} {
		if get(which) == "" {
			return nil, nil, fmt.Errorf("Missing required configuration \"%s\" which has no default value.", which)
		}
	}
	if c.KeyConverter, err = newConverter("key.converter", get("key.converter"), prefixed(props, "key.converter."), true); err != nil {
		return nil, nil, err
	}
	if c.ValueConverter, err = newConverter("value.converter", get("value.converter"), prefixed(props, "value.converter."), false); err != nil {
		return nil, nil, err
	}
	if c.OffsetFile = get("offset.storage.file.filename"); c.OffsetFile == "" {
		return nil, nil, fmt.Errorf("Missing required configuration \"offset.storage.file.filename\" which has no default value.")
	}
	if c.OffsetFlushInterval, err = durationMs(props, "offset.flush.interval.ms", defaultOffsetFlushInterval, 1); err != nil {
		return nil, nil, err
	}
	if c.OffsetFlushTimeout, err = durationMs(props, "offset.flush.timeout.ms", defaultOffsetFlushTimeout, 1); err != nil {
		return nil, nil, err
	}
	if c.ShutdownTimeout, err = durationMs(props, "task.shutdown.graceful.timeout.ms", defaultShutdownTimeout, 0); err != nil {
		return nil, nil, err
	}
	if c.MaxRequestSize, err = intProp(props, "producer.max.request.size", defaultMaxRequestSize, 1); err != nil {
		return nil, nil, err
	}
	var warnings []string
	if c.Listeners, warnings, err = parseListeners(props); err != nil {
		return nil, nil, err
	}
	c.AdvertisedHost = get("rest.advertised.host.name")
	if c.AdvertisedPort, err = intProp(props, "rest.advertised.port", 0, 0); err != nil {
		return nil, nil, err
	}
	c.PluginPath = get("plugin.path")
	for _, k := range sortedKeys(props) {
		switch {
		case slices.Contains(workerKeys, k):
		case hasAnyPrefix(k, []string{"producer.", "consumer.", "admin."}):
			warnings = append(warnings, fmt.Sprintf("The configuration '%s' is not applied: klassik's Connect takes no client overrides but producer.max.request.size", k))
		case !slices.Contains(knownWorkerKeys, k) && !hasAnyPrefix(k, workerPrefixes):
			warnings = append(warnings, fmt.Sprintf("The configuration '%s' was supplied but isn't a known config.", k))
		}
	}
	return c, warnings, nil
}

// parseListeners reads listeners (default http://:8083). Without listeners, the legacy
// rest.host.name and rest.port (removed in Kafka 3.0) still say where to bind, with a warning.
func parseListeners(props map[string]string) ([]Listener, []string, error) {
	var warnings []string
	list, ok := props["listeners"]
	if !ok {
		list = defaultListeners
		if port, hasPort := props["rest.port"]; hasPort {
			list = "http://" + net.JoinHostPort(strings.TrimSpace(props["rest.host.name"]), strings.TrimSpace(port))
			warnings = append(warnings, "rest.port and rest.host.name were removed in Kafka 3.0; use listeners="+list)
		}
	}
	var out []Listener
	for _, l := range splitList(list) {
		u, err := url.Parse(l)
		if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			if err == nil && strings.EqualFold(u.Scheme, "https") {
				return nil, nil, fmt.Errorf("Invalid value %s for configuration listeners: klassik's Connect serves HTTP only", l)
			}
			return nil, nil, fmt.Errorf("Invalid value %s for configuration listeners: Listener must be of format PROTOCOL://[HOST]:PORT, e.g. HTTP://:8083", l)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil || port < 0 || port > 65535 {
			return nil, nil, fmt.Errorf("Invalid value %s for configuration listeners: bad port", l)
		}
		out = append(out, Listener{Host: u.Hostname(), Port: port})
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("Invalid value %s for configuration listeners: no listener", list)
	}
	return out, warnings, nil
}

// The connector classes, by Kafka's full class names.
const (
	FileStreamSourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	FileStreamSinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// connectorClass resolves connector.class as Kafka's plugin aliases do: the full class name,
// the simple name, or the simple name without its "Connector" suffix.
func connectorClass(name string) (class, typ string, ok bool) {
	for _, c := range []struct{ class, typ string }{{FileStreamSourceClass, "source"}, {FileStreamSinkClass, "sink"}} {
		simple := c.class[strings.LastIndexByte(c.class, '.')+1:]
		if name == c.class || name == simple || name == strings.TrimSuffix(simple, "Connector") {
			return c.class, c.typ, true
		}
	}
	return "", "", false
}

// ConnectorConfig is one connector's properties file.
type ConnectorConfig struct {
	Name     string
	Class    string // the full class name connector.class resolves to
	Type     string // "source" or "sink"
	TasksMax int
	File     string // empty: standard input (source) or output (sink)

	Topic     string // source: topic
	BatchSize int    // source: batch.size

	Topics      []string // sink: topics
	TopicsRegex string   // sink: topics.regex

	KeyConverter   Converter // the connector's key.converter, else the worker's
	ValueConverter Converter

	Raw map[string]string // as given, for GET /connectors/NAME
}

// ParseConnectorConfig reads a connector's properties, with the worker's converters as
// defaults. An unknown connector.class is an error naming it and the classes there are.
func ParseConnectorConfig(props map[string]string, w *WorkerConfig) (*ConnectorConfig, error) {
	get := func(k string) string { return strings.TrimSpace(props[k]) }
	c := &ConnectorConfig{Raw: props, Name: get("name")}
	if c.Name == "" {
		return nil, fmt.Errorf("Missing required configuration \"name\" which has no default value.")
	}
	for _, r := range c.Name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return nil, fmt.Errorf("Invalid value %q for configuration name: Connector name %q contains ISO control characters", c.Name, c.Name)
		}
	}
	cls := get("connector.class")
	if cls == "" {
		return nil, fmt.Errorf("Connector config %s contains no connector type", describe(props))
	}
	var ok bool
	if c.Class, c.Type, ok = connectorClass(cls); !ok {
		return nil, fmt.Errorf("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s, %s (klassik's connectors are built in; plugin.path is not searched)",
			cls, FileStreamSinkClass, FileStreamSourceClass)
	}
	var err error
	if c.TasksMax, err = intProp(props, "tasks.max", 1, 1); err != nil {
		return nil, err
	}
	c.File = get("file")
	c.KeyConverter, c.ValueConverter = w.KeyConverter, w.ValueConverter
	if v := get("key.converter"); v != "" {
		if c.KeyConverter, err = newConverter("key.converter", v, prefixed(props, "key.converter."), true); err != nil {
			return nil, err
		}
	}
	if v := get("value.converter"); v != "" {
		if c.ValueConverter, err = newConverter("value.converter", v, prefixed(props, "value.converter."), false); err != nil {
			return nil, err
		}
	}
	switch c.Type {
	case "source":
		if c.Topic = get("topic"); c.Topic == "" {
			if _, set := props["topic"]; set {
				return nil, fmt.Errorf("Invalid value  for configuration topic: String must be non-empty")
			}
			return nil, fmt.Errorf("Missing required configuration \"topic\" which has no default value.")
		}
		if c.BatchSize, err = intProp(props, "batch.size", defaultSourceBatchSize, 1); err != nil {
			return nil, err
		}
	case "sink":
		c.Topics = splitList(props["topics"])
		c.TopicsRegex = get("topics.regex")
		switch {
		case len(c.Topics) > 0 && c.TopicsRegex != "":
			return nil, fmt.Errorf("topics and topics.regex are mutually exclusive options, but both are set.")
		case len(c.Topics) == 0 && c.TopicsRegex == "":
			return nil, fmt.Errorf("Must configure one of topics or topics.regex")
		}
	}
	return c, nil
}

// describe renders a config map as Java's Map.toString would, for error messages.
func describe(props map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(props) {
		parts = append(parts, k+"="+props[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func prefixed(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = strings.TrimSpace(v)
		}
	}
	return out
}

func hasAnyPrefix(k string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// intProp reads an integer property at least least, or def when it is unset.
func intProp(props map[string]string, key string, def, least int) (int, error) {
	v, ok := props[key]
	if !ok {
		return def, nil
	}
	v = strings.TrimSpace(v)
	n, err := strconv.Atoi(v)
	if err != nil || n > 1<<31-1 || n < -1<<31 {
		return 0, fmt.Errorf("Invalid value %s for configuration %s: Not a number of type INT", v, key)
	}
	if n < least {
		return 0, fmt.Errorf("Invalid value %d for configuration %s: Value must be at least %d", n, key, least)
	}
	return n, nil
}

// durationMs reads a property in milliseconds (a Java long) at least least.
func durationMs(props map[string]string, key string, def time.Duration, least int64) (time.Duration, error) {
	v, ok := props[key]
	if !ok {
		return def, nil
	}
	v = strings.TrimSpace(v)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Invalid value %s for configuration %s: Not a number of type LONG", v, key)
	}
	if n < least {
		return 0, fmt.Errorf("Invalid value %d for configuration %s: Value must be at least %d", n, key, least)
	}
	const maxMs = int64(1<<63-1) / int64(time.Millisecond)
	return time.Duration(min(n, maxMs)) * time.Millisecond, nil
}
