package quota

import (
	"fmt"
	"math"
	"testing"
)

// QuotaUtils.throttleTime: X = (O - T) / T * W.
func TestThrottleTimeFormula(t *testing.T) {
	for _, c := range []struct {
		observed, bound float64
		windowMs, want  int64
	}{
		{100, 50, 2000, 2000},   // twice the quota over 2 s: 2 s more
		{600, 500, 10500, 2100}, // Kafka's ClientQuotaManagerTest spike
		{18.2, 18.2, 10000, 0},  // at the bound
		{16.5, 20.4, 10000, -1912},
		{1, 0, 1000, 0}, // no positive bound, no throttle
		{1, math.Inf(1), 1000, 0},
	} {
		if got := ThrottleTimeMs(c.observed, c.bound, c.windowMs); got != c.want {
			t.Errorf("ThrottleTimeMs(%g, %g, %d) = %d, want %d", c.observed, c.bound, c.windowMs, got, c.want)
		}
	}
	if got := BoundedThrottleTimeMs(1000, 50, 10000, 1000); got != 1000 {
		t.Errorf("bounded: %d, want the bound 1000", got)
	}
	if got := BoundedThrottleTimeMs(60, 50, 10000, 5000); got != 2000 {
		t.Errorf("bounded under the bound: %d, want 2000", got)
	}
}

// Rate.windowSize: a first record is spread over Samples-1 whole windows.
func TestRateWindow(t *testing.T) {
	cfg := DefaultConfig
	var r rate
	r.record(cfg, 100, 0)
	if w := r.windowMs(cfg, 0); w != 10000 {
		t.Fatalf("window of a first record = %d ms, want 10000", w)
	}
	if got := r.measure(cfg, 0); got != 10 {
		t.Fatalf("rate = %g/s, want 10", got)
	}
	// 12.5 s on: the first sample is a whole 11-window span old and gone; the oldest live
	// one began at 5 s, 7.5 s ago, which is 7 whole windows: three more are added (10.5 s).
	r.record(cfg, 50, 5000)
	if w := r.windowMs(cfg, 12500); w != 10500 {
		t.Fatalf("window after expiry = %d ms, want 10500", w)
	}
	if got := r.measure(cfg, 12500); got != 50/10.5 {
		t.Fatalf("rate after expiry = %g/s, want 50 bytes / 10.5 s", got)
	}
}

func record(m *Manager, user, client string, v float64, nowMs int64) int64 {
	return m.Record(user, client, v, nowMs)
}

// Kafka's ClientQuotaManagerTest.testQuotaViolation: 400 B/s for ten seconds under a 500 B/s
// quota is fine; a spike of 2300 bytes half a window later makes 6300 B / 10.5 s = 600 B/s,
// throttled (600-500)/500 * 10.5 s = 2.1 s; ten seconds on the spike has rolled out.
func TestQuotaViolation(t *testing.T) {
	m := NewManager(Produce, DefaultConfig, 100)
	m.Update(Entity{ClientID: Named("unknown")}, 500, true)
	now := int64(0)
	for i := 0; i < 10; i++ {
		if th := record(m, "ANONYMOUS", "unknown", 400, now); th != 0 {
			t.Fatalf("second %d under the quota: throttled %d ms", i, th)
		}
		now += 1000
	}
	now += 500
	if th := record(m, "ANONYMOUS", "unknown", 2300, now); th != 2100 {
		t.Fatalf("spike: throttle %d ms, want 2100", th)
	}
	now += 2100
	for i := 0; i < 10; i++ {
		record(m, "ANONYMOUS", "unknown", 400, now)
		now += 1000
	}
	if th := record(m, "ANONYMOUS", "unknown", 0, now); th != 0 {
		t.Fatalf("after the spike rolled over: throttle %d ms", th)
	}
}

// Kafka's ClientQuotaManagerTest.testQuotaConfigPrecedence: which of the eight entity levels
// applies (DefaultQuotaCallback), which sensor is shared, and MaxValueInWindow. Every record
// is value*11 at one instant, a rate of 1.1*value over the 10-window minimum.
func TestQuotaConfigPrecedence(t *testing.T) {
	m := NewManager(Produce, DefaultConfig, 100)
	d := DefaultName()
	n := Named
	set := func(u, c Name, v float64) { m.Update(Entity{User: u, ClientID: c}, v, true) }
	set(d, Name{}, 1000)
	set(Name{}, d, 2000)
	set(d, d, 3000)
	set(n("userA"), Name{}, 4000)
	set(n("userA"), n("client1"), 5000)
	set(n("userB"), Name{}, 6000)
	set(n("userB"), n("client1"), 7000)
	set(n("userB"), d, 8000)
	set(n("userC"), Name{}, 10000)
	set(Name{}, n("client1"), 9000)

	check := func(user, client string, bound float64, value float64, throttled bool) {
		t.Helper()
		got, ok := m.Limit(user, client)
		if !ok || got != bound {
			t.Fatalf("Limit(%s, %s) = %g %v, want %g", user, client, got, ok, bound)
		}
		if w := m.MaxValueInWindow(user, client); w != bound*10 {
			t.Fatalf("MaxValueInWindow(%s, %s) = %g, want %g", user, client, w, bound*10)
		}
		th := record(m, user, client, value*11, 0)
		if throttled != (th > 0) {
			t.Fatalf("(%s, %s) recording %g: throttle %d ms, want throttled=%v", user, client, value*11, th, throttled)
		}
	}
	check("userA", "client1", 5000, 4500, false) // <user, client> over <user>
	check("userA", "client2", 4000, 4500, true)  // <user> over <client-id> and the defaults
	check("userA", "client3", 4000, 0, true)     // <user> is shared by the user's clients
	check("userA", "client1", 5000, 0, false)    // <user, client> is its own

	check("userB", "client1", 7000, 8000, true)
	check("userB", "client2", 8000, 7000, false) // the user's default client quota, per client
	check("userB", "client3", 8000, 7000, false)

	check("userD", "client1", 3000, 3500, true) // the default <user, client>
	check("userD", "client2", 3000, 2500, false)
	check("userE", "client1", 3000, 2500, false)

	m.Update(Entity{User: d, ClientID: d}, 0, false) // back to the default user
	check("userD", "client1", 1000, 0, false)        // new tags, a new sensor
	check("userE", "client4", 1000, 1500, true)
	check("userF", "client4", 1000, 800, false) // the default user quota is shared by the user's clients
	check("userF", "client5", 1000, 800, true)

	m.Update(Entity{User: d}, 0, false) // back to the default client id
	check("userF", "client4", 2000, 0, false)
	check("userF", "client5", 2000, 0, false)
	check("userF", "client5", 2000, 2500, true)
	check("userG", "client5", 2000, 0, true) // shared by every user of the client id

	set(n("userA"), Name{}, 8000)
	set(n("userA"), n("client1"), 10000)
	check("userA", "client2", 8000, 0, false)
	check("userA", "client2", 8000, 4500, true) // the new bound, the old measure
	check("userA", "client1", 10000, 0, false)
	check("userA", "client1", 10000, 6000, true)
}

// Without any quota nothing is measured; one client-id quota measures client ids only, and
// an unquoted client id is measured but never throttled.
func TestQuotasDisabledAndUnlimited(t *testing.T) {
	m := NewManager(Fetch, DefaultConfig, 100)
	if m.Enabled() || record(m, "u", "c", 1e12, 0) != 0 || m.Tracked() != 0 {
		t.Fatal("a manager without quotas measured something")
	}
	m.Update(Entity{ClientID: Named("slow")}, 10, true)
	if record(m, "u", "fast", 1e12, 0) != 0 {
		t.Fatal("a client id without a quota was throttled")
	}
	if record(m, "u", "slow", 1000, 0) == 0 {
		t.Fatal("slow over its quota was not throttled")
	}
	if _, ok := m.Limit("u", "fast"); ok {
		t.Fatal("fast has a limit")
	}
	if !math.IsInf(m.MaxValueInWindow("u", "fast"), 1) {
		t.Fatal("fast has a finite window maximum")
	}
	stats, _ := m.Stats(0)
	if len(stats) != 2 || stats[0].ClientID != "fast" || stats[0].User != "" || stats[1].Rate != 100 {
		t.Fatalf("stats: %+v", stats)
	}
}

// A throttle is bounded: one window for request time, the sampled span for byte rates.
func TestThrottleBounds(t *testing.T) {
	p := NewManager(Produce, DefaultConfig, 10)
	p.Update(Entity{ClientID: Named("c")}, 1, true)
	if th := record(p, "", "c", 1e9, 0); th != 11000 {
		t.Fatalf("byte-rate throttle of a huge request = %d ms, want the 11 s span", th)
	}
	r := NewManager(Request, DefaultConfig, 10)
	r.Update(Entity{ClientID: Named("c")}, 1, true)
	if th := record(r, "", "c", 1e9, 0); th != 1000 {
		t.Fatalf("request-time throttle = %d ms, want one window", th)
	}
}

// Unrecord takes a throttled fetch's bytes back; throttle times are averaged per window.
func TestUnrecordAndThrottleMetric(t *testing.T) {
	m := NewManager(Fetch, DefaultConfig, 10)
	m.Update(Entity{ClientID: Named("c")}, 100, true)
	record(m, "", "c", 5000, 0)
	m.Unrecord("", "c", 5000, 0)
	m.RecordThrottle("", "c", 300, 0)
	m.RecordThrottle("", "c", 100, 10)
	stats, _ := m.Stats(10)
	if len(stats) != 1 || stats[0].Rate != 0 || !stats[0].HasThrottle || stats[0].Throttle != 200 {
		t.Fatalf("stats: %+v", stats)
	}
}

// A flood of client ids is held to the cap, the longest idle dropped first; an hour idle
// drops a sensor anyway.
func TestSensorCapAndExpiry(t *testing.T) {
	m := NewManager(Produce, DefaultConfig, 3)
	m.Update(Entity{ClientID: DefaultName()}, 1e6, true)
	for i := 0; i < 1000; i++ {
		record(m, "", fmt.Sprintf("flood-%d", i), 1, int64(i))
	}
	stats, evicted := m.Stats(1000)
	if len(stats) != 3 || evicted != 997 || stats[0].ClientID != "flood-997" {
		t.Fatalf("after a flood: %d sensors, %d evicted, %+v", len(stats), evicted, stats)
	}
	// The most recently used survives a newcomer.
	record(m, "", "flood-997", 1, 2000)
	record(m, "", "new", 1, 2001)
	if _, ok := m.sensors[tags{"", "flood-997"}]; !ok {
		t.Fatal("the most recently recorded sensor was dropped")
	}
	record(m, "", "late", 1, 2001+InactiveSensorExpirationMs)
	if m.Tracked() != 1 {
		t.Fatalf("after an hour idle: %d sensors, want only the new one", m.Tracked())
	}
	if _, ev := m.Stats(0); ev != 998 {
		t.Fatalf("expiry counted as evictions: %d", ev)
	}
}

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"ANONYMOUS", "ANONYMOUS"},
		{"app-1_x.y", "app-1_x.y"},
		{"a b*c+/", "a%20b%2Ac%2B%2F"},
		{"<default>", "%3Cdefault%3E"},
		{"é", "%C3%A9"},
	} {
		if got := Sanitize(c.in); got != c.out {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.out)
		}
		if back, err := Desanitize(c.out); err != nil || back != c.in {
			t.Errorf("Desanitize(%q) = %q %v", c.out, back, err)
		}
	}
	if got, _ := Desanitize("a+b"); got != "a b" {
		t.Errorf("'+' is a space for URLDecoder: %q", got)
	}
	for _, bad := range []string{"%", "%4", "%zz"} {
		if _, err := Desanitize(bad); err == nil {
			t.Errorf("Desanitize(%q) accepted", bad)
		}
	}
}

func TestEntityPath(t *testing.T) {
	for _, c := range []struct {
		e         Entity
		typ, name string
	}{
		{Entity{ClientID: Named("slow")}, "clients", "slow"},
		{Entity{ClientID: DefaultName()}, "clients", "<default>"},
		{Entity{User: Named("User 1")}, "users", "User%201"},
		{Entity{User: DefaultName(), ClientID: Named("c/d")}, "users", "<default>/clients/c%2Fd"},
		{Entity{User: Named("<default>"), ClientID: DefaultName()}, "users", "%3Cdefault%3E/clients/<default>"},
	} {
		typ, name, ok := c.e.EntityPath()
		if !ok || typ != c.typ || name != c.name {
			t.Errorf("%v: %s %s, want %s %s", c.e, typ, name, c.typ, c.name)
		}
		if back, ok := ParseEntityPath(typ + "/" + name); !ok || back != c.e {
			t.Errorf("ParseEntityPath(%s/%s) = %v %v, want %v", typ, name, back, ok, c.e)
		}
	}
	for _, bad := range []string{"topics/t", "clients", "users/u/clients", "users/u/topics/c", "clients/%zz", "ips/1.2.3.4", "clients/"} {
		if _, ok := ParseEntityPath(bad); ok {
			t.Errorf("ParseEntityPath(%q) accepted", bad)
		}
	}
	if s := (Entity{User: Named("a"), ClientID: DefaultName()}).String(); s != "user a default client-id" {
		t.Errorf("String: %q", s)
	}
}

// Java's Double.toString, as kafka-configs.sh prints quotas.
func TestFormatDouble(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{1024, "1024.0"}, {204800, "204800.0"}, {0.5, "0.5"}, {200, "200.0"}, {12.25, "12.25"},
		{9999999, "9999999.0"}, {1e7, "1.0E7"}, {10485760, "1.048576E7"}, {math.MaxInt64, "9.223372036854776E18"},
		{0.001, "0.001"}, {0.0001, "1.0E-4"}, {0, "0.0"}, {-2.5, "-2.5"}, {math.Inf(1), "Infinity"},
	} {
		if got := FormatDouble(c.v); got != c.want {
			t.Errorf("FormatDouble(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// simulate is a client that sends chunk bytes whenever it may, waiting out every throttle
// (as a KIP-219 client does and a muted connection forces), against a quota of bound B/s;
// it returns the bytes sent in each millisecond of the run.
func simulate(cfg Config, bound, chunk float64, runMs int64) []float64 {
	m := NewManager(Produce, cfg, 10)
	m.Update(Entity{ClientID: Named("slow")}, bound, true)
	sent := make([]float64, runMs)
	for now := int64(0); now < runMs; {
		th := m.Record("", "slow", chunk, now)
		sent[now] += chunk
		now += 3 + th // a 3 ms round trip
	}
	return sent
}

// A client held by its quota averages the quota. With Kafka's sampling (11 windows of 1 s)
// it may use ten windows' worth at once, which rolls out of the samples 11 s later, so its
// rate swings over seconds and only its long-run average is the quota; with two samples
// (quota.window.num = 2, what the integration test runs with) every 8 s stretch is within
// 20% of it.
func TestThrottledClientConvergesToQuota(t *testing.T) {
	const bound = 204800
	for _, chunk := range []float64{16384, 100000} {
		sent := simulate(DefaultConfig, bound, chunk, 132000)
		var total float64
		for _, b := range sent {
			total += b
		}
		if r := total / 132 / bound; r < 0.95 || r > 1.1 {
			t.Errorf("default sampling, %g-byte requests: 132 s average %.3f x the quota", chunk, r)
		}
		sent = simulate(Config{Samples: 2, WindowMs: 1000}, bound, chunk, 30000)
		for start := 1000; start+8000 <= 30000; start += 250 {
			var sum float64
			for _, b := range sent[start : start+8000] {
				sum += b
			}
			if r := sum / 8 / bound; r < 0.8 || r > 1.2 {
				t.Errorf("two samples, %g-byte requests: %.2f x the quota over 8 s from %d ms", chunk, r, start)
			}
		}
	}
}

func TestReplicationQuota(t *testing.T) {
	q := NewReplication(Config{Samples: 2, WindowMs: 1000})
	const bound = 1000 // bytes/s
	now := int64(1_000_000)
	if q.Exceeded(bound, now) {
		t.Fatal("nothing recorded yet")
	}
	q.Record(900, now)
	if q.Exceeded(bound, now) {
		t.Fatalf("900 B over a window of 1 s (%v B/s) is under 1000 B/s", q.Rate(now))
	}
	q.Record(300, now+100)
	if !q.Exceeded(bound, now+100) {
		t.Fatalf("1200 B in the first 1.1 s: %v B/s should exceed 1000", q.Rate(now+100))
	}
	if q.Exceeded(1<<63-1, now+100) {
		t.Fatal("Long.MAX_VALUE, the default, is never exceeded")
	}
	// Two windows later the samples have expired.
	if q.Exceeded(bound, now+2500) {
		t.Fatalf("after the samples expire: %v B/s", q.Rate(now+2500))
	}
}
