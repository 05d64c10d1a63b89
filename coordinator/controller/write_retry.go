// Retrying partition state writes that ZooKeeper refused, with exponential backoff and
// jitter (internal/backoff), in the place of Kafka's KafkaZkClient.retryRequestsUntilConnected.
//
// Within one event, runChanges waits the backoff between rounds of refused writes, so that a
// ZooKeeper that is down or timing out is not hammered in a tight loop and the order of
// events is kept (Kafka's controller thread blocks the same way until ZooKeeper answers).
// After maxWriteRounds the event gives up on what is left; a retryOnlineEvent is then
// scheduled after a backoff of its own (growing while retries keep failing) and elects every
// partition still without a leader (triggerOnline), so that a ZooKeeper outage longer than
// one event's rounds does not leave partitions offline until some unrelated event.

package controller

import (
	"context"
	"time"

	"github.com/klassik/klassik/internal/backoff"
)

// retryOnlineEvent: run triggerOnline again after writes were given up on.
type retryOnlineEvent struct{}

// writeBackoff is the backoff of one runChanges call.
func (c *Controller) writeBackoff() *backoff.Backoff {
	return &backoff.Backoff{Initial: c.cfg.ZKWriteBackoff, Max: c.cfg.ZKWriteBackoffMax}
}

// sleep waits d, or returns the error of the controller's context once it ends.
func (c *Controller) sleep(d time.Duration) error {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if c.cfg.sleep != nil {
		return c.cfg.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// giveUp records err for every pending partition and schedules a later retry of the
// elections.
func (c *Controller) giveUp(pending []tp, what string, results map[tp]error, err error) {
	for _, p := range pending {
		results[p] = err
		c.logFailed(p, what, err)
	}
	c.gaveUp++
	c.scheduleRetryOnline()
}

// scheduleRetryOnline arms one retryOnlineEvent, unless one is armed already. Event loop only.
func (c *Controller) scheduleRetryOnline() {
	if c.retryTimer != nil || !c.active.Load() {
		return
	}
	d := c.retryBackoff.Next()
	c.log.Warn().Dur("retry_in", d).Msg("partition state writes given up on; electing the partitions without a leader again later")
	fire := func() { c.push(retryOnlineEvent{}) }
	if c.cfg.afterFunc != nil {
		c.retryTimer = c.cfg.afterFunc(d, fire)
		return
	}
	c.retryTimer = time.AfterFunc(d, fire).Stop
}

// onRetryOnline elects the partitions still without a leader; the retry backoff starts again
// once a round gives up on nothing.
func (c *Controller) onRetryOnline() error {
	c.retryTimer = nil
	before := c.gaveUp
	c.cause = "retrying partition state writes ZooKeeper refused"
	defer func() { c.cause = "" }()
	b := newBatch()
	err := c.triggerOnline(b)
	c.flush(b)
	if err == nil && c.gaveUp == before {
		c.retryBackoff.Reset()
	}
	return err
}

// stopRetryOnline drops a scheduled retry (on resignation).
func (c *Controller) stopRetryOnline() {
	if c.retryTimer != nil {
		c.retryTimer()
		c.retryTimer = nil
	}
	c.retryBackoff.Reset()
}
