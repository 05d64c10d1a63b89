package broker

// IncrementalAlterConfigs, key 44, versions 0-1 (KIP-339), and AlterConfigs, key 33,
// versions 0-2: topic config overrides, validated, written to /config/topics/<t> with a
// /config/changes notification so that every broker applies them. SET, DELETE, APPEND and
// SUBTRACT (the latter two for list configs such as cleanup.policy); validate-only too.
// BROKER resources set dynamic broker configs (dynamic_config.go): name "" for the
// cluster-wide default, a broker id for one broker. With an authorizer: AlterConfigs on the
// topic, or on the cluster for a broker's configs (authorizeConfigResource).

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(44, 0, 1, (*Broker).handleIncrementalAlterConfigs)
	register(33, 0, 2, (*Broker).handleAlterConfigs)
}

func (b *Broker) handleIncrementalAlterConfigs(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.IncrementalAlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, res := range r.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		broker := res.ResourceType == kmsg.ConfigResourceTypeBroker
		if err := b.authorizeConfigResource(req, authz.OpAlterConfigs, res.ResourceType, res.ResourceName); err != nil {
			rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		err := b.alterConfig(res.ResourceType, res.ResourceName, r.ValidateOnly, func(cfg map[string]string) error {
			for _, c := range res.Configs {
				val := ""
				if c.Value != nil {
					val = *c.Value
				}
				switch c.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					cfg[c.Name] = val
				case kmsg.IncrementalAlterConfigOpDelete:
					delete(cfg, c.Name)
				case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
					if broker {
						return errorf(kerr.InvalidRequest, "klassik supports APPEND and SUBTRACT on topic configs only; SET the whole list of %s", c.Name)
					}
					if err := appendOrSubtract(cfg, c.Op, c.Name, val); err != nil {
						return err
					}
				default:
					return errorf(kerr.InvalidRequest, "unknown config operation %d", c.Op)
				}
			}
			return nil
		})
		rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

func (b *Broker) handleAlterConfigs(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, res := range r.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		if err := b.authorizeConfigResource(req, authz.OpAlterConfigs, res.ResourceType, res.ResourceName); err != nil {
			rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		err := b.alterConfig(res.ResourceType, res.ResourceName, r.ValidateOnly, func(cfg map[string]string) error {
			clear(cfg) // AlterConfigs replaces the whole set
			for _, c := range res.Configs {
				if c.Value != nil {
					cfg[c.Name] = *c.Value
				}
			}
			return nil
		})
		rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// alterConfig alters a topic's overrides or a dynamic broker config (dynamic_config.go).
func (b *Broker) alterConfig(typ kmsg.ConfigResourceType, name string, validateOnly bool, change func(map[string]string) error) error {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return b.alterTopicConfig(name, validateOnly, change)
	case kmsg.ConfigResourceTypeBroker:
		return b.alterBrokerConfig(name, validateOnly, change)
	}
	return errorf(kerr.InvalidRequest, "only topic and broker configs can be altered")
}

// alterTopicConfig reads a topic's overrides, lets change edit them, validates and writes them.
func (b *Broker) alterTopicConfig(topic string, validateOnly bool, change func(map[string]string) error) error {
	// As Kafka's AdminZkClient.changeTopicConfig, the topic must exist in ZooKeeper: this
	// broker's metadata may not have heard of a topic created a moment ago.
	if _, ok := b.meta.get().topics[topic]; !ok {
		if _, err := b.zk.TopicAssignment(topic, false); errors.Is(err, zkclient.ErrNoNode) {
			return errorf(kerr.UnknownTopicOrPartition, "topic %q does not exist", topic)
		} else if err != nil {
			return errorf(kerr.UnknownServerError, "reading /brokers/topics/%s: %v", topic, err)
		}
	}
	cfg, err := b.zk.TopicConfig(topic)
	if err != nil {
		return errorf(kerr.UnknownServerError, "reading the config of %q: %v", topic, err)
	}
	if cfg == nil {
		cfg = map[string]string{}
	}
	if err := change(cfg); err != nil {
		return err
	}
	if err := validateTopicConfig(b.brokerCfg(), cfg); err != nil {
		// ZkAdminManager.alterConfigs: a ConfigException is prefixed with the resource.
		var ce *configException
		if errors.As(err, &ce) {
			return errorf(kerr.InvalidConfig, "Invalid config value for resource ConfigResource(type=TOPIC, name='%s'): %s", topic, ce.msg)
		}
		return errorf(kerr.InvalidConfig, "%v", err)
	}
	if validateOnly {
		return nil
	}
	if err := b.zk.SetTopicConfig(topic, cfg); err != nil {
		return errorf(kerr.UnknownServerError, "writing the config of %q: %v", topic, err)
	}
	b.topicConfigs.refresh(topic)
	return nil
}

// appendOrSubtract applies APPEND or SUBTRACT to a list config as Kafka's
// ConfigAdminManager.prepareIncrementalConfigs does: the current value is the override, else
// the config's Kafka default (not the broker's); APPEND adds the items not yet there,
// SUBTRACT removes every one given.
func appendOrSubtract(cfg map[string]string, op kmsg.IncrementalAlterConfigOp, name, val string) error {
	d := findTopicConfigDef(name)
	if d == nil {
		return errorf(kerr.InvalidConfig, "Unknown topic config name: %s", name)
	}
	verb := "append"
	if op == kmsg.IncrementalAlterConfigOpSubtract {
		verb = "subtract"
	}
	if d.typ != kmsg.ConfigTypeList {
		return errorf(kerr.InvalidConfig, "Config value %s is not allowed for config key: %s", verb, name)
	}
	cur, ok := cfg[name]
	if !ok {
		cur = d.def
	}
	var items []string
	if cur != "" {
		items = strings.Split(cur, ",")
	}
	for _, v := range strings.Split(val, ",") {
		if op == kmsg.IncrementalAlterConfigOpAppend {
			if !slices.Contains(items, v) {
				items = append(items, v)
			}
		} else {
			items = slices.DeleteFunc(items, func(it string) bool { return it == v })
		}
	}
	cfg[name] = strings.Join(items, ",")
	return nil
}
