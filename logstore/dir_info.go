package logstore

// What a log dir holds, for DescribeLogDirs (Kafka's ReplicaManager.describeLogDirs reads
// LogManager.allLogs grouped by parent dir, and the dir's file store for its space).

import "sort"

// DirInfo describes one log dir, an entry of log.dirs.
type DirInfo struct {
	Path    string
	Offline bool   // failed (KIP-112): its logs are gone from the manager
	Logs    []*Log // the logs it holds, sorted by topic and partition
	// Futures are the future logs it holds (future.go): copies of partitions moving into
	// it, whose current logs are in other dirs. Sorted by topic and partition.
	Futures []*Log
	// TotalBytes and UsableBytes are the space of the file system holding the dir (KIP-827);
	// -1 when the file system cannot say.
	TotalBytes, UsableBytes int64
}

// spaceFS is implemented by file systems that can tell a folder's disk space (OSFS on Unix).
type spaceFS interface {
	DiskSpace(path string) (total, usable int64, err error)
}

// Dirs describes every log dir, in the order of log.dirs. Space is read only for dirs that
// are online.
func (m *Manager) Dirs() []DirInfo {
	m.mu.Lock()
	out := make([]DirInfo, len(m.dirs))
	index := map[*logDir]int{}
	for i, d := range m.dirs {
		out[i] = DirInfo{Path: d.path, Offline: d.offline || d.failed.Load(), TotalBytes: -1, UsableBytes: -1}
		index[d] = i
	}
	for _, ml := range m.logs {
		i := index[ml.dir]
		out[i].Logs = append(out[i].Logs, ml.log)
	}
	for _, fl := range m.futures {
		if fl.log.closed.Load() {
			continue // taken by a swap that is finishing
		}
		i := index[fl.dir]
		out[i].Futures = append(out[i].Futures, fl.log)
	}
	m.mu.Unlock()
	sfs, _ := m.fsys.(spaceFS)
	for i := range out {
		for _, logs := range [][]*Log{out[i].Logs, out[i].Futures} {
			sort.Slice(logs, func(a, b int) bool {
				x, y := logs[a].tp, logs[b].tp
				return x.Topic < y.Topic || x.Topic == y.Topic && x.Partition < y.Partition
			})
		}
		if sfs != nil && !out[i].Offline {
			if total, usable, err := sfs.DiskSpace(out[i].Path); err == nil {
				out[i].TotalBytes, out[i].UsableBytes = total, usable
			}
		}
	}
	return out
}
