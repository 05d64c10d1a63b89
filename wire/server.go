package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// readAhead is how many decoded requests of one connection may wait for the handler;
	// past that the read loop stops reading and TCP pushes back on the client.
	readAhead = 16
	// writeQueue is how many responses may wait for the write loop.
	writeQueue = 16
	// ioBufferSize is the bufio size of each direction of a connection.
	ioBufferSize = 64 << 10
	// maxKeptEncodeBuffer bounds the response buffer a connection keeps between responses.
	maxKeptEncodeBuffer = 1 << 20
)

// tracker starts goroutines and waits for them, so a shutdown knows when everything it
// owns has stopped (nats-server's startGoRoutine). Once stopped it starts nothing more.
type tracker struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// Go starts every f as a goroutine, all of them or none once Stop has been called.
func (t *tracker) Go(fs ...func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.wg.Add(len(fs))
	for _, f := range fs {
		go func() {
			defer t.wg.Done()
			f()
		}()
	}
	return true
}

// Stop refuses further goroutines.
func (t *tracker) Stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
}

// Wait waits for every goroutine started.
func (t *tracker) Wait() { t.wg.Wait() }

// Server accepts connections on one listener and runs each one's read, handle and write
// loops. It is Kafka's SocketServer for one listener (acceptor plus processors) together
// with its RequestChannel.
type Server struct {
	cfg     ServerConfig
	log     zerolog.Logger
	maxSize int32

	ctx    context.Context // cancelled by Close; parent of every connection's context
	cancel context.CancelFunc

	routines tracker
	nextID   atomic.Uint64

	authSucceeded, authFailed atomic.Int64 // AuthStats

	mu      sync.Mutex // guards the fields below
	conns   map[uint64]*conn
	serving bool
	closed  bool
}

// NewServer makes a server; Serve starts it. cfg.Listener, cfg.Handler and cfg.Versions are
// required.
func NewServer(cfg ServerConfig) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		maxSize: cfg.MaxRequestSize,
		ctx:     ctx,
		cancel:  cancel,
		conns:   make(map[uint64]*conn),
	}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxRequestSize
	}
	return s
}

// Serve accepts until Close; it returns nil after Close. It returns an error if the listener
// fails for good (closed by someone else) or if Serve is called twice.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("wire: Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()

	var backoff time.Duration
	for {
		nc, err := s.cfg.Listener.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("wire: listener closed: %w", err)
			}
			// Out of file descriptors and the like: wait and retry, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		backoff = 0
		s.startConn(nc)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops accepting, closes every connection and waits for their goroutines, including
// handlers still running (their context is cancelled). It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.routines.Wait()
		return nil
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	s.routines.Stop()
	s.cancel()
	err := s.cfg.Listener.Close()
	for _, c := range conns {
		c.close(zerolog.DebugLevel, "server closing", nil)
	}
	s.routines.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.cfg.Listener.Addr() }

// startConn registers nc and starts its loops, or closes it if the server is closing.
func (s *Server) startConn(nc net.Conn) {
	id := s.nextID.Add(1)
	if s.cfg.TLS != nil {
		nc = tls.Server(nc, s.cfg.TLS)
	}
	info := &ConnInfo{
		ID:         id,
		RemoteAddr: nc.RemoteAddr(),
		LocalAddr:  nc.LocalAddr(),
		Listener:   s.cfg.ListenerName,
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c := &conn{
		s:      s,
		nc:     nc,
		info:   info,
		log:    s.log.With().Uint64("conn", id).Stringer("remote", nc.RemoteAddr()).Logger(),
		ctx:    ctx,
		cancel: cancel,
		reqs:   make(chan inbound, readAhead),
		resps:  make(chan outbound, writeQueue),
	}
	c.loops.Store(2)

	s.mu.Lock()
	defer s.mu.Unlock()
	// Registering and starting under s.mu: Close either sees this connection in its
	// snapshot (and the tracker was not yet stopped), or it was closed first and we refuse.
	if s.closed || !s.routines.Go(c.readLoop, c.handleLoop, c.writeLoop) {
		cancel()
		nc.Close()
		return
	}
	s.conns[id] = c
	c.log.Debug().Msg("connection accepted")
}

func (s *Server) removeConn(id uint64) {
	s.mu.Lock()
	delete(s.conns, id)
	s.mu.Unlock()
}

// conn is one client connection. Its three goroutines own, respectively: the read side of
// nc and its bufio.Reader (readLoop), the calls to the Handler (handleLoop), the write side
// of nc, its bufio.Writer and the encode buffer (writeLoop). They talk only through reqs and
// resps, which keeps responses in request order.
type conn struct {
	s    *Server
	nc   net.Conn
	info *ConnInfo
	log  zerolog.Logger

	ctx    context.Context // cancelled when the connection closes; passed to the Handler
	cancel context.CancelFunc

	reqs  chan inbound  // readLoop -> handleLoop
	resps chan outbound // handleLoop -> writeLoop

	loops atomic.Int32 // readLoop and handleLoop still running; see loopDone

	// sasl is the connection's SASL session on a SASL listener, nil before the first
	// authentication; saslDone is set by saslStep when an exchange succeeded. Both are the
	// read loop's.
	sasl     *saslSession
	saslDone bool

	closeOnce sync.Once
}

type inbound struct {
	req      *Request
	fallback bool         // ApiVersions newer than served: answer with the v0 fallback
	held     *reservation // the request's share of the Budget
	// barrier, instead of a request, is closed by the handle loop when it reaches it: every
	// request before it has been handled (drain, before a re-authentication).
	barrier chan struct{}
}

type outbound struct {
	correlationID int32
	resp          kmsg.Response // version already set
	// raw, with isRaw, is a SASL token after a SaslHandshake v0: written as a size and the
	// bytes, without a response header.
	raw   []byte
	isRaw bool
	// closeAfter, when set, closes the connection with this reason once the response is
	// written (a failed authentication).
	closeAfter string
}

// close closes the connection once, logging why; later calls do nothing.
func (c *conn) close(level zerolog.Level, reason string, err error) {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
		c.s.removeConn(c.info.ID)
		ev := c.log.WithLevel(level)
		if err != nil {
			ev = ev.Err(err)
		}
		ev.Msg("connection closed: " + reason)
	})
}

func (c *conn) readLoop() {
	defer c.loopDone()
	defer c.close(zerolog.DebugLevel, "read loop stopped", nil)
	br := bufio.NewReaderSize(c.nc, ioBufferSize)
	if !c.secure(br) {
		return
	}
	var clientID *string
	for {
		if !c.waitMuted() {
			return
		}
		n, err := readFrameSize(br, c.s.maxSize)
		if err != nil {
			switch {
			case errors.Is(err, ErrFrameSize):
				c.close(zerolog.InfoLevel, "request larger than socket.request.max.bytes", err)
			case err == io.EOF:
				c.close(zerolog.DebugLevel, "client closed the connection", nil)
			default:
				c.close(zerolog.DebugLevel, "read failed", err)
			}
			return
		}
		held, err := c.reserve(n)
		if err != nil {
			if errors.Is(err, ErrOverBudget) {
				c.close(zerolog.WarnLevel, "request larger than the whole queued.max.request.bytes budget; raise queued.max.request.bytes or lower socket.request.max.bytes", err)
			}
			return
		}
		frame, err := readFrameBody(br, n)
		if err != nil {
			held.giveBack()
			c.close(zerolog.DebugLevel, "read failed", err)
			return
		}
		req, fallback, err := c.parse(frame, clientID)
		if err != nil {
			held.giveBack()
			c.closeBadRequest(req, err)
			return
		}
		req.held = held.bytes
		if req.ClientID != nil {
			clientID = req.ClientID
		}
		if s := c.sasl; s != nil {
			if req.Key == keySaslHandshake && s.reauth {
				held.giveBack()
				if !c.drain() || !c.authenticate(br, req) {
					return
				}
				continue
			}
			if !s.expires.IsZero() && time.Now().After(s.expires) {
				held.giveBack()
				c.close(zerolog.InfoLevel, "the SASL session expired (connections.max.reauth.ms) and the client did not authenticate again (KIP-368)", nil)
				return
			}
		}
		select {
		case c.reqs <- inbound{req: req, fallback: fallback, held: held}:
		case <-c.ctx.Done():
			held.giveBack()
			return
		}
	}
}

// parse decodes one frame. fallback reports an ApiVersions request newer than served
// (answered with the v0 fallback, not an error).
func (c *conn) parse(frame []byte, clientID *string) (*Request, bool, error) {
	req, err := parseRequest(frame, c.s.cfg.Versions, clientID)
	if err != nil && !errors.Is(err, ErrUnsupportedApiVersions) {
		return req, false, err
	}
	req.Conn = c.info
	return req, err != nil, nil
}

// reservation is what one frame holds of the server's Budget: its bytes (until the request
// is released) and a queue slot (until the handle loop picks it up). The zero value holds
// nothing (no Budget configured).
type reservation struct {
	bytes  *heldBytes
	queued bool
}

// reserve takes n bytes and a queue slot from the Budget, waiting (reading nothing more
// from this connection) until they fit.
func (c *conn) reserve(n int) (*reservation, error) {
	b := c.s.cfg.Budget
	if b == nil {
		return &reservation{}, nil
	}
	err := b.acquire(c.ctx, int64(n), func() {
		c.log.Debug().Int("bytes", n).Msg("broker-wide request budget full (queued.max.request.bytes / queued.max.requests): not reading this connection until requests complete")
	})
	if err != nil {
		return nil, err
	}
	return &reservation{bytes: &heldBytes{b: b, n: int64(n)}, queued: true}, nil
}

// dequeued gives back the queue slot: the request has reached its handler.
func (r *reservation) dequeued() {
	if r != nil && r.queued {
		r.queued = false
		r.bytes.b.releaseQueued()
	}
}

// giveBack releases everything the reservation still holds.
func (r *reservation) giveBack() {
	r.dequeued()
	if r != nil && r.bytes != nil {
		r.bytes.release()
	}
}

// loopDone is deferred by readLoop and handleLoop; the last of the two to stop gives back
// the budget of requests still waiting in c.reqs (nobody sends or receives there any more).
func (c *conn) loopDone() {
	if c.loops.Add(-1) != 0 {
		return
	}
	for {
		select {
		case in := <-c.reqs:
			in.held.giveBack()
		default:
			return
		}
	}
}

func (c *conn) closeBadRequest(req *Request, err error) {
	if req == nil {
		c.close(zerolog.InfoLevel, "malformed request", err)
		return
	}
	c.log.Info().Int16("key", req.Key).Int16("version", req.Version).
		Int32("correlation_id", req.CorrelationID).Err(err).Msg("refusing request")
	c.close(zerolog.InfoLevel, "bad request", err)
}

func (c *conn) handleLoop() {
	defer c.loopDone()
	defer c.close(zerolog.DebugLevel, "handle loop stopped", nil)
	for {
		if !c.waitMuted() {
			return
		}
		var in inbound
		select {
		case in = <-c.reqs:
		case <-c.ctx.Done():
			return
		}
		if in.barrier != nil {
			close(in.barrier)
			continue
		}
		in.held.dequeued()
		resp, err := c.handle(in)
		in.held.giveBack()
		if err != nil {
			c.close(zerolog.InfoLevel, "handler failed", err)
			return
		}
		if resp == nil {
			continue // no response, e.g. Produce with acks=0
		}
		select {
		case c.resps <- outbound{correlationID: in.req.CorrelationID, resp: resp}:
		case <-c.ctx.Done():
			return
		}
	}
}

// waitMuted blocks while the connection is throttled (Request.Throttle), so that the read
// loop reads no further request and the handle loop handles none until the throttle ends
// (Kafka's muted channel, KIP-219). It returns false if the connection closed meanwhile. A
// frame the read loop was already reading when the throttle began is read, and waits in
// reqs (readAhead bounds those).
func (c *conn) waitMuted() bool {
	for {
		d := time.Until(time.Unix(0, c.info.mutedUntil.Load()))
		if d <= 0 {
			return c.ctx.Err() == nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// handle calls the Handler for one request, or builds the ApiVersions fallback, and returns
// the response with its version set. A panic becomes an error (the connection closes).
func (c *conn) handle(in inbound) (resp kmsg.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error().Int16("key", in.req.Key).Int16("version", in.req.Version).
				Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).
				Msg("handler panicked")
			resp, err = nil, fmt.Errorf("handler panic: %v", p)
		}
	}()
	if in.fallback {
		return c.apiVersionsFallback(), nil
	}
	resp, err = c.s.cfg.Handler.Handle(c.ctx, in.req)
	if err != nil || resp == nil {
		return nil, err
	}
	if resp.Key() != in.req.Key {
		return nil, fmt.Errorf("handler answered key %d with a key %d response", in.req.Key, resp.Key())
	}
	resp.SetVersion(in.req.Version)
	return resp, nil
}

// apiVersionsFallback is Kafka's answer to an ApiVersions request newer than the broker
// serves: a v0 response with UNSUPPORTED_VERSION and the supported list (KIP-511), so the
// client can retry at a version both sides know.
func (c *conn) apiVersionsFallback() kmsg.Response {
	var r *kmsg.ApiVersionsResponse
	if f := c.s.cfg.ApiVersionsFallback; f != nil {
		r = f()
	}
	if r == nil {
		r = kmsg.NewPtrApiVersionsResponse()
	}
	if r.ErrorCode == 0 {
		r.ErrorCode = kerr.UnsupportedVersion.Code
	}
	r.SetVersion(0)
	return r
}

func (c *conn) writeLoop() {
	defer c.close(zerolog.DebugLevel, "write loop stopped", nil)
	bw := bufio.NewWriterSize(c.nc, ioBufferSize)
	var buf []byte
	for {
		var out outbound
		select {
		case out = <-c.resps:
		case <-c.ctx.Done():
			return
		}
		var err error
		if buf, err = encodeResponse(buf[:0], out); err != nil {
			c.close(zerolog.ErrorLevel, "cannot encode response", err)
			return
		}
		if _, err := bw.Write(buf); err != nil {
			c.close(zerolog.DebugLevel, "write failed", err)
			return
		}
		if cap(buf) > maxKeptEncodeBuffer {
			buf = nil
		}
		if out.closeAfter != "" {
			_ = bw.Flush()
			c.close(zerolog.InfoLevel, out.closeAfter, nil)
			return
		}
		// Flush only when nothing else is queued: pipelined small responses share a write.
		if len(c.resps) == 0 {
			if err := bw.Flush(); err != nil {
				c.close(zerolog.DebugLevel, "write failed", err)
				return
			}
		}
	}
}

// encodeResponse frames one response, turning a panic in the encoder (a typed nil response,
// say) into an error.
func encodeResponse(dst []byte, out outbound) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = dst, fmt.Errorf("encoder panic: %v", p)
		}
	}()
	if out.isRaw {
		b = binary.BigEndian.AppendUint32(dst, uint32(len(out.raw)))
		return append(b, out.raw...), nil
	}
	b = AppendResponse(dst, out.correlationID, out.resp)
	if int64(len(b)-len(dst)-4) > int64(^uint32(0)>>1) {
		return dst, fmt.Errorf("response of %d bytes does not fit a frame", len(b)-len(dst)-4)
	}
	return b, nil
}
