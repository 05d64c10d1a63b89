package integration

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers for the security tests' non-Go clients: kcat (librdkafka), confluent-kafka-python
// (librdkafka) and kafka-python (pure Python).

// runSecurePython runs testdata/<script> (confluent_secure.py or kafkapython_secure.py) with
// the client's security configuration and returns what it reported.
func runSecurePython(t *testing.T, script, bootstrap, topic string, n int, security map[string]any) pythonResult {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(security)
	out := runTool(t, 120*time.Second, "", "/usr/bin/python3", path, bootstrap, topic, fmt.Sprint(n), string(cfg))
	var res pythonResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%s printed no JSON result: %v\n%s", script, err, out)
	}
	return res
}

// checkPythonRoundTrip: every message acknowledged at offsets 0..n-1 and read back in order.
func checkPythonRoundTrip(t *testing.T, res pythonResult, n int, keyFmt, valueFmt string) {
	t.Helper()
	if len(res.Errors) > 0 {
		t.Fatalf("%s reported %d errors, first: %s", res.Client, len(res.Errors), res.Errors[0])
	}
	if len(res.Acked) != n || len(res.Records) != n {
		t.Fatalf("%s: %d acknowledged and %d read back of %d", res.Client, len(res.Acked), len(res.Records), n)
	}
	slices.SortFunc(res.Acked, func(a, b [2]int64) int { return int(a[1] - b[1]) })
	for i := range n {
		if res.Acked[i] != [2]int64{0, int64(i)} {
			t.Fatalf("%s: acknowledgement %d is %v", res.Client, i, res.Acked[i])
		}
		r := res.Records[i]
		if fmt.Sprint(r[:4]) != fmt.Sprint([]any{float64(0), float64(i), fmt.Sprintf(keyFmt, i), fmt.Sprintf(valueFmt, i)}) {
			t.Fatalf("%s: message %d read as %v", res.Client, i, r)
		}
	}
}

// kcatRoundTrip produces n lines with kcat and reads them back (-e stops at the end), both
// with the extra -X settings.
func kcatRoundTrip(t *testing.T, bootstrap, topic string, n int, x ...string) {
	t.Helper()
	var in strings.Builder
	var want []string
	for i := range n {
		fmt.Fprintf(&in, "key-%d|kcat value %d\n", i, i)
		want = append(want, fmt.Sprintf("%d|key-%d|kcat value %d", i, i, i))
	}
	args := []string{"-b", bootstrap, "-t", topic}
	for _, kv := range x {
		args = append(args, "-X", kv)
	}
	runTool(t, 60*time.Second, in.String(), "kcat", append(args, "-P", "-p", "0", "-K", "|", "-X", "acks=all")...)
	out := runTool(t, 60*time.Second, "", "kcat", append(args, "-C", "-p", "0", "-o", "beginning", "-e", "-K", "|", "-f", "%o|%k|%s\n")...)
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("kcat read back %d lines, want %d; first: %q", len(got), n, got[0])
	}
}

// TestTLSOtherClients: kcat, confluent-kafka-python and kafka-python over TLS with the test's
// CA, with and without a client certificate (mutual TLS).
func TestTLSOtherClients(t *testing.T) {
	c, ca, _ := tlsCluster(t)
	addr := c.Broker(1).ListenerAddr("SSL")
	client := ca.Issue(t, "client", pkix.Name{CommonName: "carol", OrganizationalUnit: []string{"clients"}})

	t.Run("kcat", func(t *testing.T) {
		topic := topicName(t, "tls")
		c.CreateTopic(t, topic, 1, 1, nil)
		kcatRoundTrip(t, addr, topic, 50, "security.protocol=SSL", "ssl.ca.location="+ca.PEMPath)
	})
	t.Run("kcat mutual TLS", func(t *testing.T) {
		topic := topicName(t, "mtls")
		c.CreateTopic(t, topic, 1, 1, nil)
		kcatRoundTrip(t, addr, topic, 50, "security.protocol=SSL", "ssl.ca.location="+ca.PEMPath,
			"ssl.certificate.location="+client.CertPath, "ssl.key.location="+client.KeyPath)
	})
	t.Run("confluent-kafka-python", func(t *testing.T) {
		topic := topicName(t, "tls")
		c.CreateTopic(t, topic, 1, 1, nil)
		res := runSecurePython(t, "confluent_secure.py", addr, topic, 100, map[string]any{
			"security.protocol": "SSL", "ssl.ca.location": ca.PEMPath,
			"ssl.certificate.location": client.CertPath, "ssl.key.location": client.KeyPath,
		})
		checkPythonRoundTrip(t, res, 100, "ck-%d", "confluent value %d")
	})
	t.Run("kafka-python", func(t *testing.T) {
		topic := topicName(t, "tls")
		c.CreateTopic(t, topic, 1, 1, nil)
		res := runSecurePython(t, "kafkapython_secure.py", addr, topic, 100, map[string]any{
			"security_protocol": "SSL", "ssl_cafile": ca.PEMPath,
			"ssl_certfile": client.CertPath, "ssl_keyfile": client.KeyPath,
		})
		checkPythonRoundTrip(t, res, 100, "pk-%d", "kafka-python value %d")
	})
}

// runToolErr runs a command that is expected to fail, within a minute, and returns its
// combined output and error.
func runToolErr(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within a minute", name, strings.Join(args, " "))
	}
	return string(out), err
}

// TestSASLOtherClients: kcat, confluent-kafka-python (librdkafka: SaslHandshake v1 and
// SaslAuthenticate) and kafka-python (SaslHandshake v0 and raw tokens) with SCRAM-SHA-256,
// SCRAM-SHA-512 and PLAIN: the right password in, a wrong one out.
func TestSASLOtherClients(t *testing.T) {
	c, ca := saslCluster(t)
	b := c.Broker(1)
	for _, sc := range saslCases {
		for _, listener := range []string{"SASL_SSL", "SASL_PLAINTEXT"} {
			addr := b.ListenerAddr(listener)
			x := []string{"security.protocol=" + listener, "sasl.mechanisms=" + sc.mech, "sasl.username=" + sc.user}
			confluent := map[string]any{"security.protocol": listener, "sasl.mechanisms": sc.mech, "sasl.username": sc.user}
			kpython := map[string]any{"security_protocol": listener, "sasl_mechanism": sc.mech, "sasl_plain_username": sc.user}
			if listener == "SASL_SSL" {
				x = append(x, "ssl.ca.location="+ca.PEMPath)
				confluent["ssl.ca.location"] = ca.PEMPath
				kpython["ssl_cafile"] = ca.PEMPath
			}
			t.Run("kcat/"+listener+"/"+sc.mech, func(t *testing.T) {
				topic := topicName(t, "sasl")
				c.CreateTopic(t, topic, 1, 1, nil)
				kcatRoundTrip(t, addr, topic, 30, append(x, "sasl.password="+sc.pass)...)
				if listener != "SASL_SSL" {
					return // the wrong password once per mechanism: librdkafka waits out -m for it
				}
				args := []string{"-b", addr, "-L", "-m", "4"}
				for _, kv := range append(x, "sasl.password=wrong") {
					args = append(args, "-X", kv)
				}
				out, err := runToolErr(t, "kcat", args...)
				if err == nil || !strings.Contains(out, "Authentication failed during authentication due to invalid credentials with SASL mechanism "+sc.mech) &&
					!strings.Contains(out, "Invalid username or password") {
					t.Fatalf("kcat with a wrong password: %v\n%s", err, out)
				}
			})
			t.Run("confluent-kafka-python/"+listener+"/"+sc.mech, func(t *testing.T) {
				topic := topicName(t, "sasl")
				c.CreateTopic(t, topic, 1, 1, nil)
				good := withKey(confluent, "sasl.password", sc.pass)
				checkPythonRoundTrip(t, runSecurePython(t, "confluent_secure.py", addr, topic, 50, good), 50, "ck-%d", "confluent value %d")
				if listener != "SASL_SSL" {
					return
				}
				res := runSecurePython(t, "confluent_secure.py", addr, topic, 1, withKey(confluent, "sasl.password", "wrong"))
				if len(res.Acked) != 0 || !strings.Contains(strings.Join(res.Errors, "\n"), "Authentication failed") {
					t.Fatalf("confluent-kafka with a wrong password: acked %v, errors %v", res.Acked, res.Errors)
				}
			})
			t.Run("kafka-python/"+listener+"/"+sc.mech, func(t *testing.T) {
				topic := topicName(t, "sasl")
				c.CreateTopic(t, topic, 1, 1, nil)
				good := withKey(kpython, "sasl_plain_password", sc.pass)
				checkPythonRoundTrip(t, runSecurePython(t, "kafkapython_secure.py", addr, topic, 50, good), 50, "pk-%d", "kafka-python value %d")
				res := runSecurePython(t, "kafkapython_secure.py", addr, topic, 1, withKey(kpython, "sasl_plain_password", "wrong"))
				if len(res.Acked) != 0 || len(res.Errors) == 0 {
					t.Fatalf("kafka-python with a wrong password: acked %v, errors %v", res.Acked, res.Errors)
				}
			})
		}
	}
}

// withKey copies m with k set to v.
func withKey(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

// authCount is one listener's kafka_server_socket_server_metrics_<kind>_authentication_total
// on broker id (kind "successful" or "failed").
func authCount(t *testing.T, c *Cluster, id int32, kind, listener string) int64 {
	t.Helper()
	name := fmt.Sprintf(`kafka_server_socket_server_metrics_%s_authentication_total{listener=%q}`, kind, listener)
	v, ok := scrapeMetrics(t, c, id)[name]
	if !ok {
		t.Fatalf("broker %d /metrics has no %s", id, name)
	}
	return int64(v)
}
