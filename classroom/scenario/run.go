package scenario

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runner is one run of a scenario: its environment and its narration.
type runner struct {
	env Env
}

func (r *runner) say(kind, format string, args ...any) {
	r.env.Out(Line{Time: time.Now().UTC(), Kind: kind, Text: fmt.Sprintf(format, args...)})
}

func run(ctx context.Context, s scenario, env Env) (Result, error) {
	if env.Out == nil {
		env.Out = func(Line) {}
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 0}
	}
	res := Result{Predicted: -1, Answer: s.info.Answer}
	r := &runner{env: env}
	r.say(KindPredict, "%s", s.info.Question)
	if env.Predict != nil {
		res.Predicted = env.Predict(s.info)
	}
	ok, summary, err := s.body(ctx, r)
	res.Passed, res.Summary = ok && err == nil, summary
	if err != nil {
		return res, fmt.Errorf("scenario %s: %w", s.info.Name, err)
	}
	return res, nil
}
