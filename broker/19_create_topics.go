package broker

// CreateTopics, key 19, versions 0-7: validate-only (v1+), error messages (v1+), the
// resulting partition count, replication factor and configs (v5+, KIP-525), topic ids (v7).
// The topic is written to ZooKeeper; the answer waits, up to the request's timeout, until the
// controller has elected leaders and every live broker's metadata shows them (topic_wait.go).
// With an authorizer: Create on the cluster or on the topic (else TOPIC_AUTHORIZATION_FAILED),
// and the configs are returned only with DescribeConfigs on the topic.

import (
	"context"
	"strings"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(19, 0, 7, (*Broker).handleCreateTopics) }

func (b *Broker) handleCreateTopics(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.CreateTopicsRequest)
	resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
	deadline := time.Now().Add(time.Duration(r.TimeoutMillis) * time.Millisecond)
	seen := map[string]int{}
	for _, t := range r.Topics {
		seen[t.Topic]++
	}
	created := map[string]int{}
	// KafkaApis: Create on the cluster, else on each topic; the resulting configs are shown
	// only with DescribeConfigs on the topic.
	clusterCreate := b.authorizeQuiet(req, authz.OpCreate, authz.ResourceCluster, authz.ClusterName)
	for _, t := range r.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		err := func() error {
			if seen[t.Topic] > 1 {
				return errorf(kerr.InvalidRequest, "topic %q appears more than once in the request", t.Topic)
			}
			if !b.ctrlKnown() {
				return kerr.NotController
			}
			if !clusterCreate && !b.authorize(req, authz.OpCreate, authz.ResourceTopic, t.Topic) {
				return errorf(kerr.TopicAuthorizationFailed, "Authorization failed.")
			}
			spec := topicSpec{name: t.Topic, partitions: t.NumPartitions, replicationFactor: t.ReplicationFactor, configs: map[string]string{}}
			if len(t.ReplicaAssignment) > 0 {
				if t.NumPartitions != -1 || t.ReplicationFactor != -1 {
					return errorf(kerr.InvalidRequest, "give either a replica assignment or partitions and replication factor, not both")
				}
				replicas := int64(0)
				for _, a := range t.ReplicaAssignment {
					replicas += int64(len(a.Replicas))
				}
				if err := checkAssignmentFits(int64(len(t.ReplicaAssignment)), replicas); err != nil {
					return err
				}
				spec.assignment = map[int32][]int32{}
				for _, a := range t.ReplicaAssignment {
					spec.assignment[a.Partition] = a.Replicas
				}
			}
			var nulls []string
			for _, c := range t.Configs {
				if c.Value == nil {
					nulls = append(nulls, c.Name)
					continue
				}
				spec.configs[c.Name] = *c.Value
			}
			if len(nulls) > 0 {
				return errorf(kerr.InvalidConfig, "Null value not supported for topic configs: %s", strings.Join(nulls, ","))
			}
			assignment, err := b.createTopic(spec, r.ValidateOnly)
			if err != nil {
				return err
			}
			rt.NumPartitions = int32(len(assignment))
			rt.ReplicationFactor = int16(len(assignment[0]))
			tc := newTopicConfig(b.brokerCfg(), spec.configs)
			if !b.authorizeQuiet(req, authz.OpDescribeConfigs, authz.ResourceTopic, t.Topic) {
				rt.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
				tc = nil
			}
			for i := 0; tc != nil && i < len(topicConfigDefs); i++ {
				e := describeTopicConfig(b.brokerCfg(), tc, &topicConfigDefs[i])
				c := kmsg.NewCreateTopicsResponseTopicConfig()
				c.Name, c.Value, c.Source = e.def.name, strp(e.value), int8(e.source)
				rt.Configs = append(rt.Configs, c)
			}
			if !r.ValidateOnly {
				created[t.Topic] = len(assignment)
			}
			return nil
		}()
		rt.ErrorCode = errCode(err)
		if r.Version >= 1 && err != nil {
			rt.ErrorMessage = errMessage(err)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(created) > 0 {
		want := map[string]topicWant{}
		for name, n := range created {
			want[name] = ledWith(n)
		}
		unmet := b.waitForTopics(ctx, deadline, want)
		snap := b.meta.get()
		for i := range resp.Topics {
			rt := &resp.Topics[i]
			if _, ok := created[rt.Topic]; ok {
				if t := snap.topics[rt.Topic]; t != nil {
					rt.TopicID = t.id
				}
				if unmet[rt.Topic] {
					rt.ErrorCode = kerr.RequestTimedOut.Code
				}
			}
		}
	}
	return resp, nil
}

// ctrlKnown reports whether a controller is known to the metadata cache.
func (b *Broker) ctrlKnown() bool { return b.meta.get().controllerID >= 0 }
