package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// scenarioResults is GET /api/scenarios as the page reads it.
type scenarioResults struct {
	Available bool `json:"available"`
	Scenarios []struct {
		Name string `json:"name"`
	} `json:"scenarios"`
	Running string `json:"running"`
	Results map[string]struct {
		Passed  bool   `json:"passed"`
		Summary string `json:"summary"`
		Error   string `json:"error"`
	} `json:"results"`
}

func getScenarios(t *testing.T, ui *UI) scenarioResults {
	t.Helper()
	resp, err := http.Get(ui.URL + "/api/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s scenarioResults
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("GET /api/scenarios: %v", err)
	}
	return s
}

// TestClassroomScenarios runs every guided scenario the way a learner does: on the classroom
// page in Chromium it opens the scenario, picks a prediction, presses "Run it", and waits for
// the outcome the scenario checked against what Kafka does. The faults are real (the broker
// process dies, its session expires, its fetcher stops), so between scenarios the test plays
// the supervisor and starts every broker a scenario killed or stopped, then waits until every
// partition has its full ISR again. Each scenario's page is kept as a screenshot before it
// runs and after its outcome.
func TestClassroomScenarios(t *testing.T) {
	c := NewCluster(t, Brokers(3), ClassroomBrokers(),
		BrokerConfig("replica.lag.time.max.ms", 4000))
	c.WaitForController(t)
	ui := c.StartUI(t)
	page := OpenPage(t, ui.URL)
	page.WaitFor(30*time.Second, func() error { return agreesWithZooKeeper(t, c, page) })

	listed := getScenarios(t, ui)
	if !listed.Available || len(listed.Scenarios) == 0 {
		t.Fatalf("the classroom lists no scenarios: %+v", listed)
	}
	var names []string
	for _, s := range listed.Scenarios {
		names = append(names, s.Name)
	}
	for _, want := range []string{"kill-leader", "kill-controller", "stop-broker", "expire-session",
		"slow-follower", "below-min-isr", "unclean-election", "preferred-leader-election", "group-rebalance",
		"kill-transaction-coordinator"} {
		if !slices.Contains(names, want) {
			t.Errorf("the classroom does not list the scenario %s (it lists %v)", want, names)
		}
	}

	var report []string
	for _, name := range names {
		start := time.Now()
		btn := fmt.Sprintf(`button[data-scenario=%q]`, name)
		if err := page.Run(10*time.Second,
			chromedp.Click(btn, chromedp.ByQuery),
			chromedp.WaitVisible(`#scenario-box`, chromedp.ByQuery),
			chromedp.Click(`#sc-choices input[data-choice="0"]`, chromedp.ByQuery),
		); err != nil {
			t.Fatalf("%s: opening it on the page: %v", name, err)
		}
		page.Screenshot("scenario-" + name + "-before")
		if err := page.Run(10*time.Second, chromedp.Click(`#sc-run`, chromedp.ByQuery)); err != nil {
			t.Fatalf("%s: pressing Run it: %v", name, err)
		}
		var outcome, text string
		page.WaitFor(5*time.Minute, func() error {
			if err := page.Eval(`(document.querySelector("#sc-result[data-outcome]:not([hidden])") || {}).dataset?.outcome || ""`, &outcome); err != nil {
				return err
			}
			if outcome == "" {
				return fmt.Errorf("%s: no outcome on the page yet", name)
			}
			return page.Eval(`document.querySelector("#sc-result").textContent`, &text)
		})
		var narration []string
		if err := page.Eval(`[...document.querySelectorAll("#sc-narration li")].map(e => e.textContent)`, &narration); err != nil {
			t.Fatal(err)
		}
		page.Screenshot("scenario-" + name + "-after")
		res := getScenarios(t, ui).Results[name]
		took := time.Since(start).Round(100 * time.Millisecond)
		t.Logf("SCENARIO %s: outcome %s in %v: %s", name, outcome, took, res.Summary)
		for _, l := range narration {
			t.Logf("    %s", l)
		}
		report = append(report, fmt.Sprintf("%s: %s (%v) %s", name, outcome, took, res.Summary))
		switch {
		case outcome != "pass" || !res.Passed:
			t.Errorf("%s: outcome %q on the page (%s), /api/scenarios says passed=%v %s %s", name, outcome, text, res.Passed, res.Summary, res.Error)
		case len(narration) < 3:
			t.Errorf("%s: the page narrated only %d lines: %q", name, len(narration), narration)
		}
		// Close the box, as a learner would before the next one.
		if err := page.Run(10*time.Second, chromedp.Click(`#sc-cancel`, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		if revived := c.ReviveExited(); len(revived) > 0 {
			t.Logf("%s: started again the brokers it killed or stopped: %v", name, revived)
		}
		c.WaitForFullISR(t, 90*time.Second)
	}
	t.Logf("scenarios:\n%s", strings.Join(report, "\n"))
	page.WaitFor(30*time.Second, func() error { return agreesWithZooKeeper(t, c, page) })
}
