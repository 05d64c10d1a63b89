package broker

// The listeners' security (Kafka's ChannelBuilders and the broker side of its
// CredentialCache): each listener's protocol decides what its wire.Server runs before the
// first request. SSL and SASL_SSL: TLS with the listener's PEM keystore (security.TLSStore,
// read again when its files change); on SSL the principal is the client certificate's subject
// mapped by ssl.principal.mapping.rules. SASL_PLAINTEXT and SASL_SSL: a SASL exchange of
// sasl.enabled.mechanisms, PLAIN against the listener's JAAS user table, SCRAM against the
// credentials in /config/users/<user> (scram_credentials.go).
//
// The broker's own connections (the controller's channel, replica fetchers, transaction
// markers, metadata probes) dial the inter-broker listener with its protocol: TLS with that
// listener's truststore and keystore, and SASL with sasl.mechanism.inter.broker.protocol and
// the username and password of listener.name.<l>.<mechanism>.sasl.jaas.config.

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/security"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// listenerSecurity is what one listener's wire.Server is given.
type listenerSecurity struct {
	protocol  string
	tls       *tls.Config
	principal func(tls.ConnectionState) (string, error)
	sasl      *wire.SASLConfig
}

// secureListener builds listener l's security from the configuration; errors name the
// property to fix.
func (b *Broker) secureListener(l conf.Listener) (listenerSecurity, error) {
	s := b.cfg.ListenerSecurity(l.Name)
	out := listenerSecurity{protocol: s.Protocol}
	if s.TLS() {
		st, err := security.NewTLSStore(l.Name, s.SSL)
		if err != nil {
			return out, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		b.tlsStores[l.Name] = st
		out.tls = st.ServerConfig()
		if leaf := st.Leaf(); leaf != nil {
			b.log.Info().Str("listener", l.Name).Str("subject", leaf.Subject.String()).Time("not_after", leaf.NotAfter).
				Str("client_auth", s.SSL.ClientAuth).Msg("TLS keystore loaded")
		}
	}
	if s.Protocol == "SSL" {
		m, err := security.NewPrincipalMapper(s.SSL.PrincipalMappingRules, s.SSL.Source("ssl.principal.mapping.rules"))
		if err != nil {
			return out, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		out.principal = func(cs tls.ConnectionState) (string, error) {
			if len(cs.PeerCertificates) == 0 {
				return wire.AnonymousPrincipal, nil // no client certificate: Kafka's ANONYMOUS
			}
			dn, err := security.SubjectName(cs.PeerCertificates[0])
			if err != nil {
				return "", err
			}
			name, err := m.Name(dn)
			if err != nil {
				return "", err
			}
			return "User:" + name, nil
		}
	}
	if s.IsSASL() {
		cfg, err := b.saslServerConfig(s)
		if err != nil {
			return out, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		out.sasl = cfg
	}
	return out, nil
}

func (b *Broker) saslServerConfig(s conf.ListenerSecurity) (*wire.SASLConfig, error) {
	var plainUsers *security.PlainUsers
	for _, m := range s.SASL.EnabledMechanisms {
		switch {
		case m == "PLAIN":
			j, err := conf.ParseJAAS(s.SASL.JAAS["PLAIN"])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", conf.JAASSource(s.Listener, "PLAIN"), err)
			}
			plainUsers = security.NewPlainUsers(j.PlainUsers())
		case security.ScramMechanismNamed(m) != nil:
			b.scram.enable()
		default:
			return nil, fmt.Errorf("%s: SASL mechanism %s is not served by klassik", s.SASL.Source("sasl.enabled.mechanisms"), m)
		}
	}
	return &wire.SASLConfig{
		Mechanisms: s.SASL.EnabledMechanisms,
		NewServer: func(mechanism string, _ *wire.ConnInfo) (wire.SASLServer, error) {
			if mechanism == "PLAIN" && plainUsers != nil {
				return plainUsers.NewServer(), nil
			}
			if m := security.ScramMechanismNamed(mechanism); m != nil {
				return security.NewScramServer(m, b.scram.lookup), nil
			}
			return nil, fmt.Errorf("mechanism %s is not enabled", mechanism)
		},
		MaxReceiveSize:  int32(s.SASL.MaxReceiveSize),
		SessionLifetime: time.Duration(s.SASL.ConnectionsMaxReauthMs) * time.Millisecond,
		FailureDelay:    time.Duration(b.cfg.ConnectionFailedAuthenticationDelayMs) * time.Millisecond,
	}, nil
}

// interBrokerDial prepares how the broker's own clients reach other brokers: the
// inter-broker listener's protocol, with this broker's credentials. Called once at start,
// after the listeners (the inter-broker listener's TLS store is theirs).
func (b *Broker) interBrokerDial() error {
	s := b.cfg.ListenerSecurity(b.cfg.InterBrokerListenerName)
	var mech sasl.Mechanism
	if s.IsSASL() {
		name := b.cfg.SaslMechanismInterBrokerProtocol
		src := conf.JAASSource(s.Listener, name)
		j, err := conf.ParseJAAS(s.SASL.JAAS[name])
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		user, pass := j.Options["username"], j.Options["password"]
		if user == "" || pass == "" {
			return fmt.Errorf("%s: the inter-broker listener %s needs username and password for %s", src, s.Listener, name)
		}
		switch name {
		case "PLAIN":
			mech = plain.Auth{User: user, Pass: pass}.AsMechanism()
		case "SCRAM-SHA-256":
			mech = scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
		case "SCRAM-SHA-512":
			mech = scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
		default:
			return fmt.Errorf("sasl.mechanism.inter.broker.protocol = %q is not served by klassik", name)
		}
	}
	var store *security.TLSStore
	if s.TLS() {
		store = b.tlsStores[s.Listener]
		if store == nil {
			return fmt.Errorf("the inter-broker listener %s has no TLS keystore loaded", s.Listener)
		}
	}
	b.dialOpts = func(addr string) (wire.DialOptions, error) {
		o := wire.DialOptions{SASL: mech}
		if store != nil {
			cfg, err := store.ClientConfig(security.DialHost(addr))
			if err != nil {
				return o, err
			}
			o.TLS = cfg
		}
		return o, nil
	}
	b.log.Info().Str("listener", s.Listener).Str("protocol", s.Protocol).Str("sasl_mechanism", mechName(mech)).
		Msg("inter-broker connections")
	return nil
}

func mechName(m sasl.Mechanism) string {
	if m == nil {
		return ""
	}
	return m.Name()
}

// dialBroker connects to another broker's inter-broker listener at addr, authenticated as this
// broker.
func (b *Broker) dialBroker(ctx context.Context, addr, clientID string) (*wire.Client, error) {
	if b.dialOpts == nil {
		return wire.Dial(ctx, addr, clientID)
	}
	o, err := b.dialOpts(addr)
	if err != nil {
		return nil, err
	}
	return wire.DialWith(ctx, addr, clientID, o)
}

// tlsReloader looks every klassik.ssl.reload.check.interval.ms whether a listener's keystore or
// truststore file changed, and loads it for the connections that follow; a file that does not
// load leaves the old material in use, with an error in the log.
func (b *Broker) tlsReloader() {
	every := time.Duration(b.cfg.SslReloadCheckIntervalMs) * time.Millisecond
	if every <= 0 || len(b.tlsStores) == 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		for name, st := range b.tlsStores {
			changed, err := st.Reload()
			switch {
			case err != nil:
				b.log.Error().Err(err).Str("listener", name).Msg("the changed keystore or truststore does not load; new connections keep the old one")
			case changed:
				leaf := st.Leaf()
				b.log.Info().Str("listener", name).Str("subject", leaf.Subject.String()).Time("not_after", leaf.NotAfter).
					Msg("TLS keystore and truststore reloaded; new connections use them")
			}
		}
	}
}
