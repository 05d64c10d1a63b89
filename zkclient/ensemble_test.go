package zkclient

import (
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient/zktest"
)

// A three-node ensemble keeps serving, and the session survives, when one node dies.
func TestEnsembleNodeLoss(t *testing.T) {
	e := zktest.StartEnsemble(t, 3)
	c := dial(t, e.Connect()+"/klassik", 10*time.Second)
	if err := c.EnsurePersistentPaths(); err != nil {
		t.Fatal(err)
	}
	epoch, err := c.RegisterBroker(BrokerInfo{ID: 1, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	for i := range e.Nodes {
		e.StopNode(i)
		eventually(t, "a write with one node down", func() bool {
			_, err := c.GenerateBrokerSequenceID()
			return err == nil
		})
		bs, err := c.Brokers(false)
		if err != nil || bs[1].Epoch != epoch {
			t.Fatalf("node %d down: brokers %+v %v", i, bs, err)
		}
		e.RestartNode(i)
		e.WaitQuorum()
	}
	if c.SessionID() != sid {
		t.Fatalf("session changed from %x to %x", sid, c.SessionID())
	}
}
