package logstore

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The codecs of a v2 batch's records section (attributes bits 0-2), as Kafka's
// CompressionType. Only the cleaner and the keyed-record check of compacted topics decode
// records; the produce and fetch paths never do.
const (
	codecNone   = 0
	codecGzip   = 1
	codecSnappy = 2
	codecLZ4    = 3
	codecZstd   = 4
)

// maxDecompressed bounds what one batch's records may expand to, so a corrupt or hostile
// batch cannot exhaust memory.
const maxDecompressed = 256 << 20

var errDecompressedTooLarge = errors.New("decompressed records larger than 256 MiB")

// xerialMagic opens snappy data in the xerial framing the Java client writes
// (org.xerial.snappy.SnappyOutputStream): magic, int32 version 1, int32 compatible version
// 1, then blocks of int32 compressed length and a raw snappy block. Other clients write one
// raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialBlockSize = 32 << 10 // the Java client's default block size

// Readers and writers are reused: they allocate large buffers.
var (
	gzipReaders sync.Pool
	lz4Readers  sync.Pool
	gzipWriters sync.Pool
	lz4Writers  sync.Pool
)

var (
	zstdOnce sync.Once
	zstdDec  *zstd.Decoder
	zstdEnc  *zstd.Encoder
	zstdErr  error
)

func zstdCodec() (*zstd.Decoder, *zstd.Encoder, error) {
	zstdOnce.Do(func() {
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecompressed))
		if zstdErr != nil {
			return
		}
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	})
	return zstdDec, zstdEnc, zstdErr
}

// decompressRecords returns the records section of a batch with codec, decompressed.
func decompressRecords(codec int8, in []byte) ([]byte, error) {
	var r io.Reader
	switch codec {
	case codecNone:
		return in, nil
	case codecGzip:
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		if err := zr.Reset(bytes.NewReader(in)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer gzipReaders.Put(zr)
		r = zr
	case codecSnappy:
		return unsnappy(in)
	case codecLZ4:
		zr, _ := lz4Readers.Get().(*lz4.Reader)
		if zr == nil {
			zr = lz4.NewReader(nil)
		}
		zr.Reset(bytes.NewReader(in))
		defer lz4Readers.Put(zr)
		r = zr
	case codecZstd:
		dec, _, err := zstdCodec()
		if err != nil {
			return nil, err
		}
		out, err := dec.DecodeAll(in, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	buf := bytes.NewBuffer(make([]byte, 0, 4*len(in)+512))
	_, err := buf.ReadFrom(io.LimitReader(r, maxDecompressed+1))
	out := buf.Bytes()
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressed {
		return nil, errDecompressedTooLarge
	}
	return out, nil
}

func unsnappy(in []byte) ([]byte, error) {
	if !bytes.HasPrefix(in, xerialMagic) {
		if n, err := snappy.DecodedLen(in); err != nil || n > maxDecompressed {
			return nil, fmt.Errorf("snappy: bad block (%v)", err)
		}
		return snappy.Decode(nil, in)
	}
	if len(in) < 16 {
		return nil, errors.New("snappy: truncated xerial header")
	}
	in = in[16:]
	var out []byte
	for len(in) > 0 {
		if len(in) < 4 {
			return nil, errors.New("snappy: truncated xerial block length")
		}
		n := binary.BigEndian.Uint32(in)
		in = in[4:]
		if uint64(n) > uint64(len(in)) {
			return nil, errors.New("snappy: truncated xerial block")
		}
		dl, err := snappy.DecodedLen(in[:n])
		if err != nil || len(out)+dl > maxDecompressed {
			return nil, fmt.Errorf("snappy: bad xerial block (%v)", err)
		}
		if out, err = appendSnappy(out, in[:n]); err != nil {
			return nil, err
		}
		in = in[n:]
	}
	return out, nil
}

func appendSnappy(out, block []byte) ([]byte, error) {
	d, err := snappy.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return append(out, d...), nil
}

// compressRecords compresses a records section with codec. Snappy is written in the xerial
// framing, as the Java client and Kafka's broker write it; every client reads it.
func compressRecords(codec int8, in []byte) ([]byte, error) {
	switch codec {
	case codecNone:
		return in, nil
	case codecGzip:
		var b bytes.Buffer
		w, _ := gzipWriters.Get().(*gzip.Writer)
		if w == nil {
			w = gzip.NewWriter(&b)
		} else {
			w.Reset(&b)
		}
		defer gzipWriters.Put(w)
		if _, err := w.Write(in); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case codecSnappy:
		out := append([]byte(nil), xerialMagic...)
		out = binary.BigEndian.AppendUint32(out, 1)
		out = binary.BigEndian.AppendUint32(out, 1)
		for len(in) > 0 {
			n := min(len(in), xerialBlockSize)
			blk := snappy.Encode(nil, in[:n])
			out = binary.BigEndian.AppendUint32(out, uint32(len(blk)))
			out = append(out, blk...)
			in = in[n:]
		}
		return out, nil
	case codecLZ4:
		var b bytes.Buffer
		w, _ := lz4Writers.Get().(*lz4.Writer)
		if w == nil {
			w = lz4.NewWriter(&b)
			// 64 KiB blocks, as Kafka's KafkaLZ4BlockOutputStream: readers then need
			// small buffers, not the library's default 4 MiB.
			if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
				return nil, err
			}
		} else {
			w.Reset(&b)
		}
		defer lz4Writers.Put(w)
		if _, err := w.Write(in); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case codecZstd:
		_, enc, err := zstdCodec()
		if err != nil {
			return nil, err
		}
		return enc.EncodeAll(in, nil), nil
	}
	return nil, fmt.Errorf("unknown compression codec %d", codec)
}
