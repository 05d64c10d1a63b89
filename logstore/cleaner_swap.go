// Completing, at Open, a clean that crashed between its commit point and its end (Kafka's
// LogLoader handling of .swap files).

package logstore

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/rs/zerolog"
)

// completeSwaps finishes, at Open, a clean that crashed: .cleaned files are deleted; each
// <base>.log.swap (the commit point) replaces the segments whose base offsets lie in its
// range and is renamed into place with whatever index .swap files exist (missing indexes are
// rebuilt by recovery). Index .swap files without a .log.swap are deleted.
func completeSwaps(fsys FS, dir string, logger zerolog.Logger) error {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	var swaps []int64
	var logs []int64
	var stray []string
	for _, e := range ents {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasSuffix(name, cleanedSuffix):
			stray = append(stray, name)
		case strings.HasSuffix(name, logSuffix+swapSuffix):
			if b, ok := parseBase(strings.TrimSuffix(name, swapSuffix), logSuffix); ok {
				swaps = append(swaps, b)
			} else {
				stray = append(stray, name)
			}
		case strings.HasSuffix(name, logSuffix):
			if b, ok := parseBase(name, logSuffix); ok {
				logs = append(logs, b)
			}
		}
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() && strings.HasSuffix(name, swapSuffix) && !strings.HasSuffix(name, logSuffix+swapSuffix) {
			b, ok := parseBase(strings.TrimSuffix(strings.TrimSuffix(name, swapSuffix), timeIndexSuffix), "")
			if !ok {
				b, ok = parseBase(strings.TrimSuffix(strings.TrimSuffix(name, swapSuffix), txnIndexSuffix), "")
			}
			if !ok {
				b, ok = parseBase(strings.TrimSuffix(strings.TrimSuffix(name, swapSuffix), indexSuffix), "")
			}
			if !ok || !containsInt64(swaps, b) {
				stray = append(stray, name)
			}
		}
	}
	for _, n := range stray {
		if err := fsys.Remove(dir + "/" + n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(swaps) == 0 {
		if len(stray) > 0 {
			return fsys.SyncDir(dir)
		}
		return nil
	}
	sort.Slice(swaps, func(i, j int) bool { return swaps[i] < swaps[j] })
	for _, base := range swaps {
		swapLog := segmentName(dir, base, logSuffix) + swapSuffix
		f, err := fsys.OpenFile(swapLog, os.O_RDONLY, 0)
		if err != nil {
			return err
		}
		size, err := f.Size()
		last := base - 1
		if err == nil {
			err = forEachStoredBatch(f, size, func(h BatchHeader, _ []byte) error {
				last = h.LastOffset()
				return nil
			})
		}
		f.Close()
		if err != nil && !errors.Is(err, errTorn) {
			return err
		}
		logger.Warn().Int64("segment", base).Int64("last_offset", last).Msg("completing an interrupted log clean")
		for _, b := range logs {
			if b <= base || b > last {
				continue
			}
			for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
				if err := fsys.Remove(segmentName(dir, b, suf)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		if err := fsys.SyncDir(dir); err != nil {
			return err
		}
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix} {
			name := segmentName(dir, base, suf)
			err := fsys.Rename(name+swapSuffix, name)
			if errors.Is(err, fs.ErrNotExist) && suf != logSuffix {
				// No swapped index: the old one must not survive beside the new log.
				err = fsys.Remove(name)
				if errors.Is(err, fs.ErrNotExist) {
					err = nil
				}
			}
			if err != nil {
				return err
			}
		}
		if err := fsys.SyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

func containsInt64(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
