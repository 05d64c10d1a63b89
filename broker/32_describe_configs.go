package broker

// DescribeConfigs, key 32, versions 0-4: topic configs (overrides from /config/topics/<t>
// over the broker's defaults, with their source and, on request, synonyms: KIP-226) and this
// broker's own configuration (read-only: klassik has no dynamic broker configs).

import (
	"context"
	"strconv"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(32, 0, 4, (*Broker).handleDescribeConfigs) }

func (b *Broker) handleDescribeConfigs(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeConfigsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range r.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		wanted := func(name string) bool {
			if res.ConfigNames == nil {
				return true
			}
			for _, n := range res.ConfigNames {
				if n == name {
					return true
				}
			}
			return false
		}
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			if _, ok := b.meta.get().topics[res.ResourceName]; !ok {
				rr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				rr.ErrorMessage = strp("topic " + strconv.Quote(res.ResourceName) + " does not exist")
				break
			}
			overrides, err := b.zk.TopicConfig(res.ResourceName)
			if err != nil {
				rr.ErrorCode = kerr.UnknownServerError.Code
				rr.ErrorMessage = strp(err.Error())
				break
			}
			tc := newTopicConfig(b.cfg, overrides)
			for _, d := range topicConfigDefs {
				if !wanted(d.name) {
					continue
				}
				c := kmsg.NewDescribeConfigsResponseResourceConfig()
				c.Name, c.Value = d.name, strp(tc.values[d.name])
				_, overridden := overrides[d.name]
				c.Source = kmsg.ConfigSourceDefaultConfig
				if overridden {
					c.Source = kmsg.ConfigSourceDynamicTopicConfig
				}
				c.IsDefault = !overridden
				if r.IncludeSynonyms {
					if overridden {
						s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
						s.Name, s.Value, s.Source = d.name, strp(overrides[d.name]), kmsg.ConfigSourceDynamicTopicConfig
						c.ConfigSynonyms = append(c.ConfigSynonyms, s)
					}
					s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					s.Name, s.Value, s.Source = d.brokerKey, strp(d.brokerValue(b.cfg)), kmsg.ConfigSourceDefaultConfig
					c.ConfigSynonyms = append(c.ConfigSynonyms, s)
				}
				rr.Configs = append(rr.Configs, c)
			}
		case kmsg.ConfigResourceTypeBroker:
			if res.ResourceName != "" && res.ResourceName != strconv.Itoa(int(b.cfg.BrokerID)) {
				rr.ErrorCode = kerr.InvalidRequest.Code
				rr.ErrorMessage = strp("this broker is " + strconv.Itoa(int(b.cfg.BrokerID)) + "; ask broker " + res.ResourceName + " directly")
				break
			}
			for _, kv := range b.cfg.Properties() {
				if !wanted(kv.Key) {
					continue
				}
				c := kmsg.NewDescribeConfigsResponseResourceConfig()
				c.Name, c.Value = kv.Key, strp(kv.Value)
				c.ReadOnly = true
				c.Source = kmsg.ConfigSourceStaticBrokerConfig
				rr.Configs = append(rr.Configs, c)
			}
		default:
			rr.ErrorCode = kerr.InvalidRequest.Code
			rr.ErrorMessage = strp("only topic and broker configs can be described")
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}
