package transaction

// The byte format of __transaction_state: record batches are package record's (the one
// decoder of record bytes in klassik); the key and value schemas are Kafka's
// TransactionLogKey and TransactionLogValue, as kmsg generates them (TxnMetadataKey,
// TxnMetadataValue). Kafka 3.6 writes version 0 of both, and so does klassik.

import (
	"errors"
	"fmt"

	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// encodeKey is the record key of a transactional id.
func encodeKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version = 0
	k.TransactionalID = id
	return k.AppendTo(nil)
}

// encodeValue is the record value of a state.
func encodeValue(s snapshot) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = 0
	v.ProducerID, v.ProducerEpoch = s.producerID, s.producerEpoch
	v.TimeoutMillis = s.timeoutMs
	v.State = s.state
	v.LastUpdateTimestamp, v.StartTimestamp = s.lastUpdateMs, s.startMs
	var topic *kmsg.TxnMetadataValueTopic
	for _, tp := range s.sortedPartitions() {
		if topic == nil || topic.Topic != tp.Topic {
			v.Topics = append(v.Topics, kmsg.NewTxnMetadataValueTopic())
			topic = &v.Topics[len(v.Topics)-1]
			topic.Topic = tp.Topic
		}
		topic.Partitions = append(topic.Partitions, tp.Partition)
	}
	return v.AppendTo(nil)
}

var errUnknownVersion = errors.New("unknown schema version")

// decodeKey returns the transactional id of a record key.
func decodeKey(b []byte) (string, error) {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(b); err != nil {
		return "", fmt.Errorf("transaction log key: %w", err)
	}
	if k.Version != 0 {
		return "", fmt.Errorf("transaction log key version %d: %w", k.Version, errUnknownVersion)
	}
	return k.TransactionalID, nil
}

// decodeValue parses a record value (not a tombstone).
func decodeValue(b []byte) (snapshot, error) {
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(b); err != nil {
		return snapshot{}, fmt.Errorf("transaction log value: %w", err)
	}
	if v.Version < 0 || v.Version > 1 {
		return snapshot{}, fmt.Errorf("transaction log value version %d: %w", v.Version, errUnknownVersion)
	}
	if v.State < Empty || v.State > PrepareEpochFence {
		return snapshot{}, fmt.Errorf("transaction log value: state %d is not a transaction state", v.State)
	}
	s := snapshot{
		producerID: v.ProducerID, producerEpoch: v.ProducerEpoch, lastEpoch: -1,
		timeoutMs: v.TimeoutMillis, state: v.State,
		partitions: make(map[TopicPartition]struct{}),
		startMs:    v.StartTimestamp, lastUpdateMs: v.LastUpdateTimestamp,
	}
	for _, t := range v.Topics {
		for _, p := range t.Partitions {
			s.partitions[TopicPartition{t.Topic, p}] = struct{}{}
		}
	}
	s.pendingMarkers = s.state == PrepareCommit || s.state == PrepareAbort
	return s, nil
}

// encodeBatch is one uncompressed batch holding the record of id: its state, or a tombstone
// when s is nil. Offsets start at 0: the log assigns them.
func encodeBatch(id string, s *snapshot, ts int64) []byte {
	var value []byte
	if s != nil {
		value = encodeValue(*s)
	}
	body := record.AppendRecord(nil, 0, 0, encodeKey(id), value, nil)
	return record.Build(record.BatchHeader{
		PartitionLeaderEpoch: -1, BaseTimestamp: ts, MaxTimestamp: ts,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1,
	}, body)
}

// replay applies the batches of one Log.Read to states (the last record of an id wins, a
// tombstone removes it) and returns the offset after the last whole batch. Batches or records
// that cannot be decoded are passed to skip and left out; a batch whose framing or CRC is
// broken ends the walk (whole is false), since nothing after it can be located.
func replay(buf []byte, limit int, states map[string]snapshot, skip func(offset int64, err error)) (next int64, whole bool) {
	next = -1
	for len(buf) > 0 {
		h, err := record.ParseHeader(buf)
		if err == nil && (h.Length < record.MinBatchLength || h.Size() > len(buf)) {
			err = fmt.Errorf("%w: batch length %d with %d bytes left", record.ErrCorrupt, h.Length, len(buf))
		}
		if err == nil {
			_, err = record.Check(buf[:h.Size()])
		}
		if err != nil {
			skip(h.BaseOffset, err)
			return next, false
		}
		raw := buf[:h.Size()]
		buf = buf[h.Size():]
		next = h.NextOffset()
		if h.Control() {
			continue
		}
		recs, err := record.DecodeRecords(h, raw, limit)
		if err != nil {
			skip(h.BaseOffset, err)
			continue
		}
		for _, r := range recs {
			id, err := decodeKey(r.Key)
			if err != nil {
				skip(r.Offset, err)
				continue
			}
			if r.Value == nil {
				delete(states, id)
				continue
			}
			s, err := decodeValue(r.Value)
			if err != nil {
				skip(r.Offset, err)
				continue
			}
			states[id] = s
		}
	}
	return next, true
}
