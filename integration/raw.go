package integration

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// RawConn is one TCP connection speaking the Kafka protocol by hand: the test picks the exact
// request version, and nothing retries, routes or rewrites a request as a client library
// would. Not safe for concurrent use.
type RawConn struct {
	conn net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

// DialRaw connects to a broker at addr.
func DialRaw(addr string) (*RawConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &RawConn{conn: conn, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("klassik-integration-raw"))}, nil
}

// Close closes the connection.
func (r *RawConn) Close() error { return r.conn.Close() }

// Request sends req at the version set on it (req.SetVersion) and reads its response, all
// within timeout.
func (r *RawConn) Request(req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	if err := r.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	r.corr++
	if _, err := r.conn.Write(r.f.AppendRequest(nil, req, r.corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(r.conn, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > 256<<20 {
		return nil, fmt.Errorf("response size %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.conn, body); err != nil {
		return nil, err
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != r.corr {
		return nil, fmt.Errorf("response correlation id %d, want %d", corr, r.corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	// Flexible responses carry tagged fields in their header, except ApiVersions (key 18),
	// whose response header is always v0 (KIP-511).
	if resp.IsFlexible() && req.Key() != 18 {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %T v%d: %w", resp, req.GetVersion(), err)
	}
	return resp, nil
}

func skipTags(b []byte) ([]byte, error) {
	num, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("bad tagged field count")
	}
	b = b[n:]
	for range num {
		_, n := binary.Uvarint(b) // tag
		if n <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// EncodeBatch builds an uncompressed v2 record batch (magic 2, no producer id) holding one
// record per value, with the given first timestamp, the CRC-32C filled in as Kafka checks it.
func EncodeBatch(firstTimestamp time.Time, values ...[]byte) []byte {
	return EncodeKeyedBatch(firstTimestamp, make([][]byte, len(values)), values)
}

// EncodeKeyedBatch is EncodeBatch with a key per record; a nil key is a record without one.
func EncodeKeyedBatch(firstTimestamp time.Time, keys, values [][]byte) []byte {
	var records []byte
	for i, v := range values {
		rec := kmsg.Record{OffsetDelta: int32(i), Key: keys[i], Value: v}
		body := rec.AppendTo(nil)
		rec.Length = int32(len(body) - 1) // the varint 0 of Length is one byte
		records = rec.AppendTo(records)
	}
	ts := firstTimestamp.UnixMilli()
	batch := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       ts,
		MaxTimestamp:         ts,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(values)),
		Records:              records,
	}
	b := batch.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	// The CRC covers everything from the attributes on (offset 21).
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// DecodeBatches splits the record set of a Fetch response into its record batches.
func DecodeBatches(set []byte) ([]kmsg.RecordBatch, error) {
	var out []kmsg.RecordBatch
	for len(set) >= 12 {
		total := 12 + int(int32(binary.BigEndian.Uint32(set[8:])))
		if total < 12+49 || total > len(set) {
			break // a partial batch at the end of a fetch, as Kafka may send
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(set[:total]); err != nil {
			return nil, err
		}
		out = append(out, rb)
		set = set[total:]
	}
	return out, nil
}
