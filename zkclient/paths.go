package zkclient

import (
	"fmt"
	"strconv"
	"strings"
)

// Kafka's znode paths (ZkData.scala), without the chroot.
const (
	brokersPath                  = "/brokers"
	brokerIDsPath                = "/brokers/ids"
	topicsPath                   = "/brokers/topics"
	brokerSeqIDPath              = "/brokers/seqid"
	controllerPath               = "/controller"
	controllerEpochPath          = "/controller_epoch"
	configPath                   = "/config"
	configChangesPath            = "/config/changes"
	configChangePrefix           = "config_change_"
	adminPath                    = "/admin"
	deleteTopicsPath             = "/admin/delete_topics"
	preferredReplicaElectionPath = "/admin/preferred_replica_election"
	isrChangePath                = "/isr_change_notification"
	isrChangePrefix              = "isr_change_"
	clusterIDPath                = "/cluster/id"
	producerIDBlockPath          = "/latest_producer_id_block"
	consumersPath                = "/consumers"
	logDirEventPath              = "/log_dir_event_notification"
	logDirEventPrefix            = "log_dir_event_"
	featurePath                  = "/feature"
)

// configEntityTypes is Kafka's ConfigType.ALL (ZooKeeper mode).
var configEntityTypes = []string{"topics", "clients", "users", "brokers", "ips"}

// persistentPaths is Kafka's ZkData.PersistentZkPaths: created at broker start-up.
var persistentPaths = append([]string{
	consumersPath,
	brokerIDsPath,
	topicsPath,
	configChangesPath,
	deleteTopicsPath,
	brokerSeqIDPath,
	isrChangePath,
	producerIDBlockPath,
	logDirEventPath,
}, func() []string {
	var ps []string
	for _, t := range configEntityTypes {
		ps = append(ps, configPath+"/"+t)
	}
	return ps
}()...)

func brokerPath(id int32) string          { return brokerIDsPath + "/" + strconv.Itoa(int(id)) }
func topicPath(t string) string           { return topicsPath + "/" + t }
func topicPartitionsPath(t string) string { return topicPath(t) + "/partitions" }
func partitionPath(t string, p int32) string {
	return topicPartitionsPath(t) + "/" + strconv.Itoa(int(p))
}
func partitionStatePath(t string, p int32) string { return partitionPath(t, p) + "/state" }
func topicConfigPath(t string) string             { return configPath + "/topics/" + t }
func entityConfigPath(typ, name string) string    { return configPath + "/" + typ + "/" + name }
func deleteTopicPath(t string) string             { return deleteTopicsPath + "/" + t }

// checkName rejects names that would escape their parent znode.
func checkName(kind, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("zkclient: invalid %s name %q", kind, name)
	}
	return nil
}

// checkEntityName is checkName for an entity config, where a user's client ids nest:
// users/<user>/clients/<client> (Kafka's entity path for a (user, client id) quota).
func checkEntityName(entityType, name string) error {
	if err := checkName("entity type", entityType); err != nil {
		return err
	}
	if user, rest, nested := strings.Cut(name, "/"); nested && entityType == "users" {
		client, ok := strings.CutPrefix(rest, "clients/")
		if !ok {
			return fmt.Errorf("zkclient: invalid users entity %q: want <user>/clients/<client>", name)
		}
		if err := checkName("user", user); err != nil {
			return err
		}
		return checkName("client", client)
	}
	return checkName(entityType, name)
}

// sequenceNumber parses the 10-digit suffix ZooKeeper gives a sequential znode.
func sequenceNumber(name, prefix string) (int64, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
