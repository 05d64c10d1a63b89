package broker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// controllerChannel implements controller.Sender: one wire.Client per destination broker,
// reached on its inter-broker listener (Kafka's ControllerChannelManager connections). The
// controller orders and retries; a failed connection is dropped and dialled again next time.
type controllerChannel struct {
	b        *Broker
	clientID string // what the destination's logs show
	mu       sync.Mutex
	clients  map[int32]*channelConn
}

type channelConn struct {
	addr   string
	client *wire.Client
}

func newControllerChannel(b *Broker, clientID string) *controllerChannel {
	return &controllerChannel{b: b, clientID: clientID, clients: map[int32]*channelConn{}}
}

// endpointFor picks the inter-broker listener's endpoint of a registered broker.
func (b *Broker) endpointFor(info zkclient.BrokerInfo) (string, error) {
	name := b.cfg.InterBrokerListenerName
	for _, ep := range info.Endpoints {
		if ep.ListenerName == name {
			return net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port))), nil
		}
	}
	return "", fmt.Errorf("broker %d has no %s listener", info.ID, name)
}

// Send implements controller.Sender.
func (c *controllerChannel) Send(ctx context.Context, to zkclient.BrokerInfo, req kmsg.Request) (kmsg.Response, error) {
	addr, err := c.b.endpointFor(to)
	if err != nil {
		return nil, err
	}
	return c.request(ctx, to.ID, addr, req)
}

// request sends req to broker id at addr, on the connection kept for it.
func (c *controllerChannel) request(ctx context.Context, id int32, addr string, req kmsg.Request) (kmsg.Response, error) {
	cl, err := c.conn(ctx, id, addr)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Request(ctx, req)
	if err != nil {
		c.drop(id, cl)
	}
	return resp, err
}

func (c *controllerChannel) conn(ctx context.Context, id int32, addr string) (*wire.Client, error) {
	c.mu.Lock()
	cc := c.clients[id]
	c.mu.Unlock()
	if cc != nil && cc.addr == addr {
		return cc.client, nil
	}
	if cc != nil {
		c.drop(id, cc.client)
	}
	cl, err := c.b.dialBroker(ctx, addr, c.clientID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if other := c.clients[id]; other != nil && other.addr == addr {
		_ = cl.Close()
		return other.client, nil
	}
	c.clients[id] = &channelConn{addr: addr, client: cl}
	return cl, nil
}

func (c *controllerChannel) drop(id int32, cl *wire.Client) {
	c.mu.Lock()
	if cc := c.clients[id]; cc != nil && cc.client == cl {
		delete(c.clients, id)
	}
	c.mu.Unlock()
	_ = cl.Close()
}

func (c *controllerChannel) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cc := range c.clients {
		_ = cc.client.Close()
		delete(c.clients, id)
	}
}
