package wire

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrOverBudget: one request frame is larger than the whole broker-wide budget
// (queued.max.request.bytes), so it could never be admitted.
var ErrOverBudget = errors.New("wire: request larger than queued.max.request.bytes")

// Budget is the broker-wide bound on requests read but not yet done with, shared by every
// Server (listener) of a broker. It mirrors two things in Kafka's SocketServer:
//
//   - queued.max.request.bytes (Kafka's MemoryPool): the bytes of request frames read and
//     not yet released. A frame's bytes are reserved after its 4-byte size is read and before
//     its body is allocated; they are released when the handler returns, or earlier when the
//     handler calls Request.Release (before a long wait such as acks=all or a Fetch long poll,
//     as Kafka releases the buffer when KafkaApis.handle returns, before purgatory).
//   - queued.max.requests (Kafka's RequestChannel queue): requests read but not yet picked up
//     by their connection's handler.
//
// A connection that does not fit waits, and while it waits it reads nothing more from its
// socket (Kafka mutes the channel), so TCP pushes back on that client; no memory is handed
// out past the budget. Waiters are admitted in arrival order, so a large request is not
// starved by a stream of small ones. A single frame larger than the whole byte budget can
// never fit: it is refused with ErrOverBudget.
type Budget struct {
	maxBytes int64 // <= 0: no byte bound
	maxQueue int   // <= 0: no count bound

	mu      sync.Mutex // guards the fields below
	bytes   int64      // reserved now
	queued  int        // reserved now
	waiters list.List  // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the reservation is made for this waiter
}

// NewBudget makes a budget of maxBytes request bytes and maxQueued queued requests; a value
// of zero or less leaves that dimension unbounded (Kafka's -1 for queued.max.request.bytes).
func NewBudget(maxBytes int64, maxQueued int) *Budget {
	return &Budget{maxBytes: maxBytes, maxQueue: maxQueued}
}

// MaxBytes is the byte bound (zero or less: none).
func (b *Budget) MaxBytes() int64 { return b.maxBytes }

// InUse reports the bytes reserved and the requests queued now.
func (b *Budget) InUse() (bytes int64, queued int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes, b.queued
}

// Waiting reports how many connections wait for room now.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

func (b *Budget) fits(n int64) bool {
	return (b.maxBytes <= 0 || b.bytes+n <= b.maxBytes) && (b.maxQueue <= 0 || b.queued < b.maxQueue)
}

// acquire reserves n bytes and one queue slot, waiting until they fit or ctx ends. It
// returns ErrOverBudget at once if n alone exceeds the byte bound. On error nothing is held.
// waited, if non-nil, is called once when the caller has to wait.
func (b *Budget) acquire(ctx context.Context, n int64, waited func()) error {
	if b.maxBytes > 0 && n > b.maxBytes {
		return fmt.Errorf("%w: %d byte request, queued.max.request.bytes is %d", ErrOverBudget, n, b.maxBytes)
	}
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.fits(n) {
		b.bytes += n
		b.queued++
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	if waited != nil {
		waited()
	}

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.mu.Unlock()
			b.releaseQueued()
			b.releaseBytes(n)
		default:
			b.waiters.Remove(elem)
			b.grantLocked() // the head may have changed
			b.mu.Unlock()
		}
		return ctx.Err()
	}
}

// releaseQueued gives back one queue slot taken by acquire.
func (b *Budget) releaseQueued() {
	b.mu.Lock()
	b.queued--
	b.grantLocked()
	b.mu.Unlock()
}

// releaseBytes gives back n bytes taken by acquire.
func (b *Budget) releaseBytes(n int64) {
	b.mu.Lock()
	b.bytes -= n
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked admits waiters from the front while they fit. Called with b.mu held.
func (b *Budget) grantLocked() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if !b.fits(w.n) {
			return
		}
		b.bytes += w.n
		b.queued++
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// heldBytes is one frame's reservation of budget bytes, released once.
type heldBytes struct {
	b    *Budget
	n    int64
	once sync.Once
}

func (h *heldBytes) release() { h.once.Do(func() { h.b.releaseBytes(h.n) }) }
