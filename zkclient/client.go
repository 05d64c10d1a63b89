package zkclient

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
)

// Client is Kafka's ZooKeeper data model over go-zookeeper, rooted at the chroot of
// zookeeper.connect. Safe for concurrent use.
//
// Ownership: the go-zookeeper connection owns its goroutines; the client owns one more, the
// event pump, which moves events from an unbounded queue to Events() so that go-zookeeper's
// goroutines never block on a slow reader.
type Client struct {
	conn           *zk.Conn
	connect        string // as given, for messages
	chroot         string // "" or "/klassik"
	sessionTimeout time.Duration
	log            zerolog.Logger
	acl            []zk.ACL
	cut            *cutter // dials ZooKeeper; CutOff partitions the client on purpose

	events chan Event
	quit   chan struct{}
	done   chan struct{} // closed when the pump has exited

	mu         sync.Mutex // guards the fields below
	queue      []Event
	wake       chan struct{} // 1-buffered: the queue has grown
	hasSession bool
	closed     bool
	sessionUp  chan struct{} // closed at the first StateHasSession

	closeOnce sync.Once
}

// ParseConnect splits a zookeeper.connect string "h1:2181,h2:2182/chroot" into its servers
// and its chroot ("" when none; never a trailing slash).
func ParseConnect(connect string) (servers []string, chroot string, err error) {
	hosts := connect
	if i := strings.IndexByte(connect, '/'); i >= 0 {
		hosts, chroot = connect[:i], connect[i:]
		chroot = strings.TrimRight(chroot, "/")
		if chroot != "" && (path.Clean(chroot) != chroot || strings.Contains(chroot, "//")) {
			return nil, "", fmt.Errorf("zkclient: bad chroot %q in zookeeper.connect %q", connect[i:], connect)
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zkclient: no servers in zookeeper.connect %q", connect)
	}
	return zk.FormatServers(servers), chroot, nil
}

type zkLogger struct{ l zerolog.Logger }

func (z zkLogger) Printf(format string, args ...any) { z.l.Debug().Msgf(format, args...) }

// Connect dials the ensemble in connect ("h1:2181,h2:2181/chroot"), creating the chroot when
// missing, and waits up to connTimeout for a session. Events (watches and session changes)
// arrive on Events(); the first is the EventSessionEstablished of this session.
func Connect(connect string, sessionTimeout, connTimeout time.Duration, logger zerolog.Logger) (*Client, error) {
	servers, chroot, err := ParseConnect(connect)
	if err != nil {
		return nil, err
	}
	c := &Client{
		connect:        connect,
		chroot:         chroot,
		sessionTimeout: sessionTimeout,
		log:            logger.With().Str("component", "zkclient").Logger(),
		acl:            zk.WorldACL(zk.PermAll),
		events:         make(chan Event),
		quit:           make(chan struct{}),
		done:           make(chan struct{}),
		wake:           make(chan struct{}, 1),
		sessionUp:      make(chan struct{}),
		cut:            newCutter(),
	}
	conn, _, err := zk.Connect(servers, sessionTimeout,
		zk.WithLogger(zkLogger{c.log}),
		zk.WithDialer(c.cut.dial),
		zk.WithEventCallback(c.onZkEvent))
	if err != nil {
		return nil, fmt.Errorf("zkclient: connect to ZooKeeper ensemble %s: %w", strings.Join(servers, ","), err)
	}
	c.conn = conn
	go c.pump()
	select {
	case <-c.sessionUp:
	case <-time.After(connTimeout):
		c.Close()
		return nil, fmt.Errorf("zkclient: no ZooKeeper session with ensemble %s within %v (is ZooKeeper running?)",
			strings.Join(servers, ","), connTimeout)
	}
	if chroot != "" {
		if err := c.createPathRaw(chroot); err != nil {
			c.Close()
			return nil, fmt.Errorf("zkclient: create chroot %s: %w", chroot, err)
		}
	}
	c.log.Info().Str("ensemble", strings.Join(servers, ",")).Str("chroot", chroot).
		Str("session", fmt.Sprintf("0x%x", conn.SessionID())).Msg("connected to ZooKeeper")
	return c, nil
}

// Events is the channel every watch and session change is delivered on. It is closed by
// Close. A slow reader delays, never loses, events.
func (c *Client) Events() <-chan Event { return c.events }

// SessionID is the current session's id (0 when none).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// Chroot is the chroot of zookeeper.connect ("" when none).
func (c *Client) Chroot() string { return c.chroot }

// Close ends the session (ephemerals vanish at once) and closes Events().
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.conn.Close()
		close(c.quit)
		<-c.done
	})
}

// pump moves queued events to the events channel, in order, until Close.
func (c *Client) pump() {
	defer close(c.done)
	defer close(c.events)
	for {
		c.mu.Lock()
		var ev Event
		have := len(c.queue) > 0
		if have {
			ev = c.queue[0]
			c.queue[0] = Event{}
			c.queue = c.queue[1:]
		}
		c.mu.Unlock()
		if !have {
			select {
			case <-c.wake:
				continue
			case <-c.quit:
				return
			}
		}
		select {
		case c.events <- ev:
		case <-c.quit:
			return
		}
	}
}

func (c *Client) emit(ev Event) {
	c.mu.Lock()
	if !c.closed {
		c.queue = append(c.queue, ev)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// onZkEvent runs on go-zookeeper's goroutines and must not block. It may run before Connect
// has stored c.conn, so it must not touch it.
func (c *Client) onZkEvent(ev zk.Event) {
	if ev.Type == zk.EventSession {
		c.mu.Lock()
		had := c.hasSession
		switch ev.State {
		case zk.StateHasSession:
			c.hasSession = true
			select {
			case <-c.sessionUp:
			default:
				close(c.sessionUp)
			}
		case zk.StateDisconnected, zk.StateExpired:
			c.hasSession = false
		}
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		switch ev.State {
		case zk.StateHasSession:
			c.log.Info().Str("server", ev.Server).Msg("ZooKeeper session established")
			c.emit(Event{Type: EventSessionEstablished})
		case zk.StateExpired:
			c.log.Warn().Msg("ZooKeeper session expired")
			c.emit(Event{Type: EventSessionExpired})
		case zk.StateDisconnected:
			if had {
				c.log.Warn().Str("server", ev.Server).Msg("disconnected from ZooKeeper")
				c.emit(Event{Type: EventDisconnected})
			}
		}
		return
	}
	if ev.Type == zk.EventNotWatching || ev.Path == "" {
		return
	}
	p := ev.Path
	if c.chroot != "" {
		if !strings.HasPrefix(p, c.chroot+"/") {
			return
		}
		p = p[len(c.chroot):]
	}
	if typed, ok := watchEvent(p, ev.Type); ok {
		c.emit(typed)
	}
}

// watchEvent maps a fired ZooKeeper watch (path without chroot) to a typed event.
func watchEvent(p string, t zk.EventType) (Event, bool) {
	children := t == zk.EventNodeChildrenChanged
	switch p {
	case brokerIDsPath:
		return Event{Type: EventBrokersChanged}, children
	case controllerPath:
		return Event{Type: EventControllerChanged}, !children
	case topicsPath:
		return Event{Type: EventTopicsChanged}, children
	case deleteTopicsPath:
		return Event{Type: EventTopicDeletionsChanged}, children
	case isrChangePath:
		return Event{Type: EventIsrChangeNotification}, children
	case logDirEventPath:
		return Event{Type: EventLogDirEventNotification}, children
	case configChangesPath:
		return Event{Type: EventConfigChanged}, children
	case preferredReplicaElectionPath:
		return Event{Type: EventPreferredReplicaElection}, !children
	case reassignPartitionsPath:
		return Event{Type: EventPartitionReassignment}, !children
	case aclChangesPath, extendedAclChangesPath:
		return Event{Type: EventAclChanged}, children
	}
	if rest, ok := strings.CutPrefix(p, topicsPath+"/"); ok && !strings.Contains(rest, "/") {
		return Event{Type: EventPartitionsChanged, Topic: rest}, t == zk.EventNodeDataChanged || t == zk.EventNodeCreated
	}
	return Event{}, false
}

// p prefixes a Kafka path with the chroot.
func (c *Client) p(kafkaPath string) string {
	if kafkaPath == "/" && c.chroot != "" {
		return c.chroot
	}
	return c.chroot + kafkaPath
}

// zkErr maps a go-zookeeper error to the package's errors, naming the operation and path.
func zkErr(op, p string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zk.ErrNodeExists):
		return fmt.Errorf("zkclient: %s %s: %w", op, p, ErrNodeExists)
	case errors.Is(err, zk.ErrNoNode):
		return fmt.Errorf("zkclient: %s %s: %w", op, p, ErrNoNode)
	case errors.Is(err, zk.ErrBadVersion):
		return fmt.Errorf("zkclient: %s %s: %w", op, p, ErrBadVersion)
	}
	return fmt.Errorf("zkclient: %s %s: %w", op, p, err)
}

func retriable(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)
}

// read runs an idempotent read, retrying while the connection is being re-established (at most
// one session timeout), as Kafka's retryRequestUntilConnected does.
func (c *Client) read(fn func() error) error {
	deadline := time.Now().Add(c.sessionTimeout)
	for {
		err := fn()
		if err == nil || !retriable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-c.quit:
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Client) get(kafkaPath string) (data []byte, stat *zk.Stat, err error) {
	err = c.read(func() error { data, stat, err = c.conn.Get(c.p(kafkaPath)); return err })
	return data, stat, zkErr("get", kafkaPath, err)
}

func (c *Client) getW(kafkaPath string, watch bool) (data []byte, stat *zk.Stat, err error) {
	if !watch {
		return c.get(kafkaPath)
	}
	err = c.read(func() error { data, stat, _, err = c.conn.GetW(c.p(kafkaPath)); return err })
	return data, stat, zkErr("get", kafkaPath, err)
}

func (c *Client) children(kafkaPath string, watch bool) (kids []string, err error) {
	err = c.read(func() error {
		if watch {
			kids, _, _, err = c.conn.ChildrenW(c.p(kafkaPath))
		} else {
			kids, _, err = c.conn.Children(c.p(kafkaPath))
		}
		return err
	})
	return kids, zkErr("list", kafkaPath, err)
}

func (c *Client) exists(kafkaPath string, watch bool) (ok bool, err error) {
	err = c.read(func() error {
		if watch {
			ok, _, _, err = c.conn.ExistsW(c.p(kafkaPath))
		} else {
			ok, _, err = c.conn.Exists(c.p(kafkaPath))
		}
		return err
	})
	return ok, zkErr("exists", kafkaPath, err)
}

// createPathRaw creates every missing component of an absolute ZooKeeper path (no chroot
// added), empty and persistent, like Kafka's makeSurePersistentPathExists.
func (c *Client) createPathRaw(full string) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(full, "/"), "/") {
		cur += "/" + part
		ok, _, err := c.conn.Exists(cur)
		if err != nil {
			return zkErr("exists", cur, err)
		}
		if ok {
			continue
		}
		if _, err := c.conn.Create(cur, nil, 0, c.acl); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return zkErr("create", cur, err)
		}
	}
	return nil
}

// ensurePath makes sure a Kafka path (chroot added) exists.
func (c *Client) ensurePath(kafkaPath string) error {
	return c.read(func() error { return c.createPathRaw(c.p(kafkaPath)) })
}

// createRecursive creates a persistent znode with data, creating missing parents (Kafka's
// createRecursive); an existing node is ErrNodeExists.
func (c *Client) createRecursive(kafkaPath string, data []byte, flags int32) (string, error) {
	created, err := c.conn.Create(c.p(kafkaPath), data, flags, c.acl)
	if errors.Is(err, zk.ErrNoNode) {
		if perr := c.ensurePath(path.Dir(kafkaPath)); perr != nil {
			return "", perr
		}
		created, err = c.conn.Create(c.p(kafkaPath), data, flags, c.acl)
	}
	if err != nil {
		return "", zkErr("create", kafkaPath, err)
	}
	return strings.TrimPrefix(created, c.chroot), nil
}

// multi runs ops in one transaction. On failure it returns the index of the failing op (-1
// when the transaction did not run) and its error.
func (c *Client) multi(ops ...any) ([]zk.MultiResponse, int, error) {
	res, err := c.conn.Multi(ops...)
	if err == nil {
		return res, -1, nil
	}
	for i, r := range res {
		if r.Error != nil && !errors.Is(r.Error, zk.ErrAPIError) {
			return res, i, r.Error
		}
	}
	return res, -1, err
}

func opPath(op any) string {
	switch o := op.(type) {
	case *zk.CreateRequest:
		return o.Path
	case *zk.SetDataRequest:
		return o.Path
	case *zk.DeleteRequest:
		return o.Path
	case *zk.CheckVersionRequest:
		return o.Path
	}
	return "?"
}

// fenced runs ops in one transaction that first checks /controller_epoch's zkVersion: Kafka's
// retryRequestsUntilConnected(requests, expectedControllerEpochZkVersion). A failed check is
// ErrNotController.
func (c *Client) fenced(ce ControllerEpoch, ops ...any) ([]zk.MultiResponse, error) {
	all := append([]any{&zk.CheckVersionRequest{Path: c.p(controllerEpochPath), Version: ce.ZkVersion}}, ops...)
	res, i, err := c.multi(all...)
	switch {
	case err == nil:
		return res[1:], nil
	case i == 0:
		return nil, fmt.Errorf("zkclient: controller epoch %d (zkVersion %d) is stale: %w", ce.Epoch, ce.ZkVersion, ErrNotController)
	case i > 0:
		return nil, zkErr("multi", strings.TrimPrefix(opPath(all[i]), c.chroot), err)
	}
	return nil, zkErr("multi", "", err)
}
