package wire

// API contract: these types are what broker/ uses. Server is in server.go, Client in
// client.go, the frame codec in frame.go.

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request is one decoded request with its header.
//
// Ownership: the Request and its Body belong to the Handler once Handle is called. Byte
// fields of Body (for example a Produce request's record batches) alias the frame that was
// read for this request alone; wire never reuses that memory, so a handler may keep them.
type Request struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string
	Body          kmsg.Request // decoded with kmsg at Version
	Conn          *ConnInfo
	// Size is the frame's length after the size prefix: header and body, Kafka's
	// request.sizeInBytes, what a producer's byte-rate quota counts.
	Size int

	// held is the part of the server's Budget this request's frame holds; Release gives it
	// back. Nil for requests not read by a Server (ParseRequest, ReadRequest).
	held *heldBytes
}

// Release gives the request's bytes back to the broker-wide budget
// (queued.max.request.bytes). The server calls it when the handler returns; a handler that
// is done with the request's bytes and is about to wait (acks=all replication, a Fetch long
// poll) calls it first, so that the wait does not keep other connections from being read
// (Kafka releases the request buffer before an operation waits in purgatory). After Release
// the Body may still be read: its memory is not reused, only no longer counted. Release is
// idempotent and safe from any goroutine.
func (r *Request) Release() {
	if r != nil && r.held != nil {
		r.held.release()
	}
}

// Throttle mutes the request's connection for d from now (KIP-219): its response is still
// sent at once, but the connection's next requests are neither read nor handled until d has
// passed, so a client over its quota is slowed down even if it ignores throttle_time_ms.
// A later, longer throttle extends an earlier one; a shorter one changes nothing. Safe from
// any goroutine; nothing happens for a request not read by a Server.
func (r *Request) Throttle(d time.Duration) {
	if r == nil || r.Conn == nil || d <= 0 {
		return
	}
	until := time.Now().Add(d).UnixNano()
	for {
		cur := r.Conn.mutedUntil.Load()
		if cur >= until || r.Conn.mutedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// ConnInfo describes the connection a request came on. It is shared by all requests of a
// connection; its fields must not be modified, and the principal changes only through
// SetPrincipal.
type ConnInfo struct {
	ID         uint64
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	Listener   string // the listener name, e.g. "PLAINTEXT"

	principal  atomic.Pointer[string]
	mutedUntil atomic.Int64 // unix nanoseconds; see Request.Throttle
}

// MutedUntil is when the connection's current throttle ends (the zero Time if it never was).
func (c *ConnInfo) MutedUntil() time.Time {
	if n := c.mutedUntil.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// AnonymousPrincipal is the principal of a connection nobody authenticated, as Kafka names it.
const AnonymousPrincipal = "User:ANONYMOUS"

// Principal is the Kafka principal of the connection ("User:alice"): the one authentication
// established (SASL, or a client certificate on an SSL listener), AnonymousPrincipal before
// that and on PLAINTEXT listeners, as in Kafka.
func (c *ConnInfo) Principal() string {
	if p := c.principal.Load(); p != nil {
		return *p
	}
	return AnonymousPrincipal
}

// SetPrincipal records who authenticated on the connection (the SASL exchange, a TLS
// handshake with a client certificate).
func (c *ConnInfo) SetPrincipal(principal string) {
	c.principal.Store(&principal)
}

// Handler serves requests. It returns the response body (nil for a Produce with acks=0,
// which gets no response), or an error to close the connection. Calls for one connection are
// made one at a time in request order; calls for different connections run concurrently.
//
// The context is cancelled when the connection or the server closes; a handler that waits
// (acks=all, a Fetch long poll) must return when it is, since Server.Close waits for it.
type Handler interface {
	Handle(ctx context.Context, req *Request) (kmsg.Response, error)
}

// Versions tells wire which API keys and versions the broker serves; wire closes a connection
// that sends anything else (ApiVersions excepted: see ServerConfig.ApiVersionsFallback).
type Versions func(key int16) (min, max int16, ok bool)

// ServerConfig configures a Server.
type ServerConfig struct {
	Listener     net.Listener
	ListenerName string
	// MaxRequestSize is socket.request.max.bytes: frames larger are refused before
	// allocating. Zero means Kafka's default, 104857600.
	MaxRequestSize int32
	// Budget bounds the request bytes read and not yet released, and the requests queued
	// for handlers, across every Server that shares it (queued.max.request.bytes and
	// queued.max.requests). Nil: no broker-wide bound, only the per-connection read-ahead.
	Budget   *Budget
	Handler  Handler
	Versions Versions
	// ApiVersionsFallback builds the v0 ApiVersions response (UNSUPPORTED_VERSION with the
	// supported list) sent when a client asks ApiVersions at a version newer than served.
	// If nil, wire answers with error code 35 and an empty list.
	ApiVersionsFallback func() *kmsg.ApiVersionsResponse
	Logger              zerolog.Logger

	// TLS, when set, runs every connection over TLS (SSL and SASL_SSL listeners); the
	// handshake happens before the first request (secure.go).
	TLS *tls.Config
	// TLSPrincipal, when set (SSL listeners), names a connection's principal from its TLS
	// state: the client certificate's subject mapped by ssl.principal.mapping.rules, or
	// AnonymousPrincipal without one. An error fails the connection.
	TLSPrincipal func(tls.ConnectionState) (string, error)
	// SASL, when set (SASL_PLAINTEXT and SASL_SSL listeners), requires a SASL exchange before
	// any request other than ApiVersions (sasl.go).
	SASL *SASLConfig
}
