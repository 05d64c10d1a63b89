// Command kfakeserver runs franz-go's kfake as a process of its own, so that the benchmark
// (../main.go) measures kfake and klassik alike: each server in its own process, the same
// client process in front of both, CPU and memory read per process from /proc, and a CPU
// profile taken from each through the same /debug/pprof/ routes.
//
//	kfakeserver [-brokers 3] [-ports 9092,9093,9094] [-pprof 127.0.0.1:6060] [-partitions 3] [-seed-topics a,b] [-auto-create]
//
// Once listening it prints one line per address, "LISTEN host:port" for each broker and
// "PPROF host:port" for the profiler, then serves until SIGTERM or SIGINT. Every port is on
// 127.0.0.1; a port of 0 (the default) is chosen by the kernel.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

var (
	brokers    = flag.Int("brokers", 1, "brokers in the fake cluster")
	ports      = flag.String("ports", "", "comma-separated ports, one per broker (default: chosen by the kernel)")
	pprofAddr  = flag.String("pprof", "127.0.0.1:0", `host:port of the /debug/pprof/ routes ("" for none)`)
	partitions = flag.Int("partitions", 3, "partitions of auto-created topics and of -seed-topics")
	seed       = flag.String("seed-topics", "", "comma-separated topics to create at start")
	autoCreate = flag.Bool("auto-create", false, "create topics named in Metadata requests (auto.create.topics.enable)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kfakeserver:", err)
		os.Exit(1)
	}
}

func run() error {
	if *brokers < 1 {
		return fmt.Errorf("-brokers %d: need at least one", *brokers)
	}
	opts := []kfake.Opt{kfake.NumBrokers(*brokers), kfake.DefaultNumPartitions(*partitions)}
	if *ports != "" {
		var ps []int
		for _, s := range strings.Split(*ports, ",") {
			p, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || p < 0 || p > 65535 {
				return fmt.Errorf("-ports %q: %q is not a port", *ports, s)
			}
			ps = append(ps, p)
		}
		if len(ps) != *brokers {
			return fmt.Errorf("-ports names %d ports for %d brokers", len(ps), *brokers)
		}
		opts = append(opts, kfake.Ports(ps...))
	}
	if *seed != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*seed, ",")...))
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	defer c.Close()

	if *pprofAddr != "" {
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return fmt.Errorf("-pprof %s: %w", *pprofAddr, err)
		}
		// The routes klassik serves on metrics.listener, so the benchmark profiles both alike.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Println("PPROF", ln.Addr().String())
	}
	for _, a := range c.ListenAddrs() {
		fmt.Println("LISTEN", a)
	}
	fmt.Println("READY")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	<-sigs
	return nil
}
