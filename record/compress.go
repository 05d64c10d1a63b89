package record

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The codecs of a batch's records section (attributes bits 0-2), as Kafka's CompressionType.
const (
	CodecNone   = 0
	CodecGzip   = 1
	CodecSnappy = 2
	CodecLZ4    = 3
	CodecZstd   = 4
)

// xerialMagic opens snappy data in the xerial framing the Java client writes
// (org.xerial.snappy.SnappyOutputStream): magic, int32 version 1, int32 compatible version
// 1, then blocks of int32 compressed length and a raw snappy block. Other clients write one
// raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	xerialBlockSize  = 32 << 10 // the Java client's default block size
	// zstdMaxWindow bounds the window a zstd frame may ask the decoder to allocate, whatever
	// the output limit: 32 MiB is above what Kafka's clients write (zstd level 19 uses 8 MiB).
	zstdMaxWindow = 32 << 20
)

// Readers and writers are reused: they allocate large buffers.
var (
	gzipReaders sync.Pool
	lz4Readers  sync.Pool
	zstdReaders sync.Pool
	gzipWriters sync.Pool
	lz4Writers  sync.Pool
)

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdErr  error
)

func tooLarge(codec string, limit int) error {
	return fmt.Errorf("%w: %s records decompress to more than the limit of %d bytes", ErrTooLarge, codec, limit)
}

// Decompress returns the records section in, compressed with codec, decompressed. It never
// produces more than limit bytes: larger output is an error wrapping ErrTooLarge that names
// the limit. Undecodable input is an error wrapping ErrCorrupt. CodecNone returns in itself
// (also checked against limit).
func Decompress(codec int8, in []byte, limit int) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	var r io.Reader
	var name string
	switch codec {
	case CodecNone:
		if len(in) > limit {
			return nil, fmt.Errorf("%w: %d bytes of records, more than the limit of %d bytes", ErrTooLarge, len(in), limit)
		}
		return in, nil
	case CodecGzip:
		name = "gzip"
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		if err := zr.Reset(bytes.NewReader(in)); err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
		}
		defer gzipReaders.Put(zr)
		r = zr
	case CodecSnappy:
		return unsnappy(in, limit)
	case CodecLZ4:
		name = "lz4"
		zr, _ := lz4Readers.Get().(*lz4.Reader)
		if zr == nil {
			zr = lz4.NewReader(nil)
		}
		zr.Reset(bytes.NewReader(in))
		defer lz4Readers.Put(zr)
		r = zr
	case CodecZstd:
		name = "zstd"
		zr, _ := zstdReaders.Get().(*zstd.Decoder)
		if zr == nil {
			var err error
			zr, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow),
				zstd.WithDecoderLowmem(true))
			if err != nil {
				return nil, err
			}
		}
		if err := zr.Reset(bytes.NewReader(in)); err != nil {
			zr.Close()
			return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
		}
		defer func() {
			_ = zr.Reset(nil)
			zstdReaders.Put(zr)
		}()
		r = zr
	default:
		return nil, fmt.Errorf("%w: unknown compression codec %d", ErrCorrupt, codec)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(4*len(in)+512, limit+1)))
	_, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	if buf.Len() > limit {
		return nil, tooLarge(name, limit)
	}
	return buf.Bytes(), nil
}

// unsnappy decodes one raw snappy block or the xerial framing, checking every declared
// length against what is present and every decoded length against the limit before decoding.
func unsnappy(in []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(in, xerialMagic) {
		n, err := snappy.DecodedLen(in)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %v", ErrCorrupt, err)
		}
		if n > limit {
			return nil, tooLarge("snappy", limit)
		}
		out, err := snappy.Decode(nil, in)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %v", ErrCorrupt, err)
		}
		return out, nil
	}
	if len(in) < xerialHeaderSize {
		return nil, fmt.Errorf("%w: snappy: truncated xerial header", ErrCorrupt)
	}
	in = in[xerialHeaderSize:]
	var out []byte
	for len(in) > 0 {
		if len(in) < 4 {
			return nil, fmt.Errorf("%w: snappy: truncated xerial block length", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(in)
		in = in[4:]
		if uint64(n) > uint64(len(in)) {
			return nil, fmt.Errorf("%w: snappy: xerial block of %d bytes with %d left", ErrCorrupt, n, len(in))
		}
		blk := in[:n]
		in = in[n:]
		dl, err := snappy.DecodedLen(blk)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: bad xerial block: %v", ErrCorrupt, err)
		}
		if dl > limit-len(out) {
			return nil, tooLarge("snappy", limit)
		}
		if cap(out)-len(out) < dl {
			grown := make([]byte, len(out), min(max(2*cap(out), len(out)+dl), limit))
			copy(grown, out)
			out = grown
		}
		d, err := snappy.Decode(out[len(out):len(out)+dl], blk)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %v", ErrCorrupt, err)
		}
		out = out[:len(out)+len(d)]
	}
	return out, nil
}

func zstdEncoder() (*zstd.Encoder, error) {
	zstdOnce.Do(func() {
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	})
	return zstdEnc, zstdErr
}

// Compress compresses a records section with codec. Snappy is written in the xerial framing,
// as the Java client and Kafka's broker write it; every client reads it. LZ4 uses 64 KiB
// blocks, as Kafka's KafkaLZ4BlockOutputStream.
func Compress(codec int8, in []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return in, nil
	case CodecGzip:
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
	case CodecSnappy:
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
	case CodecLZ4:
		var b bytes.Buffer
		w, _ := lz4Writers.Get().(*lz4.Writer)
		if w == nil {
			w = lz4.NewWriter(&b)
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
	case CodecZstd:
		enc, err := zstdEncoder()
		if err != nil {
			return nil, err
		}
		return enc.EncodeAll(in, nil), nil
	}
	return nil, fmt.Errorf("unknown compression codec %d", codec)
}
