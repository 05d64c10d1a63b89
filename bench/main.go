// Command bench is klassik's yardstick (issue 11): the same franz-go client process against
// klassik (real ZooKeeper, real broker processes) and against kfake (franz-go's fake Kafka,
// run as its own process by ./kfakeserver), case by case, alternating the two within one run,
// and a Markdown table of the results with klassik's ratio to kfake:
//
//   - produce and consume of -records records of -size bytes at replication factor 1 (one
//     broker) and 3 (three brokers, min.insync.replicas 2, acks=all), and produce of
//     -records-1k records of -size-1k bytes at replication factor 3;
//   - the resident memory (VmRSS) of each broker process after those;
//   - end-to-end latency (p50, p99, p999, producer send to consumer receipt) at fixed rates:
//     -latency-rates and half of the lower of the two peaks measured at replication factor 3;
//   - the controller at -scale-partitions partitions (klassik only; kfake has no failover):
//     creation, leaders moved after a kill -9 (counted from the dead broker's session expiry
//     as ZooKeeper saw it) and a controlled shutdown, as integration/scale_test.go measures.
//
// Every case leaves a CPU profile of each server process (from its /debug/pprof/profile:
// klassik's metrics.listener, kfakeserver's -pprof) and of this client process under
// -profiles, with the CPU time each used; heap profiles are taken after the last throughput
// case. The table lists the top three functions of each profile.
//
// It is its own module so that kfake never becomes a dependency of klassik.
//
//	cd bench && go run . [-quick] [-cases rf1-produce,...] [-records N] [-klassik ../bin/klassik]
//
// make bench runs all of it at full size (minutes); make bench-smoke runs -quick (every case,
// small sizes, 300 partitions) in well under a minute.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	records       = flag.Int("records", 1_000_000, "records of -size bytes to produce and consume at replication factor 1 and 3")
	size          = flag.Int("size", 100, "value size in bytes of the -records records and of the latency records")
	records1k     = flag.Int("records-1k", 300_000, "records of -size-1k bytes produced at replication factor 3")
	size1k        = flag.Int("size-1k", 1024, "value size in bytes of the -records-1k records")
	partitions    = flag.Int("partitions", 3, "partitions of each benchmark topic")
	casesFlag     = flag.String("cases", "all", "comma-separated cases to run: "+strings.Join(allCases, ", ")+"; or all")
	quick         = flag.Bool("quick", false, "a smoke run: every default scaled down (records 20,000 and 6,000, latency 1 s per rate, 300 partitions, profile windows of 1 s); flags given explicitly still win")
	latencyRates  = flag.String("latency-rates", "20000,100000", "fixed rates (records/s) of the end-to-end latency cases, besides half of the peak")
	latencyWarmup = flag.Duration("latency-warmup", 2*time.Second, "time at the fixed rate before the latency is measured")
	latencyFor    = flag.Duration("latency-measure", 10*time.Second, "time at the fixed rate the latency is measured over, per rate")
	scaleParts    = flag.Int("scale-partitions", 10_000, "partitions of the scale case (replication factor 3, three brokers)")
	profilesDir   = flag.String("profiles", "", `directory for the CPU and heap profiles and the table (default out/<timestamp>; "none" for no profiles)`)
	profileWindow = flag.Duration("profile-window", 5*time.Second, "length of each /debug/pprof/profile request; a case's profile merges consecutive windows")
	klassikPath   = flag.String("klassik", "", "klassik binary (default: go build ../cmd/klassik)")
	kfakePath     = flag.String("kfake", "", "kfakeserver binary (default: go build ./kfakeserver)")
	phaseTimeout  = flag.Duration("phase-timeout", 5*time.Minute, "deadline of each produce or consume phase")
	keep          = flag.Bool("keep", false, "keep the temporary directory (broker and ZooKeeper logs and data)")
	txnEvery      = flag.Int("transactional", 0, "produce transactionally, committing every N records, and consume read_committed (0: idempotent, no transactions)")
)

var allCases = []string{"rf1-produce", "rf1-consume", "rf3-produce", "rf3-consume", "rf3-produce-1k", "rss", "latency", "scale"}

func main() {
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"records": "20000", "records-1k": "6000", "latency-warmup": "500ms",
			"latency-measure": "1s", "scale-partitions": "300", "profile-window": "1s"} {
			if !set[name] {
				_ = flag.Set(name, v)
			}
		}
	}
	b := &bench{procs: &procs{}}
	code := 0
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	} else if b.failed {
		code = 1
	}
	b.procs.kill()
	os.Exit(code)
}

// bench is one run: its processes, its profiler and what it found.
type bench struct {
	procs  *procs
	prof   *profiler
	dir    string // temporary: configs, logs, data
	cases  map[string]bool
	rows   []row
	heaps  []string
	failed bool
}

// row is one line of the table.
type row struct{ label, klassik, kfake, ratio string }

func (b *bench) fail(err error) string {
	b.failed = true
	fmt.Fprintln(os.Stderr, "bench:", err)
	return "error: " + firstLine(err.Error())
}

func (b *bench) run() error {
	b.cases = map[string]bool{}
	for _, c := range strings.Split(*casesFlag, ",") {
		c = strings.TrimSpace(c)
		switch {
		case c == "all":
			for _, a := range allCases {
				b.cases[a] = true
			}
		case slices.Contains(allCases, c):
			b.cases[c] = true
		default:
			return fmt.Errorf("-cases: unknown case %q (known: %s, all)", c, strings.Join(allCases, ", "))
		}
	}
	var err error
	if b.dir, err = os.MkdirTemp("", "klassik-bench-"); err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}
	defer b.procs.kill() // before the directory goes
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		b.procs.kill()
		os.Exit(1)
	}()

	b.prof = &profiler{window: *profileWindow}
	switch *profilesDir {
	case "none":
	case "":
		b.prof.dir = filepath.Join("out", time.Now().Format("20060102-150405"))
	default:
		b.prof.dir = *profilesDir
	}
	if b.prof.dir != "" {
		if err := os.MkdirAll(b.prof.dir, 0o755); err != nil {
			return err
		}
	}

	klassikBin, err := buildIfUnset(*klassikPath, filepath.Join(b.dir, "klassik"), "..", "./cmd/klassik")
	if err != nil {
		return err
	}
	kfakeBin, err := buildIfUnset(*kfakePath, filepath.Join(b.dir, "kfakeserver"), ".", "./kfakeserver")
	if err != nil {
		return err
	}
	zkAddr, err := startZooKeeper(b.procs, b.dir)
	if err != nil {
		return err
	}
	logf("ZooKeeper serving on %s", zkAddr)

	started := time.Now()
	if b.any("rf1-produce", "rf1-consume") {
		if err := b.throughput(klassikBin, kfakeBin, zkAddr, 1); err != nil {
			return err
		}
	}
	if b.any("rf3-produce", "rf3-consume", "rf3-produce-1k", "rss", "latency") {
		if err := b.rf3(klassikBin, kfakeBin, zkAddr); err != nil {
			return err
		}
	}
	if b.cases["scale"] {
		if err := b.scale(klassikBin, zkAddr); err != nil {
			return err
		}
	}
	b.print(time.Since(started))
	return nil
}

func (b *bench) any(cs ...string) bool {
	return slices.ContainsFunc(cs, func(c string) bool { return b.cases[c] })
}

// buildIfUnset returns path, or builds pkg (from dir) into out.
func buildIfUnset(path, out, dir, pkg string) (string, error) {
	if path != "" {
		return filepath.Abs(path)
	}
	logf("building %s", pkg)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s (run from bench/, or pass its binary): %w", pkg, err)
	}
	return out, nil
}

var startTime = time.Now()

// logf writes progress to stderr, with the time since the start.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench [%5.1fs]: %s\n", time.Since(startTime).Seconds(), fmt.Sprintf(format, args...))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// machine describes where the numbers come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	commit := "?"
	if out, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("klassik %s, %s, %s, %d CPUs (%s)%s", commit, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), model, load)
}
