package broker

// DeleteTopics, key 20, versions 0-6: marks topics for deletion at /admin/delete_topics/<t>;
// the controller stops their replicas, deletes their data and removes them from ZooKeeper.
// The answer waits, up to the timeout, until no live broker's metadata lists them
// (topic_wait.go). Topic ids are accepted from v6 (KIP-516). delete.topic.enable=false refuses with
// TOPIC_DELETION_DISABLED. With an authorizer each topic needs Delete (and, named by id,
// Describe) before its existence is looked at.

import (
	"context"
	"errors"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(20, 0, 6, (*Broker).handleDeleteTopics) }

func (b *Broker) handleDeleteTopics(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DeleteTopicsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
	deadline := time.Now().Add(time.Duration(r.TimeoutMillis) * time.Millisecond)
	snap := b.meta.get()

	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	for _, n := range r.TopicNames {
		targets = append(targets, target{name: strp(n)})
	}
	for _, t := range r.Topics {
		targets = append(targets, target{name: t.Topic, id: t.TopicID})
	}
	pending := map[string]bool{}
	for _, t := range targets {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = t.name, t.id
		err := func() error {
			name := ""
			switch {
			case t.name != nil:
				name = *t.name
			case t.id != [16]byte{}:
				n, ok := snap.topicNames[t.id]
				if !ok {
					return kerr.UnknownTopicID
				}
				name = n
				rt.Topic = strp(n)
			}
			if !b.cfg.DeleteTopicEnable {
				return errorf(kerr.TopicDeletionDisabled, "delete.topic.enable is false on this cluster")
			}
			if t.name == nil && !b.authorize(req, authz.OpDescribe, authz.ResourceTopic, name) {
				rt.Topic = nil // asked by id: the name is not told to whoever may not describe it
				return kerr.TopicAuthorizationFailed
			}
			if !b.authorize(req, authz.OpDelete, authz.ResourceTopic, name) {
				return kerr.TopicAuthorizationFailed
			}
			top := snap.topics[name]
			if top == nil {
				return kerr.UnknownTopicOrPartition
			}
			rt.TopicID = top.id
			if err := b.zk.MarkTopicForDeletion(name); err != nil && !errors.Is(err, zkclient.ErrNodeExists) {
				return errorf(kerr.UnknownServerError, "marking %q for deletion: %v", name, err)
			}
			pending[name] = true
			return nil
		}()
		rt.ErrorCode = errCode(err)
		if r.Version >= 5 && err != nil {
			rt.ErrorMessage = errMessage(err)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(pending) > 0 {
		want := map[string]topicWant{}
		for name := range pending {
			want[name] = unlisted
		}
		unmet := b.waitForTopics(ctx, deadline, want)
		for i := range resp.Topics {
			rt := &resp.Topics[i]
			if rt.Topic != nil && unmet[*rt.Topic] {
				rt.ErrorCode = kerr.RequestTimedOut.Code
			}
		}
	}
	return resp, nil
}
