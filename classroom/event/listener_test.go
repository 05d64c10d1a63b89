package event

import (
	"context"
	"net"
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
