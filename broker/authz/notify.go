package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/zkclient"
)

// Loading the cache and following the change notifications (Kafka's AclAuthorizer.loadCache
// and its two ZkNodeChangeNotificationListeners).
//
// Whoever changes a resource's ACLs, on any broker or with any tool that writes ZooKeeper
// as Kafka does, writes a notification naming the resource; every broker's watch on the
// change folders fires, and its authorizer reads that resource's znode again. Notifications
// older than 15 minutes are deleted on the way (Kafka's changeExpirationMs).

// changeExpiration is how old a notification may grow before it is purged.
const changeExpiration = 15 * time.Minute

// purgeEvery bounds how often a broker looks for old notifications to delete.
const purgeEvery = time.Minute

// maxPending bounds the resources whose reload failed and is retried: past it, the whole
// cache is reloaded instead.
const maxPending = 10000

// Start creates the ACL paths, arms the watches on both change folders (taking the newest
// notification numbers, so nothing written from then on is missed), then loads every ACL:
// Kafka's order, "start change listeners first and then populate the cache so that there is
// no timing window". Run follows the notifications after that.
func (a *Authorizer) Start() (*Follower, error) {
	if err := a.store.EnsureAclPaths(); err != nil {
		return nil, fmt.Errorf("creating the ACL paths: %w", err)
	}
	f := &Follower{a: a, last: [2]int64{-1, -1}, pending: map[Pattern]bool{}}
	for i, extended := range []bool{false, true} {
		_, newest, err := a.store.AclChanges(extended, -1, true)
		if err != nil {
			return nil, fmt.Errorf("reading the ACL change notifications: %w", err)
		}
		f.last[i] = newest
	}
	if err := a.loadAll(); err != nil {
		return nil, err
	}
	return f, nil
}

// loadAll reads every resource's ACLs into a fresh cache.
func (a *Authorizer) loadAll() error {
	a.updMu.Lock()
	defer a.updMu.Unlock()
	rs, err := a.store.AclResources()
	if err != nil {
		return fmt.Errorf("listing ACLs: %w", err)
	}
	fresh := map[Pattern]versioned{}
	for _, r := range rs {
		p, err := fromZk(r)
		if err != nil {
			a.log.Warn().Err(err).Str("name", r.Name).Msg("ignoring ACLs")
			continue
		}
		zs, version, err := a.store.Acls(r)
		if err != nil {
			return fmt.Errorf("reading the ACLs of %s: %w", p, err)
		}
		if es := a.entriesFromZk(p, zs); len(es) > 0 {
			fresh[p] = versioned{entries: es, version: version}
		}
	}
	var prefixed [8]int
	for p := range fresh {
		if p.PatternType == PatternPrefixed && int(p.Type) < len(prefixed) {
			prefixed[p.Type]++
		}
	}
	a.mu.Lock()
	a.cache, a.prefixed = fresh, prefixed
	a.mu.Unlock()
	a.log.Info().Int("resources", len(fresh)).Msg("ACLs loaded from ZooKeeper")
	return nil
}

// Changed tells the authorizer that a change folder's watch fired (or the ZooKeeper session
// is new and watches must be armed again). It never blocks; changes coalesce.
func (a *Authorizer) Changed() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Follower applies the change notifications; Run is its goroutine, which owns its fields.
type Follower struct {
	a         *Authorizer
	last      [2]int64         // newest sequence number applied: literal, extended
	pending   map[Pattern]bool // resources named by a notification whose reload failed
	reloadAll bool             // pending overflowed: reload everything
	lastPurge time.Time
}

// Run follows the notifications until ctx ends. A ZooKeeper error leaves the work pending
// and retries it with a backoff (100 ms doubling to 10 s); new notifications meanwhile are
// taken by the same retry.
func (f *Follower) Run(ctx context.Context) {
	bo := backoff.New(100*time.Millisecond, 10*time.Second)
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.a.wake:
		case <-retry:
		}
		retry = nil
		if err := f.process(); err != nil {
			d := bo.Next()
			f.a.log.Error().Err(err).Dur("retry_in", d).Msg("applying ACL change notifications")
			retry = time.After(d)
			continue
		}
		bo = backoff.New(100*time.Millisecond, 10*time.Second)
	}
}

// process reads the notifications after the last applied ones (re-arming both watches) and
// reloads each resource they name.
func (f *Follower) process() error {
	a := f.a
	for i, extended := range []bool{false, true} {
		rs, newest, err := a.store.AclChanges(extended, f.last[i], true)
		f.last[i] = newest
		for _, r := range rs {
			p, perr := fromZk(r)
			if perr != nil {
				a.log.Error().Err(perr).Str("name", r.Name).Msg("ignoring an ACL change notification")
				continue
			}
			if len(f.pending) >= maxPending {
				f.reloadAll = true
				continue
			}
			f.pending[p] = true
		}
		if err != nil {
			return err
		}
	}
	if f.reloadAll {
		if err := a.loadAll(); err != nil {
			return err
		}
		f.reloadAll = false
		clear(f.pending)
	}
	for p := range f.pending {
		err := a.reload(p)
		if errors.Is(err, zkclient.ErrBadAcls) {
			// Kafka logs it and keeps what it had: retrying would not make it readable.
			a.log.Error().Err(err).Str("resource", p.String()).Msg("ignoring an ACL change: the znode is unreadable; the ACLs known before stay")
			err = nil
		}
		if err != nil {
			return err
		}
		delete(f.pending, p)
	}
	if time.Since(f.lastPurge) >= purgeEvery {
		f.lastPurge = time.Now()
		if err := a.store.PurgeAclChanges(changeExpiration); err != nil {
			a.log.Warn().Err(err).Msg("purging old ACL change notifications")
		}
	}
	return nil
}

// reload reads one resource's ACLs from ZooKeeper into the cache
// (processAclChangeNotification).
func (a *Authorizer) reload(p Pattern) error {
	a.updMu.Lock()
	defer a.updMu.Unlock()
	zs, version, err := a.store.Acls(toZk(p))
	if err != nil {
		return fmt.Errorf("reading the ACLs of %s: %w", p, err)
	}
	es := a.entriesFromZk(p, zs)
	a.updateCache(p, versioned{entries: es, version: version})
	a.log.Info().Str("resource", p.String()).Int("acls", len(es)).Int32("zk_version", version).Msg("processed ACL change notification")
	return nil
}
