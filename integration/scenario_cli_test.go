package integration

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestScenarioCommand runs `klassik scenario run kill-leader` as a learner would from a
// terminal, against three brokers whose fault endpoints are on: the leader of the partition
// really dies (its process exits), the controller elects another ISR member once the dead
// broker's ZooKeeper session expires (KafkaController.onBrokerFailure), and the command
// exits 0 with its verdict. A name the catalog lacks exits 2 without touching the cluster.
func TestScenarioCommand(t *testing.T) {
	if out, err := exec.Command(klassikBin, "scenario", "run", "no-such-scenario").CombinedOutput(); exitCode(err) != 2 ||
		!strings.Contains(string(out), `no scenario "no-such-scenario"`) {
		t.Fatalf("unknown scenario: exit %d, output:\n%s", exitCode(err), out)
	}
	out, err := exec.Command(klassikBin, "scenario", "list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kill-leader") || strings.Count(string(out), "\n") != 10 {
		t.Fatalf("scenario list: %v\n%s", err, out)
	}

	c := NewCluster(t, Brokers(3), ClassroomBrokers())
	c.WaitForBrokers(3)
	const topic = "scenario-cli"
	c.CreateTopic(t, topic, 1, 3, nil)
	var before PartitionState
	eventually(t, 30*time.Second, func() error {
		var err error
		before, err = c.ZKPartitionState(t, topic, 0)
		if err == nil && len(before.ISR) != 3 {
			err = fmt.Errorf("ISR %v", before.ISR)
		}
		return err
	})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, klassikBin, "scenario", "run", "kill-leader", "--zookeeper", c.ZKConnect(),
		"--bootstrap-server", c.BootstrapServers(), "--topic", topic, "--partition", "0", "--predict", "2")
	start := time.Now()
	out, err = cmd.CombinedOutput()
	t.Logf("klassik scenario run kill-leader (%s, exit %d):\n%s", time.Since(start).Round(time.Millisecond), exitCode(err), out)
	if err != nil {
		t.Fatalf("scenario run kill-leader: %v", err)
	}
	for _, want := range []string{"PASS: ", "Your prediction was right.", "POST /klassik/faults/kill to broker"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// What the scenario claimed, checked here: the old leader's process is gone and another
	// replica from the ISR leads with a higher leader epoch.
	old := c.Broker(before.Leader)
	if _, exited := old.Wait(10 * time.Second); !exited {
		t.Errorf("broker %d (the leader before) is still running", before.Leader)
	}
	after, err := c.ZKPartitionState(t, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after.Leader == before.Leader || !slices.Contains(before.ISR, after.Leader) || after.LeaderEpoch <= before.LeaderEpoch {
		t.Errorf("partition state before %+v, after %+v: want a new leader from the old ISR with a higher epoch", before, after)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
