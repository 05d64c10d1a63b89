package controller

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	timeline "github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sender sends a controller request (LeaderAndIsr, UpdateMetadata, StopReplica) to a broker
// over the Kafka protocol; the broker package implements it with wire.Client, addressing
// brokers by the inter-broker endpoint of their /brokers/ids registration. Send is called
// from one goroutine per destination broker, so it must be safe for concurrent use across
// brokers; it should give up when ctx ends (the broker left or the controller resigned).
type Sender interface {
	Send(ctx context.Context, broker zkclient.BrokerInfo, req kmsg.Request) (kmsg.Response, error)
}

// Config is what the controller needs from the broker configuration.
type Config struct {
	BrokerID                    int32
	InterBrokerListenerName     string
	UncleanLeaderElectionEnable bool // default for topics without the topic config
	DeleteTopicEnable           bool
	AutoLeaderRebalanceEnable   bool
	LeaderImbalanceCheckSeconds int // leader.imbalance.check.interval.seconds; 0 means Kafka's 300

	// LeaderImbalancePerBrokerPercentage is leader.imbalance.per.broker.percentage; 0 means
	// Kafka's 10.
	LeaderImbalancePerBrokerPercentage int
	// RequestRetryBackoff is the first wait before resending a request that failed to reach
	// a broker (doubling up to 20 times it); 0 means 100ms.
	RequestRetryBackoff time.Duration
	// Events receives what the controller decides, for the classroom's timeline; nil means
	// timeline.Discard.
	Events timeline.Publisher
	// ZKWriteBackoff is the first wait (its upper end; the wait is drawn from its upper half)
	// before retrying partition state writes that ZooKeeper refused, doubling up to
	// ZKWriteBackoffMax; 0 means internal/backoff's 50ms and 5s.
	ZKWriteBackoff    time.Duration
	ZKWriteBackoffMax time.Duration

	sleep     func(context.Context, time.Duration) error // tests: replaces the write backoff's timer
	afterFunc func(time.Duration, func()) func() bool    // tests: replaces time.AfterFunc for retries
}

// Errors returned by ControlledShutdown and ElectLeaders.
var (
	// ErrNotActive: this broker is not the controller (Kafka's NOT_CONTROLLER).
	ErrNotActive = errors.New("this broker is not the active controller")
	// ErrStaleBrokerEpoch: the request came from an older incarnation of the broker.
	ErrStaleBrokerEpoch = errors.New("stale broker epoch")
	// ErrBrokerNotAvailable: the broker is not registered (Kafka's BROKER_NOT_AVAILABLE).
	ErrBrokerNotAvailable = errors.New("broker is not registered")
	// ErrStopped: the controller's Run has returned.
	ErrStopped = errors.New("controller stopped")
)

// Controller is Kafka's ZooKeeper-mode controller: every broker runs one; the one that wins
// /controller is active and runs the event loop.
type Controller struct {
	cfg    Config
	zk     ZK
	sender Sender
	log    zerolog.Logger
	events timeline.Publisher

	active atomic.Bool

	mu     sync.Mutex
	queue  []event
	wake   chan struct{} // capacity 1
	done   chan struct{} // closed when Run returns
	runOne sync.Once

	// Owned by the event loop goroutine (Run).
	ctx          context.Context // Run's
	cause        string          // why the current event's elections happen ("broker 1 failed"); "" when unknown
	st           *clusterState   // nil unless active
	ch           *channelManager // nil unless active
	rebalance    *time.Ticker    // nil unless active with auto rebalance
	retryTimer   func() bool     // stops a scheduled retryOnlineEvent; nil when none (write_retry.go)
	retryBackoff backoff.Backoff // the delays of scheduled retryOnlineEvents
	gaveUp       int             // how many times runChanges gave up on writes
}

// New makes the controller; Run starts it. zk is usually a *zkclient.Client.
func New(cfg Config, zk ZK, send Sender, logger zerolog.Logger) *Controller {
	if cfg.LeaderImbalanceCheckSeconds <= 0 {
		cfg.LeaderImbalanceCheckSeconds = 300
	}
	if cfg.Events == nil {
		cfg.Events = timeline.Discard
	}
	if cfg.LeaderImbalancePerBrokerPercentage <= 0 {
		cfg.LeaderImbalancePerBrokerPercentage = 10
	}
	return &Controller{
		retryBackoff: backoff.Backoff{Initial: cfg.ZKWriteBackoff, Max: cfg.ZKWriteBackoffMax},
		cfg:          cfg,
		zk:           zk,
		sender:       send,
		events:       cfg.Events,
		log:          logger.With().Str("component", "controller").Logger(),
		wake:         make(chan struct{}, 1),
		done:         make(chan struct{}),
	}
}

// Events of the loop. zkclient.Event values are enqueued as they are.
type (
	event          any
	startupEvent   struct{}
	rebalanceEvent struct{}
	shutdownEvent  struct {
		brokerID    int32
		brokerEpoch int64
		reply       chan shutdownResult
	}
	electEvent struct {
		typ   ElectionType
		parts []zkclient.TopicPartition
		reply chan electResult
	}
)

type shutdownResult struct {
	remaining []zkclient.TopicPartition
	err       error
}

type electResult struct {
	codes map[zkclient.TopicPartition]int16
	err   error
}

// Run takes part in the election and, while active, processes events until ctx ends. It
// must be called once. On return the controller is inactive and its broker queues stopped;
// /controller is left to vanish with the ZooKeeper session, as in Kafka.
func (c *Controller) Run(ctx context.Context) {
	ran := false
	c.runOne.Do(func() { ran = true })
	if !ran {
		panic("controller: Run called twice")
	}
	c.ctx = ctx
	defer close(c.done)
	defer c.resignLocal()
	c.push(startupEvent{})
	for {
		var tick <-chan time.Time
		if c.rebalance != nil {
			tick = c.rebalance.C
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
			c.handle(rebalanceEvent{})
		case <-c.wake:
			for {
				ev, ok := c.pop()
				if !ok {
					break
				}
				c.handle(ev)
				if ctx.Err() != nil {
					break
				}
			}
		}
	}
}

// Enqueue hands the controller a ZooKeeper event (the broker demultiplexes zkclient.Events).
// It never blocks.
func (c *Controller) Enqueue(ev zkclient.Event) { c.push(ev) }

// IsActive reports whether this broker is the controller now.
func (c *Controller) IsActive() bool { return c.active.Load() }

// ControlledShutdown moves leadership away from brokerID (Kafka's ControlledShutdown API);
// it returns the partitions still led by it (empty when done). Errors: ErrNotActive,
// ErrStaleBrokerEpoch, ErrBrokerNotAvailable, ErrStopped, or ctx's error.
func (c *Controller) ControlledShutdown(ctx context.Context, brokerID int32, brokerEpoch int64) ([]zkclient.TopicPartition, error) {
	reply := make(chan shutdownResult, 1)
	c.push(shutdownEvent{brokerID: brokerID, brokerEpoch: brokerEpoch, reply: reply})
	select {
	case r := <-reply:
		return r.remaining, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrStopped
	}
}

// ElectionType mirrors ElectLeaders' electionType: 0 preferred, 1 unclean.
type ElectionType int8

const (
	ElectPreferred ElectionType = 0
	ElectUnclean   ElectionType = 1
)

// ElectLeaders runs a preferred or unclean election for the given partitions (all when nil),
// returning an error code per partition (Kafka's error codes: 0, ELECTION_NOT_NEEDED,
// PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION,
// INVALID_TOPIC_EXCEPTION, NOT_CONTROLLER). When this broker is not the controller every
// given partition gets NOT_CONTROLLER and the error is ErrNotActive.
func (c *Controller) ElectLeaders(ctx context.Context, typ ElectionType, parts []zkclient.TopicPartition) (map[zkclient.TopicPartition]int16, error) {
	reply := make(chan electResult, 1)
	c.push(electEvent{typ: typ, parts: parts, reply: reply})
	select {
	case r := <-reply:
		return r.codes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrStopped
	}
}

func (c *Controller) push(ev event) {
	c.mu.Lock()
	c.queue = append(c.queue, ev)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Controller) pop() (event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return nil, false
	}
	ev := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	return ev, true
}
