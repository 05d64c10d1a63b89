package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const testTimeout = 10 * time.Second

// testHandler answers ApiVersions, Metadata and Produce. A Metadata request's first topic
// picks a behaviour: "panic", "error", "wrongkey", "block" (wait for ctx or release);
// "releaseblk" (Release the request's budget, then as "block");
// otherwise the response echoes the topic, and the client id as the cluster id.
type testHandler struct {
	inflight    sync.Map // conn id -> *atomic.Int32
	maxInflight atomic.Int32
	produced    chan []byte // records of acks!=0 produce requests, if non-nil

	blockStarted chan struct{} // one send per "block" request that started
	blockCtxDone chan struct{} // one send per "block" request whose ctx ended
	release      chan struct{} // closing it lets "block" requests answer
	blockReturns atomic.Int32  // "block" handlers that returned
}

func newTestHandler() *testHandler {
	return &testHandler{
		blockStarted: make(chan struct{}, 16),
		blockCtxDone: make(chan struct{}, 16),
		release:      make(chan struct{}),
	}
}

func (h *testHandler) Handle(ctx context.Context, req *Request) (kmsg.Response, error) {
	v, _ := h.inflight.LoadOrStore(req.Conn.ID, new(atomic.Int32))
	n := v.(*atomic.Int32).Add(1)
	defer v.(*atomic.Int32).Add(-1)
	for {
		m := h.maxInflight.Load()
		if n <= m || h.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}

	switch b := req.Body.(type) {
	case *kmsg.ApiVersionsRequest:
		resp := b.ResponseKind().(*kmsg.ApiVersionsResponse)
		for _, k := range []int16{0, 3, 18} {
			_, hi, _ := testVersions(k)
			resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MaxVersion: hi})
		}
		return resp, nil
	case *kmsg.MetadataRequest:
		topic := ""
		if len(b.Topics) > 0 && b.Topics[0].Topic != nil {
			topic = *b.Topics[0].Topic
		}
		switch topic {
		case "panic":
			panic("handler exploded on purpose")
		case "error":
			return nil, errors.New("handler refuses")
		case "wrongkey":
			return kmsg.NewPtrProduceResponse(), nil
		case "whoami":
			resp := b.ResponseKind().(*kmsg.MetadataResponse)
			resp.ClusterID = kmsg.StringPtr(req.Conn.Principal())
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic = kmsg.StringPtr(topic)
			resp.Topics = append(resp.Topics, rt)
			return resp, nil
		case "throttle":
			req.Throttle(300 * time.Millisecond)
		case "throttle-long":
			req.Throttle(time.Hour)
		case "block", "releaseblk":
			if topic == "releaseblk" {
				req.Release() // done with the bytes before waiting, as acks=all does
			}
			defer h.blockReturns.Add(1)
			h.blockStarted <- struct{}{}
			select {
			case <-ctx.Done():
				h.blockCtxDone <- struct{}{}
				return nil, ctx.Err()
			case <-h.release:
			}
		}
		resp := b.ResponseKind().(*kmsg.MetadataResponse)
		resp.ClusterID = req.ClientID
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = &topic
		resp.Topics = append(resp.Topics, t)
		return resp, nil
	case *kmsg.ProduceRequest:
		if b.Acks == 0 {
			return nil, nil
		}
		resp := b.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range b.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				if h.produced != nil {
					h.produced <- p.Records
				}
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	return nil, fmt.Errorf("test handler does not serve key %d", req.Key)
}

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	*Server
	addr string
	logs *syncBuffer
}

func startServer(t *testing.T, h Handler, maxSize int32) *testServer {
	t.Helper()
	return startServerBudget(t, h, maxSize, nil)
}

func startServerBudget(t testing.TB, h Handler, maxSize int32, budget *Budget) *testServer {
	t.Helper()
	return startServerWith(t, h, maxSize, budget, nil)
}

// startServerWith starts a server; secure, when set, adds TLS or SASL to its config.
func startServerWith(t testing.TB, h Handler, maxSize int32, budget *Budget, secure func(*ServerConfig)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := ServerConfig{
		Listener:       ln,
		ListenerName:   "PLAINTEXT",
		MaxRequestSize: maxSize,
		Budget:         budget,
		Handler:        h,
		Versions:       testVersions,
		ApiVersionsFallback: func() *kmsg.ApiVersionsResponse {
			r := kmsg.NewPtrApiVersionsResponse()
			r.ErrorCode = 35
			r.ApiKeys = append(r.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: 18, MaxVersion: 3})
			return r
		},
		Logger: zerolog.New(logs).Level(zerolog.DebugLevel),
	}
	if secure != nil {
		secure(&cfg)
	}
	s := NewServer(cfg)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("Serve did not return after Close")
		}
	})
	return &testServer{Server: s, addr: ln.Addr().String(), logs: logs}
}

func dialClient(t *testing.T, addr, clientID string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, addr, clientID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func metadataReq(version int16, topic string) *kmsg.MetadataRequest {
	r := kmsg.NewPtrMetadataRequest()
	r.SetVersion(version)
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = &topic
	r.Topics = append(r.Topics, t)
	return r
}

// askMetadata sends a Metadata request for topic and checks the echo.
func askMetadata(t *testing.T, c *Client, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := c.Request(ctx, metadataReq(12, topic))
	if err != nil {
		t.Fatalf("metadata %q: %v", topic, err)
	}
	md := resp.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 || *md.Topics[0].Topic != topic {
		t.Fatalf("metadata %q answered with %+v", topic, md.Topics)
	}
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

func rawWrite(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// rawRead reads one response frame: its correlation id and the bytes after it.
func rawRead(t *testing.T, c net.Conn) (int32, []byte) {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("reading response size: %v", err)
	}
	frame := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, frame); err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return int32(binary.BigEndian.Uint32(frame)), frame[4:]
}

// expectClosed waits for the server to close c (EOF or reset, not a timeout).
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", testTimeout)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling interval, not a wait for an outcome
	}
}

func recv(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestRoundTrip(t *testing.T) {
	h := newTestHandler()
	h.produced = make(chan []byte, 1)
	s := startServer(t, h, 0)
	c := dialClient(t, s.addr, "broker-1")
	ctx := context.Background()

	// ApiVersions v3: flexible request header v2, response header v0 (KIP-511).
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	resp, err := c.Request(ctx, av)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.(*kmsg.ApiVersionsResponse); got.ErrorCode != 0 || len(got.ApiKeys) != 3 {
		t.Fatalf("ApiVersions: %+v", got)
	}

	// Metadata v12 (flexible) and v1 (not): the client id reaches the handler.
	for _, v := range []int16{12, 1} {
		resp, err = c.Request(ctx, metadataReq(v, "orders"))
		if err != nil {
			t.Fatal(err)
		}
		md := resp.(*kmsg.MetadataResponse)
		if *md.Topics[0].Topic != "orders" || (v >= 2 && (md.ClusterID == nil || *md.ClusterID != "broker-1")) {
			t.Fatalf("Metadata v%d: %+v", v, md)
		}
	}

	// Produce v9 with a record batch: the bytes reach the handler unchanged.
	pr := seedRequests()[2].(*kmsg.ProduceRequest)
	want := pr.Topics[0].Partitions[0].Records
	if _, err = c.Request(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if got := <-h.produced; !bytes.Equal(got, want) {
		t.Fatalf("records changed in transit")
	}
}

// TestPipelinedInOrder: many requests in flight on one connection are handled one at a time
// and answered in order, each with its own response.
func TestPipelinedInOrder(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, 0)

	c := dialClient(t, s.addr, "pipeliner")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic := fmt.Sprintf("t%d", i)
			resp, err := c.Request(context.Background(), metadataReq(12, topic))
			if err != nil {
				errs <- err
				return
			}
			if got := *resp.(*kmsg.MetadataResponse).Topics[0].Topic; got != topic {
				errs <- fmt.Errorf("asked %s, got %s", topic, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Raw: 50 requests in one write, 50 responses in request order.
	rc := rawDial(t, s.addr)
	var batch []byte
	for i := range 50 {
		batch = AppendRequest(batch, metadataReq(12, fmt.Sprintf("r%d", i)), int32(1000+i), nil)
	}
	rawWrite(t, rc, batch)
	for i := range 50 {
		corr, body := rawRead(t, rc)
		if corr != int32(1000+i) {
			t.Fatalf("response %d has correlation id %d", i, corr)
		}
		md := kmsg.NewPtrMetadataResponse()
		md.SetVersion(12)
		if body[0] != 0 { // response header v1: empty tagged fields
			t.Fatalf("no empty tag section in a flexible response header")
		}
		if err := md.ReadFrom(body[1:]); err != nil || *md.Topics[0].Topic != fmt.Sprintf("r%d", i) {
			t.Fatalf("response %d: %v %+v", i, err, md.Topics)
		}
	}
	if m := h.maxInflight.Load(); m != 1 {
		t.Fatalf("%d concurrent handler calls on one connection", m)
	}
}

// TestThrottleMutesConnection: a throttled request (KIP-219) is answered at once, and the
// connection's next request, already sent, is neither handled nor answered until the
// throttle has passed; other connections are not held back, and closing the server does not
// wait for a throttle to end.
func TestThrottleMutesConnection(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	rc := rawDial(t, s.addr)
	frames := AppendRequest(nil, metadataReq(12, "throttle"), 1, nil)
	frames = AppendRequest(frames, metadataReq(12, "after"), 2, nil)
	start := time.Now()
	rawWrite(t, rc, frames)
	if corr, _ := rawRead(t, rc); corr != 1 {
		t.Fatalf("first response has correlation id %d", corr)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("the throttled request's own response took %v; it must be sent at once", d)
	}
	askMetadata(t, dialClient(t, s.addr, "other"), "not-held-back")
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("another connection waited %v for a throttle that is not its own", d)
	}
	if corr, _ := rawRead(t, rc); corr != 2 {
		t.Fatalf("second response has correlation id %d", corr)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("the request after a 300 ms throttle was answered after %v", d)
	}

	// An hour's throttle: Close (in the cleanup) must not wait for it.
	lc := rawDial(t, s.addr)
	rawWrite(t, lc, AppendRequest(nil, metadataReq(12, "throttle-long"), 3, nil))
	if corr, _ := rawRead(t, lc); corr != 3 {
		t.Fatalf("long throttle response has correlation id %d", corr)
	}
	rawWrite(t, lc, AppendRequest(nil, metadataReq(12, "waits"), 4, nil))
}

// TestNoResponse: a Produce with acks=0 gets no response; the next request's response is
// the next on the wire.
func TestNoResponse(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	pr := seedRequests()[2].(*kmsg.ProduceRequest)
	pr.Acks = 0

	rc := rawDial(t, s.addr)
	frames := AppendRequest(nil, pr, 1, nil)
	frames = AppendRequest(frames, metadataReq(12, "after"), 2, nil)
	rawWrite(t, rc, frames)
	if corr, _ := rawRead(t, rc); corr != 2 {
		t.Fatalf("first response has correlation id %d, want 2", corr)
	}

	c := dialClient(t, s.addr, "c")
	resp, err := c.Request(context.Background(), pr)
	if resp != nil || err != nil {
		t.Fatalf("acks=0 produce: %v, %v", resp, err)
	}
	askMetadata(t, c, "still-in-step")
}

// TestOversizedFrameClosesOnlyThatConnection: a size above socket.request.max.bytes (up to
// 2 GiB, or negative) closes that connection before allocating; others carry on.
func TestOversizedFrameClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, newTestHandler(), 1<<20)
	good := dialClient(t, s.addr, "good")
	askMetadata(t, good, "before")

	for _, size := range []uint32{0x7fffffff, 0x80000000, 1<<20 + 1} {
		rc := rawDial(t, s.addr)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], size)
		rawWrite(t, rc, hdr[:])
		expectClosed(t, rc)
		askMetadata(t, good, fmt.Sprintf("after-%d", size))
	}
	waitFor(t, "the reason in the log", func() bool {
		return strings.Contains(s.logs.String(), "socket.request.max.bytes")
	})

	// A frame of exactly the limit is read, then refused for its unknown key.
	rc := rawDial(t, s.addr)
	big := make([]byte, 4+1<<20)
	binary.BigEndian.PutUint32(big, 1<<20)
	binary.BigEndian.PutUint16(big[4:], 0x7fff)
	rawWrite(t, rc, big)
	expectClosed(t, rc)
	waitFor(t, "the frame to be read and refused", func() bool {
		return strings.Contains(s.logs.String(), "unknown api key: 32767")
	})
}

// TestGarbageClosesConnection: bytes that are not Kafka requests close the connection.
func TestGarbageClosesConnection(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	good := dialClient(t, s.addr, "good")
	for _, garbage := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0, 0, 0, 3, 1, 2, 3},
		{0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0x7f, 0x7f, 0, 0},    // client id runs past the frame
		{0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0xff, 0xff},    // bad tagged fields
		{0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x05, 0xff}, // truncated body
	} {
		rc := rawDial(t, s.addr)
		rawWrite(t, rc, garbage)
		expectClosed(t, rc)
	}
	askMetadata(t, good, "unharmed")
}

// TestUnknownKeyClosesConnection: Kafka closes a connection that sends an API key or version
// it does not serve.
func TestUnknownKeyClosesConnection(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	lair := kmsg.NewPtrLeaderAndISRRequest() // key 4: not in testVersions
	lair.SetVersion(1)
	raw := AppendRequest(nil, metadataReq(12, "x"), 1, nil)
	binary.BigEndian.PutUint16(raw[4:], 999)
	tooNew := AppendRequest(nil, metadataReq(12, "x"), 1, nil)
	binary.BigEndian.PutUint16(tooNew[6:], 99)
	for _, frame := range [][]byte{AppendRequest(nil, lair, 1, nil), raw, tooNew} {
		rc := rawDial(t, s.addr)
		rawWrite(t, rc, frame)
		expectClosed(t, rc)
	}
	waitFor(t, "the refusal in the log", func() bool {
		return strings.Contains(s.logs.String(), "refusing request") && strings.Contains(s.logs.String(), "127.0.0.1")
	})
}

// TestApiVersionsFallback: ApiVersions newer than served gets a v0 response with
// UNSUPPORTED_VERSION and the supported list, and the connection stays open (KIP-511).
func TestApiVersionsFallback(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	rc := rawDial(t, s.addr)

	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(4) // served up to 3
	av.ClientSoftwareName = "future-client"
	frame := AppendRequest(nil, av, 4242, strp("future"))
	binary.BigEndian.PutUint16(frame[6:], 77) // and a version kmsg has never heard of
	rawWrite(t, rc, frame)
	corr, body := rawRead(t, rc)
	if corr != 4242 {
		t.Fatalf("correlation id %d", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 35 || len(resp.ApiKeys) != 1 || resp.ApiKeys[0].MaxVersion != 3 {
		t.Fatalf("fallback: %+v", resp)
	}

	// The connection is still usable.
	rawWrite(t, rc, AppendRequest(nil, metadataReq(12, "next"), 4243, nil))
	if corr, _ := rawRead(t, rc); corr != 4243 {
		t.Fatalf("after fallback: correlation id %d", corr)
	}
}

// TestHandlerFailureClosesOnlyThatConnection: a handler panic, error or wrong response kind
// closes its connection; the server and other connections carry on.
func TestHandlerFailureClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, newTestHandler(), 0)
	good := dialClient(t, s.addr, "good")
	for _, topic := range []string{"panic", "error", "wrongkey"} {
		bad := dialClient(t, s.addr, "bad")
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		_, err := bad.Request(ctx, metadataReq(12, topic))
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut {
			t.Fatalf("%s: request did not fail on a closed connection: %v", topic, err)
		}
		recv(t, bad.Done(), "client to close")
		askMetadata(t, good, "after-"+topic)
	}
	if !strings.Contains(s.logs.String(), "handler exploded on purpose") || !strings.Contains(s.logs.String(), "stack") {
		t.Errorf("panic not logged with its stack")
	}
	askMetadata(t, dialClient(t, s.addr, "new"), "new-connection")
}

// TestHandlerContextCancelledOnClose: the handler's ctx ends when its connection closes.
func TestHandlerContextCancelledOnClose(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, 0)
	rc := rawDial(t, s.addr)
	rawWrite(t, rc, AppendRequest(nil, metadataReq(12, "block"), 1, nil))
	recv(t, h.blockStarted, "handler to start")
	rc.Close()
	recv(t, h.blockCtxDone, "handler ctx to be cancelled")
}

// TestClientContextCancel: an abandoned request fails with its ctx error and closes the
// client; the server side notices and cancels the handler.
func TestClientContextCancel(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, h, 0)
	c := dialClient(t, s.addr, "impatient")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, metadataReq(12, "block"))
		errc <- err
	}()
	recv(t, h.blockStarted, "handler to start")
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("request did not return after cancel")
	}
	recv(t, c.Done(), "client to close")
	recv(t, h.blockCtxDone, "handler ctx to be cancelled")
	if _, err := c.Request(context.Background(), metadataReq(12, "x")); err == nil {
		t.Fatal("request on a closed client succeeded")
	}
}

// fakeBroker accepts one connection, reads one request and writes reply.
func fakeBroker(t *testing.T, reply func(corr int32) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		nc.Write(reply(int32(binary.BigEndian.Uint32(frame[4:]))))
		io.Copy(io.Discard, nc) // until the client closes
	}()
	return ln.Addr().String()
}

// TestClientRefusesBadResponses: an oversized response or a correlation id out of order
// closes the client.
func TestClientRefusesBadResponses(t *testing.T) {
	replies := map[string]func(int32) []byte{
		"2 GiB size":    func(int32) []byte { return []byte{0x7f, 0xff, 0xff, 0xff, 0, 0} },
		"negative size": func(int32) []byte { return []byte{0xff, 0xff, 0xff, 0xff} },
		"wrong correlation id": func(corr int32) []byte {
			return AppendResponse(nil, corr+1, kmsg.NewPtrMetadataResponse())
		},
		"truncated body": func(corr int32) []byte { return []byte{0, 0, 0, 6, 0, 0, 0, byte(corr), 0, 1} },
	}
	for name, reply := range replies {
		c := dialClient(t, fakeBroker(t, reply), "c")
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		_, err := c.Request(ctx, metadataReq(12, "x"))
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut {
			t.Fatalf("%s: %v", name, err)
		}
		if name != "truncated body" {
			recv(t, c.Done(), name+": client to close")
		}
	}
}

// TestCloseWaitsForGoroutines: Close returns after every connection goroutine and handler
// has stopped; nothing is left running.
func TestCloseWaitsForGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	h := newTestHandler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(ServerConfig{Listener: ln, Handler: h, Versions: testVersions, Logger: zerolog.Nop()})
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()

	var clients []*Client
	for i := range 4 {
		c, err := Dial(context.Background(), ln.Addr().String(), fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		askMetadata(t, c, "warm")
	}
	errc := make(chan error, 1)
	go func() {
		_, err := clients[0].Request(context.Background(), metadataReq(12, "block"))
		errc <- err
	}()
	recv(t, h.blockStarted, "a handler to block")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if h.blockReturns.Load() != 1 {
		t.Fatal("Close returned while a handler was still running")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := <-errc; err == nil {
		t.Fatal("request in flight at Close succeeded")
	}
	for _, c := range clients {
		c.Close()
	}
	waitFor(t, fmt.Sprintf("goroutines back to %d", base), func() bool {
		return runtime.NumGoroutine() <= base
	})
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// BenchmarkClientServer measures a pipelined round trip of small requests through Client
// and Server over loopback.
func BenchmarkClientServer(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(ServerConfig{Listener: ln, Handler: newTestHandler(), Versions: testVersions, Logger: zerolog.Nop()})
	go s.Serve()
	defer s.Close()
	c, err := Dial(context.Background(), ln.Addr().String(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := metadataReq(12, "bench")
		for pb.Next() {
			if _, err := c.Request(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
