package conf

import (
	"errors"
	"maps"
	"strings"
)

// Dynamic broker configs (KIP-226, Kafka's DynamicBrokerConfig): values stored in ZooKeeper
// at /config/brokers/<default> (for every broker) and /config/brokers/<id> (for one), applied
// over server.toml without a restart. Precedence, highest first: the broker's own dynamic
// value, the cluster-wide default, server.toml (and KAFKA_ variables and --override), Kafka's
// default. Which properties may be changed this way is the broker's decision (package broker);
// this file only builds the configuration they make.

// WithDynamic returns the configuration with the dynamic values applied: clusterDefault under
// perBroker, both over c's explicit settings. The values are text, as kafka-configs.sh writes
// them to ZooKeeper. It validates the result as Load does; errors name the key.
func (c *Config) WithDynamic(clusterDefault, perBroker map[string]string) (*Config, error) {
	vals := map[string]setting{}
	var errs []error
	for name, text := range c.explicit {
		if err := setText(name, text, "(in server.toml)", vals); err != nil {
			errs = append(errs, err)
		}
	}
	for _, layer := range []struct {
		m      map[string]string
		source string
	}{{clusterDefault, "(dynamic default broker config)"}, {perBroker, "(dynamic broker config)"}} {
		for name, text := range layer.m {
			if err := setText(name, text, layer.source, vals); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	n, _, buildErrs := build(vals)
	if len(buildErrs) > 0 {
		return nil, errors.Join(buildErrs...)
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	// What Load filled in, and what stays static.
	n.AdvertisedListeners, n.InterBrokerListenerName = c.AdvertisedListeners, c.InterBrokerListenerName
	n.explicit = c.explicit
	n.dynamicDefault, n.dynamicBroker = maps.Clone(clusterDefault), maps.Clone(perBroker)
	return n, nil
}

// DynamicValue reports the dynamic value of property name and whether it is the broker's own
// (true) or the cluster-wide default (false); ok is false when neither sets it.
func (c *Config) DynamicValue(name string) (value string, perBroker, ok bool) {
	if v, ok := c.dynamicBroker[name]; ok {
		return v, true, true
	}
	if v, ok := c.dynamicDefault[name]; ok {
		return v, false, true
	}
	return "", false, false
}

// CheckValue reports whether text is a valid value of property name, as WithDynamic would
// read it; the error names the key and what is allowed.
func CheckValue(name, text string) error {
	p := byName[name]
	if p == nil {
		return unknownError(name, "")
	}
	v, msg := p.fromText(strings.TrimSpace(text))
	if msg == "" && p.check != nil {
		msg = p.check(v)
	}
	if msg != "" {
		return &valueError{key: name, value: text, msg: msg}
	}
	return nil
}
