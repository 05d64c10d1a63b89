package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultMaxRequestSize is Kafka's default socket.request.max.bytes (100 MiB).
const DefaultMaxRequestSize int32 = 104857600

const (
	keyControlledShutdown int16 = 7
	keyApiVersions        int16 = 18

	// frameChunk is the most wire allocates for a frame before its bytes arrive; larger
	// frames grow as they are read, so a peer that announces a big frame and stalls costs
	// little memory.
	frameChunk = 1 << 20
)

// Errors returned by ReadRequest and ParseRequest. Each is wrapped with details.
var (
	// ErrFrameSize: the frame's size is negative or larger than allowed.
	ErrFrameSize = errors.New("wire: frame size out of range")
	// ErrMalformed: a header or body could not be decoded.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrUnknownKey: the API key is not known or not served.
	ErrUnknownKey = errors.New("wire: unknown api key")
	// ErrUnsupportedVersion: the API version is outside the served range.
	ErrUnsupportedVersion = errors.New("wire: unsupported api version")
	// ErrUnsupportedApiVersions: an ApiVersions request newer than served. The Request
	// returned with it carries the header (Body is nil); Kafka answers it with a v0
	// UNSUPPORTED_VERSION response rather than closing (KIP-511).
	ErrUnsupportedApiVersions = errors.New("wire: ApiVersions version newer than served")
)

// readFrame reads one size-prefixed frame and returns the bytes after the size, in a slice
// allocated for this frame alone (decoded bodies alias it). The size is checked against max
// before anything is allocated. A clean end of stream before a frame starts is io.EOF.
func readFrame(br *bufio.Reader, max int32) ([]byte, error) {
	n, err := readFrameSize(br, max)
	if err != nil {
		return nil, err
	}
	return readFrameBody(br, n)
}

// readFrameSize reads a frame's 4-byte size and checks it against max (ErrFrameSize). A
// clean end of stream before a frame starts is io.EOF.
func readFrameSize(br *bufio.Reader, max int32) (int, error) {
	p, err := br.Peek(4)
	if err != nil {
		if len(p) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	size := int32(binary.BigEndian.Uint32(p))
	if _, err := br.Discard(4); err != nil {
		return 0, err
	}
	if size < 0 || size > max {
		return 0, fmt.Errorf("%w: size %d, limit %d", ErrFrameSize, size, max)
	}
	return int(size), nil
}

// readFrameBody reads the n bytes of a frame whose size readFrameSize returned. It
// allocates at most frameChunk ahead of the bytes that have arrived.
func readFrameBody(br *bufio.Reader, n int) ([]byte, error) {
	frame := make([]byte, min(n, frameChunk))
	if _, err := io.ReadFull(br, frame); err != nil {
		return nil, unexpected(err)
	}
	for len(frame) < n {
		grow := min(n-len(frame), len(frame)) // double while the bytes keep coming
		have := len(frame)
		frame = slices.Grow(frame, grow)[:have+grow]
		if _, err := io.ReadFull(br, frame[have:]); err != nil {
			return nil, unexpected(err)
		}
	}
	return frame, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadRequest reads one size-prefixed request from br and decodes it with ParseRequest.
// A frame larger than maxSize (or negative) fails with ErrFrameSize before any allocation.
func ReadRequest(br *bufio.Reader, maxSize int32, versions Versions) (*Request, error) {
	frame, err := readFrame(br, maxSize)
	if err != nil {
		return nil, err
	}
	return ParseRequest(frame, versions)
}

// ParseRequest decodes one request frame (the bytes after the size): the header, then the
// body with kmsg at the header's version. versions limits what is accepted; nil accepts every
// key and version kmsg knows. The returned Request's Conn is nil.
//
// On error the Request is non-nil when the header's key, version and correlation id could
// be read, so callers can log them; with ErrUnsupportedApiVersions it is what the fallback
// response needs. ParseRequest never panics: a panic inside kmsg becomes ErrMalformed.
func ParseRequest(frame []byte, versions Versions) (*Request, error) {
	return parseRequest(frame, versions, nil)
}

// parseRequest is ParseRequest; prevClientID, when it equals the new client id, is reused
// so that a connection's requests share one client id string.
func parseRequest(frame []byte, versions Versions, prevClientID *string) (*Request, error) {
	if len(frame) < 8 {
		return nil, fmt.Errorf("%w: %d byte frame is shorter than a request header", ErrMalformed, len(frame))
	}
	req := &Request{
		Key:           int16(binary.BigEndian.Uint16(frame)),
		Version:       int16(binary.BigEndian.Uint16(frame[2:])),
		CorrelationID: int32(binary.BigEndian.Uint32(frame[4:])),
		Size:          len(frame),
	}
	rest := frame[8:]

	body := kmsg.RequestForKey(req.Key)
	if body == nil {
		return req, fmt.Errorf("%w: %d", ErrUnknownKey, req.Key)
	}
	lo, hi := int16(0), body.MaxVersion()
	if versions != nil {
		vlo, vhi, ok := versions(req.Key)
		if !ok {
			return req, fmt.Errorf("%w: %d is not served", ErrUnknownKey, req.Key)
		}
		lo, hi = vlo, min(vhi, hi) // never past what kmsg can decode
	}
	if req.Key == keyApiVersions && req.Version > hi {
		// Only the header matters for the fallback; read the client id if it is there.
		if cid, _, err := readClientID(rest, prevClientID); err == nil {
			req.ClientID = cid
		}
		return req, fmt.Errorf("%w: v%d, newest served v%d", ErrUnsupportedApiVersions, req.Version, hi)
	}
	if req.Version < lo || req.Version > hi {
		return req, fmt.Errorf("%w: key %d v%d, served v%d-v%d", ErrUnsupportedVersion, req.Key, req.Version, lo, hi)
	}
	body.SetVersion(req.Version)

	// Request header v0 (ControlledShutdown v0 only) has no client id.
	if req.Key != keyControlledShutdown || req.Version != 0 {
		cid, r, err := readClientID(rest, prevClientID)
		if err != nil {
			return req, err
		}
		req.ClientID, rest = cid, r
		if body.IsFlexible() {
			if rest, err = skipTags(rest); err != nil {
				return req, err
			}
		}
	}
	if err := decodeBody(body, rest); err != nil {
		return req, fmt.Errorf("%w: key %d v%d body: %v", ErrMalformed, req.Key, req.Version, err)
	}
	req.Body = body
	return req, nil
}

// readClientID reads the header's nullable int16-length client id. It is a classic string
// even in the flexible header v2.
func readClientID(b []byte, prev *string) (*string, []byte, error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("%w: header ends before the client id", ErrMalformed)
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	b = b[2:]
	switch {
	case n == -1:
		return nil, b, nil
	case n < -1 || n > len(b):
		return nil, nil, fmt.Errorf("%w: client id length %d with %d bytes left", ErrMalformed, n, len(b))
	}
	if prev != nil && *prev == string(b[:n]) {
		return prev, b[n:], nil
	}
	s := string(b[:n])
	return &s, b[n:], nil
}

// skipTags skips a tagged-field section: a uvarint count, then per field a uvarint tag, a
// uvarint size and that many bytes. No tagged header field is defined that wire needs.
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad tagged field count", ErrMalformed)
	}
	b = b[n:]
	for range count {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: bad tag", ErrMalformed)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad tagged field size", ErrMalformed)
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// decodeBody runs kmsg's decoder, turning a panic into an error: nothing a client sends may
// take the broker down.
func decodeBody(m interface{ ReadFrom([]byte) error }, b []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return m.ReadFrom(b)
}

// AppendRequest appends req as a complete request frame: size, request header (v1, or v2
// with an empty tagged-field section for flexible versions; v0 for ControlledShutdown v0),
// then the body encoded by kmsg at req.GetVersion().
func AppendRequest(dst []byte, req kmsg.Request, correlationID int32, clientID *string) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.Key()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.GetVersion()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if req.Key() != keyControlledShutdown || req.GetVersion() != 0 {
		if clientID == nil {
			dst = binary.BigEndian.AppendUint16(dst, 0xffff)
		} else {
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(*clientID)))
			dst = append(dst, *clientID...)
		}
		if req.IsFlexible() {
			dst = append(dst, 0)
		}
	}
	dst = req.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// AppendResponse appends resp, whose version is already set, as a complete response frame:
// size, correlation id, an empty tagged-field section for a flexible response header (never
// for ApiVersions, whose response header is always v0: KIP-511), then the body.
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if responseHeaderFlexible(resp.Key(), resp.IsFlexible()) {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

func responseHeaderFlexible(key int16, flexible bool) bool {
	return flexible && key != keyApiVersions
}
