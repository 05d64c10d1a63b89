package event

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBusRetainsTheNewestAndNumbersThem(t *testing.T) {
	b := NewBus("1", 3)
	for i := 0; i < 5; i++ {
		b.Publish(Event{Kind: LeaderElected, Text: "x"})
	}
	got := b.Since(0)
	if len(got) != 3 || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("retained %+v, want seqs 3..5", got)
	}
	if got[0].Source != "1" || got[0].Time.IsZero() || got[0].Run != b.Run() {
		t.Fatalf("not stamped: %+v", got[0])
	}
	if s := b.Since(4); len(s) != 1 || s[0].Seq != 5 {
		t.Fatalf("Since(4) = %+v", s)
	}
}

func TestSlowSubscriberIsDroppedNotBlocking(t *testing.T) {
	b := NewBus("1", 10)
	s := b.Subscribe(0)
	for i := 0; i < subscriberBuffer+10; i++ {
		b.Publish(Event{Kind: ISRShrink})
	}
	n := 0
	for range s.C {
		n++
	}
	if n != subscriberBuffer {
		t.Fatalf("got %d events before the drop, want %d", n, subscriberBuffer)
	}
	s.Close() // closing a dropped subscription is harmless
}

func TestFollowReplaysThenStreamsAndResumes(t *testing.T) {
	b := NewBus("2", 100)
	b.Publish(Event{Kind: ControllerElected, Text: "before"})
	srv := httptest.NewServer(Handler(b))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan Event, 10)
	go Follow(ctx, srv.Client(), srv.URL, func(e Event) { got <- e }, nil)
	if e := <-got; e.Text != "before" || e.Seq != 1 {
		t.Fatalf("first event %+v", e)
	}
	b.Publish(Event{Kind: LeaderElected, Text: "after", Partition: Int32(0)})
	select {
	case e := <-got:
		if e.Text != "after" || *e.Partition != 0 || e.Source != "2" {
			t.Fatalf("second event %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no streamed event")
	}
	// A resume from another run of the broker replays everything.
	if n := b.resumeAfter("123.1"); n != 0 {
		t.Fatalf("resume from another run after %d", n)
	}
	if n := b.resumeAfter(ID(Event{Run: b.Run(), Seq: 1})); n != 1 {
		t.Fatalf("resume from this run after %d", n)
	}
}

func TestHandlerRejectsNothingOddInLastEventID(t *testing.T) {
	b := NewBus("1", 10)
	b.Publish(Event{Kind: Fault})
	req := httptest.NewRequest(http.MethodGet, Path+"?since=garbage", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { Handler(b).ServeHTTP(w, req); close(done) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	var n int
	_ = Read(context.Background(), w.Body, func(Event) error { n++; return nil })
	if n != 1 {
		t.Fatalf("replayed %d events, want 1", n)
	}
}
