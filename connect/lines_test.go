package connect

import (
	"strings"
	"testing"
)

type gotLine struct {
	text string
	end  int64
}

func drain(t *testing.T, s *lineSplitter) []gotLine {
	t.Helper()
	var out []gotLine
	for {
		l, end, ok, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, gotLine{string(l), end})
	}
}

// Lines end at \n, \r or \r\n, as FileStreamSourceTask.extractLine; positions are bytes.
func TestLineSplitter(t *testing.T) {
	s := &lineSplitter{max: 100, setting: "producer.max.request.size"}
	s.feed([]byte("foo\nbar\r\nbaz\rqu"))
	got := drain(t, s)
	want := []gotLine{{"foo", 4}, {"bar", 9}, {"baz", 13}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
	// A partial line waits for its end; a \r at the end waits to see if \n follows.
	s.feed([]byte("x\r"))
	if got := drain(t, s); len(got) != 0 {
		t.Fatalf("partial: %v", got)
	}
	s.feed([]byte("\ndonnées\n\n"))
	got = drain(t, s)
	if len(got) != 3 || got[0] != (gotLine{"qux", 18}) || got[1] != (gotLine{"données", 27}) || got[2] != (gotLine{"", 28}) {
		t.Fatalf("%v", got)
	}
}

// A position resumes where a restart seeks to.
func TestLineSplitterResumesAtPosition(t *testing.T) {
	s := &lineSplitter{max: 100, pos: 8}
	s.feed([]byte("third\n"))
	if got := drain(t, s); len(got) != 1 || got[0] != (gotLine{"third", 14}) {
		t.Fatalf("%v", got)
	}
}

// A line longer than the bound is an error naming the bound's setting, with or without its end.
func TestLineSplitterBound(t *testing.T) {
	for _, in := range []string{strings.Repeat("a", 11), strings.Repeat("a", 11) + "\n"} {
		s := &lineSplitter{max: 10, setting: "producer.max.request.size"}
		s.feed([]byte(in))
		_, _, _, err := s.next()
		if err == nil || !strings.Contains(err.Error(), "producer.max.request.size") || !strings.Contains(err.Error(), "10") {
			t.Fatalf("%q: %v", in, err)
		}
	}
	s := &lineSplitter{max: 10}
	s.feed([]byte(strings.Repeat("a", 10) + "\n"))
	if got := drain(t, s); len(got) != 1 {
		t.Fatalf("a line of exactly the bound: %v", got)
	}
}

func TestSubmittedCommitsTheAcknowledgedPrefix(t *testing.T) {
	var s submitted
	a, b, c := s.submit(4), s.submit(8), s.submit(12)
	if _, _, ok := s.committable(); ok {
		t.Fatal("nothing acknowledged, something committable")
	}
	s.ack(b) // out of order: a is still in flight
	if _, _, ok := s.committable(); ok {
		t.Fatal("committable past an unacknowledged record")
	}
	s.ack(a)
	if off, n, ok := s.committable(); !ok || off != 8 || n != 2 {
		t.Fatalf("%d %d %v, want 8 2 true", off, n, ok)
	}
	if s.pending() != 1 {
		t.Fatalf("pending %d", s.pending())
	}
	s.ack(c)
	if off, n, ok := s.committable(); !ok || off != 12 || n != 1 {
		t.Fatalf("%d %d %v", off, n, ok)
	}
	if _, _, ok := s.committable(); ok || s.pending() != 0 {
		t.Fatal("committed twice")
	}
}
