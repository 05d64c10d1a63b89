package event

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Path is where a broker serves its events on its HTTP listener.
const Path = "/klassik/events"

// keepAlive is how often an idle stream sends a comment line, so proxies and the page can tell
// a quiet broker from a dead connection.
const keepAlive = 15 * time.Second

// Handler serves the bus as Server-Sent Events: the retained events after Last-Event-ID (or
// ?since=N; all retained ones without either), then every new event, each as an `id:` line
// and one `data:` line of JSON.
func Handler(b *Bus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Last-Event-ID")
		if id == "" {
			id = r.URL.Query().Get("since")
		}
		ServeSubscription(w, r, b.Subscribe(b.resumeAfter(id)))
	})
}

// ServeSubscription writes a subscription to an SSE response until the client goes away or
// the bus drops the subscription (the client then reconnects with Last-Event-ID).
func ServeSubscription(w http.ResponseWriter, r *http.Request, s *Subscription) {
	defer s.Close()
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	for _, e := range s.History {
		if err := WriteSSE(w, e); err != nil {
			return
		}
	}
	flusher.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case e, ok := <-s.C:
			if !ok {
				return
			}
			if err := WriteSSE(w, e); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// WriteSSE writes one event in the stream's format.
func WriteSSE(w io.Writer, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %s\ndata: %s\n\n", ID(e), b)
	return err
}

// ID is an event's SSE id, run.seq: a client resuming with it after the broker restarted gets
// the new process's whole history rather than nothing.
func ID(e Event) string { return strconv.FormatInt(e.Run, 10) + "." + strconv.FormatUint(e.Seq, 10) }

// resumeAfter turns a client's Last-Event-ID (run.seq, or a bare seq) into the sequence number
// to replay after: 0 when the id is from another run of this broker or unreadable.
func (b *Bus) resumeAfter(id string) uint64 {
	run, seq, ok := strings.Cut(id, ".")
	if !ok {
		n, _ := strconv.ParseUint(id, 10, 64)
		return n
	}
	if r, err := strconv.ParseInt(run, 10, 64); err != nil || r != b.run {
		return 0
	}
	n, _ := strconv.ParseUint(seq, 10, 64)
	return n
}

// MaxEventBytes caps one event line read from a stream, so a misbehaving server cannot make a
// reader allocate without bound.
const MaxEventBytes = 64 << 10

// Read parses an SSE stream, calling fn for each event, until the stream ends, ctx is done or
// fn returns an error. A line longer than MaxEventBytes ends the stream with an error; a data
// line that is not an Event is skipped.
func Read(ctx context.Context, r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxEventBytes)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &e); err != nil {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("event stream: a line over %d bytes", MaxEventBytes)
		}
		return err
	}
	return io.EOF
}

// Follow subscribes to url (a broker's http://host:port + Path) and calls fn for each event,
// reconnecting with Last-Event-ID after a broken stream, with a backoff from 200 ms to 5 s,
// until ctx is done. onState, if not nil, is told when the stream connects (nil) or breaks.
func Follow(ctx context.Context, client *http.Client, url string, fn func(Event), onState func(error)) {
	var lastRun int64
	var lastSeq uint64
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if lastRun != 0 {
			req.Header.Set("Last-Event-ID", ID(Event{Run: lastRun, Seq: lastSeq}))
		}
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		if err == nil {
			backoff = 200 * time.Millisecond
			if onState != nil {
				onState(nil)
			}
			err = Read(ctx, resp.Body, func(e Event) error {
				if e.Run == lastRun && e.Seq <= lastSeq {
					return nil // already seen
				}
				lastRun, lastSeq = e.Run, e.Seq
				fn(e)
				return nil
			})
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if onState != nil {
			onState(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 5*time.Second {
			backoff = 5 * time.Second
		}
	}
}
