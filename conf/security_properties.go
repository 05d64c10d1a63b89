package conf

import (
	"fmt"
	"strings"
)

// The security properties: listeners' TLS (Kafka's SslConfigs, with KIP-651's PEM keystores)
// and SASL (BrokerSecurityConfigs, SaslConfigs). Those marked perListener may be set for one
// listener as listener.name.<listener>.<property>, e.g.
// listener.name.external.ssl.keystore.location, which wins over the broker-wide value for that
// listener (listener_overrides.go). Kafka's defaults are kept even where klassik cannot use
// them (ssl.keystore.type JKS, sasl.enabled.mechanisms GSSAPI): a listener that needs them is
// refused at start with a sentence saying what to set.

// SASL mechanisms Kafka knows, and those klassik serves.
var (
	knownSaslMechanisms     = []string{"GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}
	supportedSaslMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
)

var securityProperties = []*property{
	{name: "security.inter.broker.protocol", kind: kindString, def: "PLAINTEXT", field: func(c *Config) any { return &c.SecurityInterBrokerProtocol },
		check: oneOf(securityProtocols...),
		doc:   "The security protocol brokers use to talk to each other; the inter-broker listener is the one of that name. It may not be set together with inter.broker.listener.name."},
	{name: "sasl.enabled.mechanisms", kind: kindList, def: "GSSAPI", field: func(c *Config) any { return &c.SaslEnabledMechanisms }, perListener: true,
		check: checkSaslMechanismList,
		doc:   "The SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener offers. Kafka's default is GSSAPI (Kerberos), which klassik does not serve: a SASL listener needs PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 here."},
	{name: "sasl.mechanism.inter.broker.protocol", kind: kindString, def: "GSSAPI", field: func(c *Config) any { return &c.SaslMechanismInterBrokerProtocol },
		check: checkSaslMechanism,
		doc:   "The SASL mechanism brokers authenticate with on a SASL inter-broker listener; its credentials are the username and password in listener.name.<listener>.<mechanism>.sasl.jaas.config."},
	{name: "sasl.server.max.receive.size", kind: kindInt, def: "524288", field: func(c *Config) any { return &c.SaslServerMaxReceiveSize }, perListener: true,
		check: atLeast(1), doc: "The largest frame a client may send before it has authenticated (its SASL tokens, ApiVersions); a larger one closes the connection."},
	{name: "connections.max.reauth.ms", kind: kindLong, def: "0", field: func(c *Config) any { return &c.ConnectionsMaxReauthMs }, perListener: true,
		check: atLeast(0), doc: "KIP-368: the longest a SASL session lasts; the client must authenticate again on the same connection before then (clients that cannot are disconnected). 0: sessions never expire."},
	{name: "connection.failed.authentication.delay.ms", kind: kindInt, def: "100", field: func(c *Config) any { return &c.ConnectionFailedAuthenticationDelayMs },
		check: atLeast(0), doc: "How long the broker waits before it answers a failed authentication and closes the connection (KIP-306), so that a client guessing passwords gets at most one guess per connection and per delay."},

	{name: "ssl.keystore.type", kind: kindString, def: "JKS", field: func(c *Config) any { return &c.SslKeystoreType }, perListener: true,
		check: oneOf("JKS", "PKCS12", "PEM"),
		doc:   `The format of the keystore. klassik reads PEM (KIP-651) only: set "PEM" on SSL and SASL_SSL listeners.`},
	{name: "ssl.keystore.location", kind: kindString, null: true, field: func(c *Config) any { return &c.SslKeystoreLocation }, perListener: true,
		doc: "A PEM file holding the private key and the certificate chain (the broker's certificate first). Read again when it changes (klassik.ssl.reload.check.interval.ms)."},
	{name: "ssl.keystore.password", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslKeystorePassword }, perListener: true,
		doc: "The keystore's password. A PEM keystore has none (KIP-651): leave it unset."},
	{name: "ssl.keystore.key", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslKeystoreKey }, perListener: true,
		doc: "The private key in PEM, inline (KIP-651), with ssl.keystore.certificate.chain, in place of ssl.keystore.location."},
	{name: "ssl.keystore.certificate.chain", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslKeystoreCertificateChain }, perListener: true,
		doc: "The certificate chain in PEM, inline (KIP-651), with ssl.keystore.key."},
	{name: "ssl.key.password", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslKeyPassword }, perListener: true,
		doc: "The password of an encrypted private key. klassik reads unencrypted PEM keys only: leave it unset."},
	{name: "ssl.truststore.type", kind: kindString, def: "JKS", field: func(c *Config) any { return &c.SslTruststoreType }, perListener: true,
		check: oneOf("JKS", "PKCS12", "PEM"),
		doc:   `The format of the truststore. klassik reads PEM (KIP-651) only.`},
	{name: "ssl.truststore.location", kind: kindString, null: true, field: func(c *Config) any { return &c.SslTruststoreLocation }, perListener: true,
		doc: "A PEM file of the CA certificates trusted to sign client certificates (and, on the inter-broker listener, other brokers' certificates). Default: none; the inter-broker client then trusts the system's CAs. Read again when it changes."},
	{name: "ssl.truststore.password", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslTruststorePassword }, perListener: true,
		doc: "The truststore's password. A PEM truststore has none: leave it unset."},
	{name: "ssl.truststore.certificates", kind: kindPassword, null: true, field: func(c *Config) any { return &c.SslTruststoreCertificates }, perListener: true,
		doc: "The trusted CA certificates in PEM, inline (KIP-651), in place of ssl.truststore.location."},
	{name: "ssl.client.auth", kind: kindString, def: "none", field: func(c *Config) any { return &c.SslClientAuth }, perListener: true,
		check: oneOf("required", "requested", "none"),
		doc:   "Whether an SSL listener asks clients for a certificate: required (a client without one is refused), requested (a client may send one) or none. On an SSL listener the principal is the certificate's subject, mapped by ssl.principal.mapping.rules; without one it is User:ANONYMOUS."},
	{name: "ssl.principal.mapping.rules", kind: kindString, def: "DEFAULT", field: func(c *Config) any { return &c.SslPrincipalMappingRules }, perListener: true,
		doc: `How a client certificate's subject (RFC 2253, "CN=alice,OU=eng,O=example") becomes a principal's name: rules "RULE:pattern/replacement/[LU]" tried in order, DEFAULT keeping the whole subject (Kafka's SslPrincipalMapper).`},
	{name: "ssl.enabled.protocols", kind: kindList, def: "TLSv1.2,TLSv1.3", field: func(c *Config) any { return &c.SslEnabledProtocols }, perListener: true,
		check: listOf("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"), doc: "The TLS versions an SSL listener accepts."},
	{name: "ssl.protocol", kind: kindString, def: "TLSv1.3", field: func(c *Config) any { return &c.SslProtocol }, perListener: true,
		check: oneOf("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "TLS"), doc: "The TLS protocol of the SSL context. Accepted; Go negotiates the newest of ssl.enabled.protocols."},
	{name: "ssl.cipher.suites", kind: kindList, null: true, field: func(c *Config) any { return &c.SslCipherSuites }, perListener: true,
		doc: "The cipher suites allowed for TLS 1.2 and older, by their IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...). Default: Go's secure defaults. TLS 1.3's suites are not configurable."},
	{name: "ssl.endpoint.identification.algorithm", kind: kindString, def: "https", field: func(c *Config) any { return &c.SslEndpointIdentificationAlgorithm }, perListener: true,
		check: oneOf("https", ""), doc: `How the broker, as a client of other brokers on an SSL inter-broker listener, checks their certificates: "https" matches the host name, "" checks only the chain.`},
	{name: "klassik.ssl.reload.check.interval.ms", kind: kindLong, def: "10000", field: func(c *Config) any { return &c.SslReloadCheckIntervalMs },
		check: atLeast(0), doc: "klassik's own: how often the broker looks whether a keystore or truststore file changed, and loads it for new connections if it did (Kafka reloads on a dynamic config update). 0: never."},
}

func checkSaslMechanism(v any) string {
	s := v.(string)
	for _, m := range knownSaslMechanisms {
		if s == m {
			return ""
		}
	}
	return fmt.Sprintf("%q is not a SASL mechanism (%s)", s, strings.Join(knownSaslMechanisms, ", "))
}

func checkSaslMechanismList(v any) string {
	for _, m := range splitList(v.(string)) {
		if msg := checkSaslMechanism(m); msg != "" {
			return msg
		}
	}
	return ""
}
