package conf

import (
	"fmt"
	"sort"
	"strings"
)

// Per-listener properties (Kafka's listener-prefixed configs): listener.name.<listener>.<property>
// sets a security property for one listener only, over the broker-wide value, e.g.
//
//	listener.name.external.ssl.keystore.location = "/etc/klassik/external.pem"
//	listener.name.sasl_ssl.sasl.enabled.mechanisms = "SCRAM-SHA-512"
//	listener.name.sasl_ssl.plain.sasl.jaas.config = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
//
// The listener is written in lower case, as Kafka's ListenerName.configPrefix writes it (klassik
// accepts any case). Besides the properties marked perListener, a listener takes
// <mechanism>.sasl.jaas.config, the JAAS configuration of one SASL mechanism: the users of
// PLAIN (user_<name>="<password>") and the broker's own credentials on the inter-broker
// listener (username="..." password="..."). Kafka has no broker-wide sasl.jaas.config.

const listenerPrefix = "listener.name."

// jaasProperty is the row for <mechanism>.sasl.jaas.config, which exists only per listener.
var jaasProperty = &property{name: "sasl.jaas.config", kind: kindPassword, null: true,
	doc: "The JAAS configuration of one SASL mechanism on one listener: listener.name.<listener>.<mechanism>.sasl.jaas.config."}

// listenerOverride splits a listener-prefixed name into its listener (upper case, as listener
// names are kept), the property it sets, and, for <mechanism>.sasl.jaas.config, the mechanism
// (upper case). ok is false when name does not have that form or names no such property.
func listenerOverride(name string) (listener string, p *property, mechanism string, ok bool) {
	rest, found := strings.CutPrefix(name, listenerPrefix)
	if !found {
		return "", nil, "", false
	}
	l, prop, found := strings.Cut(rest, ".")
	if !found || l == "" {
		return "", nil, "", false
	}
	if mech, tail, found := strings.Cut(prop, "."); found && tail == "sasl.jaas.config" {
		mech = strings.ToUpper(mech)
		if checkSaslMechanism(mech) != "" {
			return "", nil, "", false
		}
		return strings.ToUpper(l), jaasProperty, mech, true
	}
	if p := byName[prop]; p != nil && p.perListener {
		return strings.ToUpper(l), p, "", true
	}
	return "", nil, "", false
}

// propertyFor is the row that reads name: its own, or the overridden one for a listener-prefixed
// name; nil for an unknown name.
func propertyFor(name string) *property {
	if p := byName[name]; p != nil {
		return p
	}
	if _, p, _, ok := listenerOverride(name); ok {
		return p
	}
	return nil
}

// unknownName explains an unknown property; a listener-prefixed name, or a broker-wide
// sasl.jaas.config, says what is possible instead of naming the closest property.
func unknownName(name, where string) error {
	if name == "sasl.jaas.config" {
		return fmt.Errorf("property %q %s: a broker's JAAS configuration is set per listener and mechanism, e.g. listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config", name, where)
	}
	if rest, ok := strings.CutPrefix(name, listenerPrefix); ok {
		_, prop, _ := strings.Cut(rest, ".")
		return fmt.Errorf("unknown property %q %s: listener.name.<listener>. may prefix only the ssl.* and sasl.* properties, connections.max.reauth.ms and <mechanism>.sasl.jaas.config (%q is none of them; did you mean %q?)", name, where, prop, closestPerListener(prop))
	}
	return unknownError(name, where)
}

func closestPerListener(name string) string {
	best, bestD := "", -1
	for _, p := range table {
		if !p.perListener {
			continue
		}
		if d := levenshtein(name, p.name); bestD < 0 || d < bestD {
			best, bestD = p.name, d
		}
	}
	if d := levenshtein(name, "plain.sasl.jaas.config"); d < bestD {
		best = "plain.sasl.jaas.config"
	}
	return best
}

// checkOverrides validates each listener-prefixed setting: its value, and that its listener is
// one of listeners (a typo in the listener name would otherwise be silently ignored).
func (c *Config) checkOverrides(ls []Listener) []error {
	names := map[string]bool{}
	for _, l := range ls {
		names[l.Name] = true
	}
	var errs []error
	for _, name := range sortedKeys(c.overrides) {
		v := c.overrides[name]
		l, p, _, _ := listenerOverride(name)
		if p.check != nil {
			if msg := p.check(v); msg != "" {
				errs = append(errs, &valueError{key: name, value: displayValue(p, v), msg: msg})
				continue
			}
		}
		if len(ls) > 0 && !names[l] {
			errs = append(errs, &valueError{key: name, value: displayValue(p, v),
				msg: fmt.Sprintf("there is no listener %s in listeners (%s)", l, listenerNames(ls))})
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// displayValue writes v for an error message, hiding a password.
func displayValue(p *property, v any) string {
	if p.kind == kindPassword {
		return hidden
	}
	return formatValue(v)
}

// hidden is what a password property's value is shown as, as Kafka logs it.
const hidden = "[hidden]"

// listenerValue is property name's value for listener l: listener.name.<l>.<name> if set,
// else the broker-wide value.
func (c *Config) listenerValue(l, name string) any {
	if v, ok := c.overrides[listenerPrefix+strings.ToLower(l)+"."+name]; ok {
		return v
	}
	return byName[name].get(c)
}

func (c *Config) listenerString(l, name string) string {
	s, _ := c.listenerValue(l, name).(string)
	return s
}

// listenerSource names where listener l's value of property name comes from, for messages:
// the listener-prefixed name if it is set, else name.
func (c *Config) listenerSource(l, name string) string {
	full := listenerPrefix + strings.ToLower(l) + "." + name
	if _, ok := c.overrides[full]; ok {
		return full
	}
	return name
}

// ListenerSecurity is what one listener needs to secure its connections: its security protocol
// and its effective TLS and SASL settings (listener-prefixed values over the broker-wide ones).
type ListenerSecurity struct {
	Listener string // the listener's name, upper case
	Protocol string // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
	SSL      SSLSettings
	SASL     SASLSettings
}

// TLS reports whether the protocol runs over TLS (SSL, SASL_SSL).
func (s ListenerSecurity) TLS() bool { return s.Protocol == "SSL" || s.Protocol == "SASL_SSL" }

// IsSASL reports whether the protocol authenticates with SASL (SASL_PLAINTEXT, SASL_SSL).
func (s ListenerSecurity) IsSASL() bool {
	return s.Protocol == "SASL_PLAINTEXT" || s.Protocol == "SASL_SSL"
}

// SSLSettings are a listener's ssl.* properties. Source names, for messages, the property each
// value was read from (listener-prefixed or not).
type SSLSettings struct {
	KeystoreType, KeystoreLocation, KeystorePassword, KeystoreKey, KeystoreCertificateChain, KeyPassword string
	TruststoreType, TruststoreLocation, TruststorePassword, TruststoreCertificates                       string
	ClientAuth                                                                                           string // none, requested, required
	PrincipalMappingRules                                                                                string
	EnabledProtocols, CipherSuites                                                                       []string
	EndpointIdentificationAlgorithm                                                                      string
	Source                                                                                               func(property string) string
}

// SASLSettings are a listener's SASL properties.
type SASLSettings struct {
	EnabledMechanisms []string
	// JAAS is each mechanism's listener.name.<l>.<mechanism>.sasl.jaas.config, by mechanism
	// (upper case), as text; JAASSource names the property, for messages.
	JAAS                   map[string]string
	MaxReceiveSize         int
	ConnectionsMaxReauthMs int64
	Source                 func(property string) string
}

// JAASSource is the name of listener l's JAAS property for mechanism.
func JAASSource(l, mechanism string) string {
	return listenerPrefix + strings.ToLower(l) + "." + strings.ToLower(mechanism) + ".sasl.jaas.config"
}

// ListenerProtocol is the security protocol of listener name, from
// listener.security.protocol.map (PLAINTEXT when it maps nothing, which Validate refuses).
func (c *Config) ListenerProtocol(name string) string {
	m, _ := parseProtocolMap(c.ListenerSecurityProtocolMap)
	if p, ok := m[strings.ToUpper(name)]; ok {
		return p
	}
	return "PLAINTEXT"
}

// ListenerSecurity resolves listener name's security settings.
func (c *Config) ListenerSecurity(name string) ListenerSecurity {
	name = strings.ToUpper(name)
	str := func(p string) string { return c.listenerString(name, p) }
	src := func(p string) string { return c.listenerSource(name, p) }
	s := ListenerSecurity{Listener: name, Protocol: c.ListenerProtocol(name)}
	s.SSL = SSLSettings{
		KeystoreType:                    str("ssl.keystore.type"),
		KeystoreLocation:                str("ssl.keystore.location"),
		KeystorePassword:                str("ssl.keystore.password"),
		KeystoreKey:                     str("ssl.keystore.key"),
		KeystoreCertificateChain:        str("ssl.keystore.certificate.chain"),
		KeyPassword:                     str("ssl.key.password"),
		TruststoreType:                  str("ssl.truststore.type"),
		TruststoreLocation:              str("ssl.truststore.location"),
		TruststorePassword:              str("ssl.truststore.password"),
		TruststoreCertificates:          str("ssl.truststore.certificates"),
		ClientAuth:                      str("ssl.client.auth"),
		PrincipalMappingRules:           str("ssl.principal.mapping.rules"),
		EnabledProtocols:                splitList(str("ssl.enabled.protocols")),
		CipherSuites:                    splitList(str("ssl.cipher.suites")),
		EndpointIdentificationAlgorithm: str("ssl.endpoint.identification.algorithm"),
		Source:                          src,
	}
	s.SASL = SASLSettings{
		EnabledMechanisms:      splitList(str("sasl.enabled.mechanisms")),
		JAAS:                   map[string]string{},
		MaxReceiveSize:         int(c.listenerValue(name, "sasl.server.max.receive.size").(int64)),
		ConnectionsMaxReauthMs: c.listenerValue(name, "connections.max.reauth.ms").(int64),
		Source:                 src,
	}
	for full, v := range c.overrides {
		if l, p, mech, _ := listenerOverride(full); p == jaasProperty && l == name {
			s.SASL.JAAS[mech] = v.(string)
		}
	}
	return s
}

// overrideSettings lists the listener-prefixed settings as KeyValues, sorted, passwords
// hidden, for Properties.
func (c *Config) overrideSettings() []KeyValue {
	var out []KeyValue
	for _, name := range sortedKeys(c.overrides) {
		_, p, _, _ := listenerOverride(name)
		v := plain(c.overrides[name])
		if p.kind == kindPassword && v != "" {
			v = hidden
		}
		out = append(out, KeyValue{Key: name, Value: v})
	}
	return out
}
