package wire

// SASL on a connection (Kafka's SaslServerAuthenticator): before a SASL_PLAINTEXT or SASL_SSL
// connection is authenticated, the read loop runs the exchange itself and accepts only
//
//   - ApiVersions, once, before the handshake (answered by the Handler, KIP-511);
//   - SaslHandshake (key 17): the client names a mechanism; v0 means the tokens that follow
//     are raw size-prefixed frames (as kafka-python sends them), v1 that they come in
//     SaslAuthenticate requests (KIP-152). A mechanism not enabled is answered with
//     UNSUPPORTED_SASL_MECHANISM and the enabled list, then the connection closes;
//   - SaslAuthenticate (key 36), each carrying one token of the mechanism's exchange.
//
// Anything else closes the connection with a log line, as does a frame larger than
// SASLConfig.MaxReceiveSize (sasl.server.max.receive.size) or one that is not a request. A
// failed authentication is answered, after SASLConfig.FailureDelay
// (connection.failed.authentication.delay.ms, KIP-306), with SASL_AUTHENTICATION_FAILED, and the
// connection closes: one guess per connection and per delay. Failures and successes are counted
// (Server.AuthStats).
//
// KIP-368: with SASLConfig.SessionLifetime (connections.max.reauth.ms) the session ends that
// long after authentication (SaslAuthenticate v1+ tells the client). A client that sent
// SaslAuthenticate v1+ may authenticate again on the connection with a new SaslHandshake: the
// read loop stops reading, waits until every earlier request has been handled (their responses
// queued ahead), and runs the exchange again; the mechanism and the principal may not change. A
// request other than SaslHandshake after the session ended closes the connection.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	keySaslHandshake    int16 = 17
	keySaslAuthenticate int16 = 36

	// authTimeout bounds a connection's TLS handshake and its SASL exchange: a client that
	// opens connections and stalls cannot hold them (Kafka leaves this to
	// connections.max.idle.ms, which klassik does not have).
	authTimeout = 30 * time.Second
)

// SASLServer is the server side of one SASL exchange (a Java SaslServer).
type SASLServer interface {
	// Step evaluates the client's next token and returns the challenge to send back; done
	// when the exchange has succeeded (the challenge is then its last message). An
	// *AuthenticationError's message is sent to the client; any other error is answered with
	// a message that says no more than that the credentials were invalid.
	Step(token []byte) (challenge []byte, done bool, err error)
	// Principal is who authenticated ("User:alice"), once Step reported done.
	Principal() string
}

// AuthenticationError is a failed authentication whose message may be shown to the client
// (Kafka's SaslAuthenticationException): it must tell an attacker nothing, such as whether a
// user exists.
type AuthenticationError struct{ Message string }

func (e *AuthenticationError) Error() string { return e.Message }

// SASLConfig enables SASL on a listener (SASL_PLAINTEXT, SASL_SSL).
type SASLConfig struct {
	Mechanisms []string // sasl.enabled.mechanisms, as the handshake response lists them
	// NewServer starts an exchange of an enabled mechanism for a connection.
	NewServer func(mechanism string, conn *ConnInfo) (SASLServer, error)
	// MaxReceiveSize bounds every frame before authentication (sasl.server.max.receive.size).
	MaxReceiveSize int32
	// SessionLifetime is connections.max.reauth.ms (KIP-368); 0: sessions do not expire.
	SessionLifetime time.Duration
	// FailureDelay is connection.failed.authentication.delay.ms (KIP-306).
	FailureDelay time.Duration
}

// saslSession is a connection's authenticated SASL session; owned by the read loop.
type saslSession struct {
	mechanism string
	principal string
	expires   time.Time // zero: never
	reauth    bool      // the client sent SaslAuthenticate v1+: it can authenticate again (KIP-368)
}

// badMechanism fails a re-authentication that names another mechanism than the first one, as
// Kafka's REAUTH_BAD_MECHANISM state does on the first token.
type badMechanism struct{ msg string }

func (b badMechanism) Step([]byte) ([]byte, bool, error) {
	return nil, false, &AuthenticationError{Message: b.msg}
}
func (badMechanism) Principal() string { return "" }

// authenticate runs a SASL exchange on the read loop: the first one (handshake nil), or a
// re-authentication that begins with the SaslHandshake already read. It returns false when the
// connection is closing (the reason logged, a failure answered).
func (c *conn) authenticate(br *bufio.Reader, handshake *Request) bool {
	cfg := c.s.cfg.SASL
	reauth := handshake != nil
	what := "authentication"
	if reauth {
		what = "re-authentication"
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(authTimeout)); err == nil {
		defer c.nc.SetReadDeadline(time.Time{})
	}
	var (
		srv        SASLServer
		mechanism  string
		raw        bool // tokens as raw frames (SaslHandshake v0)
		versionsOK = !reauth
		clientID   *string
	)
	for {
		req := handshake
		handshake = nil
		if req == nil {
			frame, err := c.readAuthFrame(br, what)
			if err != nil {
				return false
			}
			if srv != nil && raw {
				if !c.saslStep(srv, mechanism, what, frame, nil, reauth) {
					return false
				}
				if c.sasl != nil && c.saslDone {
					return true
				}
				continue
			}
			var fallback bool
			req, fallback, err = c.parse(frame, clientID)
			if err != nil {
				c.s.authFailed.Add(1)
				msg := fmt.Sprintf("not a Kafka request during SASL %s", what)
				if srv == nil && !reauth {
					msg += " (a client configured with the wrong security.protocol, or not a Kafka client)"
				}
				c.close(zerolog.InfoLevel, msg, err)
				return false
			}
			clientID = req.ClientID
			if fallback && versionsOK {
				c.queue(outbound{correlationID: req.CorrelationID, resp: c.apiVersionsFallback()})
				continue
			}
		}
		switch {
		case req.Key == keyApiVersions && srv == nil && versionsOK && req.Body != nil:
			resp, err := c.handle(inbound{req: req})
			if err != nil || resp == nil {
				c.close(zerolog.InfoLevel, "ApiVersions before SASL authentication failed", err)
				return false
			}
			c.queue(outbound{correlationID: req.CorrelationID, resp: resp})
			versionsOK = false // Kafka's HANDSHAKE_REQUEST state: the handshake must follow

		case req.Key == keySaslHandshake && srv == nil:
			hs := req.Body.(*kmsg.SASLHandshakeRequest)
			resp := hs.ResponseKind().(*kmsg.SASLHandshakeResponse)
			resp.SetVersion(req.Version)
			resp.SupportedMechanisms = slices.Clone(cfg.Mechanisms)
			if !slices.Contains(cfg.Mechanisms, hs.Mechanism) {
				resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
				c.authFailure(outbound{correlationID: req.CorrelationID, resp: resp},
					fmt.Sprintf("the client asked for SASL mechanism %q, which this listener does not enable (sasl.enabled.mechanisms: %v)", hs.Mechanism, cfg.Mechanisms), nil)
				return false
			}
			mechanism, raw = hs.Mechanism, req.Version == 0
			if reauth && hs.Mechanism != c.sasl.mechanism {
				srv = badMechanism{fmt.Sprintf("SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'", hs.Mechanism, c.sasl.mechanism)}
			} else {
				var err error
				if srv, err = cfg.NewServer(hs.Mechanism, c.info); err != nil {
					c.close(zerolog.ErrorLevel, "cannot start a SASL "+hs.Mechanism+" exchange", err)
					return false
				}
			}
			c.queue(outbound{correlationID: req.CorrelationID, resp: resp})

		case req.Key == keySaslAuthenticate && srv != nil && !raw:
			if !c.saslStep(srv, mechanism, what, req.Body.(*kmsg.SASLAuthenticateRequest).SASLAuthBytes, req, reauth) {
				return false
			}
			if c.saslDone {
				return true
			}

		default:
			c.s.authFailed.Add(1)
			state := "handshake"
			if srv != nil {
				state = "authentication"
			}
			c.log.Info().Str("request", kmsg.NameForKey(req.Key)).Int16("version", req.Version).
				Msgf("unexpected Kafka request of type %s during SASL %s", kmsg.NameForKey(req.Key), state)
			c.close(zerolog.InfoLevel, "unexpected request during SASL "+what, nil)
			return false
		}
	}
}

// saslStep feeds one token to the exchange and answers it: in a SaslAuthenticate response
// (req), or as a raw frame (req nil, after SaslHandshake v0). It returns false when the
// exchange failed (the failure is answered after the delay and the connection closes); when it
// succeeded it records the session and sets c.saslDone.
func (c *conn) saslStep(srv SASLServer, mechanism, what string, token []byte, req *Request, reauth bool) bool {
	c.saslDone = false
	challenge, done, err := srv.Step(token)
	if err == nil && done && reauth && srv.Principal() != c.sasl.principal {
		err = &AuthenticationError{Message: fmt.Sprintf("Cannot change principals during re-authentication from %s: %s", c.sasl.principal, srv.Principal())}
	}
	if err != nil {
		msg := fmt.Sprintf("Authentication failed during %s due to invalid credentials with SASL mechanism %s", what, mechanism)
		var ae *AuthenticationError
		if errors.As(err, &ae) {
			msg = ae.Message
		}
		var out outbound
		if req != nil {
			resp := req.Body.ResponseKind().(*kmsg.SASLAuthenticateResponse)
			resp.SetVersion(req.Version)
			resp.ErrorCode, resp.ErrorMessage = kerr.SaslAuthenticationFailed.Code, &msg
			out = outbound{correlationID: req.CorrelationID, resp: resp}
		}
		c.authFailure(out, fmt.Sprintf("failed SASL %s with mechanism %s", what, mechanism), err)
		return false
	}
	var lifetime time.Duration
	if done {
		lifetime = c.s.cfg.SASL.SessionLifetime
	}
	if req != nil {
		resp := req.Body.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.SetVersion(req.Version)
		resp.SASLAuthBytes = challenge
		if resp.SASLAuthBytes == nil {
			resp.SASLAuthBytes = []byte{}
		}
		resp.SessionLifetimeMillis = lifetime.Milliseconds()
		c.queue(outbound{correlationID: req.CorrelationID, resp: resp})
	} else {
		c.queue(outbound{raw: challenge, isRaw: true})
	}
	if !done {
		return true
	}
	s := &saslSession{mechanism: mechanism, principal: srv.Principal()}
	if lifetime > 0 {
		s.expires = time.Now().Add(lifetime)
	}
	s.reauth = req != nil && req.Version > 0 || (c.sasl != nil && c.sasl.reauth)
	c.sasl = s
	c.info.SetPrincipal(s.principal)
	c.s.authSucceeded.Add(1)
	c.saslDone = true
	c.log.Debug().Str("mechanism", mechanism).Str("principal", s.principal).Msg("SASL " + what + " succeeded")
	return true
}

// authFailure counts a failed authentication, waits connection.failed.authentication.delay.ms,
// then sends out (if it has a response) and closes the connection once it is written.
func (c *conn) authFailure(out outbound, reason string, err error) {
	c.s.authFailed.Add(1)
	ev := c.log.Info()
	if err != nil {
		ev = ev.Err(err)
	}
	ev.Msg(reason)
	if d := c.s.cfg.SASL.FailureDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
	if out.resp == nil {
		c.close(zerolog.InfoLevel, "authentication failed", nil)
		return
	}
	out.closeAfter = "authentication failed"
	c.queue(out)
	// The write loop closes the connection once the answer is out; the read loop, which
	// would close it at once when it returns, waits for that.
	t := time.NewTimer(authTimeout)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
	case <-t.C:
	}
}

// readAuthFrame reads one frame before authentication, bounded by sasl.server.max.receive.size.
func (c *conn) readAuthFrame(br *bufio.Reader, what string) ([]byte, error) {
	limit := c.s.cfg.SASL.MaxReceiveSize
	if limit <= 0 {
		limit = DefaultSASLMaxReceiveSize
	}
	frame, err := readFrame(br, limit)
	if err != nil {
		switch {
		case errors.Is(err, ErrFrameSize):
			c.s.authFailed.Add(1)
			c.close(zerolog.InfoLevel, "a frame during SASL "+what+" is larger than sasl.server.max.receive.size", err)
		case isTimeout(err):
			c.s.authFailed.Add(1)
			c.close(zerolog.InfoLevel, fmt.Sprintf("SASL %s not complete within %v", what, authTimeout), nil)
		default:
			c.close(zerolog.DebugLevel, "read failed during SASL "+what, err)
		}
		return nil, err
	}
	return frame, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// DefaultSASLMaxReceiveSize is Kafka's sasl.server.max.receive.size default.
const DefaultSASLMaxReceiveSize int32 = 524288

// queue hands a response to the write loop (from the read loop, while the handle loop has
// nothing in flight, so the order is kept).
func (c *conn) queue(out outbound) {
	select {
	case c.resps <- out:
	case <-c.ctx.Done():
	}
}

// drain waits until the handle loop has handled every request read so far (their responses
// are then queued ahead of anything the read loop queues); false if the connection closed.
func (c *conn) drain() bool {
	done := make(chan struct{})
	select {
	case c.reqs <- inbound{barrier: done}:
	case <-c.ctx.Done():
		return false
	}
	select {
	case <-done:
		return true
	case <-c.ctx.Done():
		return false
	}
}
