package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/klassik/klassik/classroom/scenario"
)

// runScenario is `klassik scenario list` and `klassik scenario run NAME`: the classroom's
// guided experiments from a terminal (the page's buttons run the same ones).
func runScenario(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		scenarioUsage(os.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "list":
		for _, i := range scenario.List() {
			fmt.Printf("%-26s %s\n", i.Name, i.Summary)
		}
		return 0
	case "run":
		return runOneScenario(args[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "klassik scenario: unknown subcommand %q\n\n", args[0])
	scenarioUsage(os.Stderr)
	return 2
}

func scenarioUsage(w io.Writer) {
	fmt.Fprint(w, `usage: klassik scenario list
       klassik scenario run NAME --zookeeper H:P/chroot --bootstrap-server B [--topic T --partition P] [--predict N]

A scenario asks what classic Kafka will do, injects a real fault through the brokers' fault
endpoints (klassik.faults.enable = true, on metrics.listener, found from /brokers/ids in
ZooKeeper), narrates what the controller and the brokers decided, and exits 0 only if the
outcome is Kafka's. 'klassik scenario run NAME -h' lists the flags.
`)
}

func runOneScenario(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	// The name comes first (`run kill-leader --zookeeper ...`); flags after it are parsed.
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	zkConnect := fs.String("zookeeper", "127.0.0.1:2181", "ZooKeeper connect string with its chroot, as zookeeper.connect (host:port/klassik)")
	bootstrap := fs.String("bootstrap-server", "127.0.0.1:9092", "comma-separated brokers for the Kafka protocol")
	topic := fs.String("topic", "", "the topic to break (default: the scenario makes its own, named after it)")
	partition := fs.Int("partition", 0, "the partition of --topic")
	predict := fs.Int("predict", 0, "your prediction, the number of a choice (default: asked when stdin is a terminal, else not asked)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		fmt.Fprintln(stderr, "klassik scenario run: name a scenario ('klassik scenario list' shows them)")
		return 2
	}
	var info *scenario.Info
	for _, i := range scenario.List() {
		if i.Name == name {
			info = &i
		}
	}
	if info == nil {
		fmt.Fprintf(stderr, "klassik scenario run: no scenario %q ('klassik scenario list' shows them)\n", name)
		return 2
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["partition"] && *topic == "" {
		fmt.Fprintln(stderr, "klassik scenario run: --partition needs --topic")
		return 2
	}
	if given["predict"] && (*predict < 1 || *predict > len(info.Choices)) {
		fmt.Fprintf(stderr, "klassik scenario run: --predict must be 1 to %d (the choices of %s)\n", len(info.Choices), name)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	env := scenario.Env{ZooKeeper: *zkConnect, Bootstrap: splitList(*bootstrap), Topic: *topic, Partition: int32(*partition),
		Out: func(l scenario.Line) {
			fmt.Fprintf(stdout, "%s %-7s %s\n", l.Time.Local().Format("15:04:05.000"), l.Kind, l.Text)
		}}
	switch {
	case given["predict"]:
		env.Predict = func(scenario.Info) int { return *predict - 1 }
	case isatty.IsTerminal(stdin.Fd()):
		env.Predict = func(i scenario.Info) int { return ask(stdin, stdout, i) }
	}
	res, err := scenario.Run(ctx, name, env)
	if err != nil {
		fmt.Fprintf(stderr, "klassik scenario run: %v\n", err)
		return 1
	}
	if !res.Passed {
		fmt.Fprintf(stdout, "FAIL: %s\n", res.Summary)
		return 1
	}
	fmt.Fprintf(stdout, "PASS: %s\n", res.Summary)
	return 0
}

// ask reads the learner's choice at the terminal; -1 (no prediction) on an empty line or EOF.
func ask(stdin io.Reader, stdout io.Writer, i scenario.Info) int {
	in := bufio.NewScanner(stdin)
	for {
		fmt.Fprintf(stdout, "Your prediction (1-%d, Enter to skip): ", len(i.Choices))
		if !in.Scan() {
			return -1
		}
		s := strings.TrimSpace(in.Text())
		if s == "" {
			return -1
		}
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(i.Choices) {
			return n - 1
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
