package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// frameSize is the size field of the frame that Client "c" sends for a Metadata v12 request
// of topic: what the budget charges for it.
func frameSize(topic string) int64 {
	id := "c"
	return int64(len(AppendRequest(nil, metadataReq(12, topic), 0, &id)) - 4)
}

// TestBudgetFIFO: waiters are admitted in arrival order, a small request does not overtake a
// large one, a cancelled waiter leaves the line, and the bounds are never exceeded.
func TestBudgetFIFO(t *testing.T) {
	b := NewBudget(100, 3)
	ctx := context.Background()
	if err := b.acquire(ctx, 60, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(ctx, 101, nil); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("101 bytes of a 100 byte budget: %v, want ErrOverBudget", err)
	}
	big, small := make(chan error, 1), make(chan error, 1)
	go func() { big <- b.acquire(ctx, 50, nil) }()
	waitFor(t, "the 50 byte request to wait", func() bool { return b.Waiting() == 1 })
	go func() { small <- b.acquire(ctx, 10, nil) }()
	waitFor(t, "the 10 byte request to wait behind it", func() bool { return b.Waiting() == 2 })

	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() { cancelled <- b.acquire(cctx, 1, nil) }()
	waitFor(t, "a third waiter", func() bool { return b.Waiting() == 3 })
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}

	b.releaseQueued()
	b.releaseBytes(60)
	if err := <-big; err != nil {
		t.Fatal(err)
	}
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if n, q := b.InUse(); n != 60 || q != 2 {
		t.Fatalf("in use %d bytes, %d queued; want 60, 2", n, q)
	}
	// The queue bound: a third and fourth slot.
	if err := b.acquire(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer tcancel()
	if err := b.acquire(tctx, 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fourth request with queued.max.requests 3: %v, want to wait", err)
	}
}

// TestBudgetMutesConnection: when the broker-wide budget is held by a request in a handler,
// another connection's request is not read (Kafka mutes the channel) until the first is
// answered; then it is served.
func TestBudgetMutesConnection(t *testing.T) {
	h := newTestHandler()
	x := frameSize("block")
	budget := NewBudget(x+x/2, 0) // room for one request, not two
	s := startServerBudget(t, h, 1<<20, budget)
	a, b := dialClient(t, s.addr, "c"), dialClient(t, s.addr, "c")

	aDone := make(chan error, 1)
	go func() { _, err := a.Request(context.Background(), metadataReq(12, "block")); aDone <- err }()
	recv(t, h.blockStarted, "the first request in its handler")
	if n, _ := budget.InUse(); n != x {
		t.Fatalf("budget holds %d bytes, want the request's %d", n, x)
	}

	bDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, err := b.Request(ctx, metadataReq(12, "after"))
		bDone <- err
	}()
	waitFor(t, "the second connection to wait for room", func() bool { return budget.Waiting() == 1 })
	select {
	case err := <-bDone:
		t.Fatalf("second request answered while the budget was full: %v", err)
	default:
	}

	close(h.release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("second request after room was made: %v", err)
	}
	waitFor(t, "the budget to be empty", func() bool { n, q := budget.InUse(); return n == 0 && q == 0 })
}

// TestReleaseBeforeWaiting: a handler that calls Request.Release before it waits (acks=all,
// a Fetch long poll) does not keep other connections from being read.
func TestReleaseBeforeWaiting(t *testing.T) {
	h := newTestHandler()
	x := frameSize("releaseblk")
	budget := NewBudget(x+x/2, 0)
	s := startServerBudget(t, h, 1<<20, budget)
	a, b := dialClient(t, s.addr, "c"), dialClient(t, s.addr, "c")

	aDone := make(chan error, 1)
	go func() { _, err := a.Request(context.Background(), metadataReq(12, "releaseblk")); aDone <- err }()
	recv(t, h.blockStarted, "the first request in its handler")
	askMetadata(t, b, "after") // served although the first handler still waits
	close(h.release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the budget to be empty", func() bool { n, q := budget.InUse(); return n == 0 && q == 0 })
}

// TestFrameLargerThanBudgetRefused: a frame within socket.request.max.bytes but larger than
// the whole queued.max.request.bytes could never be admitted; its connection is closed with a
// log line naming the setting, and other connections go on.
func TestFrameLargerThanBudgetRefused(t *testing.T) {
	budget := NewBudget(1000, 0)
	s := startServerBudget(t, newTestHandler(), 1<<20, budget)
	good := dialClient(t, s.addr, "good")
	askMetadata(t, good, "before")

	rc := rawDial(t, s.addr)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 2000)
	rawWrite(t, rc, hdr[:])
	expectClosed(t, rc)
	waitFor(t, "the reason in the log", func() bool {
		return strings.Contains(s.logs.String(), "queued.max.request.bytes")
	})
	askMetadata(t, good, "after")
	if n, q := budget.InUse(); n != 0 || q != 0 {
		t.Fatalf("budget holds %d bytes, %d queued after the refusal", n, q)
	}
}

// TestBudgetReturnedWhenConnectionCloses: requests read ahead and waiting in a connection's
// queue give their budget back when the connection closes before they are handled.
func TestBudgetReturnedWhenConnectionCloses(t *testing.T) {
	h := newTestHandler()
	budget := NewBudget(1<<20, 3)
	s := startServerBudget(t, h, 1<<20, budget)

	rc := rawDial(t, s.addr)
	id := "c"
	var frames []byte
	frames = AppendRequest(frames, metadataReq(12, "block"), 1, &id)
	for i := range 3 {
		frames = AppendRequest(frames, metadataReq(12, "queued"), int32(2+i), &id)
	}
	rawWrite(t, rc, frames)
	recv(t, h.blockStarted, "the first request in its handler")
	// The three others wait in the read-ahead queue: queued.max.requests 3 counts them, not
	// the request already in its handler.
	waitFor(t, "three requests queued", func() bool { _, q := budget.InUse(); return q == 3 })
	rc.Close()
	recv(t, h.blockCtxDone, "the handler's context to end")
	waitFor(t, "the budget to be empty", func() bool { n, q := budget.InUse(); return n == 0 && q == 0 })

	// The server still serves.
	askMetadata(t, dialClient(t, s.addr, "c"), "after")
}
