package conf

import (
	"os"
	"strings"
	"testing"
)

func TestParseListener(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Listener
		str  string
	}{
		{"PLAINTEXT://127.0.0.1:9092", Listener{"PLAINTEXT", "127.0.0.1", 9092}, "PLAINTEXT://127.0.0.1:9092"},
		{"PLAINTEXT://:9092", Listener{"PLAINTEXT", "", 9092}, "PLAINTEXT://:9092"},
		{"internal://kafka-1.example.com:19092", Listener{"INTERNAL", "kafka-1.example.com", 19092}, "INTERNAL://kafka-1.example.com:19092"},
		{"EXTERNAL://[::1]:9092", Listener{"EXTERNAL", "::1", 9092}, "EXTERNAL://[::1]:9092"},
		{"PLAINTEXT://[fe80::1%eth0]:0", Listener{"PLAINTEXT", "fe80::1%eth0", 0}, "PLAINTEXT://[fe80::1%eth0]:0"},
		{"PLAINTEXT://0.0.0.0:65535", Listener{"PLAINTEXT", "0.0.0.0", 65535}, "PLAINTEXT://0.0.0.0:65535"},
	} {
		got, err := parseListener(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseListener(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.str {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.str)
		}
	}
}

// TestAdvertisedListenerList: like Kafka, an empty host advertises the machine's hostname,
// and advertised.listeners defaults to listeners.
func TestAdvertisedListenerList(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no hostname:", err)
	}
	c := Default()
	c.Listeners = "PLAINTEXT://:9092, INTERNAL://127.0.0.1:9093"
	ls, err := c.AdvertisedListenerList()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0] != (Listener{"PLAINTEXT", host, 9092}) || ls[1] != (Listener{"INTERNAL", "127.0.0.1", 9093}) {
		t.Errorf("AdvertisedListenerList() = %+v", ls)
	}
	// Listeners are not touched.
	if l, _ := c.ListenerList(); l[0].Host != "" {
		t.Errorf("ListenerList()[0].Host = %q, want empty", l[0].Host)
	}

	c.AdvertisedListeners = "PLAINTEXT://broker-1:9092"
	ls, err = c.AdvertisedListenerList()
	if err != nil || len(ls) != 1 || ls[0] != (Listener{"PLAINTEXT", "broker-1", 9092}) {
		t.Errorf("AdvertisedListenerList() = %+v, %v", ls, err)
	}

	for _, tc := range []struct {
		listeners, advertised, want string
	}{
		{"PLAINTEXT://:9092", "PLAINTEXT://0.0.0.0:9092",
			`advertised.listeners = "PLAINTEXT://0.0.0.0:9092": PLAINTEXT://0.0.0.0:9092 cannot be advertised: 0.0.0.0 is the non-routable meta-address (Kafka's rule); use a host clients can reach`},
		{"PLAINTEXT://0.0.0.0:9092", "",
			`listeners = "PLAINTEXT://0.0.0.0:9092": advertised.listeners is not set, so listeners are advertised, and PLAINTEXT://0.0.0.0:9092 cannot be: it is the non-routable meta-address (Kafka's rule); set advertised.listeners to a host clients can reach`},
		{"PLAINTEXT://:9092", "PLAINTEXT//h:1",
			`advertised.listeners = "PLAINTEXT//h:1": "PLAINTEXT//h:1" is not NAME://host:port`},
	} {
		c := Default()
		c.Listeners, c.AdvertisedListeners = tc.listeners, tc.advertised
		if _, err := c.AdvertisedListenerList(); err == nil || err.Error() != tc.want {
			t.Errorf("AdvertisedListenerList() with %q, %q:\n got %v\nwant %s", tc.listeners, tc.advertised, err, tc.want)
		}
	}
}

// TestProgrammaticConfig: tests build a Config from Default, as integration helpers do; the
// derived values follow what they set.
func TestProgrammaticConfig(t *testing.T) {
	c := Default()
	c.BrokerID = 1
	c.ZookeeperConnect = "127.0.0.1:2181"
	c.Listeners = "PLAINTEXT://127.0.0.1:40001"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ib, err := c.InterBrokerListener()
	if err != nil || ib != (Listener{"PLAINTEXT", "127.0.0.1", 40001}) {
		t.Errorf("InterBrokerListener() = %+v, %v", ib, err)
	}
	kv := map[string]string{}
	for _, p := range c.Properties() {
		kv[p.Key] = p.Value
	}
	if kv["advertised.listeners"] != c.Listeners || kv["inter.broker.listener.name"] != "PLAINTEXT" {
		t.Errorf("Properties() shows advertised.listeners = %q, inter.broker.listener.name = %q", kv["advertised.listeners"], kv["inter.broker.listener.name"])
	}
	if !strings.Contains(c.String(), "listeners = \"PLAINTEXT://127.0.0.1:40001\"\n") {
		t.Errorf("String() does not show the listeners:\n%s", c)
	}
}

func TestZookeeperServersAndChroot(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers string
		chroot  string
	}{
		{"127.0.0.1:2181", "127.0.0.1:2181", ""},
		{"127.0.0.1:2181/klassik", "127.0.0.1:2181", "/klassik"},
		{"a:2181, b:2182,c/kafka/prod", "a:2181,b:2182,c", "/kafka/prod"},
		{"zk:2181/", "zk:2181", ""},
	} {
		c := &Config{ZookeeperConnect: tc.in}
		servers, chroot, err := c.ZookeeperServersAndChroot()
		if err != nil || strings.Join(servers, ",") != tc.servers || chroot != tc.chroot {
			t.Errorf("ZookeeperServersAndChroot(%q) = %q, %q, %v; want %s, %q", tc.in, servers, chroot, err, tc.servers, tc.chroot)
		}
	}
	c := &Config{ZookeeperConnect: "zk:2181//x"}
	if _, _, err := c.ZookeeperServersAndChroot(); err == nil ||
		err.Error() != `zookeeper.connect = "zk:2181//x": the chroot path "//x" has an empty, '.' or '..' element` {
		t.Errorf("ZookeeperServersAndChroot(zk:2181//x) error = %v", err)
	}
}
