package conf

import (
	"sort"
	"strings"
)

// KeyValue is one property of the effective configuration, its value written as Kafka
// writes it in server.properties (no quotes).
type KeyValue struct {
	Key   string
	Value string
}

// Properties lists the effective value of every property that has a Config field, sorted by
// name, as KafkaConfig logs its values when a broker starts. Properties folded into another
// (log.retention.hours, log.roll.hours, log.dir) appear through the one they fill; an unset
// advertised.listeners or inter.broker.listener.name shows the value that takes its place.
// The listener-prefixed settings follow their listeners' names (listener.name.*). A password
// that is set shows as [hidden], as Kafka logs it.
func (c *Config) Properties() []KeyValue {
	var out []KeyValue
	for _, p := range table {
		if p.field == nil {
			continue
		}
		v := p.get(c)
		switch p.name {
		case "advertised.listeners":
			_, v = c.effectiveAdvertised()
		case "inter.broker.listener.name":
			if strings.TrimSpace(c.InterBrokerListenerName) == "" {
				_, adv := c.effectiveAdvertised()
				ls, _ := parseListenerList(adv)
				v = c.defaultInterBrokerName(ls)
			}
		case "security.inter.broker.protocol":
			// Kafka's interBrokerSecurityProtocol: the protocol of the inter-broker listener.
			_, adv := c.effectiveAdvertised()
			ls, _ := parseListenerList(adv)
			name := strings.TrimSpace(c.InterBrokerListenerName)
			if name == "" {
				name = c.defaultInterBrokerName(ls)
			}
			if name != "" {
				v = c.ListenerProtocol(name)
			}
		}
		text := plain(v)
		if p.kind == kindPassword && text != "" {
			text = hidden
		}
		out = append(out, KeyValue{Key: p.name, Value: text})
	}
	out = append(out, c.overrideSettings()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return formatValue(v)
}

// String writes the effective configuration as server.toml lines, "key = value", sorted by
// name; Load reads it back to the same Config, passwords excepted (they are [hidden]).
func (c *Config) String() string {
	var b strings.Builder
	for _, kv := range c.Properties() {
		b.WriteString(kv.Key)
		b.WriteString(" = ")
		switch propertyFor(kv.Key).kind {
		case kindString, kindList, kindPassword:
			b.WriteString(tomlString(kv.Value))
		default:
			b.WriteString(kv.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// PropertyDoc describes one property, for `klassik broker --help` and generated docs.
type PropertyDoc struct {
	Name    string // Kafka's property name, e.g. "log.retention.hours"
	Type    string // Kafka's type: int, long, short, boolean, string, list
	Default string // as text; "null" where Kafka has none
	Doc     string // one or two sentences
}

// Docs describes every property klassik reads, in the order of the property table.
func Docs() []PropertyDoc {
	out := make([]PropertyDoc, 0, len(table))
	for _, p := range table {
		def := p.def
		if p.null {
			def = "null"
		}
		out = append(out, PropertyDoc{Name: p.name, Type: p.kind.String(), Default: def, Doc: p.doc})
	}
	return out
}

// Sensitive reports whether property name holds a secret (Kafka's PASSWORD type, and every
// listener.name.<l>.<mechanism>.sasl.jaas.config): never shown, described as null.
func Sensitive(name string) bool {
	p := propertyFor(name)
	return p != nil && p.kind == kindPassword
}
