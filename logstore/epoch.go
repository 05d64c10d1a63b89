package logstore

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
)

// leaderEpochFile is the partition folder's leader-epoch cache checkpoint.
const leaderEpochFile = "leader-epoch-checkpoint"

type epochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is Kafka's LeaderEpochFileCache: the ascending (epoch, start offset) pairs of
// the log, persisted to leader-epoch-checkpoint on every change. mu guards entries, so the
// broker may ask it while an append runs; writers are additionally serialised by the Log.
type epochCache struct {
	fsys    FS
	path    string
	mu      sync.Mutex
	entries []epochEntry
}

func loadEpochCache(fsys FS, dir string) (*epochCache, error) {
	c := &epochCache{fsys: fsys, path: filepath.Join(dir, leaderEpochFile)}
	lines, err := readCheckpoint(fsys, c.path, 2)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		e, err1 := strconv.ParseInt(l[0], 10, 32)
		o, err2 := strconv.ParseInt(l[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("logstore: malformed %s: entry %q %q", c.path, l[0], l[1])
		}
		c.entries = append(c.entries, epochEntry{int32(e), o})
	}
	return c, nil
}

func (c *epochCache) flushLocked() error { return c.writeLocked(c.path) }

func (c *epochCache) writeLocked(path string) error {
	lines := make([]string, len(c.entries))
	for i, e := range c.entries {
		lines[i] = fmt.Sprintf("%d %d", e.Epoch, e.StartOffset)
	}
	return writeCheckpoint(c.fsys, path, lines)
}

// writeTo writes the cache to path, a leader-epoch-checkpoint of another folder (a log
// moving to another log dir, future.go); setPath then makes that file the cache's.
func (c *epochCache) writeTo(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeLocked(path)
}

func (c *epochCache) setPath(path string) {
	c.mu.Lock()
	c.path = path
	c.mu.Unlock()
}

func (c *epochCache) latest() (epochEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return epochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// assignLocked is LeaderEpochFileCache.assign without the flush: it reports whether it
// changed anything. A new entry is needed when the epoch differs from the latest or starts
// earlier; entries it would make non-monotonic (an epoch or start offset at or above the new
// one) are dropped first.
func (c *epochCache) assignLocked(epoch int32, start int64) bool {
	if epoch < 0 || start < 0 {
		return false
	}
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if last.Epoch == epoch && start >= last.StartOffset {
			return false
		}
	}
	keep := len(c.entries)
	for keep > 0 && (c.entries[keep-1].Epoch >= epoch || c.entries[keep-1].StartOffset >= start) {
		keep--
	}
	c.entries = append(c.entries[:keep], epochEntry{epoch, start})
	return true
}

func (c *epochCache) assign(epoch int32, start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.assignLocked(epoch, start) {
		return nil
	}
	return c.flushLocked()
}

// maybeAssignNewer assigns when epoch is newer than the latest (Kafka's recovery and the
// leader's append path): it reports whether the cache changed; the caller flushes.
func (c *epochCache) maybeAssignNewerLocked(epoch int32, start int64) bool {
	if epoch < 0 {
		return false
	}
	if n := len(c.entries); n > 0 && c.entries[n-1].Epoch >= epoch {
		return false
	}
	return c.assignLocked(epoch, start)
}

// endOffsetFor is LeaderEpochFileCache.endOffsetFor: for the latest epoch, the log end
// offset; else the largest epoch at or below the one asked for with the start offset of the
// next higher epoch; an epoch below the earliest gets itself with the earliest start offset;
// an epoch above every one known, or an empty cache, is (-1, -1).
func (c *epochCache) endOffsetFor(epoch int32, leo int64) (int32, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.entries)
	if epoch < 0 || n == 0 {
		return -1, -1
	}
	if c.entries[n-1].Epoch == epoch {
		return epoch, leo
	}
	// higher: the first entry with an epoch above the one asked for.
	higher := -1
	for i, e := range c.entries {
		if e.Epoch > epoch {
			higher = i
			break
		}
	}
	if higher < 0 {
		return -1, -1
	}
	if higher == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
}

// truncateFromEndLocked drops every entry starting at or after end (TruncateTo).
func (c *epochCache) truncateFromEndLocked(end int64) bool {
	n := len(c.entries)
	if end < 0 || n == 0 || c.entries[n-1].StartOffset < end {
		return false
	}
	keep := n
	for keep > 0 && c.entries[keep-1].StartOffset >= end {
		keep--
	}
	c.entries = c.entries[:keep]
	return true
}

// truncateFromStartLocked drops entries wholly below start; the last of those that start at or
// below it is kept, moved up to start (the log start offset moved).
func (c *epochCache) truncateFromStartLocked(start int64) bool {
	i := 0
	for i < len(c.entries) && c.entries[i].StartOffset <= start {
		i++
	}
	if i == 0 {
		return false
	}
	last := c.entries[i-1]
	if i == 1 && last.StartOffset == start {
		return false
	}
	rest := append([]epochEntry{{last.Epoch, start}}, c.entries[i:]...)
	c.entries = rest
	return true
}

func (c *epochCache) truncateFromEnd(end int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.truncateFromEndLocked(end) {
		return nil
	}
	return c.flushLocked()
}

func (c *epochCache) truncateFromStart(start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.truncateFromStartLocked(start) {
		return nil
	}
	return c.flushLocked()
}

func (c *epochCache) clear() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	return c.flushLocked()
}

func (c *epochCache) snapshot() []epochEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]epochEntry(nil), c.entries...)
}
