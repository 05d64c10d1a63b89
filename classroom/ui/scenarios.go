package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/classroom/event"
)

// ScenarioInfo is one guided scenario as the page lists it. Answer is not sent to the page
// before the learner has predicted.
type ScenarioInfo struct {
	Name     string   `json:"name"`
	Summary  string   `json:"summary"`
	Question string   `json:"question"`
	Choices  []string `json:"choices"`
	Answer   int      `json:"-"`
}

// ScenarioRun is what the page sends with a run: the learner's prediction and, optionally,
// the partition to break.
type ScenarioRun struct {
	Prediction int    `json:"prediction"`
	Topic      string `json:"topic,omitempty"`
	Partition  int32  `json:"partition"`
}

// ScenarioResult is how a run ended.
type ScenarioResult struct {
	Name      string    `json:"name"`
	Passed    bool      `json:"passed"`
	Summary   string    `json:"summary"`
	Predicted int       `json:"predicted"`
	Answer    int       `json:"answer"`
	Error     string    `json:"error,omitempty"`
	Finished  time.Time `json:"finished"`
}

// Scenarios runs guided scenarios (package classroom/scenario, handed in by cmd/klassik so
// that this package needs only the contract). out takes each narrated line: its kind
// ("predict", "step", "observe", "pass", "fail") and its text.
type Scenarios interface {
	List() []ScenarioInfo
	Run(ctx context.Context, name string, run ScenarioRun, out func(kind, text string)) (ScenarioResult, error)
}

// scenarioRunner runs one scenario at a time and narrates it into the timeline.
type scenarioRunner struct {
	sc      Scenarios
	publish func(event.Event)

	mu      sync.Mutex
	running string
	results map[string]ScenarioResult
}

// scenarioTimeout bounds one run.
const scenarioTimeout = 4 * time.Minute

func (s *Server) serveScenarios(w http.ResponseWriter, r *http.Request) {
	sr := s.scenarios
	out := struct {
		Available bool                      `json:"available"`
		Scenarios []ScenarioInfo            `json:"scenarios"`
		Running   string                    `json:"running"`
		Results   map[string]ScenarioResult `json:"results"`
	}{Scenarios: []ScenarioInfo{}, Results: map[string]ScenarioResult{}}
	if sr.sc != nil {
		out.Available = true
		out.Scenarios = sr.sc.List()
	}
	sr.mu.Lock()
	out.Running = sr.running
	for k, v := range sr.results {
		out.Results[k] = v
	}
	sr.mu.Unlock()
	writeJSON(w, out)
}

// serveRun is POST /api/scenarios/NAME/run: 202 when it started, 409 while another runs.
func (s *Server) serveRun(w http.ResponseWriter, r *http.Request) {
	sr := s.scenarios
	name := r.PathValue("name")
	if sr.sc == nil {
		http.Error(w, "this classroom was built without scenarios", http.StatusNotImplemented)
		return
	}
	known := false
	for _, i := range sr.sc.List() {
		known = known || i.Name == name
	}
	if !known {
		http.Error(w, fmt.Sprintf("no scenario %q", name), http.StatusNotFound)
		return
	}
	var run ScenarioRun
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &run); err != nil {
			http.Error(w, "body must be {\"prediction\":N}", http.StatusBadRequest)
			return
		}
	}
	sr.mu.Lock()
	if sr.running != "" {
		busy := sr.running
		sr.mu.Unlock()
		http.Error(w, fmt.Sprintf("scenario %s is running; one at a time", busy), http.StatusConflict)
		return
	}
	sr.running = name
	sr.mu.Unlock()
	go sr.run(s.ctx, name, run)
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, map[string]string{"started": name})
}

func (sr *scenarioRunner) run(ctx context.Context, name string, run ScenarioRun) {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	say := func(kind, text string) {
		sr.publish(event.Event{Source: "scenario", Kind: event.Scenario, Cause: kind, Text: name + ": " + text})
	}
	res, err := sr.sc.Run(ctx, name, run, say)
	res.Name, res.Finished = name, time.Now().UTC()
	verdict := "FAIL: " + res.Summary
	switch {
	case err != nil:
		res.Passed, res.Error = false, err.Error()
		verdict = "FAIL: could not run: " + err.Error()
	case res.Passed:
		verdict = "PASS: " + res.Summary
	}
	// The result is stored before the verdict is published, so a page that asks for it on
	// seeing the verdict finds it.
	sr.mu.Lock()
	sr.running = ""
	sr.results[name] = res
	sr.mu.Unlock()
	sr.publish(event.Event{Source: "scenario", Kind: event.Scenario, Cause: VerdictCause, Text: name + ": " + verdict})
}

// VerdictCause is the cause of the one event that ends a scenario run: its text is the
// scenario's name, then "PASS: " or "FAIL: " and the summary.
const VerdictCause = "verdict"
