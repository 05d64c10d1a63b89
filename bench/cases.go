package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// measured is one target's outcome of one case: the cell of the table and the number its
// ratio is made of.
type measured struct {
	cell string
	val  float64
	ok   bool
}

// pair runs one case against each target in turn (klassik, then kfake), each under the
// profiler.
func (b *bench) pair(name string, ts []*target, f func(t *target) (string, float64, error)) []measured {
	var out []measured
	for _, t := range ts {
		logf("%s against %s", name, t.name)
		p := b.prof.begin(name, t)
		cell, val, err := f(t)
		p.end()
		if err != nil {
			out = append(out, measured{cell: b.fail(fmt.Errorf("%s, %s: %w", name, t.name, err))})
			continue
		}
		out = append(out, measured{cell, val, true})
	}
	return out
}

// addRow adds a row of the table from a pair; ratio is klassik's value over kfake's.
func (b *bench) addRow(label string, m []measured, ratioPrefix string) {
	r := row{label: label, klassik: m[0].cell, kfake: m[1].cell, ratio: "—"}
	if m[0].ok && m[1].ok && m[1].val > 0 {
		r.ratio = fmt.Sprintf("%s%.2fx", ratioPrefix, m[0].val/m[1].val)
	}
	b.rows = append(b.rows, r)
}

// throughput runs the replication-factor-1 cases: one klassik broker next to a one-broker
// kfake.
func (b *bench) throughput(klassikBin, kfakeBin, zkAddr string, rf int) error {
	ts, err := b.clusters(klassikBin, kfakeBin, zkAddr, rf)
	if err != nil {
		return err
	}
	defer b.release(ts)
	b.produceConsume(ts, rf, "rf1-produce", "rf1-consume", "bench-100b", *records, *size)
	return nil
}

// rf3 runs the replication-factor-3 cases on three klassik brokers next to a three-broker
// kfake: throughput, resident memory after it, and latency at fixed rates.
func (b *bench) rf3(klassikBin, kfakeBin, zkAddr string) error {
	ts, err := b.clusters(klassikBin, kfakeBin, zkAddr, 3)
	if err != nil {
		return err
	}
	defer b.release(ts)
	peak := b.produceConsume(ts, 3, "rf3-produce", "rf3-consume", "bench-100b", *records, *size)
	if b.cases["rf3-produce-1k"] {
		b.produceConsume(ts, 3, "rf3-produce-1k", "", "bench-1kb", *records1k, *size1k)
	}
	if b.cases["rss"] {
		b.rssRow("RSS per broker after the above", ts)
		for _, t := range ts {
			b.heaps = append(b.heaps, heapProfiles(b.prof.dir, t, "rf3")...)
		}
	}
	if !b.cases["latency"] {
		return nil
	}
	var rates []int
	for _, s := range strings.Split(*latencyRates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.Atoi(s)
		if err != nil || r <= 0 {
			return fmt.Errorf("-latency-rates: %q is not a rate", s)
		}
		rates = append(rates, r)
	}
	half := 0
	if peak > 0 {
		half = int(peak / 2)
		rates = append(rates, half)
	}
	for i, rate := range rates {
		topic := fmt.Sprintf("latency-%d", i)
		name := fmt.Sprintf("latency-%s", countLabel(rate))
		label := fmt.Sprintf("RF 3, e2e latency at %s rec/s, p50 / p99 / p999", countLabel(rate))
		if rate == half && i == len(rates)-1 {
			name = "latency-half-peak"
			label = fmt.Sprintf("RF 3, e2e latency at half of peak (%s rec/s), p50 / p99 / p999", commas(int64(rate)))
		}
		m := b.pair(name, ts, func(t *target) (string, float64, error) {
			if err := createTopic(t.addrs, topic, int32(*partitions), 3); err != nil {
				return "", 0, err
			}
			r, err := latency(t, topic, int32(*partitions), *size, rate, *latencyWarmup, *latencyFor)
			if err != nil {
				return "", 0, err
			}
			cell := fmt.Sprintf("%s / %s / %s ms", ms(r.p50), ms(r.p99), ms(r.p999))
			if r.achieved < 0.95*float64(rate) {
				cell += fmt.Sprintf(" (only %s rec/s sent)", commas(int64(r.achieved)))
			}
			return cell, float64(r.p99), nil
		})
		b.addRow(label, m, "p99 ")
	}
	return nil
}

// clusters starts a klassik cluster and a kfake of n brokers each.
func (b *bench) clusters(klassikBin, kfakeBin, zkAddr string, n int) ([]*target, error) {
	k, err := klassikCluster(b.procs, klassikBin, b.dir, fmt.Sprintf("klassik-rf%d", n), zkAddr, n, "")
	if err != nil {
		return nil, err
	}
	f, err := kfakeCluster(b.procs, kfakeBin, b.dir, fmt.Sprintf("rf%d", n), n)
	if err != nil {
		b.release([]*target{k})
		return nil, err
	}
	logf("%d klassik brokers and a %d-broker kfake ready", n, n)
	return []*target{k, f}, nil
}

// release ends the clusters of a finished group of cases once their profiles are in:
// nothing is measured any more, so kill -9 (quicker than a controlled shutdown of each).
func (b *bench) release(ts []*target) {
	for _, t := range ts {
		b.prof.settle(t)
		for _, s := range t.servers {
			s.kill9()
		}
	}
}

// produceConsume runs a produce case and a consume case of the records it wrote (either
// may be ""/unselected; a consume case without its produce case writes the records first,
// untimed). It returns the lower of the two targets' produce rates, 0 if unmeasured.
func (b *bench) produceConsume(ts []*target, rf int, produceCase, consumeCase, topic string, n, sz int) float64 {
	brokers := "1 broker"
	if rf > 1 {
		brokers = fmt.Sprintf("%d brokers", rf)
	}
	written := map[*target]bool{}
	for _, t := range ts {
		if err := createTopic(t.addrs, topic, int32(*partitions), int16(rf)); err != nil {
			b.fail(fmt.Errorf("%s: topic %s: %w", t.name, topic, err))
			return 0
		}
	}
	txn := ""
	if *txnEvery > 0 {
		txn = fmt.Sprintf(", transactional (commit every %s)", countLabel(*txnEvery))
	}
	var peak float64
	if b.cases[produceCase] {
		label := fmt.Sprintf("RF %d, %s, %s x %s%s, produce", rf, brokers, countLabel(n), sizeLabel(sz), txn)
		if produceCase == "rf3-produce-1k" {
			label = fmt.Sprintf("RF %d, %s x %s%s, produce", rf, countLabel(n), sizeLabel(sz), txn)
		}
		m := b.pair(produceCase, ts, func(t *target) (string, float64, error) {
			r, err := produce(t, topic, n, sz, *txnEvery, *phaseTimeout)
			if err != nil {
				return "", 0, err
			}
			written[t] = true
			if sz >= 1000 {
				return fmt.Sprintf("%.1f MB/s (%s rec/s)", r.mbPerSec(), commas(int64(r.recsPerSec()))), r.mbPerSec(), nil
			}
			return fmt.Sprintf("%s rec/s (%.1f MB/s)", commas(int64(r.recsPerSec())), r.mbPerSec()), r.recsPerSec(), nil
		})
		b.addRow(label, m, "")
		if m[0].ok && m[1].ok {
			peak = min(m[0].val, m[1].val)
		}
	}
	if consumeCase == "" || !b.cases[consumeCase] {
		return peak
	}
	for _, t := range ts {
		if !written[t] {
			if _, err := produce(t, topic, n, sz, *txnEvery, *phaseTimeout); err != nil {
				b.fail(fmt.Errorf("%s: writing the records to consume: %w", t.name, err))
				return peak
			}
		}
	}
	m := b.pair(consumeCase, ts, func(t *target) (string, float64, error) {
		r, err := consume(t, topic, int32(*partitions), n, *txnEvery > 0, *phaseTimeout)
		if err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("%s rec/s (%.1f MB/s)", commas(int64(r.recsPerSec())), r.mbPerSec()), r.recsPerSec(), nil
	})
	b.addRow(fmt.Sprintf("RF %d, consume", rf), m, "")
	return peak
}

// rssRow is VmRSS of each server process: each klassik broker, and kfake's one process.
func (b *bench) rssRow(label string, ts []*target) {
	r := row{label: label, ratio: "—"}
	for i, t := range ts {
		var parts []string
		for _, s := range t.servers {
			if !s.alive() {
				continue
			}
			rss, err := s.rssBytes()
			if err != nil {
				parts = append(parts, b.fail(err))
				continue
			}
			parts = append(parts, fmt.Sprintf("%d", rss>>20))
		}
		cell := strings.Join(parts, " / ") + " MB"
		if t.name == "kfake" {
			cell += fmt.Sprintf(" (one process, %d brokers, records in memory)", len(t.addrs))
		}
		if i == 0 {
			r.klassik = cell
		} else {
			r.kfake = cell
		}
	}
	b.rows = append(b.rows, r)
}

// scale runs the controller at scale, on a klassik cluster of its own (kfake has no
// ZooKeeper, sessions or failover to compare with).
func (b *bench) scale(klassikBin, zkAddr string) error {
	const chroot = "klassik-scale"
	k, err := klassikCluster(b.procs, klassikBin, b.dir, chroot, zkAddr, 3, scaleBrokerConfig)
	if err != nil {
		return err
	}
	defer b.release([]*target{k})
	logf("scale: %d partitions", *scaleParts)
	r, err := runScale(b, k, zkAddr, chroot, *scaleParts)
	n := commas(int64(r.partitions))
	add := func(label, cell string) { b.rows = append(b.rows, row{label, cell, "—", "—"}) }
	if err != nil {
		add(fmt.Sprintf("%s partitions x RF 3", n), b.fail(fmt.Errorf("scale: %w", err)))
		return nil
	}
	add(fmt.Sprintf("%s partitions x RF 3, 3 brokers: created, every leader elected", n),
		fmt.Sprintf("%s s (every ISR full: %s s)", secs(r.created), secs(r.fullISR)))
	moved := fmt.Sprintf("%s s after the kill (session timeout %s s)", secs(r.afterKill), secs(r.session))
	if r.afterExpiry >= 0 {
		moved = fmt.Sprintf("%s s after its session expired (%s s after the kill)", secs(r.afterExpiry), secs(r.afterKill))
	}
	add(fmt.Sprintf("%s partitions: leaders moved off a kill -9'd broker leading %s", n, commas(int64(r.killedLed))), moved)
	cell := fmt.Sprintf("%s s", secs(r.shutdown))
	if r.shutdownErr != nil {
		cell = b.fail(fmt.Errorf("controlled shutdown: %w", r.shutdownErr))
	}
	add(fmt.Sprintf("%s partitions: controlled shutdown of a broker leading %s", n, commas(int64(r.shutdownLed))), cell)
	var rss []string
	for _, v := range r.rss {
		rss = append(rss, strconv.FormatInt(v>>20, 10))
	}
	add(fmt.Sprintf("%s partitions: RSS per broker", n), strings.Join(rss, " / ")+" MB")
	return nil
}

func ms(d time.Duration) string   { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// commas writes 1234567 as 1,234,567.
func commas(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// countLabel writes 1000000 as 1M and 300000 as 300k, as the table does.
func countLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return commas(int64(n))
	}
}

func sizeLabel(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}
