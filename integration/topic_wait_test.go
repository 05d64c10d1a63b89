package integration

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTopicChangesWaitForEveryBroker: CreateTopics, CreatePartitions and DeleteTopics answer
// once every live broker's own Metadata shows the change (issue 14, item 7), so a client that
// turns to any broker the moment it is told never hears "unknown topic" or sees a deleted
// topic. One broker is made to lag: it applies each request from the controller a second late
// (the delay-controller-requests fault). The request goes to a third broker, neither the
// controller nor the lagging one. When the lag outlasts the request's timeout, the answer is
// REQUEST_TIMED_OUT, and the change still completes.
func TestTopicChangesWaitForEveryBroker(t *testing.T) {
	c := NewCluster(t, Brokers(3), ClassroomBrokers())
	ctrl := c.WaitForController(t)
	var lagging, asked int32 = -1, -1
	for _, b := range c.Brokers() {
		switch {
		case b.ID == ctrl:
		case lagging < 0:
			lagging = b.ID
		default:
			asked = b.ID
		}
	}
	var probes []*metadataProbe
	for _, b := range c.Brokers() {
		p, err := newMetadataProbe(b.ID, b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		probes = append(probes, p)
	}
	raw, err := DialRaw(c.brokerByID(asked).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	everyBroker := func(what, topic string, partitions int, present bool) {
		t.Helper()
		for _, p := range probes {
			ls, err := p.leaders(topic)
			if err != nil {
				t.Fatalf("%s: broker %d: %v", what, p.id, err)
			}
			ok := ls == nil
			if present {
				ok = len(ls) == partitions
				for _, l := range ls {
					ok = ok && l >= 0
				}
			}
			if !ok {
				t.Fatalf("%s answered, but broker %d lists %s as %v (want %d partitions with leaders: %v)", what, p.id, topic, ls, partitions, present)
			}
		}
	}

	faultPost(t, c, lagging, "delay-controller-requests?delay_ms=1000&duration_ms=120000")
	t.Logf("broker %d applies the controller's requests 1 s late; asking broker %d (controller %d)", lagging, asked, ctrl)

	const topic = "wait-everywhere"
	create := kmsg.NewPtrCreateTopicsRequest()
	create.SetVersion(5)
	create.TimeoutMillis = 30000
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = topic, 3, 3
	create.Topics = append(create.Topics, ct)
	start := time.Now()
	resp, err := raw.Request(create, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != 0 {
		t.Fatalf("CreateTopics: %v", kerr.ErrorForCode(code))
	}
	t.Logf("CreateTopics answered after %v", time.Since(start))
	everyBroker("CreateTopics", topic, 3, true)

	grow := kmsg.NewPtrCreatePartitionsRequest()
	grow.SetVersion(2)
	grow.TimeoutMillis = 30000
	gt := kmsg.NewCreatePartitionsRequestTopic()
	gt.Topic, gt.Count = topic, 5
	grow.Topics = append(grow.Topics, gt)
	start = time.Now()
	resp, err = raw.Request(grow, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode; code != 0 {
		t.Fatalf("CreatePartitions: %v", kerr.ErrorForCode(code))
	}
	t.Logf("CreatePartitions answered after %v", time.Since(start))
	everyBroker("CreatePartitions", topic, 5, true)

	del := kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(4)
	del.TimeoutMillis = 30000
	del.TopicNames = []string{topic}
	start = time.Now()
	resp, err = raw.Request(del, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode; code != 0 {
		t.Fatalf("DeleteTopics: %v", kerr.ErrorForCode(code))
	}
	t.Logf("DeleteTopics answered after %v", time.Since(start))
	everyBroker("DeleteTopics", topic, 0, false)

	// A lag longer than the request's timeout: REQUEST_TIMED_OUT, and the topic is created
	// anyway, as in Kafka.
	faultPost(t, c, lagging, "delay-controller-requests?delay_ms=4000&duration_ms=120000")
	create.Topics[0].Topic = "wait-timeout"
	create.TimeoutMillis = 1500
	start = time.Now()
	resp, err = raw.Request(create, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != kerr.RequestTimedOut.Code {
		t.Fatalf("CreateTopics with timeout 1500 ms behind a 4 s lag: %v, want REQUEST_TIMED_OUT", kerr.ErrorForCode(code))
	}
	if took < 1400*time.Millisecond || took > 10*time.Second {
		t.Fatalf("REQUEST_TIMED_OUT after %v, want about the request's 1500 ms", took)
	}
	faultPost(t, c, lagging, "delay-controller-requests?delay_ms=0&duration_ms=1")
	for _, p := range probes {
		if _, err := p.waitFor("wait-timeout", 3, true, time.Now(), 60*time.Second); err != nil {
			t.Fatalf("broker %d never listed the timed-out topic: %v", p.id, err)
		}
	}
}
