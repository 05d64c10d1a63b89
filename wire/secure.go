package wire

// TLS on a connection (Kafka's SslTransportLayer and SslChannelBuilder): on an SSL or SASL_SSL
// listener the read loop first runs the TLS handshake, bounded by authTimeout; on an SSL
// listener ServerConfig.TLSPrincipal then names the principal from the client's certificate
// (User:ANONYMOUS without one). A client that speaks plaintext Kafka to a TLS listener, or
// starts a TLS handshake on a plaintext one, is closed with a log line that says so.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// secure runs what the listener requires before the first request: the TLS handshake, the
// check that a plaintext listener is not spoken to in TLS, and the first SASL exchange. It
// returns false when the connection is closing.
func (c *conn) secure(br *bufio.Reader) bool {
	cfg := &c.s.cfg
	if tc, ok := c.nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(c.ctx, authTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.s.authFailed.Add(1)
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) {
				c.close(zerolog.InfoLevel, fmt.Sprintf("the client did not begin a TLS handshake on TLS listener %s (a client configured with security.protocol PLAINTEXT or SASL_PLAINTEXT?)", cfg.ListenerName), nil)
			} else {
				c.close(zerolog.InfoLevel, "TLS handshake failed", err)
			}
			return false
		}
		if cfg.TLSPrincipal != nil {
			p, err := cfg.TLSPrincipal(tc.ConnectionState())
			if err != nil {
				c.s.authFailed.Add(1)
				c.close(zerolog.InfoLevel, "no principal for the client's certificate", err)
				return false
			}
			c.info.SetPrincipal(p)
			c.s.authSucceeded.Add(1)
		}
	} else if p, err := br.Peek(3); err == nil && isTLSRecord(p) {
		c.close(zerolog.InfoLevel, fmt.Sprintf("the client began a TLS handshake on plaintext listener %s (a client configured with security.protocol SSL or SASL_SSL?)", cfg.ListenerName), nil)
		return false
	}
	if cfg.SASL != nil {
		return c.authenticate(br, nil)
	}
	return true
}

// isTLSRecord reports whether b begins a TLS handshake record (content type 22, version 3.x);
// as a request frame's size it would be over 369 MB.
func isTLSRecord(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04
}

// AuthStats counts the connections of this listener that authenticated (a TLS client
// certificate on an SSL listener, a SASL exchange) and those that failed to: Kafka's
// successful-authentication-total and failed-authentication-total.
func (s *Server) AuthStats() (succeeded, failed int64) {
	return s.authSucceeded.Load(), s.authFailed.Load()
}

// ListenerName is the name of the listener the server serves.
func (s *Server) ListenerName() string { return s.cfg.ListenerName }
