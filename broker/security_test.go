package broker

import (
	"os"
	"strings"
	"testing"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/security"
	"github.com/rs/zerolog"
)

// TestDescribePasswords: a password property (ssl.keystore.key, a listener's JAAS
// configuration) is described as Kafka describes it: sensitive, with no value, in the entry and
// its synonyms; the broker's other listener properties keep theirs.
func TestDescribePasswords(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/server.toml"
	text := "broker.id = 1\nzookeeper.connect = \"127.0.0.1:2181\"\nlog.dirs = \"" + dir + "\"\n" +
		"listeners = \"PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093\"\n" +
		"sasl.enabled.mechanisms = \"PLAIN\"\n" +
		"listener.name.sasl_plaintext.plain.sasl.jaas.config = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";'\n" +
		"ssl.keystore.key = \"-----BEGIN PRIVATE KEY-----\"\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	bc, err := conf.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, kv := range bc.Properties() {
		c := describeBrokerConfig(bc, kv.Key, kv.Value, true, false)
		seen[kv.Key] = true
		secret := conf.Sensitive(kv.Key) // Kafka's PASSWORD type: sensitive whether set or not
		if c.IsSensitive != secret || (secret && c.Value != nil) {
			t.Errorf("%s: sensitive %v, value %v", kv.Key, c.IsSensitive, c.Value)
		}
		for _, s := range c.ConfigSynonyms {
			if s.Value != nil && strings.Contains(*s.Value, "secret") || s.Value != nil && strings.Contains(*s.Value, "PRIVATE KEY") {
				t.Errorf("%s: synonym %s shows %q", kv.Key, s.Name, *s.Value)
			}
		}
		if c.Value != nil && (strings.Contains(*c.Value, "alice-secret") || strings.Contains(*c.Value, "PRIVATE KEY")) {
			t.Errorf("%s describes a secret: %q", kv.Key, *c.Value)
		}
	}
	if !conf.Sensitive("listener.name.sasl_plaintext.plain.sasl.jaas.config") || !conf.Sensitive("ssl.keystore.key") || conf.Sensitive("ssl.keystore.location") {
		t.Error("conf.Sensitive does not tell passwords from other properties")
	}
	if !seen["listener.name.sasl_plaintext.plain.sasl.jaas.config"] || !seen["ssl.keystore.key"] {
		t.Errorf("the listing lacks the secrets' entries: %v", seen)
	}
}

// TestScramCredentialsCache: the SCRAM keys of a user's znode config become the credentials
// SASL exchanges find; the quota keys beside them are none of SCRAM's business, a credential
// that does not parse is left out, and an empty config forgets the user.
func TestScramCredentialsCache(t *testing.T) {
	s := newScramCredentials(&Broker{log: zerolog.Nop()})
	cred, err := security.ScramSHA256.NewCredential([]byte("pw"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	s.apply("alice", map[string]string{
		"SCRAM-SHA-256":      security.FormatCredential(cred),
		"SCRAM-SHA-512":      "salt=,iterations=oops",
		"producer_byte_rate": "1024",
	})
	if got, ok := s.lookup(security.ScramSHA256, "alice"); !ok || got.Iterations != 4096 || string(got.StoredKey) != string(cred.StoredKey) {
		t.Errorf("SCRAM-SHA-256 of alice = %+v, %v", got, ok)
	}
	if _, ok := s.lookup(security.ScramSHA512, "alice"); ok {
		t.Error("a credential that does not parse was cached")
	}
	s.apply("alice", map[string]string{"producer_byte_rate": "1024"})
	if _, ok := s.lookup(security.ScramSHA256, "alice"); ok {
		t.Error("a deleted credential is still found")
	}
}
