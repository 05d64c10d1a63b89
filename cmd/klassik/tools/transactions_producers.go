package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The partition side of kafka-transactions.sh: describe-producers (DescribeProducers, KIP-664),
// abort (a WriteTxnMarkers ABORT to the partition leader, as Admin.abortTransaction sends it)
// and find-hanging (open transactions older than the longest transaction timeout whose
// producer's coordinator no longer lists the partition).

var describeProducersHeaders = []string{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset"}

func tpString(topic string, p int32) string { return topic + "-" + strconv.Itoa(int(p)) }

// partitionProducers describes the producers of topic-partition on its leader, or on broker
// brokerID when one is given (Kafka's DescribeProducersOptions.brokerId), by producer id.
func partitionProducers(ctx context.Context, cl *kgo.Client, adm *kadm.Client, topic string, partition int32, brokerID *int32) ([]kadm.DescribedProducer, error) {
	out, err := producersOf(ctx, cl, adm, []topicPart{{topic, partition}}, brokerID)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out, nil
}

// kafkaErrorf is a Kafka error with the broker's message, if it sent one.
func kafkaErrorf(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, msg)
}

// describeProducersRows are the rows of describe-producers: a coordinator epoch of -1 stays
// -1, a transaction start offset of -1 (none open) is None.
func describeProducersRows(producers []kadm.DescribedProducer) [][]string {
	rows := make([][]string, 0, len(producers))
	for _, p := range producers {
		start := "None"
		if p.CurrentTxnStartOffset >= 0 {
			start = strconv.FormatInt(p.CurrentTxnStartOffset, 10)
		}
		rows = append(rows, []string{strconv.FormatInt(p.ProducerID, 10), strconv.Itoa(int(p.ProducerEpoch)),
			strconv.Itoa(int(p.CoordinatorEpoch)), strconv.Itoa(int(p.LastSequence)), strconv.FormatInt(p.LastTimestamp, 10), start})
	}
	return rows
}

func execDescribeProducers(ctx context.Context, cl *kgo.Client, adm *kadm.Client, fs *flagSet, stdout io.Writer) error {
	topic := fs.byName["topic"].str()
	partition, _ := intFlag(fs, "partition")
	var brokerID *int32
	on := "leader"
	if id, ok := intFlag(fs, "broker-id"); ok {
		b := int32(id)
		brokerID, on = &b, "broker "+strconv.Itoa(int(id))
	}
	producers, err := partitionProducers(ctx, cl, adm, topic, int32(partition), brokerID)
	if err != nil {
		return txnFailure("Failed to describe producers for partition "+tpString(topic, int32(partition))+" on "+on, err)
	}
	printTable(stdout, describeProducersHeaders, describeProducersRows(producers))
	return nil
}

// abortSpec is Kafka's AbortTransactionSpec: the marker that ends one producer's transaction
// in one partition.
type abortSpec struct {
	topic            string
	partition        int32
	producerID       int64
	producerEpoch    int16
	coordinatorEpoch int32
}

func (s abortSpec) String() string {
	return fmt.Sprintf("AbortTransactionSpec(topicPartition=%s, producerId=%d, producerEpoch=%d, coordinatorEpoch=%d)",
		tpString(s.topic, s.partition), s.producerID, s.producerEpoch, s.coordinatorEpoch)
}

// abortSpecFromFlags reads the spec of --producer-id, --producer-epoch and
// --coordinator-epoch (validateTxnFlags checked they were given); a coordinator epoch below 0
// (a producer whose transaction hangs before any marker, -1 in describe-producers) becomes 0,
// as Kafka's tool does.
func abortSpecFromFlags(fs *flagSet, topic string, partition int32) abortSpec {
	pid, _ := intFlag(fs, "producer-id")
	epoch, _ := intFlag(fs, "producer-epoch")
	ce, _ := intFlag(fs, "coordinator-epoch")
	return abortSpec{topic, partition, pid, int16(epoch), int32(max(ce, 0))}
}

// abortSpecAt finds the producer whose open transaction starts at startOffset.
func abortSpecAt(producers []kadm.DescribedProducer, topic string, partition int32, startOffset int64) (abortSpec, bool) {
	for _, p := range producers {
		if p.CurrentTxnStartOffset >= 0 && p.CurrentTxnStartOffset == startOffset {
			return abortSpec{topic, partition, p.ProducerID, p.ProducerEpoch, max(p.CoordinatorEpoch, 0)}, true
		}
	}
	return abortSpec{}, false
}

func execAbortTransaction(ctx context.Context, cl *kgo.Client, adm *kadm.Client, fs *flagSet, _ io.Writer) error {
	topic := fs.byName["topic"].str()
	p64, _ := intFlag(fs, "partition")
	partition := int32(p64)
	startOffset, byOffset := intFlag(fs, "start-offset")
	spec := abortSpecFromFlags(fs, topic, partition)
	if byOffset {
		producers, err := partitionProducers(ctx, cl, adm, topic, partition, nil)
		if err != nil {
			return txnFailure("Failed to validate producer state for partition "+tpString(topic, partition), err)
		}
		var ok bool
		if spec, ok = abortSpecAt(producers, topic, partition, startOffset); !ok {
			return fmt.Errorf("Could not find any open transactions starting at offset %d on partition %s", startOffset, tpString(topic, partition))
		}
	}
	if err := abortTransaction(ctx, cl, adm, spec); err != nil {
		return txnFailure("Failed to abort transaction "+spec.String(), err)
	}
	return nil
}

// abortAttempts bounds abortTransaction's retries after the leader moved.
const abortAttempts = 5

// abortTransaction writes the ABORT marker of spec to the partition's leader, as Kafka's
// AbortTransactionHandler: one WriteTxnMarkers marker for the one partition, retried on a
// fresh leader after NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION; any other error
// (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED, ...) ends it.
func abortTransaction(ctx context.Context, cl *kgo.Client, adm *kadm.Client, spec abortSpec) error {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = spec.producerID, spec.producerEpoch, false, spec.coordinatorEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = spec.topic, []int32{spec.partition}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)

	var last error
	for attempt := range abortAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return last
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		leader, err := partitionLeader(ctx, adm, spec.topic, spec.partition)
		if err != nil {
			if errors.Is(err, kerr.LeaderNotAvailable) {
				last = err
				continue
			}
			return err
		}
		kresp, err := cl.Broker(int(leader)).Request(ctx, req)
		if err != nil {
			return err
		}
		last = markerError(kresp.(*kmsg.WriteTxnMarkersResponse), spec)
		if !errors.Is(last, kerr.NotLeaderForPartition) && !errors.Is(last, kerr.UnknownTopicOrPartition) {
			return last
		}
	}
	return last
}

// partitionLeader is the leader of topic-partition in fresh metadata.
func partitionLeader(ctx context.Context, adm *kadm.Client, topic string, partition int32) (int32, error) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return 0, err
	}
	td, ok := md.Topics[topic]
	if !ok {
		return 0, kerr.UnknownTopicOrPartition
	}
	if td.Err != nil {
		return 0, td.Err
	}
	pd, ok := td.Partitions[partition]
	if !ok {
		return 0, kerr.UnknownTopicOrPartition
	}
	if pd.Leader < 0 {
		return 0, kerr.LeaderNotAvailable
	}
	return pd.Leader, nil
}

// markerError is the error code the leader answered for spec's partition.
func markerError(resp *kmsg.WriteTxnMarkersResponse, spec abortSpec) error {
	for _, rm := range resp.Markers {
		if rm.ProducerID != spec.producerID {
			continue
		}
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == spec.topic && rp.Partition == spec.partition {
					return kerr.ErrorForCode(rp.ErrorCode)
				}
			}
		}
	}
	return errors.New("the leader did not answer for the partition")
}
