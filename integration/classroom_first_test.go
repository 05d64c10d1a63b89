package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestClassroomBeforeTheCluster starts `klassik ui` on an empty ZooKeeper ensemble, as docker
// compose does (the ui service waits for ZooKeeper, not for the brokers): none of the
// cluster's znodes exist, not even the chroot. When the brokers then start and register, the
// classroom must see them (its watches on the missing znodes fire on their creation) and
// name the controller that /controller names.
func TestClassroomBeforeTheCluster(t *testing.T) {
	c := NewCluster(t, Brokers(0), ClassroomBrokers(), BrokerConfig("default.replication.factor", 3),
		BrokerConfig("offsets.topic.replication.factor", 3), BrokerConfig("transaction.state.log.replication.factor", 3))
	u := c.StartUI(t)
	for id := int32(1); id <= 3; id++ {
		c.StartExtraBroker(id)
	}
	eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(u.URL + "/api/cluster")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var doc struct {
			Controller struct {
				ID int32 `json:"id"`
			} `json:"controller"`
			Brokers []struct {
				ID    int32 `json:"id"`
				Alive bool  `json:"alive"`
			} `json:"brokers"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			return err
		}
		var alive []int32
		for _, b := range doc.Brokers {
			if b.Alive {
				alive = append(alive, b.ID)
			}
		}
		if !slices.Equal(alive, []int32{1, 2, 3}) {
			return fmt.Errorf("live brokers on the page %v", alive)
		}
		data, _, err := c.ZK().Get(c.Path("/controller"))
		if err != nil {
			return fmt.Errorf("/controller: %w", err)
		}
		var ctrl struct {
			BrokerID int32 `json:"brokerid"`
		}
		if err := json.Unmarshal(data, &ctrl); err != nil {
			return err
		}
		if doc.Controller.ID != ctrl.BrokerID {
			return fmt.Errorf("controller %d on the page, %d in /controller", doc.Controller.ID, ctrl.BrokerID)
		}
		return nil
	})
}
