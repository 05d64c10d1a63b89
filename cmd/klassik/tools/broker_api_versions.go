package tools

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// broker-api-versions mirrors kafka-broker-api-versions.sh (Kafka 3.6's
// kafka.admin.BrokerApiVersionsCommand): every broker's ApiVersions answer, printed as Kafka's
// NodeApiVersions.toString(true) prints it, with "usable" the newest version both the broker
// and this client (franz-go's kmsg) speak:
//
//	127.0.0.1:9092 (id: 1 rack: null) -> (
//		Produce(0): 0 to 9 [usable: 9],
//		...
//		Vote(52): UNSUPPORTED,
//	)

// kafkaAPINames are Kafka 3.6's ApiKeys names, by key.
var kafkaAPINames = []string{
	"Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata",
	"ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat",
	"LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions",
	"CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch",
	"AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit",
	"DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs", "AlterConfigs",
	"AlterReplicaLogDirs", "DescribeLogDirs", "SaslAuthenticate", "CreatePartitions",
	"CreateDelegationToken", "RenewDelegationToken", "ExpireDelegationToken",
	"DescribeDelegationToken", "DeleteGroups", "ElectLeaders", "IncrementalAlterConfigs",
	"AlterPartitionReassignments", "ListPartitionReassignments", "OffsetDelete",
	"DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
	"AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum",
	"AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster",
	"DescribeProducers", "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
	"DescribeTransactions", "ListTransactions", "AllocateProducerIds", "ConsumerGroupHeartbeat",
}

// controllerOnlyAPIs are the keys of KRaft controller-only APIs, which ApiKeys.clientApis leaves
// out, so they are never listed as UNSUPPORTED.
var controllerOnlyAPIs = map[int16]bool{52: true, 53: true, 54: true, 59: true, 62: true, 63: true}

// apiName is the API's name: Kafka 3.6's, else franz-go's for a newer key, else ok is false.
func apiName(key int16) (string, bool) {
	if key >= 0 && int(key) < len(kafkaAPINames) {
		return kafkaAPINames[key], true
	}
	if kmsg.RequestForKey(key) != nil {
		return kmsg.NameForKey(key), true
	}
	return "", false
}

// formatAPIVersions renders one broker's ApiVersions keys as NodeApiVersions.toString(true).
func formatAPIVersions(keys []kmsg.ApiVersionsResponseApiKey) string {
	text := map[int16]string{}
	for _, k := range keys {
		var b strings.Builder
		name, known := apiName(k.ApiKey)
		if known {
			fmt.Fprintf(&b, "%s(%d): ", name, k.ApiKey)
		} else {
			fmt.Fprintf(&b, "UNKNOWN(%d): ", k.ApiKey)
		}
		if k.MinVersion == k.MaxVersion {
			b.WriteString(strconv.Itoa(int(k.MinVersion)))
		} else {
			fmt.Fprintf(&b, "%d to %d", k.MinVersion, k.MaxVersion)
		}
		if known {
			latest := int16(-1)
			if r := kmsg.RequestForKey(k.ApiKey); r != nil {
				latest = r.MaxVersion()
			}
			switch {
			case latest < k.MinVersion:
				b.WriteString(" [unusable: node too new]")
			case k.MaxVersion < 0:
				b.WriteString(" [unusable: node too old]")
			default:
				fmt.Fprintf(&b, " [usable: %d]", min(latest, k.MaxVersion))
			}
		}
		text[k.ApiKey] = b.String()
	}
	for key, name := range kafkaAPINames {
		if _, ok := text[int16(key)]; !ok && !controllerOnlyAPIs[int16(key)] {
			text[int16(key)] = fmt.Sprintf("%s(%d): UNSUPPORTED", name, key)
		}
	}
	var order []int16
	for k := range text {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	lines := make([]string, len(order))
	for i, k := range order {
		lines[i] = text[k]
	}
	return "(\n\t" + strings.Join(lines, ",\n\t") + "\n)"
}

// nodeString is Kafka's Node.toString.
func nodeString(b kadm.BrokerDetail) string {
	rack := "null"
	if b.Rack != nil {
		rack = *b.Rack
	}
	return fmt.Sprintf("%s:%d (id: %d rack: %s)", b.Host, b.Port, b.NodeID, rack)
}

func runBrokerAPIVersions(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("broker-api-versions", "This tool helps to retrieve broker version information (kafka-broker-api-versions.sh).")
	fs.Value("command-config", "command config property file", "", "A property file containing configs to be passed to Admin Client (klassik reads its security properties).")
	fs.Value("bootstrap-server", "server(s) to use for bootstrapping", "", "REQUIRED: The server to connect to.")
	return run(fs, args, stdout, stderr, func() error {
		if err := fs.requireGiven("bootstrap-server"); err != nil {
			return err
		}
		return withAdmin(fs.byName["bootstrap-server"].str(), fs.clientOpts, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
			bds, err := adm.ListBrokers(ctx)
			if err != nil {
				return fmt.Errorf("Error: %v", rootCause(err))
			}
			sort.Slice(bds, func(i, j int) bool { return bds[i].NodeID < bds[j].NodeID })
			for _, b := range bds {
				resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl.Broker(int(b.NodeID)))
				if err == nil {
					err = kerr.ErrorForCode(resp.ErrorCode)
				}
				if err != nil {
					fmt.Fprintf(stdout, "%s -> ERROR: %v\n", nodeString(b), rootCause(err))
					continue
				}
				fmt.Fprintf(stdout, "%s -> %s\n", nodeString(b), formatAPIVersions(resp.ApiKeys))
			}
			return nil
		})
	})
}
