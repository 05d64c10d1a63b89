package group

import (
	"fmt"

	"github.com/klassik/klassik/classroom/event"
)

// publishRebalance announces a new generation, as Kafka's GroupCoordinator logs "Stabilized
// group G generation N" (or "Group G with generation N is now empty"). Caller holds g.mu.
func (c *Coordinator) publishRebalance(g *group) {
	text := fmt.Sprintf("[GroupCoordinator %d]: Stabilized group %s generation %d (protocol %s, %d members) after %s",
		c.cfg.BrokerID, g.id, g.generation, g.protocol, len(g.members), g.lastReason)
	if len(g.members) == 0 {
		text = fmt.Sprintf("[GroupCoordinator %d]: Group %s with generation %d is now empty after %s",
			c.cfg.BrokerID, g.id, g.generation, g.lastReason)
	}
	c.cfg.Events.Publish(event.Event{Kind: event.GroupRebalance, Text: text, Cause: g.lastReason,
		Group: g.id, Generation: event.Int32(g.generation), Broker: event.Int32(c.cfg.BrokerID)})
}
