package broker

// The old message formats on the wire (magic 0 and 1), as Kafka 3.6 still serves them to
// clients pinned to an old protocol (api.version.request=false with broker.version.fallback
// 0.9 or 0.10, old kafka-python api_version): Produce v0-v2 carry a legacy message set, which
// is converted to one v2 batch before anything else sees it (Kafka 3.x stores v2 whatever
// log.message.format.version says); Fetch v0-v3 expect legacy messages, so the v2 batches read
// are converted down (magic 0 for Fetch v0-v1, magic 1 for v2-v3), uncompressed, within the
// partition's fetch size, control batches left out. Record headers, producer ids and
// transactions do not exist in these formats and are dropped on the way down.

import (
	"errors"
	"fmt"

	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
)

// legacyDecompressLimit caps what one old compressed message may decompress to: four times
// message.max.bytes (the converted batch must fit message.max.bytes anyway).
func (b *Broker) legacyDecompressLimit() int { return 4 * max(b.brokerCfg().MessageMaxBytes, 1<<20) }

// legacyToV2 converts the message set of a Produce v0-v2 partition to a v2 batch.
func (b *Broker) legacyToV2(set []byte) ([]byte, error) {
	msgs, err := record.DecodeLegacy(set, b.legacyDecompressLimit())
	switch {
	case errors.Is(err, record.ErrUnsupportedMagic):
		return nil, errorf(kerr.InvalidRecord, "Produce requests before v3 carry message format v0 or v1, not v2 batches")
	case errors.Is(err, record.ErrTooLarge):
		return nil, errorf(kerr.MessageTooLarge, "%v", err)
	case err != nil:
		return nil, errorf(kerr.CorruptMessage, "%v", err)
	case len(msgs) == 0:
		return nil, errorf(kerr.InvalidRecord, "an empty message set")
	}
	batch, err := record.LegacyToBatch(msgs, msgs[0].Codec)
	if err != nil {
		return nil, errorf(kerr.CorruptMessage, "converting message format v%d to v2: %v", msgs[0].Magic, err)
	}
	return batch, nil
}

// fetchMagic is the message format a Fetch version reads, -1 for v2 batches.
func fetchMagic(version int16) int8 {
	switch {
	case version <= 1:
		return 0
	case version <= 3:
		return 1
	}
	return -1
}

// downConvert converts the v2 batches read for an old fetch; empty when they held only
// control batches.
func (b *Broker) downConvert(data []byte, magic int8, maxBytes int) ([]byte, error) {
	out, err := record.DownConvert(data, magic, maxBytes, b.legacyDecompressLimit())
	if err != nil {
		return nil, fmt.Errorf("converting to message format v%d: %w", magic, err)
	}
	return out, nil
}
