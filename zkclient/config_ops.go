package zkclient

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// Kafka's config entities in ZooKeeper (AdminZkClient's entity configs and
// ConfigChangeNotification): /config/<type>/<name> and the /config/changes notifications the
// brokers watch.

// TopicConfig reads /config/topics/<t> (empty map when absent).
func (c *Client) TopicConfig(topic string) (map[string]string, error) {
	return c.EntityConfig("topics", topic)
}

// SetTopicConfig writes /config/topics/<t> and a /config/changes/config_change_<seq>
// notification for "topics/<t>" (Kafka's AdminZkClient.changeTopicConfig).
func (c *Client) SetTopicConfig(topic string, config map[string]string) error {
	return c.SetEntityConfig("topics", topic, config)
}

// BrokerDefault is the entity name of the cluster-wide dynamic broker config,
// /config/brokers/<default> (Kafka's ZooKeeperInternals.DEFAULT_STRING).
const BrokerDefault = "<default>"

// EntityConfig reads /config/<entityType>/<name>, Kafka's dynamic config of an entity:
// entityType is topics, brokers (name a broker id or BrokerDefault), users or clients; for
// users, name may also be "<user>/clients/<client>", the quotas of one client id of one user
// (Kafka's AdminZkClient.fetchEntityConfig with its entity path). Users and client ids are
// named sanitized, as Kafka's Sanitizer writes them. The map is empty when the znode is
// absent, or present without data (a parent created for a <user>/clients/<client>).
func (c *Client) EntityConfig(entityType, name string) (map[string]string, error) {
	if err := checkEntityName(entityType, name); err != nil {
		return nil, err
	}
	data, _, err := c.get(entityConfigPath(entityType, name))
	if errors.Is(err, ErrNoNode) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeEntityConfig(data)
}

// SetEntityConfig writes /config/<entityType>/<name> (names as EntityConfig takes them) and
// the /config/changes notification for "<entityType>/<name>" that tells every broker to read
// it again (Kafka's AdminZkClient.changeEntityConfig). An empty config is written as such,
// {"version":1,"config":{}}, as Kafka leaves it.
func (c *Client) SetEntityConfig(entityType, name string, config map[string]string) error {
	if err := checkEntityName(entityType, name); err != nil {
		return err
	}
	p, data := entityConfigPath(entityType, name), encodeEntityConfig(config)
	if _, err := c.conn.Set(c.p(p), data, -1); errors.Is(err, zk.ErrNoNode) {
		if _, err := c.createRecursive(p, data, 0); errors.Is(err, ErrNodeExists) {
			if _, err := c.conn.Set(c.p(p), data, -1); err != nil {
				return zkErr("set", p, err)
			}
		} else if err != nil {
			return err
		}
	} else if err != nil {
		return zkErr("set", p, err)
	}
	_, err := c.createRecursive(configChangesPath+"/"+configChangePrefix, encodeConfigChange(entityType+"/"+name), zk.FlagSequence)
	return err
}

// EntityNames lists the entities that have a config znode of a type (Kafka's
// getAllEntitiesWithConfig): the children of /config/<entityType>, or, for
// "users/<user>/clients", the client ids with quotas of one user. Nil when there are none.
func (c *Client) EntityNames(entityType string) ([]string, error) {
	root, rest, nested := strings.Cut(entityType, "/")
	if nested {
		user, tail, _ := strings.Cut(rest, "/")
		if root != "users" || tail != "clients" {
			return nil, fmt.Errorf("zkclient: invalid entity type %q", entityType)
		}
		if err := checkName("user", user); err != nil {
			return nil, err
		}
	} else if err := checkName("entity type", root); err != nil {
		return nil, err
	}
	kids, err := c.children(configPath+"/"+entityType, false)
	if errors.Is(err, ErrNoNode) {
		return nil, nil
	}
	sort.Strings(kids)
	return kids, err
}

// ConfigChanges returns entity paths ("topics/<t>") of notifications after seq lastSeen (-1:
// all), in order, and the newest sequence number (lastSeen when none is newer); with watch,
// re-arms the child watch (EventConfigChanged).
func (c *Client) ConfigChanges(lastSeen int64, watch bool) (entities []string, newest int64, err error) {
	kids, err := c.children(configChangesPath, watch)
	if err != nil {
		return nil, lastSeen, err
	}
	type change struct {
		seq  int64
		name string
	}
	var cs []change
	for _, k := range kids {
		if n, ok := sequenceNumber(k, configChangePrefix); ok && n > lastSeen {
			cs = append(cs, change{n, k})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
	newest = lastSeen
	for _, ch := range cs {
		data, _, err := c.get(configChangesPath + "/" + ch.name)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return entities, newest, err
		}
		newest = ch.seq
		e, err := decodeConfigChange(data)
		if err != nil {
			c.log.Warn().Err(err).Str("node", ch.name).Msg("skipping unreadable config change notification")
			continue
		}
		entities = append(entities, e)
	}
	return entities, newest, nil
}

// PurgeConfigChanges deletes config change notifications older than maxAge (Kafka's
// ZkNodeChangeNotificationListener purges after 15 minutes).
func (c *Client) PurgeConfigChanges(maxAge time.Duration) error {
	return c.purgeChildrenBefore(configChangesPath, time.Now().Add(-maxAge).UnixMilli())
}

// purgeChildrenBefore deletes the children of root created before cutoff (ms since the
// epoch): old change notifications. One that vanishes meanwhile is not an error.
func (c *Client) purgeChildrenBefore(root string, cutoff int64) error {
	kids, err := c.children(root, false)
	if err != nil {
		return err
	}
	for _, k := range kids {
		p := root + "/" + k
		_, stat, err := c.get(p)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		if stat.Ctime < cutoff {
			if err := c.conn.Delete(c.p(p), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				return zkErr("delete", p, err)
			}
		}
	}
	return nil
}
