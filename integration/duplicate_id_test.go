package integration

import (
	"regexp"
	"testing"
	"time"
)

// TestDuplicateBrokerID: a broker registers itself with an ephemeral /brokers/ids/<id>; when
// another live session already holds it, Kafka's registration fails ("node already exists")
// and the second broker exits with an error. The first broker keeps its registration and
// keeps serving.
func TestDuplicateBrokerID(t *testing.T) {
	c := NewCluster(t)
	_, before := c.ZKGet(t, "/brokers/ids/1")

	dup := c.StartExtraBroker(1)
	code, exited := dup.Wait(60 * time.Second)
	if !exited {
		t.Fatalf("a second broker with broker.id=1 still runs after 60s; its log:\n%s", tailFile(dup.StderrPath(), 30))
	}
	if code == 0 {
		t.Fatalf("a second broker with broker.id=1 exited 0, want a non-zero exit code; its log:\n%s", tailFile(dup.StderrPath(), 30))
	}
	msg := regexp.MustCompile(`(?i)(already (registered|exists)|node ?exists|is registered|in use)`)
	if out := dup.Output(); !msg.MatchString(out) {
		t.Fatalf("the second broker's output does not say that broker.id 1 is already registered:\n%s", tailFile(dup.StderrPath(), 30))
	}

	_, after := c.ZKGet(t, "/brokers/ids/1")
	if after.EphemeralOwner != before.EphemeralOwner || after.Czxid != before.Czxid {
		t.Fatalf("/brokers/ids/1 changed owner (session 0x%x -> 0x%x, czxid %d -> %d): the first broker lost its registration",
			before.EphemeralOwner, after.EphemeralOwner, before.Czxid, after.Czxid)
	}
	c.AssertAlive(t)
	c.WaitForBrokers(1)
}
