package compose

// The classroom in the compose cluster: the ui service on 127.0.0.1:KLASSIK_UI_PORT, reading
// ZooKeeper and the brokers' HTTP listeners inside the network, and `klassik scenario` from
// the host, reaching the same listeners on their published ports.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// uiCluster is the part of the classroom's GET /api/cluster that the test reads.
type uiCluster struct {
	ZooKeeper  string `json:"zookeeper"`
	Controller struct {
		ID    int32 `json:"id"`
		Epoch int32 `json:"epoch"`
	} `json:"controller"`
	Brokers []struct {
		ID     int32  `json:"id"`
		Alive  bool   `json:"alive"`
		HTTP   string `json:"http"`
		HTTPUp bool   `json:"http_up"`
	} `json:"brokers"`
	Topics []struct {
		Name       string `json:"name"`
		Partitions []struct {
			Partition     int32   `json:"partition"`
			Leader        int32   `json:"leader"`
			ISR           []int32 `json:"isr"`
			HighWatermark *int64  `json:"high_watermark"`
		} `json:"partitions"`
	} `json:"topics"`
}

func (c uiCluster) alive() []int32 {
	var ids []int32
	for _, b := range c.Brokers {
		if b.Alive {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// getUI fetches the classroom's /api/cluster (all traffic to 127.0.0.1).
func getUI(ctx context.Context, port string) (uiCluster, error) {
	var c uiCluster
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/api/cluster", nil)
	if err != nil {
		return c, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("GET /api/cluster: %s", resp.Status)
	}
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// zkController reads /klassik/controller through the published ZooKeeper port.
func zkController(zkPort string) (int32, error) {
	conn, _, err := zk.Connect([]string{"127.0.0.1:" + zkPort}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		return -1, err
	}
	defer conn.Close()
	data, _, err := conn.Get("/klassik/controller")
	if err != nil {
		return -1, fmt.Errorf("get /klassik/controller: %w", err)
	}
	var v struct {
		BrokerID int32 `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return -1, fmt.Errorf("/klassik/controller %q: %w", data, err)
	}
	return v.BrokerID, nil
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// checkClassroom: the page's data names the controller that /controller names, three live
// brokers whose HTTP listeners the ui reaches inside the network, and the smoke topic's high
// watermarks (which only those listeners report) adding up to what was produced.
func checkClassroom(t *testing.T, ctx context.Context, env map[string]string, produced int64) {
	t.Helper()
	c := waitFor(t, ctx, 90*time.Second, "the classroom to agree with ZooKeeper", func(ctx context.Context) (uiCluster, error) {
		c, err := getUI(ctx, env["KLASSIK_UI_PORT"])
		if err != nil {
			return c, err
		}
		ctrl, err := zkController(env["KLASSIK_ZK_PORT"])
		if err != nil {
			return c, err
		}
		if c.ZooKeeper != "connected" || c.Controller.ID != ctrl {
			return c, fmt.Errorf("zookeeper %q, controller %d on the page, %d in /controller", c.ZooKeeper, c.Controller.ID, ctrl)
		}
		if ids := c.alive(); !slices.Equal(ids, []int32{1, 2, 3}) {
			return c, fmt.Errorf("live brokers on the page %v", ids)
		}
		for _, b := range c.Brokers {
			if !b.HTTPUp {
				return c, fmt.Errorf("broker %d's HTTP listener %q not reached by the ui", b.ID, b.HTTP)
			}
		}
		var hw int64
		for _, tp := range c.Topics {
			if tp.Name != topic {
				continue
			}
			for _, p := range tp.Partitions {
				if p.HighWatermark == nil {
					return c, fmt.Errorf("%s-%d: no high watermark on the page", topic, p.Partition)
				}
				hw += *p.HighWatermark
			}
		}
		if hw != produced {
			return c, fmt.Errorf("high watermarks of %s add up to %d, want %d", topic, hw, produced)
		}
		return c, nil
	})
	for _, b := range c.Brokers {
		t.Logf("classroom: broker %d alive, HTTP listener %s", b.ID, b.HTTP)
	}
	t.Logf("classroom: controller %d (epoch %d), as /controller says", c.Controller.ID, c.Controller.Epoch)
}

// klassikBin is the binary `make compose-test` builds first ($KLASSIK_BIN overrides it).
func klassikBin(t *testing.T, root string) string {
	if b := os.Getenv("KLASSIK_BIN"); b != "" {
		return b
	}
	b := filepath.Join(root, "bin", "klassik")
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("%s: %v (run make build, or make compose-test which builds it)", b, err)
	}
	return b
}

// killLeaderScenario runs `klassik scenario run kill-leader` from the host, as the README
// says: the leader of the scenario's partition really dies (its container's process
// exits), the controller elects another ISR member, the command exits 0; the classroom keeps
// answering meanwhile; then the restart policy brings the broker back and it rejoins.
func killLeaderScenario(t *testing.T, ctx context.Context, root string, env map[string]string, seeds []string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(sctx, klassikBin(t, root), "scenario", "run", "kill-leader",
		"--zookeeper", "127.0.0.1:"+env["KLASSIK_ZK_PORT"]+"/klassik", "--bootstrap-server", strings.Join(seeds, ","),
		"--predict", "2") // on a topic of its own ("classroom"), so the smoke topic's records stay the test's
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()

	// The classroom, polled while the scenario runs: it must answer every time.
	pollDone := make(chan []string)
	stopPoll := make(chan struct{})
	go func() {
		var problems []string
		for {
			select {
			case <-stopPoll:
				pollDone <- problems
				return
			case <-time.After(time.Second):
			}
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			if c, err := getUI(pctx, env["KLASSIK_UI_PORT"]); err != nil || c.ZooKeeper != "connected" || c.Controller.ID < 0 {
				problems = append(problems, fmt.Sprintf("%s: err %v, zookeeper %q, controller %d", time.Since(start).Round(time.Second), err, c.ZooKeeper, c.Controller.ID))
			}
			pcancel()
		}
	}()
	out, err := cmd.CombinedOutput()
	close(stopPoll)
	problems := <-pollDone
	took := time.Since(start)
	t.Logf("klassik scenario run kill-leader (%s):\n%s", took.Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("klassik scenario run kill-leader: %v", err)
	}
	if !strings.Contains(string(out), "\nPASS: ") {
		t.Fatalf("klassik scenario run kill-leader exited 0 without a PASS line")
	}
	if len(problems) > 0 {
		t.Errorf("the classroom did not answer while a broker died: %v", problems)
	}

	// Which broker was killed: the one the scenario named.
	var killed int32 = -1
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "POST /klassik/faults/kill to broker "); i >= 0 {
			fmt.Sscanf(l[i+len("POST /klassik/faults/kill to broker "):], "%d", &killed)
		}
	}
	if killed < 1 {
		t.Fatal("the scenario's output names no killed broker")
	}
	back := waitFor(t, ctx, 2*time.Minute, fmt.Sprintf("broker %d back (restart policy) and in every ISR", killed), func(ctx context.Context) (time.Duration, error) {
		c, err := getUI(ctx, env["KLASSIK_UI_PORT"])
		if err != nil {
			return 0, err
		}
		if ids := c.alive(); !slices.Equal(ids, []int32{1, 2, 3}) {
			return 0, fmt.Errorf("live brokers on the page %v", ids)
		}
		for _, tp := range c.Topics {
			for _, p := range tp.Partitions {
				if len(p.ISR) != 3 {
					return 0, fmt.Errorf("%s-%d: ISR %v", tp.Name, p.Partition, p.ISR)
				}
			}
		}
		return time.Since(start), nil
	})
	svc := fmt.Sprintf("kafka%d", killed)
	rc, _ := run(root, env, time.Minute, "bash", "-c", `. scripts/compose-lib.sh && compose_cmd && docker inspect -f '{{.RestartCount}}' "$(compose ps -q `+svc+`)"`)
	if strings.TrimSpace(rc) == "0" {
		t.Errorf("%s was not restarted by its restart policy (RestartCount 0)", svc)
	}
	t.Logf("kill-leader: scenario %s; broker %d back in every ISR %s after the kill; %s RestartCount %s",
		took.Round(100*time.Millisecond), killed, back.Round(100*time.Millisecond), svc, strings.TrimSpace(rc))
}

// uiScenario runs a scenario as the page's button does (POST /api/scenarios/NAME/run), so
// the ui container drives the brokers' fault endpoints inside the network, and waits for
// its result in GET /api/scenarios.
func uiScenario(t *testing.T, ctx context.Context, env map[string]string, name string, prediction int) {
	t.Helper()
	base := "http://127.0.0.1:" + env["KLASSIK_UI_PORT"]
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/scenarios/"+name+"/run",
		strings.NewReader(fmt.Sprintf(`{"prediction":%d}`, prediction)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/scenarios/%s/run: %v", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/scenarios/%s/run: %s", name, resp.Status)
	}
	type result struct {
		Passed  bool   `json:"passed"`
		Summary string `json:"summary"`
		Error   string `json:"error"`
	}
	res := waitFor(t, ctx, 4*time.Minute, "the ui's "+name+" run to finish", func(ctx context.Context) (result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/scenarios", nil)
		if err != nil {
			return result{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return result{}, err
		}
		defer resp.Body.Close()
		var doc struct {
			Running string            `json:"running"`
			Results map[string]result `json:"results"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			return result{}, err
		}
		r, ok := doc.Results[name]
		if !ok || doc.Running == name {
			return r, fmt.Errorf("running %q", doc.Running)
		}
		return r, nil
	})
	if !res.Passed {
		t.Fatalf("the ui's %s run did not pass: %s %s", name, res.Summary, res.Error)
	}
	t.Logf("the ui ran %s in %s: %s", name, time.Since(start).Round(100*time.Millisecond), res.Summary)
}
