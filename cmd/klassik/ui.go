package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/klassik/klassik/classroom/scenario"
	"github.com/klassik/klassik/classroom/ui"
)

// runUI is `klassik ui`: the classroom page.
func runUI(args []string) int {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	zkConnect := fs.String("zookeeper", "127.0.0.1:2181", "ZooKeeper connect string with its chroot, as zookeeper.connect (host:port/klassik)")
	bootstrap := fs.String("bootstrap-server", "127.0.0.1:9092", "comma-separated brokers for the Kafka protocol")
	listen := fs.String("listen", "127.0.0.1:8080", "host:port of the page")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := newLogger().With().Str("component", "classroom").Logger()
	var servers []string
	for _, s := range strings.Split(*bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	srv, err := ui.New(ui.Config{ZooKeeper: *zkConnect, Bootstrap: servers, Listen: *listen, Log: logger,
		Scenarios: scenarios{zk: *zkConnect, bootstrap: servers}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "klassik ui: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "klassik ui: open the classroom at http://%s\n", *listen)
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "klassik ui: %v\n", err)
		return 1
	}
	return 0
}

// scenarios hands package scenario to the page's buttons.
type scenarios struct {
	zk        string
	bootstrap []string
}

func (s scenarios) List() []ui.ScenarioInfo {
	var out []ui.ScenarioInfo
	for _, i := range scenario.List() {
		out = append(out, ui.ScenarioInfo{Name: i.Name, Summary: i.Summary, Question: i.Question,
			Choices: i.Choices, Answer: i.Answer})
	}
	return out
}

func (s scenarios) Run(ctx context.Context, name string, run ui.ScenarioRun, out func(kind, text string)) (ui.ScenarioResult, error) {
	env := scenario.Env{ZooKeeper: s.zk, Bootstrap: s.bootstrap, Topic: run.Topic, Partition: run.Partition,
		Out:     func(l scenario.Line) { out(l.Kind, l.Text) },
		Predict: func(scenario.Info) int { return run.Prediction }}
	res, err := scenario.Run(ctx, name, env)
	if errors.Is(err, scenario.ErrUnknown) {
		return ui.ScenarioResult{}, fmt.Errorf("no scenario %q", name)
	}
	return ui.ScenarioResult{Passed: res.Passed, Summary: res.Summary, Predicted: res.Predicted, Answer: res.Answer}, err
}
