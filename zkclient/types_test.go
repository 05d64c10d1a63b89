package zkclient

import (
	"slices"
	"testing"
)

// The registrations a compose cluster and a local one write: the classroom finds the HTTP
// listener (jmx_port) on the registration's host first, then on the other endpoints' hosts.
func TestHTTPAddrs(t *testing.T) {
	compose := BrokerInfo{ID: 1, Host: "kafka1", Port: 29092, JmxPort: 9404, Endpoints: []Endpoint{
		{ListenerName: "INTERNAL", Host: "kafka1", Port: 29092},
		{ListenerName: "EXTERNAL", Host: "localhost", Port: 9092},
	}}
	for _, c := range []struct {
		name string
		info BrokerInfo
		want []string
	}{
		{"compose", compose, []string{"kafka1:9404", "localhost:9404"}},
		{"no listener", BrokerInfo{JmxPort: -1, Host: "h"}, nil},
		{"zero port", BrokerInfo{JmxPort: 0, Host: "h"}, nil},
		{"wildcard", BrokerInfo{JmxPort: 9404, Host: "0.0.0.0", Endpoints: []Endpoint{{Host: "0.0.0.0", Port: 9092}}}, []string{"127.0.0.1:9404"}},
		{"no plaintext host", BrokerInfo{JmxPort: 7, Endpoints: []Endpoint{{Host: "b", Port: 1}}}, []string{"b:7"}},
		{"nothing", BrokerInfo{JmxPort: 7}, []string{"127.0.0.1:7"}},
		{"ipv6", BrokerInfo{JmxPort: 7, Host: "::1"}, []string{"[::1]:7"}},
	} {
		if got := c.info.HTTPAddrs(); !slices.Equal(got, c.want) {
			t.Errorf("%s: HTTPAddrs() = %v, want %v", c.name, got, c.want)
		}
	}
}
