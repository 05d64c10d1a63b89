package event

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// HTTPBase picks where to reach a broker's HTTP listener (which serves Path) among the
// host:port candidates its registration gives (zkclient.BrokerInfo.HTTPAddrs): the first
// that accepts a TCP connection within dialTimeout, as "http://host:port". Loopback
// candidates (localhost, 127.0.0.0/8, ::1) are tried first: they need no name lookup, and a
// lookup of a name that only means something inside another network (compose's kafka1)
// could otherwise reach an unrelated host through the resolver's search domains. With one
// candidate it is returned without a dial. When none answers, the error names each
// candidate and why, and says that metrics.listener must be reachable from here.
func HTTPBase(ctx context.Context, addrs []string, dialTimeout time.Duration) (string, error) {
	switch len(addrs) {
	case 0:
		return "", errors.New("no HTTP listener registered (jmx_port unset): set metrics.listener on the broker")
	case 1:
		return "http://" + addrs[0], nil
	}
	ordered := loopbackFirst(addrs)
	var why []string
	for _, a := range ordered {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		var d net.Dialer
		c, err := d.DialContext(dctx, "tcp", a)
		cancel()
		if err == nil {
			c.Close()
			return "http://" + a, nil
		}
		why = append(why, fmt.Sprintf("%s: %v", a, err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("no registered address of the broker's HTTP listener (metrics.listener) answers from here: %s", strings.Join(why, "; "))
}

// loopbackFirst orders the candidates loopback first, the others after them, each group in
// the order given.
func loopbackFirst(addrs []string) []string {
	ordered := slices.Clone(addrs)
	slices.SortStableFunc(ordered, func(a, b string) int {
		la, lb := isLoopback(a), isLoopback(b)
		switch {
		case la && !lb:
			return -1
		case lb && !la:
			return 1
		}
		return 0
	})
	return ordered
}

func isLoopback(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
