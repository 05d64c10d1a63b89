package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// metricsPort is the port of broker id's metrics.listener, from its registration (jmx_port).
func metricsPort(t *testing.T, c *Cluster, id int32) int {
	t.Helper()
	data, _ := c.ZKGet(t, fmt.Sprintf("/brokers/ids/%d", id))
	var reg struct {
		JMXPort int `json:"jmx_port"`
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.JMXPort <= 0 {
		t.Fatalf("broker %d registration %q: no metrics port (%v)", id, data, err)
	}
	return reg.JMXPort
}

// readinessProbe runs what deploy/kubernetes/klassik.yaml's readinessProbe runs, against a
// broker's metrics.listener port.
func readinessProbe(port int) (int, string) {
	out, err := exec.Command(klassikBin, "healthcheck", "--http", fmt.Sprintf("http://127.0.0.1:%d/healthz", port), "--timeout-ms", "5000").CombinedOutput()
	return exitCode(err), strings.TrimSpace(string(out))
}

// The Kubernetes readiness probe is `klassik healthcheck --http .../healthz` on the broker's
// metrics.listener: on a real cluster it must pass on every broker, the controller included
// (each is in the metadata the controller sent it), fail once the broker is gone, and pass
// again after a restart, so that a rolling update moves on only when the restarted broker is
// back in the controller's metadata.
func TestReadinessProbeOnRealBrokers(t *testing.T) {
	c := NewCluster(t, Brokers(3), BrokerConfig("metrics.listener", "127.0.0.1:0"))
	ports := map[int32]int{}
	for _, b := range c.Brokers() {
		ports[b.ID] = metricsPort(t, c, b.ID)
	}
	for _, b := range c.Brokers() {
		eventually(t, 60*time.Second, func() error {
			if code, out := readinessProbe(ports[b.ID]); code != 0 {
				return fmt.Errorf("broker %d: exit %d: %s", b.ID, code, out)
			}
			return nil
		})
	}
	if code, out := readinessProbe(ports[2]); !strings.Contains(out, "answered 200 OK: ok") {
		t.Fatalf("broker 2: exit %d: %s", code, out)
	}

	c.StopBroker(2)
	if code, out := readinessProbe(ports[2]); code != 1 || !strings.HasPrefix(out, "unhealthy: GET ") {
		t.Errorf("stopped broker 2: exit %d: %s, want 1 and unhealthy", code, out)
	}
	c.StartBroker(2)
	port := metricsPort(t, c, 2) // 127.0.0.1:0 again: a new port
	eventually(t, 60*time.Second, func() error {
		if code, out := readinessProbe(port); code != 0 {
			return fmt.Errorf("restarted broker 2: exit %d: %s", code, out)
		}
		return nil
	})
}
