package quota

// Config is the sampling of every measure: quota.window.num samples of
// quota.window.size.seconds each (Kafka's MetricConfig as ClientQuotaManager builds it).
type Config struct {
	Samples  int   // quota.window.num (11)
	WindowMs int64 // quota.window.size.seconds (1) in milliseconds
}

// DefaultConfig is Kafka's: 11 samples of one second (ten whole windows and the current one).
var DefaultConfig = Config{Samples: 11, WindowMs: 1000}

// valid is c, or DefaultConfig if c cannot sample at all.
func (c Config) valid() Config {
	if c.Samples < 1 || c.WindowMs <= 0 {
		return DefaultConfig
	}
	return c
}

// spanMs is how long a sample lives: Samples windows.
func (c Config) spanMs() int64 { return int64(c.Samples) * c.WindowMs }

// sample is one window of a sampledStat (Kafka's SampledStat.Sample).
type sample struct {
	startMs int64   // lastWindowMs: when this window began
	value   float64 // the sum recorded in it
	count   int64   // the records in it
}

func (s *sample) reset(nowMs int64) { *s = sample{startMs: nowMs} }

// sampledStat is Kafka's SampledStat with a sum per sample: a ring of at most cfg.Samples
// windows. Not safe for concurrent use; the Manager's lock guards it.
type sampledStat struct {
	samples []sample
	current int
}

// record adds v at nowMs, moving to the next window when the current one is complete
// (SampledStat.record; klassik has no event-count windows, only time).
func (s *sampledStat) record(cfg Config, v float64, nowMs int64) {
	if len(s.samples) == 0 {
		s.samples = append(make([]sample, 0, cfg.Samples), sample{startMs: nowMs})
		s.current = 0
	}
	cur := &s.samples[s.current]
	if nowMs-cur.startMs >= cfg.WindowMs {
		cur = s.advance(cfg, nowMs)
	}
	cur.value += v
	cur.count++
}

// advance starts the next window of the ring at nowMs (SampledStat.advance).
func (s *sampledStat) advance(cfg Config, nowMs int64) *sample {
	s.current = (s.current + 1) % cfg.Samples
	if s.current >= len(s.samples) {
		s.samples = append(s.samples, sample{startMs: nowMs})
	} else {
		s.samples[s.current].reset(nowMs)
	}
	return &s.samples[s.current]
}

// purge resets every sample that is a whole span old (SampledStat.purgeObsoleteSamples).
func (s *sampledStat) purge(cfg Config, nowMs int64) {
	for i := range s.samples {
		if nowMs-s.samples[i].startMs >= cfg.spanMs() {
			s.samples[i].reset(nowMs)
		}
	}
}

// sum and count over the live samples, after purging.
func (s *sampledStat) totals(cfg Config, nowMs int64) (sum float64, count int64) {
	s.purge(cfg, nowMs)
	for _, x := range s.samples {
		sum += x.value
		count += x.count
	}
	return sum, count
}

// oldestStart is when the oldest sample began (SampledStat.oldest); nowMs when there is none.
func (s *sampledStat) oldestStart(nowMs int64) int64 {
	if len(s.samples) == 0 {
		return nowMs
	}
	oldest := s.samples[0].startMs
	for _, x := range s.samples[1:] {
		oldest = min(oldest, x.startMs)
	}
	return oldest
}

// rate is Kafka's Rate (per second) over a sampledStat.
type rate struct{ stat sampledStat }

func (r *rate) record(cfg Config, v float64, nowMs int64) { r.stat.record(cfg, v, nowMs) }

// windowMs is the span the rate divides by (Rate.windowSize): from the oldest sample to
// now, but at least Samples-1 whole windows, so a first burst is spread over them.
func (r *rate) windowMs(cfg Config, nowMs int64) int64 {
	r.stat.purge(cfg, nowMs)
	elapsed := nowMs - r.stat.oldestStart(nowMs)
	full := elapsed / cfg.WindowMs
	if minFull := int64(cfg.Samples - 1); full < minFull {
		elapsed += (minFull - full) * cfg.WindowMs
	}
	return max(elapsed, 1) // one sample (quota.window.num = 1) may have no span yet
}

// measure is the rate per second at nowMs (Rate.measure).
func (r *rate) measure(cfg Config, nowMs int64) float64 {
	sum, _ := r.stat.totals(cfg, nowMs)
	return sum / (float64(r.windowMs(cfg, nowMs)) / 1000)
}

// avg is Kafka's Avg: the mean of the values recorded in the live samples (NaN for none,
// as Kafka's metric reads).
type avg struct{ stat sampledStat }

func (a *avg) record(cfg Config, v float64, nowMs int64) { a.stat.record(cfg, v, nowMs) }

func (a *avg) measure(cfg Config, nowMs int64) (float64, bool) {
	sum, n := a.stat.totals(cfg, nowMs)
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}
