// Package scenario runs the classroom's guided experiments on a real klassik cluster: each
// one asks the learner to predict what classic Kafka does, injects a real fault (a broker
// process killed, a ZooKeeper session expired, a follower's fetcher paused) through the
// brokers' fault endpoints, narrates what the controller and the brokers then decided from
// their event streams and from ZooKeeper, and checks the outcome against what Apache Kafka in
// ZooKeeper mode would do (KafkaController, PartitionStateMachine, ReplicaManager's ISR
// maintenance, GroupCoordinator).
//
// A scenario needs nothing but ZooKeeper and a bootstrap server: it finds the controller in
// /controller, partition leaders and ISRs in the partition state znodes, and each broker's
// HTTP listener from its registration in /brokers/ids/N (the host of its endpoints and the
// port in jmx_port, the field Kafka uses for its management port). Both `klassik scenario`
// and the classroom page (`klassik ui`) drive scenarios through List and Run.
package scenario

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Info describes one scenario and the question it asks before it acts.
type Info struct {
	Name     string
	Summary  string
	Question string
	Choices  []string
	Answer   int // index into Choices of what Kafka does
}

// Line is one line of a scenario's narration.
type Line struct {
	Time time.Time
	Kind string // "predict", "step", "observe", "pass", "fail"
	Text string
}

// Kinds of Line.
const (
	KindPredict = "predict"
	KindStep    = "step"
	KindObserve = "observe"
	KindPass    = "pass"
	KindFail    = "fail"
)

// Env is what a scenario runs against and reports to.
type Env struct {
	ZooKeeper string // host:port[,host:port]/chroot
	Bootstrap []string
	Topic     string         // optional; a scenario makes its own topic ("classroom") when empty
	Partition int32          // with Topic
	Out       func(Line)     // narration; Run substitutes a no-op for nil
	Predict   func(Info) int // the learner's prediction; nil: do not ask
	HTTP      *http.Client   // for the brokers' HTTP listeners; nil: a client with timeouts
}

// Result is a scenario's outcome.
type Result struct {
	Passed    bool
	Summary   string
	Predicted int // the learner's choice, -1 when not asked
	Answer    int
}

// ErrUnknown is returned by Run for a name List does not have.
var ErrUnknown = errors.New("unknown scenario")

// List returns every scenario, in the order a class would run them.
func List() []Info {
	out := make([]Info, len(catalog))
	for i, s := range catalog {
		out[i] = s.info
	}
	return out
}

// Run runs the named scenario until it has checked its outcome or ctx is done. The error is
// for a scenario that could not run (no ZooKeeper, faults disabled on the brokers); a scenario
// that ran but whose outcome was not Kafka's returns Passed false and a nil error.
func Run(ctx context.Context, name string, env Env) (Result, error) {
	for _, s := range catalog {
		if s.info.Name == name {
			return run(ctx, s, env)
		}
	}
	return Result{Predicted: -1}, ErrUnknown
}
