package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// MaxResponseSize is the largest response frame a Client accepts; a larger size closes the
// client rather than allocating.
const MaxResponseSize int32 = 256 << 20

// ErrClosed is returned by requests on a Client that Close closed.
var ErrClosed = errors.New("wire: client closed")

// Client is one connection to a Kafka broker for inter-broker requests (controller to broker,
// follower to leader): it writes framed requests and reads their responses in order.
// Safe for concurrent use; requests are pipelined.
//
// Concurrency: wmu serialises the correlation ids and the writes, so the queue of pending
// calls is in the order the broker answers; one reader goroutine matches each response to
// the oldest pending call, and the caller decodes it. Any failure (a write or read error, a
// correlation id out of order, a cancelled request) closes the whole client, since the
// stream can no longer be trusted; Done tells the owner to dial again.
type Client struct {
	nc       net.Conn
	clientID *string

	// SASL (DialWith): the mechanism to authenticate again with before the session ends
	// (KIP-368), and when. authMu is held shared by every request in flight and exclusively
	// by a re-authentication, so that no request interleaves with its exchange.
	mech     sasl.Mechanism
	addr     string
	reauthAt atomic.Int64 // unix nanoseconds; 0: never
	authMu   sync.RWMutex

	wmu  sync.Mutex // held while assigning a correlation id, queueing the call and writing
	corr int32      // last correlation id used; guarded by wmu

	pmu     sync.Mutex // guards pending and err
	pending []*call    // calls waiting for a response, oldest first
	err     error      // why the client closed; set once

	done       chan struct{} // closed when the client closes
	readerDone chan struct{} // closed when the read loop returns
}

type call struct {
	correlationID int32
	result        chan callResult // buffered: the reader never blocks on a caller
}

type callResult struct {
	body []byte // the response frame after its correlation id
	err  error
}

var requestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Dial connects to addr ("host:port") as clientID, in plaintext.
func Dial(ctx context.Context, addr string, clientID string) (*Client, error) {
	return DialWith(ctx, addr, clientID, DialOptions{})
}

// DialOptions secure a Client's connection as the listener it dials requires: TLS for SSL
// and SASL_SSL, a SASL mechanism for SASL_PLAINTEXT and SASL_SSL (franz-go's sasl/plain and
// sasl/scram implement the client side).
type DialOptions struct {
	TLS  *tls.Config // with ServerName set to the name the server's certificate must hold
	SASL sasl.Mechanism
}

// DialWith connects to addr as clientID, runs the TLS handshake and the SASL exchange that o
// asks for, and returns the client once it is authenticated. A failed authentication is an
// error holding the broker's message (SASL_AUTHENTICATION_FAILED).
func DialWith(ctx context.Context, addr string, clientID string, o DialOptions) (*Client, error) {
	if len(clientID) > 1<<15-1 {
		return nil, fmt.Errorf("wire: client id of %d bytes is too long", len(clientID))
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if o.TLS != nil {
		tc := tls.Client(nc, o.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("wire: TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	c := NewClient(nc, clientID)
	if o.SASL != nil {
		c.mech, c.addr = o.SASL, addr
		if err := c.authenticate(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// authenticate runs the SASL exchange with SaslHandshake v1 and SaslAuthenticate v1 (KIP-152,
// KIP-368), and schedules the next one before the session the broker granted ends.
func (c *Client) authenticate(ctx context.Context) error {
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = c.mech.Name()
	r, err := c.roundTrip(ctx, hs)
	if err != nil {
		return fmt.Errorf("wire: SaslHandshake with %s: %w", c.addr, err)
	}
	if hr := r.(*kmsg.SASLHandshakeResponse); hr.ErrorCode != 0 {
		return fmt.Errorf("wire: SaslHandshake with %s for %s: %w (the broker enables %v)", c.addr, c.mech.Name(), kerr.ErrorForCode(hr.ErrorCode), hr.SupportedMechanisms)
	}
	session, msg, err := c.mech.Authenticate(ctx, c.addr)
	if err != nil {
		return fmt.Errorf("wire: SASL %s: %w", c.mech.Name(), err)
	}
	for {
		ar := kmsg.NewPtrSASLAuthenticateRequest()
		ar.SetVersion(1)
		ar.SASLAuthBytes = msg
		r, err := c.roundTrip(ctx, ar)
		if err != nil {
			return fmt.Errorf("wire: SaslAuthenticate with %s: %w", c.addr, err)
		}
		resp := r.(*kmsg.SASLAuthenticateResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			text := ""
			if resp.ErrorMessage != nil {
				text = ": " + *resp.ErrorMessage
			}
			return fmt.Errorf("wire: SASL %s with %s: %w%s", c.mech.Name(), c.addr, err, text)
		}
		done, next, err := session.Challenge(resp.SASLAuthBytes)
		if err != nil {
			return fmt.Errorf("wire: SASL %s with %s: %w", c.mech.Name(), c.addr, err)
		}
		if done {
			if ms := resp.SessionLifetimeMillis; ms > 0 {
				// Kafka's clients authenticate again at 85-95% of the lifetime; 85% here.
				c.reauthAt.Store(time.Now().Add(time.Duration(ms) * time.Millisecond * 85 / 100).UnixNano())
			} else {
				c.reauthAt.Store(0)
			}
			return nil
		}
		msg = next
	}
}

// maybeReauthenticate authenticates again when the session is due to end (KIP-368), with no
// request in flight meanwhile.
func (c *Client) maybeReauthenticate(ctx context.Context) error {
	at := c.reauthAt.Load()
	if c.mech == nil || at == 0 || time.Now().UnixNano() < at {
		return nil
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if at = c.reauthAt.Load(); at == 0 || time.Now().UnixNano() < at {
		return nil // another request did it
	}
	if err := c.authenticate(ctx); err != nil {
		err = fmt.Errorf("wire: re-authentication: %w", err)
		c.fail(err)
		return err
	}
	return nil
}

// NewClient runs a Client over an established connection, which it owns from then on.
// A client id longer than 32767 bytes is cut to that length.
func NewClient(nc net.Conn, clientID string) *Client {
	if len(clientID) > 1<<15-1 {
		clientID = clientID[:1<<15-1]
	}
	c := &Client{
		nc:         nc,
		clientID:   &clientID,
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	go c.readLoop()
	return c
}

// Request sends req at the version set on it (req.SetVersion) and decodes the response.
// A Produce request with acks=0 gets no response: Request returns (nil, nil) once it is
// written. If ctx ends before the response arrives, the call fails with ctx's error and the
// client closes (the response would leave the stream out of step).
func (c *Client) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.maybeReauthenticate(ctx); err != nil {
		return nil, err
	}
	c.authMu.RLock()
	defer c.authMu.RUnlock()
	return c.roundTrip(ctx, req)
}

// roundTrip writes req and waits for its response (Request without the re-authentication).
func (c *Client) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	noResponse := false
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		noResponse = true
	}

	stop := context.AfterFunc(ctx, func() {
		c.fail(fmt.Errorf("wire: request abandoned: %w", context.Cause(ctx)))
	})
	defer stop()

	bp := requestBufs.Get().(*[]byte)
	buf := AppendRequest((*bp)[:0], req, 0, c.clientID)
	cl := &call{result: make(chan callResult, 1)}

	c.wmu.Lock()
	c.corr++
	cl.correlationID = c.corr
	binary.BigEndian.PutUint32(buf[8:], uint32(cl.correlationID)) // after size, key, version
	err := c.enqueue(cl, noResponse)
	if err == nil {
		_, err = c.nc.Write(buf)
	}
	c.wmu.Unlock()

	if cap(buf) <= 1<<20 {
		*bp = buf[:0]
		requestBufs.Put(bp)
	}
	if err != nil {
		c.fail(err)
		return nil, c.callErr(ctx, err)
	}
	if noResponse {
		return nil, nil
	}

	r := <-cl.result
	if r.err != nil {
		return nil, c.callErr(ctx, r.err)
	}
	return decodeResponse(r.body, req)
}

// callErr prefers the caller's own context error over the error that closed the client.
func (c *Client) callErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if cerr := c.Err(); cerr != nil {
		return cerr
	}
	return err
}

// enqueue adds cl to the pending calls, unless the client is closed. Called with wmu held.
func (c *Client) enqueue(cl *call, noResponse bool) error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.err != nil {
		return c.err
	}
	if !noResponse {
		c.pending = append(c.pending, cl)
	}
	return nil
}

func (c *Client) dequeue() *call {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	cl := c.pending[0]
	c.pending[0] = nil
	c.pending = c.pending[1:]
	return cl
}

// fail closes the client for err (the first reason wins) and fails every pending call.
func (c *Client) fail(err error) {
	c.pmu.Lock()
	if c.err != nil {
		c.pmu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	close(c.done)
	c.pmu.Unlock()

	c.nc.Close()
	for _, cl := range pending {
		cl.result <- callResult{err: err}
	}
}

func (c *Client) readLoop() {
	defer close(c.readerDone)
	br := bufio.NewReaderSize(c.nc, ioBufferSize)
	for {
		frame, err := readFrame(br, MaxResponseSize)
		if err != nil {
			c.fail(fmt.Errorf("wire: reading response: %w", err))
			return
		}
		if len(frame) < 4 {
			c.fail(fmt.Errorf("%w: %d byte response frame", ErrMalformed, len(frame)))
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame))
		cl := c.dequeue()
		if cl == nil {
			c.fail(fmt.Errorf("wire: unexpected response with correlation id %d", corr))
			return
		}
		if cl.correlationID != corr {
			err := fmt.Errorf("wire: response correlation id %d, expected %d", corr, cl.correlationID)
			cl.result <- callResult{err: err}
			c.fail(err)
			return
		}
		cl.result <- callResult{body: frame[4:]}
	}
}

// decodeResponse decodes a response (after its correlation id) to req. The response header
// has tagged fields only for flexible versions, and never for ApiVersions (KIP-511).
func decodeResponse(b []byte, req kmsg.Request) (kmsg.Response, error) {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if responseHeaderFlexible(resp.Key(), resp.IsFlexible()) {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, err
		}
	}
	if err := decodeBody(resp, b); err != nil {
		return nil, fmt.Errorf("%w: key %d v%d response: %v", ErrMalformed, resp.Key(), resp.GetVersion(), err)
	}
	return resp, nil
}

// Done is closed when the client closes, by Close or by a failure; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is nil while the client is open, then the reason it closed (ErrClosed after Close).
func (c *Client) Err() error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.err
}

// Close closes the connection; pending requests fail with ErrClosed. It waits for the
// client's reader goroutine.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	<-c.readerDone
	return nil
}
