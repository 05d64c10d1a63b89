package conf

import (
	"strings"
	"testing"
)

// A broker with a PLAINTEXT listener for the harness, an SSL one and a SASL_SSL one whose
// inter-broker credentials are SCRAM's, written as a Kafka server.properties would be.
const secureBase = base + `listeners = "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094"
inter.broker.listener.name = "SASL_SSL"
sasl.enabled.mechanisms = "PLAIN,SCRAM-SHA-256"
sasl.mechanism.inter.broker.protocol = "SCRAM-SHA-256"
ssl.keystore.type = "PEM"
ssl.keystore.location = "/etc/klassik/broker.pem"
ssl.truststore.type = "PEM"
ssl.truststore.location = "/etc/klassik/ca.pem"
listener.name.ssl.ssl.client.auth = "required"
listener.name.ssl.ssl.principal.mapping.rules = "RULE:^CN=(.*?),.*$/$1/L,DEFAULT"
listener.name.sasl_ssl.plain.sasl.jaas.config = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";'
`

// TestListenerSecurity: listener.name.<l>.<property> overrides the broker-wide value for that
// listener only (Kafka's listener-prefixed configs), and each listener gets the protocol
// listener.security.protocol.map gives its name.
func TestListenerSecurity(t *testing.T) {
	c := mustLoad(t, secureBase, []string{"KAFKA_LISTENER_NAME_SASL__SSL_SASL_SERVER_MAX_RECEIVE_SIZE=4096"},
		[]string{"listener.name.sasl_ssl.connections.max.reauth.ms=60000"})
	ssl := c.ListenerSecurity("SSL")
	if ssl.Protocol != "SSL" || !ssl.TLS() || ssl.IsSASL() {
		t.Errorf("SSL listener: protocol %s, TLS %v, SASL %v", ssl.Protocol, ssl.TLS(), ssl.IsSASL())
	}
	if ssl.SSL.ClientAuth != "required" || ssl.SSL.PrincipalMappingRules != "RULE:^CN=(.*?),.*$/$1/L,DEFAULT" ||
		ssl.SSL.KeystoreLocation != "/etc/klassik/broker.pem" || ssl.SSL.Source("ssl.client.auth") != "listener.name.ssl.ssl.client.auth" {
		t.Errorf("SSL listener's TLS settings = %+v", ssl.SSL)
	}
	sasl := c.ListenerSecurity("SASL_SSL")
	if sasl.Protocol != "SASL_SSL" || !sasl.TLS() || !sasl.IsSASL() {
		t.Errorf("SASL_SSL listener: protocol %s", sasl.Protocol)
	}
	if sasl.SSL.ClientAuth != "none" || sasl.SSL.Source("ssl.client.auth") != "ssl.client.auth" {
		t.Errorf("SASL_SSL listener's client auth = %q from %s, want the broker-wide none", sasl.SSL.ClientAuth, sasl.SSL.Source("ssl.client.auth"))
	}
	if strings.Join(sasl.SASL.EnabledMechanisms, ",") != "PLAIN,SCRAM-SHA-256" || sasl.SASL.MaxReceiveSize != 4096 || sasl.SASL.ConnectionsMaxReauthMs != 60000 {
		t.Errorf("SASL_SSL listener's SASL settings = %+v", sasl.SASL)
	}
	if len(sasl.SASL.JAAS) != 2 || !strings.Contains(sasl.SASL.JAAS["PLAIN"], `user_alice="alice-secret"`) {
		t.Errorf("SASL_SSL JAAS = %v", sasl.SASL.JAAS)
	}
	if pt := c.ListenerSecurity("PLAINTEXT"); pt.TLS() || pt.IsSASL() || pt.SASL.MaxReceiveSize != 524288 {
		t.Errorf("PLAINTEXT listener = %+v", pt)
	}
	if c.InterBrokerListenerName != "SASL_SSL" {
		t.Errorf("inter.broker.listener.name = %q", c.InterBrokerListenerName)
	}

	// The startup listing shows every override; passwords hidden, as Kafka logs them.
	kv := map[string]string{}
	for _, p := range c.Properties() {
		kv[p.Key] = p.Value
	}
	if kv["listener.name.sasl_ssl.plain.sasl.jaas.config"] != "[hidden]" || kv["listener.name.ssl.ssl.client.auth"] != "required" ||
		kv["security.inter.broker.protocol"] != "SASL_SSL" || kv["listener.name.sasl_ssl.sasl.server.max.receive.size"] != "4096" {
		t.Errorf("Properties() = %v", kv)
	}
	if s := c.String(); strings.Contains(s, "alice-secret") || strings.Contains(s, "admin-secret") {
		t.Errorf("String() shows a password:\n%s", s)
	}
}

// TestSecurityInterBrokerProtocol: without inter.broker.listener.name, the inter-broker
// listener is the one named after security.inter.broker.protocol, as in Kafka; the two may
// not disagree.
func TestSecurityInterBrokerProtocol(t *testing.T) {
	const two = base + `listeners = "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093"
sasl.enabled.mechanisms = "SCRAM-SHA-512"
sasl.mechanism.inter.broker.protocol = "SCRAM-SHA-512"
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="b";'
`
	c := mustLoad(t, two+"security.inter.broker.protocol = \"SASL_PLAINTEXT\"\n", nil, nil)
	if c.InterBrokerListenerName != "SASL_PLAINTEXT" {
		t.Errorf("inter.broker.listener.name = %q, want SASL_PLAINTEXT", c.InterBrokerListenerName)
	}
	if c2 := mustLoad(t, two, nil, nil); c2.InterBrokerListenerName != "PLAINTEXT" {
		t.Errorf("default inter.broker.listener.name = %q, want PLAINTEXT (security.inter.broker.protocol's default)", c2.InterBrokerListenerName)
	}
	_, err := loadTOML(t, two+"security.inter.broker.protocol = \"SASL_PLAINTEXT\"\ninter.broker.listener.name = \"PLAINTEXT\"\n", nil, nil)
	assertErrors(t, err, `security.inter.broker.protocol = "SASL_PLAINTEXT": inter.broker.listener.name = "PLAINTEXT" names a listener of protocol PLAINTEXT; set only one of the two (Kafka's rule) (in server.toml)`)
	_, err = loadTOML(t, two+"security.inter.broker.protocol = \"SSL\"\n", nil, nil)
	assertErrors(t, err, `security.inter.broker.protocol = "SSL": the inter-broker listener is the one named SSL, and no advertised listener has that name (PLAINTEXT, SASL_PLAINTEXT); set inter.broker.listener.name instead (in server.toml)`)
	// The effective configuration lists both, agreeing, and loads back (without passwords:
	// they are [hidden]).
	c = mustLoad(t, base+`listeners = "PLAINTEXT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093"
listener.security.protocol.map = "PLAINTEXT:PLAINTEXT,INTERNAL:SSL"
inter.broker.listener.name = "INTERNAL"
ssl.keystore.type = "PEM"
ssl.keystore.location = "/k.pem"
`, nil, nil)
	if !strings.Contains(c.String(), "security.inter.broker.protocol = \"SSL\"\n") {
		t.Errorf("String() does not show the inter-broker listener's protocol:\n%s", c)
	}
	if _, err := loadTOML(t, c.String(), nil, nil); err != nil {
		t.Errorf("String() does not load back: %v", err)
	}
}

// TestSecurityErrors: what each protocol needs is named with the property to set.
func TestSecurityErrors(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"pem keystore missing", `listeners = "SSL://:9093"
ssl.keystore.type = "PEM"`, []string{
			`ssl.keystore.location = "": listener SSL (SSL) needs its private key and certificate chain: a PEM file here, or ssl.keystore.key and ssl.keystore.certificate.chain inline`}},
		{"keystore twice", `listeners = "SSL://:9093"
listener.name.ssl.ssl.keystore.type = "PEM"
listener.name.ssl.ssl.keystore.location = "/k.pem"
ssl.keystore.key = "-----BEGIN PRIVATE KEY-----"
ssl.keystore.certificate.chain = "-----BEGIN CERTIFICATE-----"`, []string{
			`listener.name.ssl.ssl.keystore.location = "/k.pem": may not be set together with ssl.keystore.key and ssl.keystore.certificate.chain: give the key and chain one way (in server.toml)`}},
		{"encrypted key", `listeners = "SSL://:9093"
ssl.keystore.type = "PEM"
ssl.keystore.location = "/k.pem"
ssl.key.password = "secret"`, []string{
			`ssl.key.password = [hidden]: klassik reads only unencrypted PEM private keys; decrypt the key (openssl pkey -in key.pem -out key-plain.pem) and leave ssl.key.password unset (in server.toml)`}},
		{"jks truststore", `listeners = "SSL://:9093"
ssl.keystore.type = "PEM"
ssl.keystore.location = "/k.pem"
ssl.truststore.location = "/ca.jks"`, []string{
			`ssl.truststore.type = "JKS": klassik reads only PEM truststores (KIP-651): set ssl.truststore.type = "PEM"`}},
		{"gssapi", `listeners = "PLAINTEXT://:9092,SASL_PLAINTEXT://:9093"`, []string{
			`sasl.enabled.mechanisms = "GSSAPI": listener SASL_PLAINTEXT (SASL_PLAINTEXT) enables GSSAPI, which klassik does not serve (Kafka's default is GSSAPI); set sasl.enabled.mechanisms to PLAIN, SCRAM-SHA-256 and/or SCRAM-SHA-512`}},
		{"plain without users", `listeners = "PLAINTEXT://:9092,SASL_PLAINTEXT://:9093"
sasl.enabled.mechanisms = "PLAIN"`, []string{
			`listener.name.sasl_plaintext.plain.sasl.jaas.config = (not set): listener SASL_PLAINTEXT enables PLAIN, whose users are listed here, as in Kafka: org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`}},
		{"bad jaas", `listeners = "PLAINTEXT://:9092,SASL_PLAINTEXT://:9093"
sasl.enabled.mechanisms = "PLAIN"
listener.name.sasl_plaintext.plain.sasl.jaas.config = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="x"'`, []string{
			`listener.name.sasl_plaintext.plain.sasl.jaas.config = [hidden]: the login module org.apache.kafka.common.security.plain.PlainLoginModule is not closed with ';' (in server.toml)`}},
		{"inter-broker without credentials", `listeners = "SASL_PLAINTEXT://:9093"
sasl.enabled.mechanisms = "SCRAM-SHA-512"
sasl.mechanism.inter.broker.protocol = "SCRAM-SHA-512"`, []string{
			`listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config = (not set): the inter-broker listener SASL_PLAINTEXT authenticates brokers with SCRAM-SHA-512, so the broker needs its own credentials here: org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="...";`}},
		{"inter-broker mechanism not enabled", `listeners = "SASL_PLAINTEXT://:9093"
sasl.enabled.mechanisms = "SCRAM-SHA-512"`, []string{
			`sasl.mechanism.inter.broker.protocol = "GSSAPI": the inter-broker listener SASL_PLAINTEXT (SASL_PLAINTEXT) does not enable it (sasl.enabled.mechanisms = "SCRAM-SHA-512"); brokers must authenticate to each other with one of its mechanisms`}},
		{"override of unknown listener", `listener.name.externl.ssl.client.auth = "required"`, []string{
			`listener.name.externl.ssl.client.auth = "required": there is no listener EXTERNL in listeners (PLAINTEXT) (in server.toml)`}},
		{"override of bad value", `listener.name.plaintext.ssl.client.auth = "always"`, []string{
			`listener.name.plaintext.ssl.client.auth = "always": must be one of "required", "requested", "none" (in server.toml)`}},
		{"override of a property that is not per listener", `listener.name.plaintext.num.partitions = 3`, []string{
			`unknown property "listener.name.plaintext.num.partitions" in server.toml: listener.name.<listener>. may prefix only the ssl.* and sasl.* properties, connections.max.reauth.ms and <mechanism>.sasl.jaas.config ("num.partitions" is none of them; did you mean "ssl.protocol"?)`}},
		{"broker-wide jaas", `sasl.jaas.config = "x"`, []string{
			`property "sasl.jaas.config" in server.toml: a broker's JAAS configuration is set per listener and mechanism, e.g. listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadTOML(t, base+tc.toml+"\n", nil, nil)
			assertErrors(t, err, tc.want...)
		})
	}
}

func TestParseJAAS(t *testing.T) {
	j, err := ParseJAAS(`org.apache.kafka.common.security.plain.PlainLoginModule required
		username="admin" password="admin \"secret\"" user_admin="admin \"secret\""
		user_alice=alice-secret;`)
	if err != nil {
		t.Fatal(err)
	}
	if j.LoginModule != PlainLoginModule || j.Flag != "required" || j.Options["password"] != `admin "secret"` || j.Options["username"] != "admin" {
		t.Errorf("ParseJAAS = %+v", j)
	}
	if u := j.PlainUsers(); len(u) != 2 || u["alice"] != "alice-secret" || u["admin"] != `admin "secret"` {
		t.Errorf("PlainUsers = %v", u)
	}
	for in, want := range map[string]string{
		``:                        "expected a login module class name, e.g. " + PlainLoginModule,
		`m always;`:               "expected a control flag (required, requisite, sufficient or optional) after the login module m",
		`m required a;`:           "option a has no '=' and value",
		`m required a="x;`:        `option a: the quoted value has no closing '"'`,
		`m required a=x a=y;`:     "option a is given twice",
		`m required; n required;`: "sasl.jaas.config must hold exactly one login module; more text follows the first one's ';' at character 13",
		`m required a=1 =2;`:      "expected an option key=value or ';' at character 16",
		`m required password="p\`: `option password: the quoted value ends with a lone '\'`,
	} {
		if _, err := ParseJAAS(in); err == nil || err.Error() != want {
			t.Errorf("ParseJAAS(%q) error = %v, want %s", in, err, want)
		}
	}
}
