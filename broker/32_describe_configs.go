package broker

// DescribeConfigs, key 32, versions 0-4: topic configs (every one of Kafka 3.6's, overrides
// from /config/topics/<t> over the broker's values, with their source and, on request,
// synonyms: KIP-226) and this broker's own configuration, dynamic values included
// (dynamic_config.go; resource name "" describes the cluster-wide dynamic defaults); v3+
// answers each config's type and, on request, its documentation (KIP-569). Sources and
// synonyms: topic_config_describe.go. With an authorizer: DescribeConfigs on the topic, or on
// the cluster for a broker's configs.

import (
	"context"
	"sort"
	"strconv"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
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
			if len(res.ConfigNames) == 0 { // null or empty: all (ConfigHelper)
				return true
			}
			for _, n := range res.ConfigNames {
				if n == name {
					return true
				}
			}
			return false
		}
		if err := b.authorizeConfigResource(req, authz.OpDescribeConfigs, res.ResourceType, res.ResourceName); err != nil {
			rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
			resp.Resources = append(resp.Resources, rr)
			continue
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
			tc := newTopicConfig(b.brokerCfg(), overrides)
			for i := range topicConfigDefs {
				d := &topicConfigDefs[i]
				if wanted(d.name) {
					rr.Configs = append(rr.Configs, describeTopicConfig(b.brokerCfg(), tc, d).describeConfig(r.IncludeSynonyms, r.IncludeDocumentation))
				}
			}
		case kmsg.ConfigResourceTypeBroker:
			if res.ResourceName == "" {
				// The cluster-wide default: only what is set dynamically (Kafka's
				// currentDynamicDefaultConfigs).
				def, err := b.zk.EntityConfig("brokers", zkclient.BrokerDefault)
				if err != nil {
					rr.ErrorCode, rr.ErrorMessage = kerr.UnknownServerError.Code, strp(err.Error())
					break
				}
				names := make([]string, 0, len(def))
				for k := range def {
					names = append(names, k)
				}
				sort.Strings(names)
				for _, k := range names {
					if wanted(k) {
						c := describeBrokerConfig(b.brokerCfg(), k, def[k], false, r.IncludeDocumentation)
						c.Source, c.IsDefault = kmsg.ConfigSourceDynamicDefaultBrokerConfig, false
						rr.Configs = append(rr.Configs, c)
					}
				}
				break
			}
			if res.ResourceName != strconv.Itoa(int(b.cfg.BrokerID)) {
				rr.ErrorCode = kerr.InvalidRequest.Code
				rr.ErrorMessage = strp("this broker is " + strconv.Itoa(int(b.cfg.BrokerID)) + "; ask broker " + res.ResourceName + " directly")
				break
			}
			bc := b.brokerCfg()
			for _, kv := range bc.Properties() {
				if !wanted(kv.Key) {
					continue
				}
				rr.Configs = append(rr.Configs, describeBrokerConfig(bc, kv.Key, kv.Value, r.IncludeSynonyms, r.IncludeDocumentation))
			}
		default:
			rr.ErrorCode = kerr.InvalidRequest.Code
			rr.ErrorMessage = strp("only topic and broker configs can be described")
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}
