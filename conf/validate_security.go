package conf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkSecurity checks what each listener's security protocol needs (a PEM keystore for TLS,
// served SASL mechanisms and their JAAS configurations), and what the inter-broker listener
// needs for the broker's own connections (credentials for sasl.mechanism.inter.broker.protocol).
func (c *Config) checkSecurity(ls, adv []Listener) []error {
	var errs []error
	add := func(key, value, msg string) {
		errs = append(errs, &valueError{key: key, value: value, msg: msg})
	}
	for _, l := range ls {
		s := c.ListenerSecurity(l.Name)
		if s.TLS() {
			errs = append(errs, c.checkTLS(s)...)
		}
		if s.IsSASL() {
			errs = append(errs, c.checkSASL(s)...)
		}
	}

	if _, set := c.explicit["security.inter.broker.protocol"]; set {
		// Kafka refuses both; klassik accepts both when they agree, as Config.String writes them.
		if ibl := strings.TrimSpace(c.InterBrokerListenerName); ibl != "" {
			if p := c.ListenerProtocol(ibl); p != c.SecurityInterBrokerProtocol {
				add("security.inter.broker.protocol", strconv.Quote(c.SecurityInterBrokerProtocol),
					fmt.Sprintf("inter.broker.listener.name = %q names a listener of protocol %s; set only one of the two (Kafka's rule)", ibl, p))
			}
		} else if len(adv) > 0 && !slices.ContainsFunc(adv, func(l Listener) bool { return l.Name == c.SecurityInterBrokerProtocol }) {
			add("security.inter.broker.protocol", strconv.Quote(c.SecurityInterBrokerProtocol),
				fmt.Sprintf("the inter-broker listener is the one named %s, and no advertised listener has that name (%s); set inter.broker.listener.name instead", c.SecurityInterBrokerProtocol, listenerNames(adv)))
		}
	}
	ibName := strings.ToUpper(strings.TrimSpace(c.InterBrokerListenerName))
	if ibName == "" {
		ibName = c.defaultInterBrokerName(adv)
	}
	if ibName == "" || !slices.ContainsFunc(ls, func(l Listener) bool { return l.Name == ibName }) {
		return errs // reported by checkListeners
	}
	ib := c.ListenerSecurity(ibName)
	if !ib.IsSASL() {
		return errs
	}
	mech := c.SaslMechanismInterBrokerProtocol
	if !slices.Contains(ib.SASL.EnabledMechanisms, mech) {
		add("sasl.mechanism.inter.broker.protocol", strconv.Quote(mech),
			fmt.Sprintf("the inter-broker listener %s (%s) does not enable it (%s = %q); brokers must authenticate to each other with one of its mechanisms",
				ibName, ib.Protocol, ib.SASL.Source("sasl.enabled.mechanisms"), strings.Join(ib.SASL.EnabledMechanisms, ",")))
		return errs
	}
	src := JAASSource(ibName, mech)
	text, ok := ib.SASL.JAAS[mech]
	if !ok {
		add(src, "(not set)", fmt.Sprintf("the inter-broker listener %s authenticates brokers with %s, so the broker needs its own credentials here: %s required username=\"admin\" password=\"...\";",
			ibName, mech, LoginModuleFor(mech)))
		return errs
	}
	if j, err := ParseJAAS(text); err == nil && (j.Options["username"] == "" || j.Options["password"] == "") {
		add(src, hidden, fmt.Sprintf("the inter-broker listener authenticates brokers with %s, so this needs username=\"...\" and password=\"...\", the credentials this broker presents to the others", mech))
	}
	return errs
}

// checkTLS checks an SSL or SASL_SSL listener's keystore and truststore (KIP-651 PEM only).
func (c *Config) checkTLS(s ListenerSecurity) []error {
	var errs []error
	t := s.SSL
	add := func(prop, value, msg string) {
		errs = append(errs, &valueError{key: t.Source(prop), value: value, msg: msg})
	}
	what := fmt.Sprintf("listener %s (%s)", s.Listener, s.Protocol)
	if t.KeystoreType != "PEM" {
		add("ssl.keystore.type", strconv.Quote(t.KeystoreType), fmt.Sprintf(`%s needs a keystore, and klassik reads only PEM keystores (KIP-651): set ssl.keystore.type = "PEM" with ssl.keystore.location, or with ssl.keystore.key and ssl.keystore.certificate.chain`, what))
	} else {
		inline := t.KeystoreKey != "" || t.KeystoreCertificateChain != ""
		switch {
		case t.KeystoreLocation == "" && !inline:
			add("ssl.keystore.location", `""`, fmt.Sprintf("%s needs its private key and certificate chain: a PEM file here, or ssl.keystore.key and ssl.keystore.certificate.chain inline", what))
		case t.KeystoreLocation != "" && inline:
			add("ssl.keystore.location", strconv.Quote(t.KeystoreLocation), "may not be set together with ssl.keystore.key and ssl.keystore.certificate.chain: give the key and chain one way")
		case inline && (t.KeystoreKey == "" || t.KeystoreCertificateChain == ""):
			add("ssl.keystore.key", hidden, "ssl.keystore.key and ssl.keystore.certificate.chain go together: set both")
		}
	}
	if t.KeyPassword != "" {
		add("ssl.key.password", hidden, "klassik reads only unencrypted PEM private keys; decrypt the key (openssl pkey -in key.pem -out key-plain.pem) and leave ssl.key.password unset")
	}
	if t.TruststoreLocation != "" || t.TruststoreCertificates != "" {
		switch {
		case t.TruststoreType != "PEM":
			add("ssl.truststore.type", strconv.Quote(t.TruststoreType), `klassik reads only PEM truststores (KIP-651): set ssl.truststore.type = "PEM"`)
		case t.TruststoreLocation != "" && t.TruststoreCertificates != "":
			add("ssl.truststore.location", strconv.Quote(t.TruststoreLocation), "may not be set together with ssl.truststore.certificates: give the CA certificates one way")
		}
	}
	return errs
}

// checkSASL checks a SASL listener's mechanisms and their JAAS configurations.
func (c *Config) checkSASL(s ListenerSecurity) []error {
	var errs []error
	sa := s.SASL
	mechSrc := sa.Source("sasl.enabled.mechanisms")
	mechs := strconv.Quote(strings.Join(sa.EnabledMechanisms, ","))
	if len(sa.EnabledMechanisms) == 0 {
		errs = append(errs, &valueError{key: mechSrc, value: mechs,
			msg: fmt.Sprintf("listener %s (%s) needs at least one SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Listener, s.Protocol)})
	}
	for _, m := range sa.EnabledMechanisms {
		if !slices.Contains(supportedSaslMechanisms, m) {
			errs = append(errs, &valueError{key: mechSrc, value: mechs,
				msg: fmt.Sprintf("listener %s (%s) enables %s, which klassik does not serve (Kafka's default is GSSAPI); set %s to PLAIN, SCRAM-SHA-256 and/or SCRAM-SHA-512", s.Listener, s.Protocol, m, mechSrc)})
		}
	}
	for _, m := range sortedKeys(sa.JAAS) {
		src := JAASSource(s.Listener, m)
		j, err := ParseJAAS(sa.JAAS[m])
		if err != nil {
			errs = append(errs, &valueError{key: src, value: hidden, msg: err.Error()})
			continue
		}
		if want := LoginModuleFor(m); want != "" && j.LoginModule != want {
			errs = append(errs, &valueError{key: src, value: hidden, msg: fmt.Sprintf("the login module of %s is %s, not %s", m, want, j.LoginModule)})
		}
	}
	if slices.Contains(sa.EnabledMechanisms, "PLAIN") {
		src := JAASSource(s.Listener, "PLAIN")
		text, ok := sa.JAAS["PLAIN"]
		if !ok {
			errs = append(errs, &valueError{key: src, value: "(not set)",
				msg: fmt.Sprintf("listener %s enables PLAIN, whose users are listed here, as in Kafka: %s required user_alice=\"alice-secret\";", s.Listener, PlainLoginModule)})
		} else if j, err := ParseJAAS(text); err == nil && len(j.PlainUsers()) == 0 {
			errs = append(errs, &valueError{key: src, value: hidden,
				msg: `lists no PLAIN users; add user_<name>="<password>" for each`})
		}
	}
	return errs
}
