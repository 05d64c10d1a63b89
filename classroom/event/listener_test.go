package event

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// A broker's HTTP listener is found on the first candidate address that answers.
func TestHTTPBasePicksTheFirstThatAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	ctx := context.Background()
	got, err := HTTPBase(ctx, []string{deadAddr, ln.Addr().String()}, time.Second)
	if err != nil || got != "http://"+ln.Addr().String() {
		t.Fatalf("HTTPBase = %q, %v; want http://%s", got, err, ln.Addr())
	}
	if got, err := HTTPBase(ctx, []string{deadAddr}, time.Second); err != nil || got != "http://"+deadAddr {
		t.Fatalf("one candidate: HTTPBase = %q, %v; want it without a dial", got, err)
	}
	if _, err := HTTPBase(ctx, []string{deadAddr, deadAddr}, time.Second); err == nil || !strings.Contains(err.Error(), "metrics.listener") {
		t.Fatalf("none answers: err = %v, want one naming metrics.listener", err)
	}
	if _, err := HTTPBase(ctx, nil, time.Second); err == nil {
		t.Fatal("no candidates: want an error")
	}
}

// Loopback candidates are tried before names that need a lookup: from the host, compose's
// kafka1 is not looked up while localhost answers.
func TestLoopbackFirst(t *testing.T) {
	got := loopbackFirst([]string{"kafka1:9404", "10.0.0.1:9404", "localhost:9404", "broker:1", "127.0.0.2:9404", "[::1]:9404"})
	want := []string{"localhost:9404", "127.0.0.2:9404", "[::1]:9404", "kafka1:9404", "10.0.0.1:9404", "broker:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("loopbackFirst = %v, want %v", got, want)
	}
}
