package integration

import (
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// tcpProxy forwards TCP connections from a local port to one target address. The harness
// puts one in front of every ZooKeeper server for every broker, and the broker's
// zookeeper.connect names the proxies, so a test can cut that one broker off from ZooKeeper
// (a network partition between it and the ensemble) while clients and the other brokers
// still reach it.
//
// Block closes every forwarded connection and refuses new ones (they are accepted and closed
// at once, which a ZooKeeper client sees as a server going away); Unblock forwards again.
// Safe for concurrent use.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	blocked bool
	closed  bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// newTCPProxy listens on a free port of 127.0.0.1 and forwards to target.
func newTCPProxy(target string) (*tcpProxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's listening host:port.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) acceptLoop() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.blocked || p.closed
		p.mu.Unlock()
		if refuse {
			in.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(in)
	}
}

func (p *tcpProxy) forward(in net.Conn) {
	defer p.wg.Done()
	out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		in.Close()
		return
	}
	p.mu.Lock()
	if p.blocked || p.closed {
		p.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

// Block drops every forwarded connection and refuses new ones until Unblock.
func (p *tcpProxy) Block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = true
	for c := range p.conns {
		c.Close()
	}
}

// Unblock forwards new connections again.
func (p *tcpProxy) Unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = false
}

// Blocked reports whether the proxy refuses connections.
func (p *tcpProxy) Blocked() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blocked
}

// Close stops the proxy and drops every connection.
func (p *tcpProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
