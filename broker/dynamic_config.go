package broker

// Dynamic broker configs (KIP-226; Kafka's DynamicBrokerConfig in ZooKeeper mode): values in
// /config/brokers/<default> (every broker) and /config/brokers/<id> (one broker), written by
// AlterConfigs / IncrementalAlterConfigs on a BROKER resource (kafka-configs.sh
// --entity-type brokers) with a /config/changes notification, and applied by every broker
// without a restart.
//
// Which properties may change: in Kafka each has an update mode, read-only, per-broker or
// cluster-wide. klassik makes dynamic exactly the broker properties it applies at once, the
// defaults of topic configs it acts on (log.retention.ms, log.segment.bytes,
// log.cleanup.policy, message.max.bytes, min.insync.replicas, ...: DynamicLogConfig in
// Kafka, cluster-wide) and the replication throttles leader.replication.throttled.rate and
// follower.replication.throttled.rate (per-broker); every other property is read-only here, even where Kafka could change
// it at run time (thread pools, listeners, SSL): changing it needs a restart with a new
// server.toml. The effective configuration is the static one with the dynamic values over it
// (conf.Config.WithDynamic); topic configs take their defaults from it.

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's update modes, as kafka-configs.sh --describe --all and DescribeConfigs show them.
const (
	modeReadOnly    = "read-only"
	modeClusterWide = "cluster-wide"
	modePerBroker   = "per-broker"
)

// dynamicModes maps each dynamic broker property to its update mode: the broker synonyms of
// the topic configs klassik acts on.
var dynamicModes = func() map[string]string {
	m := map[string]string{}
	for i := range topicConfigDefs {
		d := &topicConfigDefs[i]
		if !d.used {
			continue
		}
		for _, s := range d.synonyms {
			if conf.Known(s) {
				m[s] = modeClusterWide
			}
		}
	}
	// Replication throttles (DynamicConfig.Broker in Kafka), set per broker by
	// kafka-reassign-partitions.sh --throttle.
	m["leader.replication.throttled.rate"] = modePerBroker
	m["follower.replication.throttled.rate"] = modePerBroker
	return m
}()

func dynamicMode(name string) string {
	if m, ok := dynamicModes[name]; ok {
		return m
	}
	return modeReadOnly
}

// dynamicConfig holds the effective configuration: static plus dynamic.
type dynamicConfig struct {
	b   *Broker
	mu  sync.Mutex // serializes reloads
	cur atomic.Pointer[conf.Config]
}

func newDynamicConfig(b *Broker) *dynamicConfig {
	d := &dynamicConfig{b: b}
	d.cur.Store(b.cfg)
	return d
}

// brokerCfg is the broker's effective configuration, dynamic values included. Where the
// static configuration is meant (listeners, ids, paths), b.cfg is used.
func (b *Broker) brokerCfg() *conf.Config {
	if b.dyn == nil {
		return b.cfg
	}
	return b.dyn.cur.Load()
}

// reload reads both znodes and, if the result validates, makes it current and applies it to
// every topic config. A set that does not validate (written by another tool) is logged and
// ignored, as Kafka does.
func (d *dynamicConfig) reload() {
	d.mu.Lock()
	defer d.mu.Unlock()
	def, err := d.b.zk.EntityConfig("brokers", zkclient.BrokerDefault)
	if err != nil {
		d.b.log.Error().Err(err).Msg("reading /config/brokers/<default>")
		return
	}
	own, err := d.b.zk.EntityConfig("brokers", strconv.Itoa(int(d.b.cfg.BrokerID)))
	if err != nil {
		d.b.log.Error().Err(err).Msg("reading this broker's dynamic config")
		return
	}
	for _, m := range []map[string]string{def, own} {
		for k := range m {
			if dynamicMode(k) == modeReadOnly {
				d.b.log.Warn().Str("config", k).Msg("ignoring a dynamic broker config that klassik cannot change at run time")
				delete(m, k)
			}
		}
	}
	next, err := d.b.cfg.WithDynamic(def, own)
	if err != nil {
		d.b.log.Error().Err(err).Msg("ignoring dynamic broker configs that do not validate")
		return
	}
	d.cur.Store(next)
	if len(def)+len(own) > 0 {
		d.b.log.Info().Interface("cluster_default", def).Interface("broker", own).Msg("dynamic broker configs applied")
	}
	if d.b.topicConfigs != nil {
		d.b.topicConfigs.refreshAll()
	}
}

// alterBrokerConfig is the BROKER resource of AlterConfigs and IncrementalAlterConfigs: name
// "" is the cluster-wide default, else a broker id. change edits the stored dynamic values.
func (b *Broker) alterBrokerConfig(name string, validateOnly bool, change func(map[string]string) error) error {
	entity, resource := zkclient.BrokerDefault, "ConfigResource(type=BROKER, name='')"
	if name != "" {
		id, err := strconv.ParseInt(name, 10, 32)
		if err != nil || id < 0 {
			return errorf(kerr.InvalidRequest, "broker id %q is not a number", name)
		}
		entity, resource = name, fmt.Sprintf("ConfigResource(type=BROKER, name='%s')", name)
	}
	cfg, err := b.zk.EntityConfig("brokers", entity)
	if err != nil {
		return errorf(kerr.UnknownServerError, "reading /config/brokers/%s: %v", entity, err)
	}
	if err := change(cfg); err != nil {
		return err
	}
	// ZkAdminManager: a ConfigException becomes INVALID_REQUEST naming the resource.
	invalid := func(msg string) error {
		return errorf(kerr.InvalidRequest, "Invalid config value for resource %s: %s", resource, msg)
	}
	var readOnly, unknown []string
	for k, v := range cfg {
		switch {
		case !conf.Known(k):
			unknown = append(unknown, k)
		case dynamicMode(k) == modeReadOnly:
			readOnly = append(readOnly, k)
		default:
			if err := conf.CheckValue(k, v); err != nil {
				return invalid(err.Error())
			}
		}
	}
	sort.Strings(readOnly)
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return invalid("Unknown broker configs: " + strings.Join(unknown, ", "))
	}
	if len(readOnly) > 0 {
		return invalid(fmt.Sprintf("Cannot update these configs dynamically: Set(%s) (klassik changes only the defaults of topic configs at run time; set the others in server.toml)",
			strings.Join(readOnly, ", ")))
	}
	// The whole configuration must still validate with the new values.
	def, own := cfg, map[string]string{}
	if entity != zkclient.BrokerDefault {
		if def, err = b.zk.EntityConfig("brokers", zkclient.BrokerDefault); err != nil {
			return errorf(kerr.UnknownServerError, "reading /config/brokers/<default>: %v", err)
		}
		own = cfg
	}
	if _, err := b.cfg.WithDynamic(def, own); err != nil {
		var msgs []string
		for _, e := range unjoin(err) {
			msgs = append(msgs, e.Error())
		}
		return invalid(strings.Join(msgs, "; "))
	}
	if validateOnly {
		return nil
	}
	if err := b.zk.SetEntityConfig("brokers", entity, cfg); err != nil {
		return errorf(kerr.UnknownServerError, "writing /config/brokers/%s: %v", entity, err)
	}
	if entity == zkclient.BrokerDefault || entity == strconv.Itoa(int(b.cfg.BrokerID)) {
		b.dyn.reload() // at once here; the other brokers follow the notification
	}
	return nil
}

// unjoin lists the errors an errors.Join made, or err alone.
func unjoin(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}
