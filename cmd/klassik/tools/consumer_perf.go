package tools

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumer-perf-test mirrors kafka-consumer-perf-test.sh (Kafka's ConsumerPerformance): it
// consumes --messages records as a member of --group (from the earliest offset unless
// --from-latest) and prints Kafka's CSV-like header and one summary line, or with
// --show-detailed-stats a line every --reporting-interval.

func consumerPerfFlags() *flagSet {
	fs := newFlagSet("consumer-perf-test", "This tool helps in performance test for the full zookeeper consumer (kafka-consumer-perf-test.sh).")
	brokerListFlags(fs)
	fs.Value("topic", "String: topic", "", "REQUIRED: The topic to consume from.")
	fs.Value("messages", "Long: count", "", "REQUIRED: The number of messages to send or consume.")
	fs.Value("group", "String: gid", "", "The group id to consume on (default: perf-consumer-NNNNN).")
	fs.Value("timeout", "Long: milliseconds", "10000", "The maximum allowed time in milliseconds between returned records.")
	fs.Value("fetch-size", "Integer: size", "1048576", "The amount of data to fetch in a single request.")
	fs.Bool("from-latest", "If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message.")
	fs.Bool("show-detailed-stats", "If set, stats are reported for each reporting interval as configured by reporting-interval.")
	fs.Value("reporting-interval", "Integer: interval_ms", "5000", "Interval in milliseconds at which to print progress info.")
	fs.Value("date-format", "String: date format", "yyyy-MM-dd HH:mm:ss:SSS", "The date format to use for formatting the time field (only the default is supported).")
	fs.Bool("hide-header", "If set, skips printing the header for the stats.")
	fs.Value("consumer.config", "String: config file", "", "Consumer config properties file.")
	fs.Value("threads", "Integer: count", "", "DEPRECATED and ignored.")
	fs.Value("num-fetch-threads", "Integer: count", "", "DEPRECATED and ignored.")
	fs.Value("socket-buffer-size", "Integer: size", "", "Accepted for compatibility; ignored.")
	fs.Bool("print-metrics", "Print out the metrics (ignored by klassik).")
	return fs
}

const perfHeader = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
const perfDetailedHeader = "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"

// kafkaTime formats like Java's SimpleDateFormat("yyyy-MM-dd HH:mm:ss:SSS").
func kafkaTime(t time.Time) string {
	return t.Format("2006-01-02 15:04:05") + ":" + fmt.Sprintf("%03d", t.Nanosecond()/1e6)
}

// perfSummary is ConsumerPerformance's summary line.
func perfSummary(start, end time.Time, bytes, msgs int64, rebalance, fetchTime time.Duration) string {
	mb := float64(bytes) / 1024 / 1024
	secs := end.Sub(start).Seconds()
	fsecs := fetchTime.Seconds()
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	return fmt.Sprintf("%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
		kafkaTime(start), kafkaTime(end), mb, div(mb, secs), msgs, div(float64(msgs), secs),
		rebalance.Milliseconds(), fetchTime.Milliseconds(), div(mb, fsecs), div(float64(msgs), fsecs))
}

// perfDetail is one --show-detailed-stats line for the interval since the last one.
func perfDetail(now, last time.Time, bytes, lastBytes, msgs, lastMsgs int64, rebalance, fetchTime time.Duration) string {
	secs := now.Sub(last).Seconds()
	mb := float64(bytes) / 1024 / 1024
	dmb := float64(bytes-lastBytes) / 1024 / 1024
	dmsg := float64(msgs - lastMsgs)
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	return fmt.Sprintf("%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
		kafkaTime(now), 0, mb, div(dmb, secs), msgs, div(dmsg, secs),
		rebalance.Milliseconds(), fetchTime.Milliseconds(), div(dmb, fetchTime.Seconds()), div(dmsg, fetchTime.Seconds()))
}

func runConsumerPerfTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := consumerPerfFlags()
	return run(fs, args, stdout, stderr, func() error {
		bootstrap, err := bootstrapOrBrokerList(fs)
		if err != nil {
			return err
		}
		for _, r := range []string{"topic", "messages"} {
			if err := fs.requireGiven(r); err != nil {
				return err
			}
		}
		topic := fs.byName["topic"].str()
		total, err := fs.byName["messages"].integer()
		if err != nil {
			return err
		}
		timeoutMs, err := fs.byName["timeout"].integer()
		if err != nil {
			return err
		}
		fetchSize, err := fs.byName["fetch-size"].integer()
		if err != nil {
			return err
		}
		interval, err := fs.byName["reporting-interval"].integer()
		if err != nil {
			return err
		}
		if interval <= 0 {
			return fmt.Errorf("Reporting interval must be greater than 0.")
		}
		detailed := fs.byName["show-detailed-stats"].given
		props, err := loadConfigFile(fs.byName["consumer.config"].str())
		if err != nil {
			return err
		}
		group := fs.byName["group"].str()
		if group == "" {
			group = props["group.id"]
		}
		if group == "" {
			group = "perf-consumer-" + strconv.Itoa(rand.Intn(100000))
		}
		copts, err := consumerOpts(props, stderr)
		if err != nil {
			return err
		}
		copts = append(copts, kgo.FetchMaxPartitionBytes(int32(fetchSize)))
		reset := kgo.NewOffset().AtStart()
		if fs.byName["from-latest"].given {
			reset = kgo.NewOffset().AtEnd()
		}

		sec, err := clientSecurityOpts(props)
		if err != nil {
			return err
		}
		probe, err := newClient(bootstrap, sec...)
		if err != nil {
			return err
		}
		ctx, cancel := reqCtx()
		groups := groupsSupported(ctx, probe)
		parts, perr := topicPartitions(ctx, kadm.NewClient(probe), topic)
		cancel()
		probe.Close()
		if perr != nil {
			return perr
		}

		var assignedAt atomic.Int64
		joinStart := time.Now()
		if groups {
			copts = append(copts, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(reset),
				kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
					assignedAt.CompareAndSwap(0, time.Now().UnixNano())
				}))
		} else {
			m := map[int32]kgo.Offset{}
			for _, p := range parts {
				m[p] = reset
			}
			copts = append(copts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: m}))
		}
		cl, err := newClient(bootstrap, copts...)
		if err != nil {
			return err
		}
		defer cl.Close()

		if !fs.byName["hide-header"].given {
			if detailed {
				fmt.Fprintln(stdout, perfDetailedHeader)
			} else {
				fmt.Fprintln(stdout, perfHeader)
			}
		}
		start := time.Now()
		var msgs, bytes int64
		lastReport, lastMsgs, lastBytes := start, int64(0), int64(0)
		lastConsumed := time.Now()
		timeout := time.Duration(timeoutMs) * time.Millisecond
		rebalance := func() time.Duration {
			if a := assignedAt.Load(); a > 0 {
				return time.Unix(0, a).Sub(joinStart)
			}
			return 0
		}
		timedOut := false
		for msgs < total {
			if time.Since(lastConsumed) > timeout {
				timedOut = true
				break
			}
			pctx, pcancel := context.WithTimeout(context.Background(), min(timeout, time.Second))
			fetches := cl.PollRecords(pctx, int(min(total-msgs, 1<<20)))
			pcancel()
			n := 0
			fetches.EachRecord(func(r *kgo.Record) {
				msgs++
				bytes += int64(len(r.Key) + len(r.Value))
				n++
			})
			now := time.Now()
			if n > 0 {
				lastConsumed = now
			}
			if detailed && now.Sub(lastReport) >= time.Duration(interval)*time.Millisecond {
				fmt.Fprint(stdout, perfDetail(now, lastReport, bytes, lastBytes, msgs, lastMsgs, rebalance(), now.Sub(start)-rebalance()))
				lastReport, lastMsgs, lastBytes = now, msgs, bytes
			}
		}
		end := time.Now()
		if timedOut {
			fmt.Fprintf(stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", timeoutMs)
		}
		if !detailed {
			reb := rebalance()
			fmt.Fprint(stdout, perfSummary(start, end, bytes, msgs, reb, end.Sub(start)-reb))
		}
		return nil
	})
}
