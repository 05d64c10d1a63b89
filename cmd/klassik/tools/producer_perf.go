package tools

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producer-perf-test mirrors kafka-producer-perf-test.sh (Kafka's ProducerPerformance): it sends
// --num-records records of --record-size random bytes, at most --throughput per second, and
// prints a progress line every 5 s and a final line with latency percentiles. Latency is
// measured per record from the produce call to its acknowledgement.

func producerPerfFlags() *flagSet {
	fs := newFlagSet("producer-perf-test", "This tool is used to verify the producer performance (kafka-producer-perf-test.sh).")
	fs.Value("topic", "TOPIC", "", "REQUIRED: produce messages to this topic.")
	fs.Value("num-records", "NUM-RECORDS", "", "REQUIRED: number of messages to produce.")
	fs.Value("record-size", "RECORD-SIZE", "", "Message size in bytes. Note that you must provide exactly one of --record-size or --payload-file.")
	fs.Value("payload-file", "PAYLOAD-FILE", "", "File to read the message payloads from; one payload per line (see --payload-delimiter).")
	fs.Value("payload-delimiter", "PAYLOAD-DELIMITER", `\n`, "Delimiter to split the payload file by.")
	fs.Value("throughput", "THROUGHPUT", "", "REQUIRED: throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling.")
	fs.Multi("producer-props", "PROP-NAME=PROP-VALUE", "Kafka producer related configuration properties like bootstrap.servers, client.id etc. These configs take precedence over those passed via --producer.config.")
	fs.Value("producer.config", "CONFIG-FILE", "", "Producer config properties file.")
	fs.Value("bootstrap-server", "BOOTSTRAP-SERVER", "", "The server(s) to connect to; overrides bootstrap.servers in the producer configs.")
	fs.Bool("print-metrics", "Print out metrics at the end of the test (ignored by klassik).")
	fs.Value("transactional-id", "TRANSACTIONAL-ID", "", "Not supported by klassik.")
	fs.Value("transaction-duration-ms", "DURATION", "", "Not supported by klassik.")
	return fs
}

// perfStats accumulates latencies the way ProducerPerformance's Stats does: a running window
// reported every reportInterval, totals, and a sample of latencies for the percentiles.
type perfStats struct {
	mu       sync.Mutex
	start    time.Time
	count    int64
	bytes    int64
	maxLat   int64
	totalLat int64
	samples  []int32
	sampling int64
	iter     int64

	windowStart time.Time
	wCount      int64
	wBytes      int64
	wMaxLat     int64
	wTotalLat   int64

	reportInterval time.Duration
	out            io.Writer
}

func newPerfStats(numRecords int64, now time.Time, out io.Writer) *perfStats {
	sampling := numRecords / 500000
	if sampling < 1 {
		sampling = 1
	}
	return &perfStats{start: now, windowStart: now, sampling: sampling, reportInterval: 5 * time.Second, out: out,
		samples: make([]int32, 0, min(numRecords/sampling+1, 500001))}
}

// record adds one acknowledged record's latency (ms) and size at time now.
func (s *perfStats) record(latMs int64, size int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(size)
	s.totalLat += latMs
	s.maxLat = max(s.maxLat, latMs)
	s.wCount++
	s.wBytes += int64(size)
	s.wTotalLat += latMs
	s.wMaxLat = max(s.wMaxLat, latMs)
	if s.iter%s.sampling == 0 {
		s.samples = append(s.samples, int32(latMs))
	}
	s.iter++
	if now.Sub(s.windowStart) >= s.reportInterval {
		s.printWindow(now)
		s.windowStart, s.wCount, s.wBytes, s.wMaxLat, s.wTotalLat = now, 0, 0, 0, 0
	}
}

func (s *perfStats) printWindow(now time.Time) {
	elapsed := now.Sub(s.windowStart).Seconds()
	if elapsed <= 0 {
		elapsed = 1e-9
	}
	fmt.Fprint(s.out, windowLine(s.wCount, s.wBytes, elapsed, s.wTotalLat, s.wMaxLat))
}

// windowLine is ProducerPerformance's periodic line.
func windowLine(count, bytes int64, secs float64, totalLat, maxLat int64) string {
	avg := 0.0
	if count > 0 {
		avg = float64(totalLat) / float64(count)
	}
	return fmt.Sprintf("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		count, float64(count)/secs, float64(bytes)/1024/1024/secs, avg, float64(maxLat))
}

// percentiles returns the given percentiles of the latency samples.
func percentiles(samples []int32, ps ...float64) []int32 {
	out := make([]int32, len(ps))
	if len(samples) == 0 {
		return out
	}
	s := append([]int32(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	for i, p := range ps {
		idx := int(p * float64(len(s)))
		out[i] = s[min(idx, len(s)-1)]
	}
	return out
}

// totalLine is ProducerPerformance's final line.
func totalLine(count, bytes int64, secs float64, totalLat, maxLat int64, samples []int32) string {
	if secs <= 0 {
		secs = 1e-9
	}
	avg := 0.0
	if count > 0 {
		avg = float64(totalLat) / float64(count)
	}
	pc := percentiles(samples, 0.5, 0.95, 0.99, 0.999)
	return fmt.Sprintf("%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		count, float64(count)/secs, float64(bytes)/1024/1024/secs, avg, float64(maxLat), pc[0], pc[1], pc[2], pc[3])
}

func (s *perfStats) printTotal(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprint(s.out, totalLine(s.count, s.bytes, now.Sub(s.start).Seconds(), s.totalLat, s.maxLat, s.samples))
}

// throttler paces sends to a target rate, like Kafka's ThroughputThrottler.
type throttler struct {
	perSec float64
	start  time.Time
}

// wait sleeps until sending the (sent+1)th record keeps the rate at or below perSec.
func (t throttler) wait(sent int64, now time.Time) time.Duration {
	if t.perSec <= 0 {
		return 0
	}
	due := t.start.Add(time.Duration(float64(sent) / t.perSec * float64(time.Second)))
	if d := due.Sub(now); d > 0 {
		return d
	}
	return 0
}

func runProducerPerfTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := producerPerfFlags()
	return run(fs, args, stdout, stderr, func() error {
		for _, r := range []string{"topic", "num-records", "throughput"} {
			if err := fs.requireGiven(r); err != nil {
				return err
			}
		}
		if fs.byName["transactional-id"].given || fs.byName["transaction-duration-ms"].given {
			return fmt.Errorf("Transactions are not supported by klassik's producer-perf-test")
		}
		topic := fs.byName["topic"].str()
		num, err := fs.byName["num-records"].integer()
		if err != nil {
			return err
		}
		tput, err := fs.byName["throughput"].integer()
		if err != nil {
			return err
		}
		var payloads [][]byte
		recordSize := int64(0)
		switch {
		case fs.byName["record-size"].given && fs.byName["payload-file"].given,
			!fs.byName["record-size"].given && !fs.byName["payload-file"].given:
			return usageErrorf("Either --record-size or --payload-file must be specified but not both.")
		case fs.byName["record-size"].given:
			recordSize, err = fs.byName["record-size"].integer()
			if err != nil {
				return err
			}
			if recordSize < 0 {
				return fmt.Errorf("--record-size must not be negative")
			}
		default:
			b, err := os.ReadFile(fs.byName["payload-file"].str())
			if err != nil {
				return fmt.Errorf("Could not read the payload file: %v", err)
			}
			for _, p := range strings.Split(string(b), unescape(fs.byName["payload-delimiter"].str())) {
				if p != "" {
					payloads = append(payloads, []byte(p))
				}
			}
			if len(payloads) == 0 {
				return fmt.Errorf("File does not contain any payload")
			}
			fmt.Fprintf(stdout, "Reading payloads from: %s\nNumber of messages read: %d\n", fs.byName["payload-file"].str(), len(payloads))
		}
		props, err := loadConfigFile(fs.byName["producer.config"].str())
		if err != nil {
			return err
		}
		over, err := parseProps(fs.byName["producer-props"].all())
		if err != nil {
			return err
		}
		for k, v := range over {
			props[k] = v
		}
		if b := fs.byName["bootstrap-server"].str(); b != "" {
			props["bootstrap.servers"] = b
		}
		if props["bootstrap.servers"] == "" {
			return usageErrorf("Missing required argument: bootstrap.servers in --producer-props, --producer.config or --bootstrap-server")
		}
		if fs.byName["print-metrics"].given {
			fmt.Fprintln(stderr, "Note: --print-metrics is ignored by klassik.")
		}
		popts, err := producerOpts(props, stderr)
		if err != nil {
			return err
		}
		popts = append(popts, kgo.DefaultProduceTopic(topic))
		cl, err := newClient(props["bootstrap.servers"], popts...)
		if err != nil {
			return err
		}
		defer cl.Close()

		payload := make([]byte, recordSize)
		rng := rand.New(rand.NewSource(time.Now().UnixNano()))
		for i := range payload {
			payload[i] = byte('A' + rng.Intn(26))
		}
		start := time.Now()
		stats := newPerfStats(num, start, stdout)
		th := throttler{perSec: float64(tput), start: start}
		var errMu sync.Mutex
		var firstErr error
		failed := 0
		ctx := context.Background()
		for i := int64(0); i < num; i++ {
			if d := th.wait(i, time.Now()); d > 0 {
				time.Sleep(d)
			}
			value := payload
			if payloads != nil {
				value = payloads[rng.Intn(len(payloads))]
			}
			sendAt := time.Now()
			cl.Produce(ctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
				now := time.Now()
				if err != nil {
					errMu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					return
				}
				stats.record(now.Sub(sendAt).Milliseconds(), len(r.Value), now)
			})
		}
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		stats.printTotal(time.Now())
		if failed > 0 {
			return fmt.Errorf("%s failed; the first error: %v", plural(failed, "record", "records"), firstErr)
		}
		return nil
	})
}
