package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pageView is what a learner reads off the classroom page, through its test hooks.
type pageView struct {
	Brokers []struct {
		ID         int32  `json:"id"`
		Alive      string `json:"alive"`
		Controller string `json:"controller"`
	} `json:"brokers"`
	Partitions []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Leader    int32  `json:"leader"`
		ISR       string `json:"isr"`
	} `json:"partitions"`
	Timeline []struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	} `json:"timeline"`
}

const readPage = `JSON.stringify({
  brokers: [...document.querySelectorAll("[data-broker-id]")].map(e => ({id: +e.dataset.brokerId, alive: e.dataset.alive, controller: e.dataset.controller || ""})),
  partitions: [...document.querySelectorAll("[data-topic][data-partition]")].map(e => ({topic: e.dataset.topic, partition: +e.dataset.partition, leader: +e.dataset.leader, isr: e.dataset.isr})),
  timeline: [...document.querySelectorAll("#timeline li")].map(e => ({kind: e.dataset.kind, text: e.textContent}))
})`

func (p *Page) view() (pageView, error) {
	var s string
	var v pageView
	if err := p.Eval(readPage, &s); err != nil {
		return v, err
	}
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

func (v pageView) controller() int32 {
	for _, b := range v.Brokers {
		if b.Controller == "true" {
			return b.ID
		}
	}
	return -1
}

func (v pageView) alive(id int32) string {
	for _, b := range v.Brokers {
		if b.ID == id {
			return b.Alive
		}
	}
	return "absent"
}

// agreesWithZooKeeper checks the page against ZooKeeper itself: the live brokers, the
// controller, and every partition's leader and ISR against its state znode.
func agreesWithZooKeeper(t *testing.T, c *Cluster, p *Page) error {
	v, err := p.view()
	if err != nil {
		return err
	}
	zc := c.ZK()
	ids, _, err := zc.Children(c.Path("/brokers/ids"))
	if err != nil {
		return err
	}
	for _, s := range ids {
		id, _ := strconv.Atoi(s)
		if got := v.alive(int32(id)); got != "true" {
			return fmt.Errorf("broker %d is registered in ZooKeeper; the page shows data-alive=%s", id, got)
		}
	}
	for _, b := range v.Brokers {
		if b.Alive == "true" && !slices.Contains(ids, strconv.Itoa(int(b.ID))) {
			return fmt.Errorf("the page shows broker %d alive; /brokers/ids has %v", b.ID, ids)
		}
	}
	data, _, err := zc.Get(c.Path("/controller"))
	if err != nil {
		return fmt.Errorf("/controller: %w", err)
	}
	var ctl struct {
		BrokerID int32 `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &ctl); err != nil {
		return err
	}
	if got := v.controller(); got != ctl.BrokerID {
		return fmt.Errorf("/controller names broker %d; the page marks %d", ctl.BrokerID, got)
	}
	topics, _, err := zc.Children(c.Path("/brokers/topics"))
	if err != nil {
		return err
	}
	n := 0
	for _, topic := range topics {
		parts, _, err := zc.Children(c.Path("/brokers/topics/" + topic + "/partitions"))
		if err != nil {
			return err
		}
		for _, ps := range parts {
			pn, _ := strconv.Atoi(ps)
			st, err := c.ZKPartitionState(t, topic, int32(pn))
			if err != nil {
				return err
			}
			n++
			found := false
			for _, row := range v.Partitions {
				if row.Topic != topic || row.Partition != int32(pn) {
					continue
				}
				found = true
				want := joinIDs(st.ISR)
				if row.Leader != st.Leader || row.ISR != want {
					return fmt.Errorf("%s-%d: state znode says leader %d ISR %s; the page shows leader %d ISR %s",
						topic, pn, st.Leader, want, row.Leader, row.ISR)
				}
			}
			if !found {
				return fmt.Errorf("%s-%d is in ZooKeeper, not on the page", topic, pn)
			}
		}
	}
	if len(v.Partitions) != n {
		return fmt.Errorf("the page shows %d partitions; ZooKeeper has %d", len(v.Partitions), n)
	}
	return nil
}

func joinIDs(ids []int32) string {
	var s []string
	for _, id := range ids {
		s = append(s, strconv.Itoa(int(id)))
	}
	return strings.Join(s, ",")
}

// zkCtime is when ZooKeeper created path (its stat's ctime).
func zkCtime(t *testing.T, c *Cluster, path string) time.Time {
	_, st := c.ZKGet(t, path)
	return time.UnixMilli(st.Ctime)
}

// TestClassroomPageFollowsZooKeeperThroughFailover opens the classroom in Chromium and checks,
// without ever reloading the page, that it agrees with ZooKeeper; that after kill -9 of the
// controller it shows the new controller (KafkaController's election through /controller),
// the lost broker and the election in the timeline; and that it keeps working after the loss
// of one broker and one ZooKeeper node of three. It measures the delay from a ZooKeeper change
// to the page.
func TestClassroomPageFollowsZooKeeperThroughFailover(t *testing.T) {
	c := NewCluster(t, Brokers(3), ZooKeepers(3), ClassroomBrokers())
	c.CreateTopic(t, "lesson", 3, 3, nil)
	first := c.WaitForController(t)
	ui := c.StartUI(t)
	page := OpenPage(t, ui.URL)
	page.WaitFor(30*time.Second, func() error { return agreesWithZooKeeper(t, c, page) })
	page.WaitFor(20*time.Second, func() error { return showsOffsets(page) })
	page.Screenshot("classroom-before-failover")

	// kill -9 the controller: its /controller znode lasts until its session times out.
	c.KillBroker(first)
	var next int32 = -1
	eventually(t, 30*time.Second, func() error {
		data, _, err := c.ZK().Get(c.Path("/controller"))
		if err != nil {
			return err
		}
		var ctl struct {
			BrokerID int32 `json:"brokerid"`
		}
		if err := json.Unmarshal(data, &ctl); err != nil || ctl.BrokerID == first {
			return fmt.Errorf("/controller still %q", data)
		}
		next = ctl.BrokerID
		return nil
	})
	elected := zkCtime(t, c, "/controller")
	shown := page.WaitFor(10*time.Second, func() error {
		v, err := page.view()
		if err != nil {
			return err
		}
		if v.controller() != next {
			return fmt.Errorf("the page marks controller %d, ZooKeeper says %d", v.controller(), next)
		}
		return nil
	})
	t.Logf("MEASURE zk-to-page: new /controller (broker %d) created -> page marks it: %v", next, shown.Sub(elected).Round(time.Millisecond))
	page.WaitFor(10*time.Second, func() error {
		v, err := page.view()
		if err != nil {
			return err
		}
		if a := v.alive(first); a != "false" {
			return fmt.Errorf("killed broker %d shows data-alive=%s", first, a)
		}
		for _, e := range v.Timeline {
			if e.Kind == "controller-elected" && strings.Contains(e.Text, fmt.Sprintf("Broker %d", next)) {
				return nil
			}
		}
		return fmt.Errorf("no controller-elected line for broker %d in the timeline", next)
	})
	page.WaitFor(30*time.Second, func() error { return agreesWithZooKeeper(t, c, page) })
	page.Screenshot("classroom-after-controller-kill")

	// The broker comes back: a new registration, a new broker epoch.
	c.StartBroker(first)
	registered := zkCtime(t, c, fmt.Sprintf("/brokers/ids/%d", first))
	shown = page.WaitFor(10*time.Second, func() error {
		v, err := page.view()
		if err != nil {
			return err
		}
		if a := v.alive(first); a != "true" {
			return fmt.Errorf("restarted broker %d shows data-alive=%s", first, a)
		}
		return nil
	})
	t.Logf("MEASURE zk-to-page: /brokers/ids/%d registered -> page shows it alive: %v", first, shown.Sub(registered).Round(time.Millisecond))

	// One ZooKeeper node of three goes away, then another broker dies: the page still follows.
	c.StopZooKeeperNode(1)
	victim := int32(1)
	for _, b := range c.Brokers() {
		if b.ID != next {
			victim = b.ID
			break
		}
	}
	c.KillBroker(victim)
	page.WaitFor(40*time.Second, func() error {
		v, err := page.view()
		if err != nil {
			return err
		}
		if a := v.alive(victim); a != "false" {
			return fmt.Errorf("killed broker %d shows data-alive=%s with ZooKeeper node 1 down", victim, a)
		}
		return agreesWithZooKeeper(t, c, page)
	})
	v, err := page.view()
	if err != nil {
		t.Fatal(err)
	}
	var lost bool
	for _, e := range v.Timeline {
		lost = lost || e.Kind == "broker-lost"
	}
	if !lost {
		t.Errorf("the timeline has no broker-lost line")
	}
	page.Screenshot("classroom-after-zk-node-and-broker-loss")
}

// showsOffsets checks that the page shows a high watermark and log end offsets for every
// partition of "lesson", as its leader reports them on its HTTP listener.
func showsOffsets(p *Page) error {
	var n int
	err := p.Eval(`[...document.querySelectorAll('tr[data-topic="lesson"]')].filter(r => r.cells[6].textContent !== "–" && r.cells[7].textContent.includes(":")).length`, &n)
	if err != nil {
		return err
	}
	if n != 3 {
		return fmt.Errorf("%d of 3 partitions of lesson show a high watermark and log end offsets", n)
	}
	return nil
}
