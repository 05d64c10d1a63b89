package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// find-hanging, as Kafka's FindHangingTransactionsCommand: the open transactions (in
// DescribeProducers) whose producer last wrote longer ago than --max-transaction-timeout
// minutes are candidates; a candidate hangs when its producer id has no transactional id in
// ListTransactions, its transactional id is not described, or the description does not hold
// the partition (the coordinator will write no marker there). Partitions are asked for in
// batches of hangingBatch.

const hangingBatch = 500

var findHangingHeaders = []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset", "LastTimestamp", "Duration(min)"}

type topicPart struct {
	topic     string
	partition int32
}

func execFindHanging(ctx context.Context, cl *kgo.Client, adm *kadm.Client, fs *flagSet, stdout io.Writer) error {
	var brokerID *int32
	if id, ok := intFlag(fs, "broker-id"); ok {
		b := int32(id)
		brokerID = &b
	}
	topic := fs.byName["topic"].str()
	if topic == "" && brokerID == nil {
		return usageErrorf("The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search")
	}
	partition, hasPartition := intFlag(fs, "partition")
	if hasPartition && topic == "" {
		return usageErrorf("The --partition argument requires --topic to be provided")
	}
	minutes, _ := intFlag(fs, "max-transaction-timeout")
	maxTimeout := time.Duration(minutes) * time.Minute

	var tps []topicPart
	if hasPartition {
		tps = []topicPart{{topic, int32(partition)}}
	} else {
		var err error
		if tps, err = partitionsToSearch(ctx, adm, topic, brokerID); err != nil {
			return err
		}
	}
	now := time.Now()
	var candidates []kadm.DescribedProducer
	for start := 0; start < len(tps); start += hangingBatch {
		batch := tps[start:min(start+hangingBatch, len(tps))]
		found, err := producersOf(ctx, cl, adm, batch, brokerID)
		if err != nil {
			on := "the leaders"
			if brokerID != nil {
				on = "broker " + strconv.Itoa(int(*brokerID))
			}
			return txnFailure(fmt.Sprintf("Failed to describe producers for %d partitions on %s", len(batch), on), err)
		}
		for _, p := range found {
			if p.CurrentTxnStartOffset >= 0 && now.UnixMilli()-p.LastTimestamp > maxTimeout.Milliseconds() {
				candidates = append(candidates, p)
			}
		}
	}
	if len(candidates) == 0 {
		printTable(stdout, findHangingHeaders, nil)
		return nil
	}
	pids := map[int64]bool{}
	for _, c := range candidates {
		pids[c.ProducerID] = true
	}
	pidList := make([]int64, 0, len(pids))
	for pid := range pids {
		pidList = append(pidList, pid)
	}
	slices.Sort(pidList)
	listed, err := adm.ListTransactions(ctx, pidList, nil)
	if err != nil {
		return txnFailure(fmt.Sprintf("Failed to list transactions for %d producers", len(pidList)), err)
	}
	txnIDs := map[int64]string{}
	for _, l := range listed {
		if pids[l.ProducerID] {
			txnIDs[l.ProducerID] = l.TxnID
		}
	}
	descs := kadm.DescribedTransactions{}
	if len(txnIDs) > 0 {
		var ids []string
		for _, id := range txnIDs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		descs, err = adm.DescribeTransactions(ctx, ids...)
		if err != nil && len(descs) == 0 {
			return txnFailure(fmt.Sprintf("Failed to describe %d transactions", len(ids)), err)
		}
		for _, id := range ids {
			if d, ok := descs[id]; ok && d.Err != nil && !errors.Is(d.Err, kerr.TransactionalIDNotFound) {
				return txnFailure(fmt.Sprintf("Failed to describe %d transactions", len(ids)), d.Err)
			}
		}
	}
	printTable(stdout, findHangingHeaders, hangingRows(filterHanging(candidates, txnIDs, descs), now))
	return nil
}

// filterHanging keeps the candidates whose coordinator will not end them.
func filterHanging(candidates []kadm.DescribedProducer, txnIDs map[int64]string, descs kadm.DescribedTransactions) []kadm.DescribedProducer {
	var out []kadm.DescribedProducer
	for _, c := range candidates {
		id, ok := txnIDs[c.ProducerID]
		if !ok {
			out = append(out, c)
			continue
		}
		d, ok := descs[id]
		if !ok || d.Err != nil || !d.Topics.Lookup(c.Topic, c.Partition) {
			out = append(out, c)
		}
	}
	return out
}

func hangingRows(hanging []kadm.DescribedProducer, now time.Time) [][]string {
	sort.Slice(hanging, func(i, j int) bool { return hanging[i].Less(&hanging[j]) })
	rows := make([][]string, 0, len(hanging))
	for _, h := range hanging {
		minutes := (now.UnixMilli() - h.LastTimestamp) / time.Minute.Milliseconds()
		rows = append(rows, []string{h.Topic, strconv.Itoa(int(h.Partition)), strconv.FormatInt(h.ProducerID, 10),
			strconv.Itoa(int(h.ProducerEpoch)), strconv.Itoa(int(h.CoordinatorEpoch)), strconv.FormatInt(h.CurrentTxnStartOffset, 10),
			strconv.FormatInt(h.LastTimestamp, 10), strconv.FormatInt(minutes, 10)})
	}
	return rows
}

// partitionsToSearch lists the partitions of topic (every topic when empty), only those with
// a replica on brokerID when it is set.
func partitionsToSearch(ctx context.Context, adm *kadm.Client, topic string, brokerID *int32) ([]topicPart, error) {
	var topics []string
	if topic != "" {
		topics = []string{topic}
	}
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, txnFailure("Failed to describe topics", err)
	}
	if topic != "" {
		if td, ok := md.Topics[topic]; !ok || td.Err != nil {
			cause := error(kerr.UnknownTopicOrPartition)
			if ok {
				cause = td.Err
			}
			return nil, txnFailure("Failed to describe 1 topics", cause)
		}
	}
	var out []topicPart
	for _, td := range md.Topics.Sorted() {
		for _, pd := range td.Partitions.Sorted() {
			if brokerID == nil || slices.Contains(pd.Replicas, *brokerID) {
				out = append(out, topicPart{td.Topic, pd.Partition})
			}
		}
	}
	return out, nil
}

// producersOf describes the producers of tps on their leaders, or all on brokerID when set.
// An error of any partition fails the whole, as Kafka's DescribeProducersResult.all does; it
// names the partition when several were asked.
func producersOf(ctx context.Context, cl *kgo.Client, adm *kadm.Client, tps []topicPart, brokerID *int32) ([]kadm.DescribedProducer, error) {
	partErr := func(topic string, partition int32, err error) error {
		if len(tps) == 1 {
			return err
		}
		return fmt.Errorf("%s: %w", tpString(topic, partition), err)
	}
	var out []kadm.DescribedProducer
	if brokerID == nil {
		set := kadm.TopicsSet{}
		for _, tp := range tps {
			set.Add(tp.topic, tp.partition)
		}
		described, err := adm.DescribeProducers(ctx, set)
		for _, tp := range tps {
			dp, ok := described[tp.topic].Partitions[tp.partition]
			if !ok && err != nil {
				return nil, err
			}
			if !ok {
				return nil, partErr(tp.topic, tp.partition, kerr.UnknownTopicOrPartition)
			}
			if dp.Err != nil {
				return nil, partErr(tp.topic, tp.partition, kafkaErrorf(dp.Err, dp.ErrMessage))
			}
			for _, p := range dp.ActiveProducers {
				out = append(out, p)
			}
		}
		return out, nil
	}
	req := kmsg.NewPtrDescribeProducersRequest()
	for _, tp := range tps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.topic {
			rt := kmsg.NewDescribeProducersRequestTopic()
			rt.Topic = tp.topic
			req.Topics = append(req.Topics, rt)
		}
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, tp.partition)
	}
	kresp, err := cl.Broker(int(*brokerID)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, rt := range kresp.(*kmsg.DescribeProducersResponse).Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				msg := ""
				if rp.ErrorMessage != nil {
					msg = *rp.ErrorMessage
				}
				return nil, partErr(rt.Topic, rp.Partition, kafkaErrorf(err, msg))
			}
			for _, ap := range rp.ActiveProducers {
				out = append(out, kadm.DescribedProducer{
					Leader: *brokerID, Topic: rt.Topic, Partition: rp.Partition,
					ProducerID: ap.ProducerID, ProducerEpoch: int16(ap.ProducerEpoch), LastSequence: ap.LastSequence,
					LastTimestamp: ap.LastTimestamp, CoordinatorEpoch: ap.CoordinatorEpoch, CurrentTxnStartOffset: ap.CurrentTxnStartOffset,
				})
			}
		}
	}
	return out, nil
}
