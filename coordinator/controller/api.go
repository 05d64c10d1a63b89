package controller

// API contract: these signatures are what broker/ uses.

import (
	"context"

	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sender sends a controller request (LeaderAndIsr, UpdateMetadata, StopReplica) to a broker
// over the Kafka protocol; the broker package implements it with wire.Client, addressing
// brokers by the inter-broker endpoint of their /brokers/ids registration.
type Sender interface {
	Send(ctx context.Context, broker zkclient.BrokerInfo, req kmsg.Request) (kmsg.Response, error)
}

// Config is what the controller needs from the broker configuration.
type Config struct {
	BrokerID                    int32
	InterBrokerListenerName     string
	UncleanLeaderElectionEnable bool // default for topics without the topic config
	DeleteTopicEnable           bool
	AutoLeaderRebalanceEnable   bool
	LeaderImbalanceCheckSeconds int
}

// Controller is Kafka's ZooKeeper-mode controller: every broker runs one; the one that wins
// /controller is active and runs the event loop.
type Controller struct{}

// New makes the controller; Run starts it.
func New(cfg Config, zk *zkclient.Client, send Sender, logger zerolog.Logger) *Controller {
	panic("unimplemented")
}

// Run takes part in the election and, while active, processes events until ctx ends.
func (c *Controller) Run(ctx context.Context) { panic("unimplemented") }

// Enqueue hands the controller a ZooKeeper event (the broker demultiplexes zkclient.Events).
func (c *Controller) Enqueue(ev zkclient.Event) { panic("unimplemented") }

// IsActive reports whether this broker is the controller now.
func (c *Controller) IsActive() bool { panic("unimplemented") }

// ControlledShutdown moves leadership away from brokerID (Kafka's ControlledShutdown API);
// it returns the partitions still led by it (empty when done).
func (c *Controller) ControlledShutdown(ctx context.Context, brokerID int32, brokerEpoch int64) ([]zkclient.TopicPartition, error) {
	panic("unimplemented")
}

// ElectionType mirrors ElectLeaders' electionType: 0 preferred, 1 unclean.
type ElectionType int8

// ElectLeaders runs a preferred or unclean election for the given partitions (all when nil),
// returning an error code per partition.
func (c *Controller) ElectLeaders(ctx context.Context, typ ElectionType, parts []zkclient.TopicPartition) (map[zkclient.TopicPartition]int16, error) {
	panic("unimplemented")
}

// AssignReplicas is Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokers):
// brokers sorted, a random (or given, when >= 0) start index and replica shift. Used by the
// broker for CreateTopics, auto-creation and CreatePartitions.
func AssignReplicas(brokers []int32, partitions int32, replicationFactor int16, startIndex, startPartition int32) (map[int32][]int32, error) {
	panic("unimplemented")
}
