package broker

// ControlledShutdown, key 7, versions 0-3: a broker about to stop asks the controller to move
// its leaderships away first (KIP-380 adds the broker epoch in v2). Only the active controller
// answers; others say NOT_CONTROLLER. The shutting-down side is Broker.controlledShutdown.
//
// With an authorizer it needs ClusterAction on the cluster: brokers send it.

import (
	"context"
	"errors"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/controller"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(7, 0, 3, (*Broker).handleControlledShutdown) }

func (b *Broker) handleControlledShutdown(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ControlledShutdownRequest)
	resp := r.ResponseKind().(*kmsg.ControlledShutdownResponse)
	if !b.authorizeCluster(req, authz.OpClusterAction) { // a broker's request: ClusterAction
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	if !b.ctrl.IsActive() {
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	}
	epoch := r.BrokerEpoch
	if r.Version < 2 {
		epoch = -1
	}
	remaining, err := b.ctrl.ControlledShutdown(ctx, r.BrokerID, epoch)
	switch {
	case errors.Is(err, controller.ErrNotActive), errors.Is(err, controller.ErrStopped):
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	case errors.Is(err, controller.ErrStaleBrokerEpoch):
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp, nil
	case errors.Is(err, controller.ErrBrokerNotAvailable):
		resp.ErrorCode = kerr.BrokerNotAvailable.Code
		return resp, nil
	case err != nil:
		b.log.Warn().Err(err).Int32("from", r.BrokerID).Msg("controlled shutdown")
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	for _, tp := range remaining {
		p := kmsg.NewControlledShutdownResponsePartitionsRemaining()
		p.Topic, p.Partition = tp.Topic, tp.Partition
		resp.PartitionsRemaining = append(resp.PartitionsRemaining, p)
	}
	return resp, nil
}

// controlledShutdown asks the controller, wherever it is, to move this broker's leaderships
// away, retrying until nothing is left or about 30 seconds pass (Kafka retries
// controlled.shutdown.max.retries times).
func (b *Broker) controlledShutdown() {
	deadline := time.Now().Add(30 * time.Second)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		remaining, err := b.askControlledShutdown()
		if err == nil && remaining == 0 {
			b.log.Info().Int("attempt", attempt).Msg("controlled shutdown done: no leaderships left")
			return
		}
		b.log.Info().Err(err).Int("remaining", remaining).Int("attempt", attempt).Msg("controlled shutdown not finished yet")
		time.Sleep(500 * time.Millisecond)
	}
	b.log.Warn().Msg("controlled shutdown did not finish; shutting down anyway")
}

func (b *Broker) askControlledShutdown() (int, error) {
	controllerID, err := b.zk.Controller(false)
	if err != nil {
		return -1, err
	}
	if controllerID < 0 {
		return -1, kerr.NotController
	}
	brokers, err := b.zk.Brokers(false)
	if err != nil {
		return -1, err
	}
	info, ok := brokers[controllerID]
	if !ok {
		return -1, kerr.NotController
	}
	req := kmsg.NewPtrControlledShutdownRequest()
	req.SetVersion(3)
	req.BrokerID, req.BrokerEpoch = b.cfg.BrokerID, b.epoch()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := b.channel.Send(ctx, info, req)
	if err != nil {
		return -1, err
	}
	resp := raw.(*kmsg.ControlledShutdownResponse)
	if resp.ErrorCode != 0 {
		return -1, kerr.ErrorForCode(resp.ErrorCode)
	}
	return len(resp.PartitionsRemaining), nil
}
