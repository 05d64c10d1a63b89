package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/coordinator/controller"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/coordinator/transaction"
	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/security"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
)

// Broker is one klassik broker process (Kafka's KafkaServer).
type Broker struct {
	cfg  *conf.Config
	base zerolog.Logger // tagged with the broker id; each component adds its name
	log  zerolog.Logger // the broker's own lines: component=broker

	logs          *logstore.Manager
	zk            *zkclient.Client
	ctrl          *controller.Controller
	meta          *metadataCache
	rm            *replicaManager
	fetchers      *fetcherManager
	alterDirs     *alterLogDirs // moves between log dirs (alter_log_dirs.go)
	topicConfigs  *topicConfigStore
	dyn           *dynamicConfig    // dynamic broker configs (dynamic_config.go)
	quotas        *quotaManagers    // client quotas (quotas.go)
	replQuotas    replicationQuotas // replication throttles (replication_quota.go)
	authz         *authz.Authorizer // nil without authorizer.class.name (authorize.go)
	pids          *producerIDs
	channel       *controllerChannel
	probes        *controllerChannel              // Metadata questions to other brokers (topic_wait.go)
	ctrlDelay     atomic.Pointer[controllerDelay] // the delay-controller-requests fault (faults.go)
	fetchSessions *fetchSessionCache              // KIP-227 (fetch_session.go)
	groups        *group.Coordinator
	txns          *transaction.Coordinator
	txnMarkers    *txnMarkerChannel // the coordinator's connections to partition leaders, and the leaders' to coordinators

	// txnCompletion, when set, is told after WriteTxnMarkers wrote a producer's markers to
	// partitions of __consumer_offsets (Kafka's GroupCoordinator.scheduleHandleTxnCompletion):
	// the group coordinator then makes the producer's pending transactional offsets of those
	// partitions visible (commit) or drops them (abort). Set before the listeners start;
	// called from request goroutines.
	txnCompletion func(producerID int64, offsetsPartitions []int32, commit bool)

	clusterID   string
	brokerEpoch int64 // guarded by epochMu
	epochMu     sync.Mutex
	savedHWs    map[logstore.TopicPartition]int64

	listeners []net.Listener
	servers   []*wire.Server
	tlsStores map[string]*security.TLSStore // by listener name: SSL and SASL_SSL listeners' (security.go)
	scram     *scramCredentials             // scram_credentials.go
	// dialOpts secures the broker's own connections to addr on the inter-broker listener
	// (security.go); nil for a PLAINTEXT inter-broker listener.
	dialOpts   func(addr string) (wire.DialOptions, error)
	metrics    *metrics
	httpServer *http.Server
	httpPort   int32      // metrics.listener's port, registered as jmx_port; -1 without one
	bus        *event.Bus // the classroom's timeline of this broker's decisions (classroom.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	fatal    chan struct{} // closed by setFatal (log_dir_failure.go)
	fatalMu  sync.Mutex
	fatalErr error
}

// New makes a broker from a validated configuration. Start brings it up.
func New(cfg *conf.Config, logger zerolog.Logger) *Broker {
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		cfg:       cfg,
		base:      logger.With().Int32("broker", cfg.BrokerID).Logger(),
		meta:      newMetadataCache(),
		metrics:   newMetrics(),
		httpPort:  -1,
		bus:       event.NewBus(busSource(cfg.BrokerID), event.DefaultRetain),
		tlsStores: map[string]*security.TLSStore{},
		ctx:       ctx,
		cancel:    cancel,
		fatal:     make(chan struct{}),
	}
	b.log = b.base.With().Str("component", "broker").Logger()
	b.scram = newScramCredentials(b)
	b.rm = newReplicaManager(b)
	b.fetchers = newFetcherManager(b)
	b.alterDirs = newAlterLogDirs(b)
	b.channel = newControllerChannel(b, fmt.Sprintf("klassik-controller-%d", cfg.BrokerID))
	b.fetchSessions = newFetchSessionCache(cfg.MaxIncrementalFetchSessionCacheSlots)
	b.replQuotas = newReplicationQuotas(cfg)
	b.probes = newControllerChannel(b, fmt.Sprintf("klassik-metadata-wait-%d", cfg.BrokerID))
	return b
}

// Start opens the logs, binds the listeners, registers in ZooKeeper and starts the controller.
// On error everything started is stopped again.
func (b *Broker) Start() (err error) {
	defer func() {
		if err != nil {
			b.closeAll()
		}
	}()
	b.log.Info().Msg("starting")

	b.logs, err = logstore.OpenManager(logstore.OSFS(), b.cfg.LogDirList(), newTopicConfig(b.cfg, nil).log,
		b.base.With().Str("component", "logstore").Logger())
	if err != nil {
		return fmt.Errorf("opening log.dirs: %w", err)
	}
	if b.savedHWs, err = b.logs.ReadHighWatermarks(); err != nil {
		return fmt.Errorf("reading high watermark checkpoints: %w", err)
	}

	session := time.Duration(b.cfg.ZookeeperSessionTimeoutMs) * time.Millisecond
	connTimeout := time.Duration(b.cfg.ZookeeperConnectionTimeoutMs) * time.Millisecond
	b.zk, err = zkclient.Connect(b.cfg.ZookeeperConnect, session, connTimeout, b.base)
	if err != nil {
		return fmt.Errorf("connecting to ZooKeeper at %s: %w", b.cfg.ZookeeperConnect, err)
	}
	if err = b.zk.EnsurePersistentPaths(); err != nil {
		return fmt.Errorf("creating ZooKeeper paths: %w", err)
	}
	if b.clusterID, err = b.zk.GetOrCreateClusterID(newClusterID()); err != nil {
		return fmt.Errorf("reading /cluster/id: %w", err)
	}
	b.dyn = newDynamicConfig(b)
	b.dyn.reload()
	b.quotas = newQuotaManagers(b)
	b.quotas.loadAll()
	b.topicConfigs = newTopicConfigStore(b)
	b.pids = &producerIDs{b: b}
	b.groups = group.New(group.Config{
		BrokerID:                        b.cfg.BrokerID,
		OffsetsTopicNumPartitions:       b.cfg.OffsetsTopicNumPartitions,
		GroupInitialRebalanceDelayMs:    b.cfg.GroupInitialRebalanceDelayMs,
		GroupMinSessionTimeoutMs:        b.cfg.GroupMinSessionTimeoutMs,
		GroupMaxSessionTimeoutMs:        b.cfg.GroupMaxSessionTimeoutMs,
		OffsetsRetentionMinutes:         b.cfg.OffsetsRetentionMinutes,
		OffsetMetadataMaxBytes:          b.cfg.OffsetMetadataMaxBytes,
		OffsetsRetentionCheckIntervalMs: 600000,
		Events:                          b.bus,
	}, newOffsetsLog(b), b.base)
	b.txns = b.newTransactionCoordinator()
	b.txnCompletion = b.groups.CompleteTxn
	if err = b.startAuthorizer(); err != nil { // before the listeners: no request goes unchecked
		return fmt.Errorf("starting the authorizer: %w", err)
	}

	if err = b.startListeners(); err != nil {
		return err
	}
	if err = b.interBrokerDial(); err != nil {
		return err
	}
	if err = b.startMetricsListener(); err != nil {
		return err
	}
	if err = b.register(); err != nil {
		return err
	}

	b.ctrl = controller.New(controller.Config{
		BrokerID:                    b.cfg.BrokerID,
		InterBrokerListenerName:     b.cfg.InterBrokerListenerName,
		UncleanLeaderElectionEnable: b.cfg.UncleanLeaderElectionEnable,
		DeleteTopicEnable:           b.cfg.DeleteTopicEnable,
		AutoLeaderRebalanceEnable:   b.cfg.AutoLeaderRebalanceEnable,
		LeaderImbalanceCheckSeconds: b.cfg.LeaderImbalanceCheckSeconds,
		Events:                      b.bus,
	}, b.zk, b.channel, b.base)
	b.goRun(func() { b.ctrl.Run(b.ctx) })
	b.goRun(b.zkEventLoop)
	b.goRun(b.logDirFailureHandler)
	b.goRun(b.housekeeping)
	b.goRun(b.alterDirs.run)
	b.goRun(b.tlsReloader)
	if b.cfg.LogCleanerEnable {
		b.goRun(b.logCleaner)
	}
	b.log.Info().Str("cluster_id", b.clusterID).Int64("broker_epoch", b.epoch()).Msg("started")
	return nil
}

// goRun starts a goroutine the broker waits for at shutdown.
func (b *Broker) goRun(f func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
}

func (b *Broker) startListeners() error {
	ls, err := b.cfg.ListenerList()
	if err != nil {
		return err
	}
	// Every listener's security first, so that a bad keystore fails the start before any port
	// is bound, and the SCRAM credentials are read before the first client can ask.
	secs := make([]listenerSecurity, len(ls))
	for i, l := range ls {
		if secs[i], err = b.secureListener(l); err != nil {
			return err
		}
	}
	b.scram.loadAll()
	// One budget for all listeners: queued.max.request.bytes is broker-wide, as in Kafka.
	budget := wire.NewBudget(b.cfg.QueuedMaxRequestBytes, b.cfg.QueuedMaxRequests)
	for i, l := range ls {
		sec := secs[i]
		addr := net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.Name, err)
		}
		b.listeners = append(b.listeners, ln)
		srv := wire.NewServer(wire.ServerConfig{
			Listener:            ln,
			ListenerName:        l.Name,
			MaxRequestSize:      b.cfg.SocketRequestMaxBytes,
			Budget:              budget,
			Handler:             b,
			Versions:            versions,
			ApiVersionsFallback: apiVersionsFallback,
			Logger:              b.base.With().Str("component", "wire").Str("listener", l.Name).Logger(),
			TLS:                 sec.tls,
			TLSPrincipal:        sec.principal,
			SASL:                sec.sasl,
		})
		b.servers = append(b.servers, srv)
		b.goRun(func() {
			if err := srv.Serve(); err != nil {
				b.log.Error().Err(err).Str("listener", l.Name).Msg("listener stopped")
			}
		})
		b.log.Info().Str("listener", l.Name).Str("protocol", sec.protocol).Str("addr", ln.Addr().String()).Msg("listening")
	}
	return nil
}

// register writes /brokers/ids/<id> with the advertised listeners and records the broker epoch.
func (b *Broker) register() error {
	adv, err := b.cfg.AdvertisedListenerList()
	if err != nil {
		return err
	}
	info := zkclient.BrokerInfo{ID: b.cfg.BrokerID, Rack: b.cfg.BrokerRack, Timestamp: time.Now().UnixMilli(), JmxPort: b.httpPort}
	for i, l := range adv {
		port := l.Port
		if port == 0 && i < len(b.listeners) { // port 0: advertise what the OS picked
			port = int32(b.listeners[i].Addr().(*net.TCPAddr).Port)
		}
		info.Endpoints = append(info.Endpoints, zkclient.Endpoint{ListenerName: l.Name, SecurityProtocol: b.cfg.ListenerProtocol(l.Name), Host: l.Host, Port: port})
	}
	if len(info.Endpoints) > 0 {
		info.Host, info.Port = info.Endpoints[0].Host, info.Endpoints[0].Port
	}
	epoch, err := b.registerWaitingForPredecessor(info)
	if err != nil {
		return err
	}
	b.epochMu.Lock()
	b.brokerEpoch = epoch
	b.epochMu.Unlock()
	b.bus.SetBrokerEpoch(epoch)
	b.log.Info().Int64("broker_epoch", epoch).Msg("registered in ZooKeeper")
	return nil
}

func (b *Broker) epoch() int64 {
	b.epochMu.Lock()
	defer b.epochMu.Unlock()
	return b.brokerEpoch
}

// savedHW is the high watermark read from replication-offset-checkpoint at start.
func (b *Broker) savedHW(tp topicPartition) int64 {
	return b.savedHWs[logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}]
}

// housekeeping runs the broker's periodic work: high watermark checkpoints, log retention and
// follower lag checks (Kafka's scheduler tasks).
func (b *Broker) housekeeping() {
	hwEvery := time.Duration(b.cfg.ReplicaHighWatermarkCheckpointIntervalMs) * time.Millisecond
	retentionEvery := time.Duration(b.cfg.LogRetentionCheckIntervalMs) * time.Millisecond
	isrEvery := time.Duration(b.cfg.ReplicaLagTimeMaxMs/2) * time.Millisecond
	hwTick, retTick, isrTick := time.NewTicker(hwEvery), time.NewTicker(retentionEvery), time.NewTicker(isrEvery)
	recoveryTick := time.NewTicker(60 * time.Second)
	flushTick := time.NewTicker(flushCheckInterval(b.cfg.LogFlushIntervalMs))
	defer flushTick.Stop()
	defer hwTick.Stop()
	defer retTick.Stop()
	defer isrTick.Stop()
	defer recoveryTick.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-hwTick.C:
			if err := b.logs.WriteHighWatermarks(b.rm.highWatermarks()); err != nil {
				b.log.Error().Err(err).Msg("writing high watermark checkpoint")
			}
		case <-recoveryTick.C:
			if err := b.logs.Checkpoint(); err != nil {
				b.log.Error().Err(err).Msg("writing recovery point checkpoint")
			}
			b.quotas.warnEvictions()
		case <-flushTick.C:
			if err := b.logs.FlushDirtyLogs(time.Now().UnixMilli()); err != nil {
				b.log.Error().Err(err).Msg("flushing logs (flush.ms)")
			}
		case <-retTick.C:
			b.applyRetention()
		case <-isrTick.C:
			b.maybeShrinkISRs()
		}
	}
}

// flushCheckInterval is how often logs are checked against flush.ms (Kafka's
// log.flush.scheduler.interval.ms): log.flush.interval.ms when set and shorter, else every
// second, so a per-topic flush.ms of a second or more is honoured too.
func flushCheckInterval(brokerFlushMs int64) time.Duration {
	every := time.Second
	if brokerFlushMs > 0 {
		every = min(every, time.Duration(brokerFlushMs)*time.Millisecond)
	}
	return max(every, 10*time.Millisecond)
}

func (b *Broker) applyRetention() {
	now := time.Now().UnixMilli()
	for _, p := range b.rm.all() {
		hw := p.highWatermark()
		n, err := p.log.ApplyRetention(now, hw)
		if err != nil {
			b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("retention")
		} else if n > 0 {
			b.log.Info().Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Int("segments", n).Msg("deleted segments past retention")
		}
	}
}

// logCleaner compacts the logs whose cleanup.policy holds compact (Kafka's LogCleaner
// thread, one pass per log every log.cleaner.backoff.ms, Kafka's default 15s), never at or
// above a partition's high watermark. Its own goroutine: a pass can take a while.
func (b *Broker) logCleaner() {
	tick := time.NewTicker(time.Duration(max(b.cfg.LogCleanerBackoffMs, 100)) * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		for _, p := range b.rm.all() {
			if b.ctx.Err() != nil {
				return
			}
			if !p.log.Config().Compacts() || b.alterDirs.moving(p.tp) {
				continue // not compacted, or paused while it moves to another log dir
			}
			st, err := p.log.Compact(time.Now().UnixMilli(), p.highWatermark())
			if err != nil && !errors.Is(err, logstore.ErrClosed) {
				b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("log cleaner")
			} else if st.RecordsRemoved > 0 {
				b.log.Debug().Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Int64("records_removed", st.RecordsRemoved).Msg("cleaned log")
			}
		}
	}
}

// Shutdown stops the broker: controlled shutdown first (leaderships moved away), then the
// listeners, replica fetchers, a last checkpoint, the logs (clean-shutdown marker) and the
// ZooKeeper session (the ephemeral registration vanishes).
func (b *Broker) Shutdown() {
	b.log.Info().Msg("shutting down")
	if b.cfg.ControlledShutdownEnable && b.zk != nil {
		b.controlledShutdown()
	}
	b.closeAll()
	b.log.Info().Msg("shut down")
}

// Halt stops the broker without a controlled shutdown (after a fatal error): listeners,
// fetchers and logs close and the ZooKeeper session ends, so the controller sees the broker
// go at once.
func (b *Broker) Halt() {
	b.log.Warn().Msg("halting")
	b.closeAll()
}

func (b *Broker) closeAll() {
	b.cancel()
	for _, s := range b.servers {
		_ = s.Close()
	}
	if b.httpServer != nil {
		_ = b.httpServer.Close()
	}
	b.fetchers.close()
	b.channel.close()
	b.probes.close()
	if b.txns != nil {
		b.txns.Close()
		b.txnMarkers.ch.close()
	}
	if b.groups != nil {
		b.groups.Close()
	}
	b.wg.Wait()
	if b.logs != nil {
		if err := b.logs.WriteHighWatermarks(b.rm.highWatermarks()); err != nil {
			b.log.Error().Err(err).Msg("writing high watermark checkpoint")
		}
		if err := b.logs.Close(); err != nil {
			b.log.Error().Err(err).Msg("closing logs")
		}
	}
	if b.zk != nil {
		b.zk.Close()
	}
}

// newClusterID makes a cluster id like Kafka's: 16 random bytes, base64url without padding.
func newClusterID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// newTopicID makes a topic id (Kafka's Uuid.randomUuid).
func newTopicID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return u
}

// registerWaitingForPredecessor writes the registration, waiting out a predecessor's session.
//
// A broker restarted right after a crash finds its old /brokers/ids/<id>: the dead process's
// ZooKeeper session lives until zookeeper.session.timeout.ms has passed without a heartbeat.
// Kafka exits at once here, so every supervisor restart inside that window fails. klassik
// waits instead, retrying with backoff, until the session timeout plus a margin has passed
// since it started trying; only a registration that outlives that belongs to a live broker,
// and that is the fatal duplicate broker.id error.
func (b *Broker) registerWaitingForPredecessor(info zkclient.BrokerInfo) (int64, error) {
	path := fmt.Sprintf("/brokers/ids/%d", b.cfg.BrokerID)
	timeout := time.Duration(b.cfg.ZookeeperSessionTimeoutMs) * time.Millisecond
	deadline := time.Now().Add(timeout + registrationMargin(timeout))
	bo := backoff.New(100*time.Millisecond, time.Second)
	for {
		epoch, err := b.zk.RegisterBroker(info)
		if err == nil {
			return epoch, nil
		}
		if !errors.Is(err, zkclient.ErrBrokerIDTaken) {
			return 0, fmt.Errorf("registering %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("broker.id %d is already registered in ZooKeeper by another live broker "+
				"(its session outlived zookeeper.session.timeout.ms=%d plus a margin): %w",
				b.cfg.BrokerID, b.cfg.ZookeeperSessionTimeoutMs, err)
		}
		var owner int64
		if _, st, gerr := b.zk.Raw(path); gerr == nil && st != nil {
			owner = st.EphemeralOwner
		}
		b.log.Warn().Str("znode", path).Str("owner_session", fmt.Sprintf("0x%x", owner)).
			Dur("wait_left", time.Until(deadline).Round(time.Millisecond)).
			Msg("the registration belongs to another ZooKeeper session, probably this broker's previous process; waiting for that session to expire (zookeeper.session.timeout.ms)")
		if err := bo.Wait(b.ctx); err != nil {
			return 0, err
		}
	}
}

// registrationMargin is how long past the session timeout a registration may linger before it
// counts as a live duplicate: ZooKeeper expires sessions on its tick, a little after the
// timeout itself.
func registrationMargin(sessionTimeout time.Duration) time.Duration {
	return max(2*time.Second, sessionTimeout/4)
}
