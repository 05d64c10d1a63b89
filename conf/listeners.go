package conf

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Listener is one entry of listeners or advertised.listeners: NAME://host:port. Kafka calls
// it an EndPoint.
type Listener struct {
	Name string // e.g. "PLAINTEXT", "INTERNAL"; always upper case, as Kafka normalises it
	Host string // may be "" (all interfaces) in listeners
	Port int32
}

// String writes the listener back as NAME://host:port, with an IPv6 host in brackets: the
// form of the "endpoints" in a broker's /brokers/ids/<id> znode.
func (l Listener) String() string {
	return l.Name + "://" + net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
}

// securityProtocols are Kafka's security protocols.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// ListenerList parses Listeners.
func (c *Config) ListenerList() ([]Listener, error) {
	ls, err := parseListenerList(c.Listeners)
	if err != nil {
		return nil, &valueError{key: "listeners", value: strconv.Quote(c.Listeners), msg: err.Error()}
	}
	if len(ls) == 0 {
		return nil, &valueError{key: "listeners", value: strconv.Quote(c.Listeners), msg: noListenersMsg}
	}
	return ls, nil
}

// effectiveAdvertised is advertised.listeners, or listeners when it is unset, and the key it
// came from.
func (c *Config) effectiveAdvertised() (key, value string) {
	if strings.TrimSpace(c.AdvertisedListeners) == "" {
		return "listeners", c.Listeners
	}
	return "advertised.listeners", c.AdvertisedListeners
}

// AdvertisedListenerList parses AdvertisedListeners (or Listeners when unset); a listener
// with an empty host advertises the machine's hostname, as Kafka does. 0.0.0.0 cannot be
// advertised (Kafka's rule).
func (c *Config) AdvertisedListenerList() ([]Listener, error) {
	key, value := c.effectiveAdvertised()
	ls, err := parseListenerList(value)
	if err == nil && len(ls) == 0 {
		err = errors.New(noListenersMsg)
	}
	if err == nil {
		err = checkRoutable(ls, key)
	}
	if err != nil {
		return nil, &valueError{key: key, value: strconv.Quote(value), msg: err.Error()}
	}
	var hostname string
	for i := range ls {
		if ls[i].Host != "" {
			continue
		}
		if hostname == "" {
			h, err := os.Hostname()
			if err != nil || h == "" {
				return nil, fmt.Errorf("%s: listener %s has no host, and the hostname to advertise in its place is unknown (%v); set advertised.listeners", key, ls[i].Name, err)
			}
			hostname = h
		}
		ls[i].Host = hostname
	}
	return ls, nil
}

// InterBrokerListener returns the advertised listener named by inter.broker.listener.name
// (or its default), the one other brokers and the controller connect to.
func (c *Config) InterBrokerListener() (Listener, error) {
	ls, err := c.AdvertisedListenerList()
	if err != nil {
		return Listener{}, err
	}
	name := c.InterBrokerListenerName
	if strings.TrimSpace(name) == "" {
		name = c.defaultInterBrokerName(ls)
	}
	for _, l := range ls {
		if strings.EqualFold(l.Name, strings.TrimSpace(name)) {
			return l, nil
		}
	}
	return Listener{}, &valueError{key: "inter.broker.listener.name", value: strconv.Quote(name),
		msg: "must be the name of an advertised listener (" + listenerNames(ls) + ")"}
}

// defaultInterBrokerName is the listener brokers use when inter.broker.listener.name is not
// set: Kafka takes the listener named after security.inter.broker.protocol (PLAINTEXT by
// default), so that one wins when there is one; otherwise klassik takes the first listener.
func (c *Config) defaultInterBrokerName(ls []Listener) string {
	want := strings.ToUpper(strings.TrimSpace(c.SecurityInterBrokerProtocol))
	if want == "" {
		want = "PLAINTEXT"
	}
	for _, l := range ls {
		if l.Name == want {
			return l.Name
		}
	}
	if len(ls) == 0 {
		return ""
	}
	return ls[0].Name
}

// SecurityProtocolMap parses ListenerSecurityProtocolMap into listener name -> protocol, the
// "listener_security_protocol_map" of a broker's znode.
func (c *Config) SecurityProtocolMap() (map[string]string, error) {
	m, err := parseProtocolMap(c.ListenerSecurityProtocolMap)
	if err != nil {
		return nil, &valueError{key: "listener.security.protocol.map", value: strconv.Quote(c.ListenerSecurityProtocolMap), msg: err.Error()}
	}
	return m, nil
}

// LogDirList splits LogDirs on commas.
func (c *Config) LogDirList() []string { return splitList(c.LogDirs) }

// ZookeeperServersAndChroot splits ZookeeperConnect into its servers ("host:port") and its
// chroot path ("" when there is none), e.g. "a:2181,b:2181/klassik" -> [a:2181 b:2181],
// "/klassik".
func (c *Config) ZookeeperServersAndChroot() (servers []string, chroot string, err error) {
	servers, chroot, err = parseZookeeperConnect(c.ZookeeperConnect)
	if err != nil {
		return nil, "", &valueError{key: "zookeeper.connect", value: strconv.Quote(c.ZookeeperConnect), msg: err.Error()}
	}
	return servers, chroot, nil
}

const noListenersMsg = `must name at least one listener, e.g. "PLAINTEXT://:9092"`

func parseListenerList(s string) ([]Listener, error) {
	var out []Listener
	seen := map[string]bool{}
	for _, item := range splitList(s) {
		l, err := parseListener(item)
		if err != nil {
			return nil, err
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("listener name %s appears twice; each listener needs its own name", l.Name)
		}
		seen[l.Name] = true
		out = append(out, l)
	}
	return out, nil
}

func parseListener(s string) (Listener, error) {
	name, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Listener{}, fmt.Errorf("%q is not NAME://host:port", s)
	}
	if name == "" {
		return Listener{}, fmt.Errorf("%q has no listener name before \"://\"", s)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return Listener{}, fmt.Errorf("listener name %q in %q may hold only letters, digits, '_' and '-'", name, s)
		}
	}
	host, portText, err := net.SplitHostPort(rest)
	if err != nil {
		switch {
		case strings.Count(rest, ":") > 1 && !strings.HasPrefix(rest, "["):
			return Listener{}, fmt.Errorf("%q: an IPv6 address goes in brackets, e.g. %s://[::1]:9092", s, name)
		case !strings.Contains(rest, ":"):
			return Listener{}, fmt.Errorf("%q has no port (NAME://host:port)", s)
		default:
			return Listener{}, fmt.Errorf("%q is not NAME://host:port", s)
		}
	}
	if !validHost(host) {
		return Listener{}, fmt.Errorf("host %q in %q is not a hostname or IP address", host, s)
	}
	port, err := parsePort(portText)
	if err != nil {
		return Listener{}, fmt.Errorf("%v in %q", err, s)
	}
	return Listener{Name: strings.ToUpper(name), Host: host, Port: int32(port)}, nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errors.New("the port is missing")
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	if p < 0 || p > 65535 {
		return 0, fmt.Errorf("port %d is not between 0 and 65535", p)
	}
	return p, nil
}

func validHost(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:%", r)) {
			return false
		}
	}
	return true
}

// checkRoutable applies Kafka's rule that the meta-address 0.0.0.0 cannot be advertised.
func checkRoutable(ls []Listener, key string) error {
	for _, l := range ls {
		if l.Host == "0.0.0.0" || l.Host == "::" {
			if key == "listeners" {
				return fmt.Errorf("advertised.listeners is not set, so listeners are advertised, and %s cannot be: it is the non-routable meta-address (Kafka's rule); set advertised.listeners to a host clients can reach", l)
			}
			return fmt.Errorf("%s cannot be advertised: %s is the non-routable meta-address (Kafka's rule); use a host clients can reach", l, l.Host)
		}
	}
	return nil
}

func listenerNames(ls []Listener) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return strings.Join(names, ", ")
}

func parseProtocolMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range splitList(s) {
		name, proto, ok := strings.Cut(item, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || name == "" || proto == "" {
			return nil, fmt.Errorf("entry %q is not NAME:PROTOCOL", item)
		}
		known := false
		for _, p := range securityProtocols {
			known = known || p == proto
		}
		if !known {
			return nil, fmt.Errorf("%q in entry %q is not a security protocol (%s)", proto, item, strings.Join(securityProtocols, ", "))
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("listener name %s is mapped twice", name)
		}
		m[name] = proto
	}
	return m, nil
}

func parseZookeeperConnect(s string) ([]string, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, "", errors.New(`must be set to the ZooKeeper ensemble, e.g. "127.0.0.1:2181/klassik"`)
	}
	hosts, chroot := s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
	}
	if chroot == "/" {
		chroot = ""
	}
	if chroot != "" {
		if strings.HasSuffix(chroot, "/") {
			return nil, "", fmt.Errorf("the chroot path %q must not end with '/'", chroot)
		}
		for _, seg := range strings.Split(chroot[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				return nil, "", fmt.Errorf("the chroot path %q has an empty, '.' or '..' element", chroot)
			}
		}
	}
	var servers []string
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, "", errors.New(`names an empty server; write "host:port,host:port/chroot"`)
		}
		if strings.Contains(h, ":") {
			host, port, err := net.SplitHostPort(h)
			if err != nil || host == "" {
				return nil, "", fmt.Errorf("server %q is not host:port", h)
			}
			if p, err := parsePort(port); err != nil || p == 0 {
				return nil, "", fmt.Errorf("server %q needs a port between 1 and 65535", h)
			}
		}
		servers = append(servers, h)
	}
	return servers, chroot, nil
}

// Per-property syntax checks used by the table; combinations are in validate.go.

func checkListenersSyntax(v any) string {
	ls, err := parseListenerList(v.(string))
	if err != nil {
		return err.Error()
	}
	if len(ls) == 0 {
		return noListenersMsg
	}
	return ""
}

func checkAdvertisedSyntax(v any) string {
	ls, err := parseListenerList(v.(string))
	if err == nil {
		err = checkRoutable(ls, "advertised.listeners")
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func checkProtocolMapSyntax(v any) string {
	if _, err := parseProtocolMap(v.(string)); err != nil {
		return err.Error()
	}
	return ""
}

func checkZookeeperConnect(v any) string {
	if _, _, err := parseZookeeperConnect(v.(string)); err != nil {
		return err.Error()
	}
	return ""
}

func checkMetricsListener(v any) string {
	s := v.(string)
	if s == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || !validHost(host) {
		return `must be host:port, e.g. "127.0.0.1:9404", or "" for none`
	}
	if _, err := parsePort(port); err != nil {
		return err.Error()
	}
	return ""
}
