package group

// This file holds the byte formats of __consumer_offsets: record batches are package record's
// (the one decoder of record bytes in klassik); the key/value schemas of the records are
// kmsg's, generated from Kafka's own JSON definitions.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var errShortKey = errors.New("record key shorter than its version")

// offsetsRecord is one record of a batch as the coordinator sees it.
type offsetsRecord struct {
	Offset    int64 // absolute offset
	Timestamp int64
	Key       []byte
	Value     []byte // nil: tombstone
}

// encodeBatch builds one uncompressed v2 record batch holding recs, all stamped with timestamp
// ts (milliseconds). Offsets start at 0: the log rewrites the base offset on append.
func encodeBatch(ts int64, recs []offsetsRecord) []byte {
	return encodeBatchWith(ts, recs, 0, -1, -1, -1)
}

// encodeBatchWith is encodeBatch with the given attributes, producer and base sequence.
func encodeBatchWith(ts int64, recs []offsetsRecord, attrs int16, producerID int64, producerEpoch int16, baseSequence int32) []byte {
	var body []byte
	maxTS := ts
	for i, r := range recs {
		body = record.AppendRecord(body, int64(i), r.Timestamp-ts, r.Key, r.Value, nil)
		maxTS = max(maxTS, r.Timestamp)
	}
	return record.Build(record.BatchHeader{
		PartitionLeaderEpoch: -1,
		Attributes:           attrs,
		LastOffsetDelta:      int32(max(len(recs)-1, 0)),
		BaseTimestamp:        ts,
		MaxTimestamp:         maxTS,
		ProducerID:           producerID,
		ProducerEpoch:        producerEpoch,
		BaseSequence:         baseSequence,
		NumRecords:           int32(len(recs)),
	}, body)
}

// decodedBatch is one batch of a Log.Read result.
type decodedBatch struct {
	BaseOffset    int64
	NextOffset    int64 // baseOffset + lastOffsetDelta + 1
	Records       []offsetsRecord
	Transactional bool
	Control       bool
	ProducerID    int64
	// Marker is a control batch's transaction marker, when HasMarker.
	Marker    record.EndTxnMarker
	HasMarker bool
}

// splitBatches walks the whole batches in buf and decodes each, decompressing into at most
// limit bytes per batch. A batch that passes its framing and CRC checks but cannot be decoded
// is returned with nil Records and its error in errs: its header is CRC-protected, so the
// caller can log it and move past it using NextOffset. A batch whose framing or CRC is broken
// ends the walk (errs holds why, rest is false): nothing after it can be located.
func splitBatches(buf []byte, limit int) (batches []decodedBatch, errs []error, ok bool) {
	for len(buf) > 0 {
		h, err := record.ParseHeader(buf)
		if err == nil && (h.Length < record.MinBatchLength || h.Size() > len(buf)) {
			err = fmt.Errorf("%w: batch length %d with %d bytes left", record.ErrCorrupt, h.Length, len(buf))
		}
		if err == nil {
			_, err = record.Check(buf[:h.Size()])
		}
		if err != nil {
			return batches, append(errs, fmt.Errorf("record batch at offset %d: %w", h.BaseOffset, err)), false
		}
		raw := buf[:h.Size()]
		buf = buf[h.Size():]
		d := decodedBatch{BaseOffset: h.BaseOffset, NextOffset: h.NextOffset(), Transactional: h.Transactional(), Control: h.Control(), ProducerID: h.ProducerID}
		if d.Control {
			m, ok, err := record.DecodeEndTxnMarker(h, raw)
			if err != nil {
				errs = append(errs, err)
			}
			d.Marker, d.HasMarker = m, ok && err == nil
		} else {
			recs, err := record.DecodeRecords(h, raw, limit)
			if err != nil {
				errs = append(errs, err)
				batches = append(batches, d)
				continue
			}
			d.Records = make([]offsetsRecord, len(recs))
			for i, r := range recs {
				d.Records[i] = offsetsRecord{Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key, Value: r.Value}
			}
		}
		batches = append(batches, d)
	}
	return batches, errs, true
}

// Record keys and values of __consumer_offsets. Each starts with a 2-byte version; key versions
// 0 and 1 are offset commits, key version 2 is group metadata (Kafka's GroupMetadataManager).

const (
	offsetKeyVersion   = 1
	groupKeyVersion    = 2
	offsetValueVersion = 3 // v1 when the commit carries an expire timestamp (OffsetCommit v2-v4)
	groupValueVersion  = 3
)

func offsetCommitKey(group, topic string, partition int32) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = offsetKeyVersion
	k.Group, k.Topic, k.Partition = group, topic, partition
	return k.AppendTo(nil)
}

func groupMetadataKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = groupKeyVersion
	k.Group = group
	return k.AppendTo(nil)
}

func offsetCommitValue(o offsetEntry) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.ExpireTimestamp = -1
	if o.expireTimestamp >= 0 {
		v.Version = 1
		v.ExpireTimestamp = o.expireTimestamp
	}
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.commitTimestamp
	return v.AppendTo(nil)
}

// parsedKey is a decoded __consumer_offsets record key.
type parsedKey struct {
	isOffset  bool // else group metadata
	group     string
	topic     string
	partition int32
}

func parseKey(b []byte) (parsedKey, error) {
	if len(b) < 2 {
		return parsedKey{}, errShortKey
	}
	switch version := int16(binary.BigEndian.Uint16(b)); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(b); err != nil {
			return parsedKey{}, err
		}
		return parsedKey{isOffset: true, group: k.Group, topic: k.Topic, partition: k.Partition}, nil
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(b); err != nil {
			return parsedKey{}, err
		}
		return parsedKey{group: k.Group}, nil
	default:
		return parsedKey{}, fmt.Errorf("unknown key version %d", version)
	}
}

func parseOffsetValue(b []byte) (offsetEntry, error) {
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(b); err != nil {
		return offsetEntry{}, err
	}
	o := offsetEntry{
		offset:          v.Offset,
		leaderEpoch:     -1,
		metadata:        v.Metadata,
		commitTimestamp: v.CommitTimestamp,
		expireTimestamp: -1,
	}
	if v.Version >= 3 {
		o.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.expireTimestamp = v.ExpireTimestamp
	}
	return o, nil
}
