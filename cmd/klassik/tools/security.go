package tools

import (
	"fmt"
	"strings"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/security"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Kafka's client security properties, as a tool's --command-config (and console-producer's
// --producer.config, console-consumer's --consumer.config, producer-perf-test's
// --producer-props) give them:
//
//	security.protocol=SASL_SSL
//	sasl.mechanism=SCRAM-SHA-512
//	sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";
//	ssl.truststore.type=PEM
//	ssl.truststore.location=/etc/kafka/ca.pem
//
// TLS material is read in PEM (KIP-651): ssl.truststore.location or ssl.truststore.certificates,
// and for mutual TLS ssl.keystore.location (key and chain in one file) or ssl.keystore.key with
// ssl.keystore.certificate.chain. SASL mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.

// isSecurityProp reports whether k is one of the properties clientSecurityOpts reads.
func isSecurityProp(k string) bool {
	return k == "security.protocol" || strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.")
}

// clientSecurityOpts turns the security properties among props into kgo options.
func clientSecurityOpts(props map[string]string) ([]kgo.Opt, error) {
	proto := strings.ToUpper(strings.TrimSpace(props["security.protocol"]))
	switch proto {
	case "", "PLAINTEXT":
		return nil, nil
	case "SSL", "SASL_PLAINTEXT", "SASL_SSL":
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration security.protocol: String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", props["security.protocol"])
	}
	var opts []kgo.Opt
	if proto == "SSL" || proto == "SASL_SSL" {
		s := conf.SSLSettings{
			KeystoreType: orDefault(props["ssl.keystore.type"], "PEM"), KeystoreLocation: props["ssl.keystore.location"],
			KeystoreKey: props["ssl.keystore.key"], KeystoreCertificateChain: props["ssl.keystore.certificate.chain"],
			TruststoreType: orDefault(props["ssl.truststore.type"], "PEM"), TruststoreLocation: props["ssl.truststore.location"],
			TruststoreCertificates:          props["ssl.truststore.certificates"],
			EnabledProtocols:                splitServers(orDefault(props["ssl.enabled.protocols"], "TLSv1.2,TLSv1.3")),
			EndpointIdentificationAlgorithm: "https",
			Source:                          func(p string) string { return p },
		}
		if v, ok := props["ssl.endpoint.identification.algorithm"]; ok {
			s.EndpointIdentificationAlgorithm = strings.TrimSpace(v)
		}
		if props["ssl.key.password"] != "" {
			return nil, fmt.Errorf("ssl.key.password: klassik's tools read only unencrypted PEM private keys")
		}
		cfg, err := security.ClientTLS(s)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if proto == "SASL_PLAINTEXT" || proto == "SASL_SSL" {
		mech := strings.TrimSpace(orDefault(props["sasl.mechanism"], "GSSAPI"))
		text, ok := props["sasl.jaas.config"]
		if !ok {
			return nil, fmt.Errorf("security.protocol=%s needs sasl.jaas.config with the username and password, e.g. %s required username=\"alice\" password=\"alice-secret\";", proto, conf.LoginModuleFor("SCRAM-SHA-512"))
		}
		j, err := conf.ParseJAAS(text)
		if err != nil {
			return nil, fmt.Errorf("sasl.jaas.config: %v", err)
		}
		user, pass := j.Options["username"], j.Options["password"]
		if user == "" || pass == "" {
			return nil, fmt.Errorf("sasl.jaas.config: username=\"...\" and password=\"...\" are needed")
		}
		switch mech {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("sasl.mechanism=%s is not supported by klassik's tools: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
		}
	}
	return opts, nil
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// commandConfigOpts reads --command-config, if given, for its security properties (the other
// admin client properties are not used).
func commandConfigOpts(fs *flagSet) ([]kgo.Opt, error) {
	o := fs.byName["command-config"]
	if o == nil || !o.given {
		return nil, nil
	}
	props, err := loadConfigFile(o.str())
	if err != nil {
		return nil, err
	}
	return clientSecurityOpts(props)
}
