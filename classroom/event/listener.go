package event

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// HTTPBase picks where to reach a broker's HTTP listener (which serves Path) among the
// host:port candidates its registration gives (zkclient.BrokerInfo.HTTPAddrs, best first):
// the first that accepts a TCP connection within dialTimeout, as "http://host:port". With
// one candidate it is returned without a dial. When none answers, the error names each
// candidate and why, and says that metrics.listener must be reachable from here.
func HTTPBase(ctx context.Context, addrs []string, dialTimeout time.Duration) (string, error) {
	switch len(addrs) {
	case 0:
		return "", errors.New("no HTTP listener registered (jmx_port unset): set metrics.listener on the broker")
	case 1:
		return "http://" + addrs[0], nil
	}
	var why []string
	for _, a := range addrs {
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
