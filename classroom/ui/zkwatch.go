package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
)

// firedBuffer bounds the watches waiting to be handled. Past it the watcher forgets the
// individual paths and re-reads everything once (a resync), so memory stays bounded.
const firedBuffer = 4096

// fire is one watch that fired (or a path to read for the first time).
type fire struct {
	path string // Kafka path, without the chroot
	kids bool   // a children watch
	typ  zk.EventType
	at   time.Time
}

// zkBroker is what the watcher keeps per broker ever seen.
type zkBroker struct {
	info    zkclient.BrokerInfo
	alive   bool
	owner   int64
	czxid   int64
	ctime   int64
	httpURL string
}

// zkPartition is one partition's assignment and state znode.
type zkPartition struct {
	replicas []int32
	state    *zkclient.PartitionState
	mtime    int64
}

// zkView is the picture of the cluster in ZooKeeper. Owned by the watcher's goroutine; read
// under watcher.mu by the snapshot.
type zkView struct {
	brokers         map[int32]*zkBroker
	controller      int32
	controllerEpoch int32
	epochVersion    int32
	topics          map[string]map[int32]*zkPartition
	connected       bool
}

// watcher keeps zkView current with ZooKeeper watches: one watch per znode it reads, re-armed
// when it fires, each firing handled in order by one goroutine.
type watcher struct {
	conn   *zk.Conn
	chroot string
	log    zerolog.Logger
	bus    *event.Bus
	change func() // called after every change of the view

	mu   sync.Mutex
	view zkView

	fired  chan fire
	resync chan struct{}
	armed  map[string]bool // "d:/path" or "k:/path" -> a watch is set; owned by run
}

func newWatcher(connect string, log zerolog.Logger, bus *event.Bus, change func()) (*watcher, error) {
	servers, chroot, err := zkclient.ParseConnect(connect)
	if err != nil {
		return nil, err
	}
	w := &watcher{chroot: chroot, log: log, bus: bus, change: change,
		view:  zkView{brokers: map[int32]*zkBroker{}, controller: -1, topics: map[string]map[int32]*zkPartition{}},
		fired: make(chan fire, firedBuffer), resync: make(chan struct{}, 1), armed: map[string]bool{}}
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(zkQuiet{}), zk.WithEventCallback(w.onSession))
	if err != nil {
		return nil, fmt.Errorf("connect to ZooKeeper %s: %w", strings.Join(servers, ","), err)
	}
	w.conn = conn
	return w, nil
}

type zkQuiet struct{}

func (zkQuiet) Printf(string, ...any) {}

// onSession follows the session: a new session (after an expiry) has none of the old
// watches, so everything is read again.
func (w *watcher) onSession(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	w.mu.Lock()
	was := w.view.connected
	w.view.connected = ev.State == zk.StateHasSession
	now := w.view.connected
	w.mu.Unlock()
	if was != now {
		w.change()
	}
	if ev.State == zk.StateHasSession {
		select {
		case w.resync <- struct{}{}:
		default:
		}
	}
}

func (w *watcher) p(kafkaPath string) string { return w.chroot + kafkaPath }

// run handles watches until ctx is done. A read that fails (ZooKeeper unreachable) is tried
// again with a backoff from 100 ms to 3 s.
func (w *watcher) run(ctx context.Context) {
	defer w.conn.Close()
	backoff := 100 * time.Millisecond
	pending := []fire{}
	full := true
	for ctx.Err() == nil {
		if full {
			w.armed = map[string]bool{}
			pending = []fire{{path: zkclient.BrokerIDsPath, kids: true}, {path: zkclient.ControllerPath},
				{path: zkclient.ControllerEpochPath}, {path: zkclient.TopicsPath, kids: true}}
			full = false
		}
		var failed []fire
		for _, f := range pending {
			if err := w.handle(f); err != nil {
				if errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrConnectionClosed) {
					full = true
				}
				failed = append(failed, f)
			}
		}
		pending = failed
		if len(pending) > 0 || full {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 3*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		select {
		case <-ctx.Done():
			return
		case <-w.resync:
			full = true
		case f := <-w.fired:
			pending = append(pending, f)
		drain:
			for len(pending) < firedBuffer {
				select {
				case f := <-w.fired:
					pending = append(pending, f)
				default:
					break drain
				}
			}
		}
	}
}

// arm waits for one watch in its own goroutine and queues it for run when it fires.
func (w *watcher) arm(key string, kids bool, path string, ch <-chan zk.Event) {
	w.armed[key] = true
	go func() {
		ev := <-ch
		f := fire{path: path, kids: kids, typ: ev.Type, at: time.Now()}
		select {
		case w.fired <- f:
		default:
			select {
			case w.resync <- struct{}{}:
			default:
			}
		}
	}()
}

// get reads a znode, arming a data watch unless one is already set. ok is false when the
// znode does not exist (an exists watch is then armed, to see it created).
func (w *watcher) get(path string) (data []byte, st *zk.Stat, ok bool, err error) {
	key := "d:" + path
	if w.armed[key] {
		data, st, err = w.conn.Get(w.p(path))
	} else {
		var ch <-chan zk.Event
		data, st, ch, err = w.conn.GetW(w.p(path))
		if err == nil {
			w.arm(key, false, path, ch)
		} else if errors.Is(err, zk.ErrNoNode) {
			var found bool
			found, _, ch, err = w.conn.ExistsW(w.p(path))
			if err != nil {
				return nil, nil, false, err
			}
			w.arm(key, false, path, ch)
			if found { // created in between; the exists watch stands for the data watch
				data, st, err = w.conn.Get(w.p(path))
				if err != nil {
					return nil, nil, false, nil
				}
				return data, st, true, nil
			}
			return nil, nil, false, nil
		}
	}
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil, false, nil
	}
	return data, st, err == nil, err
}

// children lists a znode's children, arming a children watch unless one is set.
func (w *watcher) children(path string) ([]string, error) {
	key := "k:" + path
	if w.armed[key] {
		kids, _, err := w.conn.Children(w.p(path))
		if errors.Is(err, zk.ErrNoNode) {
			return nil, nil
		}
		return kids, err
	}
	kids, _, ch, err := w.conn.ChildrenW(w.p(path))
	if errors.Is(err, zk.ErrNoNode) {
		// Not there yet (a classroom started before the first broker made the cluster's
		// znodes): an exists watch, fired as a children watch, so that the creation is
		// read as the list it starts.
		var found bool
		found, _, ch, err = w.conn.ExistsW(w.p(path))
		if err == nil {
			w.arm(key, true, path, ch)
			if found { // created in between: the next read lists it
				return w.children(path)
			}
		}
		return nil, err
	}
	if err == nil {
		w.arm(key, true, path, ch)
	}
	return kids, err
}

// handle reads what a fired watch (or a first read) concerns, updates the view and tells the
// timeline what it saw.
func (w *watcher) handle(f fire) error {
	key := "d:" + f.path
	if f.kids {
		key = "k:" + f.path
	}
	if !f.at.IsZero() {
		delete(w.armed, key) // this watch fired: the next read sets a new one
		if f.typ == zk.EventNotWatching {
			f.at = time.Time{} // the session dropped the watch; read again quietly
		}
	}
	var err error
	switch {
	case f.path == zkclient.BrokerIDsPath && f.kids:
		err = w.readBrokerIDs(f)
	case strings.HasPrefix(f.path, zkclient.BrokerIDsPath+"/"):
		err = w.readBroker(f)
	case f.path == zkclient.ControllerPath:
		err = w.readController(f)
	case f.path == zkclient.ControllerEpochPath:
		err = w.readControllerEpoch(f)
	case f.path == zkclient.TopicsPath:
		err = w.readTopics(f)
	case strings.HasSuffix(f.path, "/state"):
		err = w.readPartitionState(f)
	case strings.HasPrefix(f.path, zkclient.TopicsPath+"/"):
		err = w.readTopic(f)
	}
	if err == nil {
		w.change()
	}
	return err
}

// watchFired publishes the watch itself: the learner sees ZooKeeper tell the classroom.
func (w *watcher) watchFired(f fire, what string) {
	if f.at.IsZero() || f.typ == zk.EventNotWatching {
		return
	}
	w.bus.Publish(event.Event{Time: f.at.UTC(), Source: "zookeeper", Kind: event.WatchFired, ZNode: f.path,
		Text: fmt.Sprintf("Watch fired on %s (%s): %s", f.path, strings.TrimPrefix(f.typ.String(), "Event"), what)})
}

func (w *watcher) readBrokerIDs(f fire) error {
	kids, err := w.children(zkclient.BrokerIDsPath)
	if err != nil {
		return err
	}
	live := map[int32]bool{}
	for _, k := range kids {
		if id, err := strconv.ParseInt(k, 10, 32); err == nil {
			live[int32(id)] = true
		}
	}
	w.watchFired(f, fmt.Sprintf("live brokers are now %v", sortedIDs(live)))
	w.mu.Lock()
	var gone []int32
	for id, b := range w.view.brokers {
		if b.alive && !live[id] {
			b.alive = false
			gone = append(gone, id)
		}
	}
	w.mu.Unlock()
	for _, id := range gone {
		w.brokerLost(id)
	}
	for id := range live {
		if err := w.readBroker(fire{path: zkclient.BrokerPath(id)}); err != nil {
			return err
		}
	}
	return nil
}

func (w *watcher) brokerLost(id int32) {
	w.bus.Publish(event.Event{Source: "zookeeper", Kind: event.BrokerLost, Broker: event.Int32(id),
		ZNode: zkclient.BrokerPath(id),
		Text: fmt.Sprintf("Broker %d's ephemeral znode %s is gone: its ZooKeeper session ended, so the controller treats it as dead",
			id, zkclient.BrokerPath(id))})
}

func (w *watcher) readBroker(f fire) error {
	id64, err := strconv.ParseInt(strings.TrimPrefix(f.path, zkclient.BrokerIDsPath+"/"), 10, 32)
	if err != nil {
		return nil
	}
	id := int32(id64)
	data, st, ok, err := w.get(f.path)
	if err != nil {
		return err
	}
	w.mu.Lock()
	b := w.view.brokers[id]
	if !ok {
		lost := b != nil && b.alive
		if lost {
			b.alive = false
		}
		w.mu.Unlock()
		if lost {
			w.brokerLost(id)
		}
		return nil
	}
	info, derr := zkclient.DecodeBroker(id, data)
	if derr != nil {
		w.mu.Unlock()
		w.log.Warn().Err(derr).Msg("broker registration")
		return nil
	}
	info.Epoch = st.Czxid
	fresh := b == nil || !b.alive || b.czxid != st.Czxid
	if b == nil {
		b = &zkBroker{}
		w.view.brokers[id] = b
	}
	b.info, b.alive, b.owner, b.czxid, b.ctime = info, true, st.EphemeralOwner, st.Czxid, st.Ctime
	b.httpURL = ""
	addrs := info.HTTPAddrs()
	if len(addrs) > 0 {
		b.httpURL = "http://" + addrs[0]
	}
	w.mu.Unlock()
	if len(addrs) > 1 {
		go w.findHTTP(id, st.Czxid, addrs)
	}
	if fresh {
		var eps []string
		for _, e := range info.Endpoints {
			eps = append(eps, e.ConnectionString())
		}
		w.bus.Publish(event.Event{Time: time.UnixMilli(st.Ctime).UTC(), Source: "zookeeper", Kind: event.BrokerRegistered,
			Broker: event.Int32(id), ZNode: f.path,
			Text: fmt.Sprintf("Broker %d registered %s (%s), session 0x%x, broker epoch %d",
				id, f.path, strings.Join(eps, ","), st.EphemeralOwner, st.Czxid)})
	}
	return nil
}

// findHTTP looks for the registration's address of the broker's HTTP listener that answers
// from here (the first one stands meanwhile), off the watcher's goroutine, and takes it if
// the broker has not registered again since.
func (w *watcher) findHTTP(id int32, czxid int64, addrs []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base, err := event.HTTPBase(ctx, addrs, 2*time.Second)
	if err != nil {
		w.log.Warn().Err(err).Int32("broker", id).Msg("broker HTTP listener")
		return
	}
	w.mu.Lock()
	b := w.view.brokers[id]
	moved := b != nil && b.czxid == czxid && b.httpURL != base
	if moved {
		b.httpURL = base
	}
	w.mu.Unlock()
	if moved {
		w.change()
	}
}

func (w *watcher) readController(f fire) error {
	data, st, ok, err := w.get(zkclient.ControllerPath)
	if err != nil {
		return err
	}
	id := int32(-1)
	if ok {
		if id, err = zkclient.DecodeController(data); err != nil {
			id = -1
		}
	}
	w.mu.Lock()
	prev := w.view.controller
	w.view.controller = id
	w.mu.Unlock()
	if prev == id {
		return nil
	}
	if id < 0 {
		w.watchFired(f, "/controller is gone: the controller's session ended and no broker is controller yet")
		return nil
	}
	// The epoch is written in the same step as /controller; read it now so the line names it.
	_ = w.readControllerEpoch(fire{path: zkclient.ControllerEpochPath})
	w.mu.Lock()
	epoch := w.view.controllerEpoch
	w.mu.Unlock()
	w.bus.Publish(event.Event{Time: time.UnixMilli(st.Ctime).UTC(), Source: "zookeeper", Kind: event.ControllerElected,
		Broker: event.Int32(id), ControllerEpoch: event.Int32(epoch), ZNode: zkclient.ControllerPath,
		Text: fmt.Sprintf("Broker %d created /controller and is the controller (controller epoch %d)", id, epoch)})
	return nil
}

func (w *watcher) readControllerEpoch(f fire) error {
	data, st, ok, err := w.get(zkclient.ControllerEpochPath)
	if err != nil || !ok {
		return err
	}
	epoch, err := zkclient.DecodeControllerEpoch(data)
	if err != nil {
		return nil
	}
	w.mu.Lock()
	w.view.controllerEpoch, w.view.epochVersion = epoch, st.Version
	w.mu.Unlock()
	w.watchFired(f, fmt.Sprintf("controller epoch %d (zkVersion %d)", epoch, st.Version))
	return nil
}

func (w *watcher) readTopics(f fire) error {
	kids, err := w.children(zkclient.TopicsPath)
	if err != nil {
		return err
	}
	w.watchFired(f, fmt.Sprintf("%d topics", len(kids)))
	w.mu.Lock()
	for t := range w.view.topics {
		if !slices.Contains(kids, t) {
			delete(w.view.topics, t)
		}
	}
	w.mu.Unlock()
	for _, t := range kids {
		if err := w.readTopic(fire{path: zkclient.TopicPath(t)}); err != nil {
			return err
		}
	}
	return nil
}

func (w *watcher) readTopic(f fire) error {
	topic := strings.TrimPrefix(f.path, zkclient.TopicsPath+"/")
	if strings.Contains(topic, "/") {
		return nil
	}
	data, _, ok, err := w.get(f.path)
	if err != nil {
		return err
	}
	if !ok {
		w.mu.Lock()
		delete(w.view.topics, topic)
		w.mu.Unlock()
		return nil
	}
	a, err := zkclient.DecodeTopic(topic, data)
	if err != nil {
		return nil
	}
	w.watchFired(f, fmt.Sprintf("topic %s has %d partitions", topic, len(a.Partitions)))
	w.mu.Lock()
	parts := w.view.topics[topic]
	if parts == nil {
		parts = map[int32]*zkPartition{}
		w.view.topics[topic] = parts
	}
	for p := range parts {
		if _, ok := a.Partitions[p]; !ok {
			delete(parts, p)
		}
	}
	for p, r := range a.Partitions {
		if parts[p] == nil {
			parts[p] = &zkPartition{}
		}
		parts[p].replicas = r
	}
	w.mu.Unlock()
	for p := range a.Partitions {
		if err := w.readPartitionState(fire{path: zkclient.PartitionStatePath(topic, p)}); err != nil {
			return err
		}
	}
	return nil
}

func (w *watcher) readPartitionState(f fire) error {
	rest := strings.TrimSuffix(strings.TrimPrefix(f.path, zkclient.TopicsPath+"/"), "/state")
	topic, pstr, ok := strings.Cut(rest, "/partitions/")
	p64, err := strconv.ParseInt(pstr, 10, 32)
	if !ok || err != nil {
		return nil
	}
	data, st, ok, err := w.get(f.path)
	if err != nil {
		return err
	}
	var ps *zkclient.PartitionState
	if ok {
		if s, err := zkclient.DecodePartitionState(data, st.Version); err == nil {
			ps = &s
		}
	}
	w.mu.Lock()
	parts := w.view.topics[topic]
	if parts != nil {
		if parts[int32(p64)] == nil {
			parts[int32(p64)] = &zkPartition{}
		}
		parts[int32(p64)].state = ps
		if st != nil {
			parts[int32(p64)].mtime = st.Mtime
		}
	}
	w.mu.Unlock()
	if ps != nil && !f.at.IsZero() {
		w.bus.Publish(event.Event{Time: f.at.UTC(), Source: "zookeeper", Kind: event.WatchFired, ZNode: f.path,
			Topic: topic, Partition: event.Int32(int32(p64)), Leader: event.Int32(ps.Leader), ISR: ps.ISR,
			LeaderEpoch: event.Int32(ps.LeaderEpoch), ZKVersion: event.Int32(ps.ZkVersion),
			Text: fmt.Sprintf("Watch fired on %s-%d's state znode: leader %d, ISR %v, leader epoch %d, partition epoch (zkVersion) %d, written by controller epoch %d",
				topic, p64, ps.Leader, ps.ISR, ps.LeaderEpoch, ps.ZkVersion, ps.ControllerEpoch)})
	}
	return nil
}

func sortedIDs(m map[int32]bool) []int32 {
	var ids []int32
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func joinHostPort(host string, port int32) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}
