package scenario

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runner is one run of a scenario: its environment, its connections and its narration.
// It is used by the scenario's goroutine; the event followers only append to tl.
type runner struct {
	env Env

	zk        *zkclient.Client
	kc        *kgo.Client
	adm       *kadm.Client
	lagMs     int64 // replica.lag.time.max.ms, read from a broker
	sessionMs int64 // zookeeper.session.timeout.ms, read from a broker

	topic     string
	partition int32
	group     string
	txnID     string // the transactional.id of a transactions scenario

	tl           *timeline
	followCtx    context.Context
	cancelFollow context.CancelFunc

	httpMu    sync.Mutex
	httpBases map[string]string // registration -> its reachable HTTP listener
}

func (r *runner) say(kind, format string, args ...any) {
	r.env.Out(Line{Time: time.Now().UTC(), Kind: kind, Text: fmt.Sprintf(format, args...)})
}

// failoverTimeout is how long a scenario waits for the controller to act on a dead broker:
// its session must time out first.
func (r *runner) failoverTimeout() time.Duration {
	return time.Duration(r.sessionMs)*time.Millisecond + 30*time.Second
}

func run(ctx context.Context, s scenario, env Env) (Result, error) {
	if env.Out == nil {
		env.Out = func(Line) {}
	}
	if env.HTTP == nil {
		// No overall timeout: event streams stay open; each fault request has its own.
		env.HTTP = &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}
	}
	res := Result{Predicted: -1, Answer: s.info.Answer}
	r := &runner{env: env}
	defer r.close()
	var choices []string
	for i, c := range s.info.Choices {
		choices = append(choices, fmt.Sprintf("%d) %s", i+1, c))
	}
	r.say(KindPredict, "%s %s", s.info.Question, strings.Join(choices, " "))
	if env.Predict != nil {
		res.Predicted = env.Predict(s.info)
		if res.Predicted >= 0 && res.Predicted < len(s.info.Choices) {
			r.say(KindPredict, "Your prediction: %s", s.info.Choices[res.Predicted])
		}
	}
	if err := r.connect(ctx); err != nil {
		return res, fmt.Errorf("scenario %s: %w", s.info.Name, err)
	}
	r.followAll(ctx)
	ok, summary, err := s.body(ctx, r)
	res.Passed, res.Summary = ok && err == nil, summary
	if err != nil {
		r.say(KindFail, "%s: %v", s.info.Name, err)
		return res, fmt.Errorf("scenario %s: %w", s.info.Name, err)
	}
	if res.Passed {
		r.say(KindPass, "%s", summary)
	} else {
		r.say(KindFail, "%s", summary)
	}
	r.say(KindObserve, "What Kafka does: %s", s.info.Choices[s.info.Answer])
	if res.Predicted >= 0 {
		if res.Predicted == s.info.Answer {
			r.say(KindObserve, "Your prediction was right.")
		} else {
			r.say(KindObserve, "Your prediction was not what Kafka does.")
		}
	}
	return res, nil
}
