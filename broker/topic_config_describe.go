package broker

// How a topic config is described (DescribeConfigs, and the configs CreateTopics v5+ answers),
// as Kafka 3.6's ConfigHelper.createTopicConfigEntry does: its source is that of the first
// of its synonyms, which are, in order, the topic's override (DYNAMIC_TOPIC_CONFIG), the
// broker properties set in server.toml (STATIC_BROKER_CONFIG), and those with a Kafka
// default (DEFAULT_CONFIG). klassik has no dynamic broker configs yet, so
// DYNAMIC_BROKER_CONFIG and DYNAMIC_DEFAULT_BROKER_CONFIG never appear.
//
// Kafka then drops the broker synonyms that come before the first one named after the main
// broker property (ConfigHelper.configSynonyms' dropWhile). So a topic's retention.ms, with
// log.retention.hours set in server.toml and log.retention.ms not, has no synonyms and the
// source DEFAULT_CONFIG in Kafka 3.6; klassik answers the same.

import (
	"github.com/klassik/klassik/conf"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type configSynonym struct {
	name, value string
	source      kmsg.ConfigSource
}

// topicConfigEntry is one described topic config.
type topicConfigEntry struct {
	def      *topicConfigDef
	value    string
	source   kmsg.ConfigSource
	synonyms []configSynonym
}

func describeTopicConfig(bc *conf.Config, tc *topicConfig, d *topicConfigDef) topicConfigEntry {
	e := topicConfigEntry{def: d, value: tc.values[d.name], source: kmsg.ConfigSourceDefaultConfig}
	if _, ok := tc.overrides[d.name]; ok {
		e.synonyms = append(e.synonyms, configSynonym{d.name, e.value, kmsg.ConfigSourceDynamicTopicConfig})
	}
	if len(d.synonyms) > 0 {
		e.synonyms = append(e.synonyms, brokerSynonyms(bc, d.synonyms[0])...)
	}
	if len(e.synonyms) > 0 {
		e.source = e.synonyms[0].source
	}
	return e
}

// describeConfig fills a DescribeConfigs entry; synonyms and documentation only when asked.
func (e topicConfigEntry) describeConfig(synonyms, documentation bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value = e.def.name, strp(e.value)
	c.Source = e.source
	c.IsDefault = e.source == kmsg.ConfigSourceDefaultConfig
	c.ConfigType = e.def.typ
	if documentation {
		c.Documentation = strp(e.def.doc)
	}
	if synonyms {
		for _, s := range e.synonyms {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = s.name, strp(s.value), s.source
			if c.IsSensitive {
				cs.Value = nil
			}
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
	}
	return c
}

// brokerConfigSynonyms lists the broker properties that set the same value as name, highest
// priority first (DynamicBrokerConfig.brokerConfigSynonyms).
func brokerConfigSynonyms(name string) []string {
	for _, group := range [][]string{
		{"log.roll.ms", "log.roll.hours"},
		{"log.roll.jitter.ms", "log.roll.jitter.hours"},
		{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
		{"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
	} {
		for _, g := range group {
			// log.flush.scheduler.interval.ms is a synonym of log.flush.interval.ms, not
			// the other way round.
			if g == name && name != "log.flush.scheduler.interval.ms" {
				return group
			}
		}
	}
	return []string{name}
}

// brokerSynonyms are the synonyms of broker property name: those of its synonym group set
// in server.toml, then those with a Kafka default, from the first one called name on
// (ConfigHelper.configSynonyms).
func brokerSynonyms(bc *conf.Config, name string) []configSynonym {
	names := brokerConfigSynonyms(name)
	var out []configSynonym
	for _, own := range []bool{true, false} {
		for _, s := range names {
			if v, perBroker, ok := bc.DynamicValue(s); ok && perBroker == own {
				src := kmsg.ConfigSourceDynamicDefaultBrokerConfig
				if own {
					src = kmsg.ConfigSourceDynamicBrokerConfig
				}
				out = append(out, configSynonym{s, v, src})
			}
		}
	}
	for _, s := range names {
		if v, ok := bc.StaticValue(s); ok {
			out = append(out, configSynonym{s, v, kmsg.ConfigSourceStaticBrokerConfig})
		}
	}
	for _, s := range names {
		if v, ok := conf.DefaultValue(s); ok {
			out = append(out, configSynonym{s, v, kmsg.ConfigSourceDefaultConfig})
		}
	}
	for len(out) > 0 && out[0].name != name {
		out = out[1:]
	}
	return out
}

// brokerConfigTypes maps conf's type names to DescribeConfigs' config types.
var brokerConfigTypes = map[string]kmsg.ConfigType{
	"boolean": kmsg.ConfigTypeBoolean, "string": kmsg.ConfigTypeString, "int": kmsg.ConfigTypeInt,
	"short": kmsg.ConfigTypeShort, "long": kmsg.ConfigTypeLong, "double": kmsg.ConfigTypeDouble, "list": kmsg.ConfigTypeList,
	"password": kmsg.ConfigTypePassword,
}

var brokerConfigDocs = func() map[string]conf.PropertyDoc {
	m := map[string]conf.PropertyDoc{}
	for _, d := range conf.Docs() {
		m[d.Name] = d
	}
	return m
}()

// describeBrokerConfig describes one of this broker's properties (createBrokerConfigEntry),
// from its effective configuration bc: read-only unless it is one of the dynamic ones
// (dynamic_config.go).
func describeBrokerConfig(bc *conf.Config, name, value string, synonyms, documentation bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value = name, strp(value)
	c.ReadOnly = dynamicMode(name) == modeReadOnly
	syn := brokerSynonyms(bc, name)
	c.Source = kmsg.ConfigSourceDefaultConfig
	if len(syn) > 0 {
		c.Source = syn[0].source
	}
	c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
	d := brokerConfigDocs[name]
	c.ConfigType = brokerConfigTypes[d.Type]
	if conf.Sensitive(name) {
		// A password (ssl.keystore.key, a JAAS config): Kafka describes it as sensitive with
		// no value, and its synonyms likewise.
		c.IsSensitive, c.Value = true, nil
		for i := range syn {
			syn[i].value = ""
		}
	}
	if documentation {
		c.Documentation = strp(d.Doc)
	}
	if synonyms {
		for _, s := range syn {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = s.name, strp(s.value), s.source
			if c.IsSensitive {
				cs.Value = nil
			}
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
	}
	return c
}
