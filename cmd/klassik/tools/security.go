package tools

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The connection's security from Kafka's client properties, as a --command-config file gives
// them to kafka-acls.sh and the other admin tools:
//
//	security.protocol=SASL_SSL                      PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
//	sasl.mechanism=SCRAM-SHA-512                    PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
//	sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";
//	ssl.truststore.type=PEM                         with ssl.truststore.location (a PEM file) or ssl.truststore.certificates
//	ssl.keystore.type=PEM                           with ssl.keystore.location (chain and key) or ssl.keystore.certificate.chain and ssl.keystore.key
//	ssl.endpoint.identification.algorithm=          empty: the certificate's chain is checked, not its host name
//
// Java key stores (JKS, PKCS12) cannot be read here: export them to PEM (keytool -exportcert
// -rfc, openssl pkcs12 -nodes). GSSAPI and OAUTHBEARER are not offered.

// commandConfigOpts reads the file of --command-config, if given, into client options.
func commandConfigOpts(fs *flagSet, stderr io.Writer) ([]kgo.Opt, error) {
	o := fs.byName["command-config"]
	if o == nil || !o.given {
		return nil, nil
	}
	props, err := loadConfigFile(o.str())
	if err != nil {
		return nil, err
	}
	return securityOpts(props, stderr)
}

// securityOpts maps the security properties to kgo options; other properties an admin client
// takes are ignored, with a note for those klassik does not know.
func securityOpts(props map[string]string, stderr io.Writer) ([]kgo.Opt, error) {
	proto := strings.ToUpper(strings.TrimSpace(props["security.protocol"]))
	if proto == "" {
		proto = "PLAINTEXT"
	}
	var useTLS, useSASL bool
	switch proto {
	case "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration security.protocol: String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", props["security.protocol"])
	}
	var opts []kgo.Opt
	if useTLS {
		cfg, err := tlsConfig(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if useSASL {
		m, err := saslMechanism(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		switch {
		case k == "security.protocol", k == "sasl.mechanism", k == "sasl.jaas.config", strings.HasPrefix(k, "ssl."):
		case k == "bootstrap.servers", k == "client.id", k == "request.timeout.ms", k == "default.api.timeout.ms",
			k == "retries", k == "retry.backoff.ms", k == "connections.max.idle.ms", k == "metadata.max.age.ms":
			// connection tuning klassik's tools set themselves
		default:
			fmt.Fprintf(stderr, "Note: client property %s is not supported by klassik and is ignored.\n", k)
		}
	}
	return opts, nil
}

// saslMechanism is the mechanism of sasl.mechanism with the credentials of sasl.jaas.config.
func saslMechanism(props map[string]string) (sasl.Mechanism, error) {
	mech := strings.TrimSpace(props["sasl.mechanism"])
	if mech == "" {
		mech = "GSSAPI" // Kafka's default
	}
	want := map[string]string{
		"PLAIN":         "org.apache.kafka.common.security.plain.PlainLoginModule",
		"SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
		"SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
	}[mech]
	if want == "" {
		return nil, fmt.Errorf("sasl.mechanism %s is not supported by klassik: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
	}
	module, opts, err := parseJaasConfig(props["sasl.jaas.config"])
	if err != nil {
		return nil, err
	}
	if module != want {
		return nil, fmt.Errorf("sasl.jaas.config names login module %s, but sasl.mechanism %s needs %s", module, mech, want)
	}
	user, pass := opts["username"], opts["password"]
	if user == "" {
		return nil, fmt.Errorf("sasl.jaas.config gives no username")
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
}

// parseJaasConfig reads a one-module JAAS configuration as Kafka's JaasConfig does:
// "<LoginModuleClass> <required|requisite|sufficient|optional> key=value ... ;", values
// quoted (with backslash escapes) or bare.
func parseJaasConfig(s string) (string, map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil, fmt.Errorf("sasl.jaas.config is needed for SASL: e.g. org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" password=\"alice-secret\";")
	}
	var toks []string
	var quoted []bool
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=' || c == ';':
			toks, quoted = append(toks, string(c)), append(quoted, false)
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return "", nil, fmt.Errorf("sasl.jaas.config: unterminated quoted value")
			}
			toks, quoted = append(toks, b.String()), append(quoted, true)
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r=;\"'", rune(s[j])) {
				j++
			}
			toks, quoted = append(toks, s[i:j]), append(quoted, false)
			i = j
		}
	}
	if len(toks) < 3 || toks[len(toks)-1] != ";" {
		return "", nil, fmt.Errorf("sasl.jaas.config must be \"<LoginModule> required key=value ...;\", ending with a semicolon")
	}
	module, flag := toks[0], strings.ToLower(toks[1])
	switch flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return "", nil, fmt.Errorf("sasl.jaas.config: invalid control flag %q (required, requisite, sufficient or optional)", toks[1])
	}
	opts := map[string]string{}
	rest := toks[2 : len(toks)-1]
	for i := 0; i < len(rest); i += 3 {
		if i+2 >= len(rest) || rest[i+1] != "=" || quoted[2+i+1] {
			return "", nil, fmt.Errorf("sasl.jaas.config: expected key=value after %q", strings.Join(toks[:2+i], " "))
		}
		if rest[i] == ";" {
			return "", nil, fmt.Errorf("sasl.jaas.config: one login module only")
		}
		opts[rest[i]] = rest[i+2]
	}
	return module, opts, nil
}

// tlsConfig builds the client's TLS from the ssl.* properties.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if v := props["ssl.protocol"]; v == "TLSv1.3" {
		cfg.MinVersion = tls.VersionTLS13
	}
	pemOf := func(inline, location, typeKey string) ([]byte, error) {
		typ := strings.ToUpper(strings.TrimSpace(props[typeKey]))
		if props[inline] != "" {
			if typ != "" && typ != "PEM" {
				return nil, fmt.Errorf("%s needs %s=PEM", inline, typeKey)
			}
			return []byte(props[inline]), nil
		}
		loc := props[location]
		if loc == "" {
			return nil, nil
		}
		if typ != "PEM" {
			if typ == "" {
				typ = "JKS"
			}
			return nil, fmt.Errorf("%s is of %s %s: klassik reads PEM files only (set %s=PEM; keytool -exportcert -rfc or openssl pkcs12 -nodes convert a Java key store)", location, typeKey, typ, typeKey)
		}
		b, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %v", location, err)
		}
		return b, nil
	}
	trust, err := pemOf("ssl.truststore.certificates", "ssl.truststore.location", "ssl.truststore.type")
	if err != nil {
		return nil, err
	}
	if trust != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(trust) {
			return nil, fmt.Errorf("the trust store holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if props["ssl.key.password"] != "" {
		return nil, fmt.Errorf("ssl.key.password: klassik reads unencrypted PEM keys only")
	}
	var chain, key []byte
	if props["ssl.keystore.certificate.chain"] != "" || props["ssl.keystore.key"] != "" {
		chain, key = []byte(props["ssl.keystore.certificate.chain"]), []byte(props["ssl.keystore.key"])
	} else if ks, err := pemOf("", "ssl.keystore.location", "ssl.keystore.type"); err != nil {
		return nil, err
	} else if ks != nil {
		chain, key = ks, ks // one file with both, as Kafka's PEM key store
	}
	if chain != nil {
		cert, err := tls.X509KeyPair(pemBlocks(chain, "CERTIFICATE"), pemKey(key))
		if err != nil {
			return nil, fmt.Errorf("the key store: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if alg, set := props["ssl.endpoint.identification.algorithm"]; set && strings.TrimSpace(alg) == "" {
		// Kafka checks the chain but not the host name: do the same by hand.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("the broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}

// pemBlocks keeps the blocks of type typ.
func pemBlocks(b []byte, typ string) []byte {
	var out []byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type == typ {
			out = append(out, pem.EncodeToMemory(blk)...)
		}
	}
}

// pemKey keeps the first private key block.
func pemKey(b []byte) []byte {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil
		}
		if strings.HasSuffix(blk.Type, "PRIVATE KEY") {
			return pem.EncodeToMemory(blk)
		}
	}
}

// isSecurityProp reports whether k is one of the properties securityOpts reads, which the
// producer and consumer tools leave to it.
func isSecurityProp(k string) bool {
	return k == "security.protocol" || strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.")
}

// clientSecurityOpts is securityOpts for a producer's or consumer's properties, whose other
// keys producerOpts and consumerOpts judge themselves.
func clientSecurityOpts(props map[string]string) ([]kgo.Opt, error) {
	return securityOpts(props, io.Discard)
}
