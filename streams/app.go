package streams

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is KafkaStreams, the client: it checks the cluster and the topics, runs the
// stream thread, starts it again after a failure, and closes it on shutdown.

// maxFailures is how many times in a row the stream thread may fail (each time closing its
// tasks dirty and rejoining the group) before the application gives up, as Kafka Streams'
// uncaught exception handler SHUTDOWN_CLIENT would at once.
const maxFailures = 5

// connectTimeout bounds how long Run waits for a first broker to answer.
const connectTimeout = 10 * time.Second

// Run runs WordCount until ctx ends (nil: a clean shutdown, the group left and the last
// transaction ended) or it fails. It logs to w as Kafka Streams logs: state transitions,
// task assignments, restorations. opts are added to every franz-go client it makes (a
// logger, say).
func Run(ctx context.Context, cfg Config, w io.Writer, opts ...kgo.Opt) error {
	log := &logger{w: w}
	processID := newUUID()
	clientID := cfg.ApplicationID + "-" + processID

	probe, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Bootstrap...)}, opts...)...)
	if err != nil {
		return err
	}
	cctx, ccancel := context.WithTimeout(ctx, connectTimeout)
	eosOK, err := transactionsServed(cctx, probe)
	ccancel()
	if err != nil {
		probe.Close()
		return fmt.Errorf("Could not reach any broker at %s within %v: %v", strings.Join(cfg.Bootstrap, ","), connectTimeout, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	partitions, err := ensureTopics(pctx, kadm.NewClient(probe), cfg)
	cancel()
	probe.Close()
	if err != nil {
		return err
	}
	guarantee := cfg.Guarantee
	switch {
	case guarantee == "" && eosOK:
		guarantee = ExactlyOnceV2
	case guarantee == "":
		guarantee = AtLeastOnce
		log.infof("stream-client [%s] the cluster does not serve KIP-447 transactions: processing.guarantee=at_least_once", clientID)
	case guarantee == ExactlyOnceV2 && !eosOK:
		return fmt.Errorf("processing.guarantee=exactly_once_v2 needs brokers that serve transactions with KIP-447 (TxnOffsetCommit v3, Kafka 2.5 or later); these do not")
	}
	log.infof("stream-client [%s] %s: %s -> %s, %d tasks per sub-topology, processing.guarantee=%s",
		clientID, cfg.ApplicationID, InputTopic, OutputTopic, partitions, guarantee)
	log.infof("stream-client [%s] internal topics %s and %s", clientID, RepartitionTopic(cfg.ApplicationID), ChangelogTopic(cfg.ApplicationID))
	log.infof("stream-client [%s] State transition from CREATED to REBALANCING", clientID)

	th := newThread(cfg, log, guarantee == ExactlyOnceV2, clientID, opts)
	failures := 0
	for {
		if err := th.start(); err != nil {
			return err
		}
		err := th.run(ctx)
		if err == nil || ctx.Err() != nil {
			break // a shutdown, or an error because of it (a restore cut short)
		}
		th.stop()
		failures++
		if failures >= maxFailures {
			log.infof("stream-client [%s] State transition from RUNNING to ERROR", clientID)
			return fmt.Errorf("the stream thread failed %d times in a row; the last time: %w", failures, err)
		}
		log.warnf("stream-thread [%s-StreamThread-1] failed (%v): its tasks are closed dirty, the thread rejoins the group", clientID, err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(failures) * time.Second):
		}
		if ctx.Err() != nil {
			break
		}
		log.infof("stream-client [%s] State transition from RUNNING to REBALANCING", clientID)
	}
	log.infof("stream-client [%s] State transition from RUNNING to PENDING_SHUTDOWN", clientID)
	th.stop()
	log.infof("stream-client [%s] State transition from PENDING_SHUTDOWN to NOT_RUNNING", clientID)
	return nil
}

// transactionsServed reports whether the cluster serves what exactly_once_v2 needs:
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, and TxnOffsetCommit v3
// (KIP-447's group metadata in the offset commit).
func transactionsServed(ctx context.Context, cl *kgo.Client) (bool, error) {
	var resp *kmsg.ApiVersionsResponse
	var last error // the last error that says more than that time ran out
	for {
		var err error
		resp, err = kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
		if err == nil {
			break
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			last = err
		}
		select { // a broker starting up answers a moment later
		case <-ctx.Done():
			if last == nil {
				last = errors.New("timed out")
			}
			return false, last
		case <-time.After(500 * time.Millisecond):
		}
	}
	need := map[int16]int16{22: 0, 24: 0, 25: 0, 26: 0, 28: 3}
	for _, k := range resp.ApiKeys {
		if v, ok := need[k.ApiKey]; ok && k.MaxVersion >= v {
			delete(need, k.ApiKey)
		}
	}
	return len(need) == 0, nil
}

// newUUID is a random (version 4) UUID, Kafka Streams' process id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// logger writes log4j-style lines ("[2024-05-01 12:00:00,123] INFO ...") from any goroutine.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	fmt.Fprintf(l.w, "[%s,%03d] %s %s\n", now.Format("2006-01-02 15:04:05"), now.Nanosecond()/1e6, level, fmt.Sprintf(format, args...))
}

func (l *logger) infof(format string, args ...any) { l.printf("INFO", format, args...) }
func (l *logger) warnf(format string, args ...any) { l.printf("WARN", format, args...) }
