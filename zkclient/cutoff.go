package zkclient

import (
	"errors"
	"net"
	"sync"
	"time"
)

// cutter dials ZooKeeper for go-zookeeper and can cut this client off from the ensemble for a
// while, as a network partition would: the open connections are closed and new dials refused.
// ZooKeeper then hears nothing from the session and expires it after its timeout, exactly as
// when a broker loses the network (the classroom's expire-session fault).
type cutter struct {
	mu      sync.Mutex
	until   time.Time
	conns   map[net.Conn]struct{}
	dialer  net.Dialer
	nowFunc func() time.Time
}

func newCutter() *cutter { return &cutter{conns: map[net.Conn]struct{}{}, nowFunc: time.Now} }

var errCutOff = errors.New("zkclient: cut off from ZooKeeper on purpose (fault injection)")

func (k *cutter) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	k.mu.Lock()
	blocked := k.nowFunc().Before(k.until)
	k.mu.Unlock()
	if blocked {
		return nil, errCutOff
	}
	d := k.dialer
	d.Timeout = timeout
	c, err := d.Dial(network, address)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, k: k}
	k.mu.Lock()
	k.conns[tc] = struct{}{}
	k.mu.Unlock()
	return tc, nil
}

func (k *cutter) cutOff(d time.Duration) {
	k.mu.Lock()
	k.until = k.nowFunc().Add(d)
	conns := make([]net.Conn, 0, len(k.conns))
	for c := range k.conns {
		conns = append(conns, c)
	}
	k.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	k    *cutter
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.k.mu.Lock()
		delete(t.k.conns, t)
		t.k.mu.Unlock()
	})
	return t.Conn.Close()
}

// CutOff closes this client's connections to ZooKeeper and refuses to reconnect for d. With d
// longer than the session timeout ZooKeeper expires the session: its ephemeral znodes
// (/brokers/ids/N, /controller) vanish, and on reconnecting the client learns that the session
// expired and reports it on Events(), as after a real network partition.
func (c *Client) CutOff(d time.Duration) { c.cut.cutOff(d) }

// SessionTimeout is the session timeout this client asked ZooKeeper for.
func (c *Client) SessionTimeout() time.Duration { return c.sessionTimeout }
