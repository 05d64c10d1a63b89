package integration

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestBadInput sends garbage and impossible frame sizes on raw connections while a franz-go
// client produces and consumes on its own connection. Kafka's SocketServer closes a
// connection whose request it cannot read (InvalidReceiveException for a size above
// socket.request.max.bytes or below zero, InvalidRequestException for an unparsable header or
// body) without allocating the announced size, and goes on serving everyone else. Checked:
// every bad connection is closed by the broker, the broker does not balloon in memory on a
// 2 GiB frame length, the client's traffic is never disturbed, and the process lives.
func TestBadInput(t *testing.T) {
	c := NewCluster(t)
	b := c.Broker(1)
	topic := topicName(t, "bystander")
	c.CreateTopic(t, topic, 1, 1, nil)

	// A bystander produces one record at a time for as long as the bad input lasts.
	cl := c.Client(t)
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		produced atomic.Int64
		prodErr  atomic.Pointer[error]
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "bystander-%d", i)}).FirstErr()
			cancel()
			if err != nil {
				err = fmt.Errorf("bystander record %d: %w", i, err)
				prodErr.Store(&err)
				return
			}
			produced.Store(int64(i + 1))
		}
	}()

	rssBefore := rssBytes(t, b.PID())
	header := func(key, version int16) []byte {
		h := binary.BigEndian.AppendUint16(nil, uint16(key))
		h = binary.BigEndian.AppendUint16(h, uint16(version))
		h = binary.BigEndian.AppendUint32(h, 1)         // correlation id
		return binary.BigEndian.AppendUint16(h, 0xffff) // null client id
	}
	frame := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	cases := []struct {
		name string
		send []byte
	}{
		// "GET " read as a size is 1,195,725,856 bytes, over socket.request.max.bytes.
		{"http request", []byte("GET / HTTP/1.1\r\nHost: klassik\r\n\r\n")},
		// A 2 GiB frame: refused before anything is allocated.
		{"2 GiB frame length", append([]byte{0x7f, 0xff, 0xff, 0xff}, "and a little data"...)},
		{"negative frame length", []byte{0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}},
		{"empty frame", []byte{0, 0, 0, 0}},
		{"header cut short", frame([]byte{0, 18})},
		{"unknown api key", frame(header(0x7fff, 0))},
		{"unsupported produce version", frame(append(header(0, 999), make([]byte, 64)...))},
		{"produce with a garbage body", frame(append(header(0, 7), []byte("\xff\xff\x00\x00this is not a produce request body at all")...))},
		// Fetch v11: replica -1, max wait 15000, min bytes 1, max bytes 2^31-1, isolation 0,
		// session 0, epoch -1, then a topic count of 1e9 with no topics behind it.
		{"fetch claiming 1e9 topics", frame(append(header(1, 11),
			0xff, 0xff, 0xff, 0xff, 0, 0, 0x3a, 0x98, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0,
			0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x3b, 0x9a, 0xca, 0x00))},
		{"binary noise", frame(noise(4096))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tc.send); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := waitClosed(conn, 15*time.Second); err != nil {
				t.Fatalf("broker did not close the connection after %q: %v", truncate(tc.send, 40), err)
			}
			c.AssertAlive(t)
		})
	}

	if rssAfter := rssBytes(t, b.PID()); rssAfter > rssBefore+256<<20 {
		t.Errorf("broker RSS grew from %d MiB to %d MiB after the bad input: a frame's announced size was allocated", rssBefore>>20, rssAfter>>20)
	}

	// The listener still serves new connections.
	raw, err := DialRaw(b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName = "klassik-integration"
	av.ClientSoftwareVersion = "1"
	resp, err := raw.Request(av, 10*time.Second)
	if err != nil {
		t.Fatalf("ApiVersions on a new connection after the bad input: %v", err)
	}
	if ec := resp.(*kmsg.ApiVersionsResponse).ErrorCode; ec != 0 {
		t.Fatalf("ApiVersions error code %d", ec)
	}

	// Let the bystander make progress after the last bad connection, then stop it.
	mark := produced.Load()
	eventually(t, 30*time.Second, func() error {
		if prodErr.Load() != nil {
			return nil
		}
		if n := produced.Load(); n < mark+10 {
			return fmt.Errorf("bystander produced %d records since the bad input, want 10", n-mark)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err := prodErr.Load(); err != nil {
		t.Fatal(*err)
	}
	n := int(produced.Load())
	got := consumeN(t, c, topic, 1, n, time.Minute)
	for i, r := range got {
		if string(r.Value) != fmt.Sprintf("bystander-%d", i) || r.Offset != int64(i) {
			t.Fatalf("bystander record at offset %d is %q, want %q at offset %d", r.Offset, r.Value, fmt.Sprintf("bystander-%d", i), i)
		}
	}
	c.AssertAlive(t)
}

// waitClosed reads until the peer closes the connection (EOF or reset), or timeout.
func waitClosed(conn net.Conn, timeout time.Duration) error {
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("still open after %v", timeout)
		}
		if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset") {
			return nil
		}
		return nil // any other read error also means the connection is gone
	}
}

// noise is deterministic pseudo-random bytes (xorshift), so a failure is reproducible.
func noise(n int) []byte {
	out := make([]byte, n)
	x := uint32(2463534242)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// rssBytes is the resident set size of a process, from /proc.
func rssBytes(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
