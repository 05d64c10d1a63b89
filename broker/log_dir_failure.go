// Log directory failure (KIP-112): ReplicaManager.handleLogDirFailure.

package broker

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrAllLogDirsFailed is what Fatal reports when no log dir is left: the broker cannot serve
// anything and must stop, as Kafka halts ("Shutdown broker because all log dirs in ... have
// failed").
var ErrAllLogDirsFailed = errors.New("all log dirs have failed")

// Fatal is closed when the broker hit an error it cannot run past (no log dir left); FatalErr
// then says why. The process should exit non-zero.
func (b *Broker) Fatal() <-chan struct{} { return b.fatal }

// FatalErr is the reason Fatal was closed, or nil.
func (b *Broker) FatalErr() error {
	b.fatalMu.Lock()
	defer b.fatalMu.Unlock()
	return b.fatalErr
}

func (b *Broker) setFatal(err error) {
	b.fatalMu.Lock()
	defer b.fatalMu.Unlock()
	if b.fatalErr == nil {
		b.fatalErr = err
		close(b.fatal)
	}
}

// logDirFailureHandler takes each failed log dir from logstore (Kafka's
// LogDirFailureHandler thread) and handles it. Runs until the broker stops.
func (b *Broker) logDirFailureHandler() {
	for {
		select {
		case <-b.ctx.Done():
			return
		case dir := <-b.logs.LogDirFailures():
			b.handleLogDirFailure(dir)
		}
	}
}

// handleLogDirFailure stops leading and following every partition in dir (they answer
// KAFKA_STORAGE_ERROR from now on), tells the controller through
// /log_dir_event_notification, and, when no log dir is left, stops the broker with a fatal
// error. Unlike Kafka, which halts before notifying when the last dir fails, the notification
// is written first: the controller then moves leadership without waiting for the session to
// end.
func (b *Broker) handleLogDirFailure(dir string) {
	offline, live := b.logs.HandleLogDirFailure(dir)
	for _, tp := range offline {
		b.rm.markOffline(topicPartition{tp.Topic, tp.Partition})
	}
	b.log.Warn().Str("log_dir", dir).Int("partitions", len(offline)).Strs("live_log_dirs", live).
		Msg("log dir failed: stopped serving the replicas in it")
	b.notifyLogDirEvent()
	if len(live) == 0 {
		err := fmt.Errorf("%w: shutting down because all log dirs in %s have failed", ErrAllLogDirsFailed, strings.Join(b.cfg.LogDirList(), ", "))
		b.log.Error().Err(err).Msg("fatal")
		b.setFatal(err)
	}
}

// notifyLogDirEvent writes the notification, retrying with exponential backoff (at most
// 10 s apart) while ZooKeeper refuses, until it succeeds or the broker stops.
func (b *Broker) notifyLogDirEvent() {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := b.zk.CreateLogDirEventNotification(b.cfg.BrokerID)
		if err == nil {
			b.log.Info().Msg("wrote a log dir event notification for the controller")
			return
		}
		b.log.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", delay).Msg("writing the log dir event notification")
		select {
		case <-b.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// markOffline stops hosting tp because its log dir failed (Kafka's HostedPartition.Offline):
// it stops leading and fetching, and answers KAFKA_STORAGE_ERROR until the broker restarts.
func (rm *replicaManager) markOffline(tp topicPartition) {
	rm.mu.Lock()
	rm.offline[tp] = true
	rm.mu.Unlock()
	_ = rm.remove(tp, false)
}

// isOffline reports whether tp's log dir failed.
func (rm *replicaManager) isOffline(tp topicPartition) bool {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.offline[tp]
}
