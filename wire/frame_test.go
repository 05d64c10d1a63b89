package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var genCorpus = flag.Bool("gen-corpus", false, "rewrite testdata/fuzz/FuzzReadRequest from seedFrames")

// allVersions serves every key and version kmsg knows.
func allVersions(key int16) (int16, int16, bool) {
	r := kmsg.RequestForKey(key)
	if r == nil {
		return 0, 0, false
	}
	return 0, r.MaxVersion(), true
}

// testVersions is what the test broker serves: everything kmsg knows, except LeaderAndIsr
// (key 4, to test an unserved key) and ApiVersions only up to v3 (to test the fallback).
func testVersions(key int16) (int16, int16, bool) {
	switch key {
	case 4:
		return 0, 0, false
	case keyApiVersions:
		return 0, 3, true
	}
	return allVersions(key)
}

func strp(s string) *string { return &s }

// testRecordBatch is a valid magic v2 batch of n records, CRC-32C included.
func testRecordBatch(n int) []byte {
	var records []byte
	for i := range n {
		r := kmsg.Record{OffsetDelta: int32(i), Key: []byte("k" + strconv.Itoa(i)), Value: []byte("value " + strconv.Itoa(i))}
		body := r.AppendTo(nil)[1:] // Length 0 encodes as one byte: drop it, then prefix the real length
		records = binary.AppendVarint(records, int64(len(body)))
		records = append(records, body...)
	}
	b := kmsg.RecordBatch{
		Magic:           2,
		LastOffsetDelta: int32(n - 1),
		FirstTimestamp:  1700000000000,
		MaxTimestamp:    1700000000000,
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(n),
		Records:         records,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// seedRequests are real requests as clients send them.
func seedRequests() []kmsg.Request {
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName = "klassik-test"
	av.ClientSoftwareVersion = "1.0"

	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = strp("orders")
	md.Topics = append(md.Topics, t)

	pr := kmsg.NewPtrProduceRequest()
	pr.SetVersion(9)
	pr.Acks = -1
	pr.TimeoutMillis = 30000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "orders"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Partition = 0
	pp.Records = testRecordBatch(3)
	pt.Partitions = append(pt.Partitions, pp)
	pr.Topics = append(pr.Topics, pt)

	fe := kmsg.NewPtrFetchRequest()
	fe.SetVersion(13)
	fe.MaxWaitMillis = 500
	fe.MinBytes = 1
	fe.MaxBytes = 50 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = 0
	fp.FetchOffset = 42
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fe.Topics = append(fe.Topics, ft)

	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.SetVersion(0)
	cs.BrokerID = 2

	md0 := kmsg.NewPtrMetadataRequest()
	md0.SetVersion(1)

	return []kmsg.Request{av, md, pr, fe, cs, md0}
}

// seedFrames are the fuzz seeds: size-prefixed streams of real requests, and garbage.
func seedFrames() map[string][]byte {
	seeds := map[string][]byte{}
	var all []byte
	for i, r := range seedRequests() {
		f := AppendRequest(nil, r, int32(i+1), strp("seed-client"))
		seeds[fmt.Sprintf("real_key%d_v%d", r.Key(), r.GetVersion())] = f
		all = append(all, f...)
	}
	seeds["real_pipelined"] = all
	seeds["null_client_id"] = AppendRequest(nil, seedRequests()[1], 7, nil)

	// ApiVersions newer than served, with a header v2 tag section.
	av := []byte{0, 0, 0, 0, 0, 18, 0, 99, 0, 0, 0, 5, 0, 1, 'x', 1, 0, 1, 0xaa}
	binary.BigEndian.PutUint32(av, uint32(len(av)-4))
	seeds["apiversions_too_new"] = av

	seeds["garbage_empty"] = []byte{}
	seeds["garbage_short_size"] = []byte{0, 0}
	seeds["garbage_huge_size"] = []byte{0x7f, 0xff, 0xff, 0xff, 0, 1}
	seeds["garbage_negative_size"] = []byte{0x80, 0, 0, 0}
	seeds["garbage_short_header"] = []byte{0, 0, 0, 3, 0, 3, 0}
	seeds["garbage_text"] = []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	seeds["garbage_bad_client_id"] = []byte{0, 0, 0, 10, 0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff}
	seeds["garbage_bad_tags"] = []byte{0, 0, 0, 13, 0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff}
	trunc := AppendRequest(nil, seedRequests()[2], 3, strp("c"))
	trunc = trunc[:len(trunc)-20]
	binary.BigEndian.PutUint32(trunc, uint32(len(trunc)-4))
	seeds["garbage_truncated_produce"] = trunc
	return seeds
}

func corpusDir() string { return filepath.Join("testdata", "fuzz", "FuzzReadRequest") }

// TestFuzzSeedCorpus keeps the checked-in corpus in step with seedFrames (regenerate with
// go test ./wire -run TestFuzzSeedCorpus -gen-corpus) and checks the real requests in it
// decode, so the fuzzer starts from meaningful inputs. go test runs the corpus itself through
// FuzzReadRequest.
func TestFuzzSeedCorpus(t *testing.T) {
	seeds := seedFrames()
	if *genCorpus {
		if err := os.MkdirAll(corpusDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(corpusDir(), name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range seeds {
		content, err := os.ReadFile(filepath.Join(corpusDir(), name))
		if err != nil {
			t.Fatalf("seed %s missing (run with -gen-corpus): %v", name, err)
		}
		if !bytes.Contains(content, []byte(strconv.Quote(string(want)))) {
			t.Errorf("seed %s is stale (run with -gen-corpus)", name)
		}
	}
	for _, r := range seedRequests() {
		name := fmt.Sprintf("real_key%d_v%d", r.Key(), r.GetVersion())
		req, err := ReadRequest(bufio.NewReader(bytes.NewReader(seeds[name])), DefaultMaxRequestSize, allVersions)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if req.Key != r.Key() || req.Version != r.GetVersion() || !bytes.Equal(req.Body.AppendTo(nil), r.AppendTo(nil)) {
			t.Errorf("%s: decoded %+v differs from what was sent", name, req)
		}
	}
}

// FuzzReadRequest feeds a byte stream to the framing and request decoding, as the read loop
// does. It must never panic, never accept a frame over the limit, and whatever it decodes
// must survive encoding and decoding again with the same header.
func FuzzReadRequest(f *testing.F) {
	// The seeds are in testdata/fuzz/FuzzReadRequest (see TestFuzzSeedCorpus).
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for range 8 {
			frame, err := readFrame(br, limit)
			if err != nil {
				if errors.Is(err, ErrFrameSize) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				t.Fatalf("unexpected read error: %v", err)
			}
			if len(frame) > limit {
				t.Fatalf("frame of %d bytes over the %d limit", len(frame), limit)
			}
			req, err := ParseRequest(frame, testVersions)
			if err != nil {
				if errors.Is(err, ErrUnsupportedApiVersions) && (req == nil || req.Key != keyApiVersions) {
					t.Fatalf("fallback for a non-ApiVersions request: %+v", req)
				}
				continue
			}
			again, err := ParseRequest(AppendRequest(nil, req.Body, req.CorrelationID, req.ClientID)[4:], testVersions)
			if err != nil {
				t.Fatalf("re-encoded key %d v%d does not decode: %v", req.Key, req.Version, err)
			}
			if again.Key != req.Key || again.Version != req.Version || again.CorrelationID != req.CorrelationID {
				t.Fatalf("header changed: %+v then %+v", req, again)
			}
			if (again.ClientID == nil) != (req.ClientID == nil) || (req.ClientID != nil && *again.ClientID != *req.ClientID) {
				if !(req.Key == keyControlledShutdown && req.Version == 0) {
					t.Fatalf("client id changed: %v then %v", req.ClientID, again.ClientID)
				}
			}
		}
	})
}

func TestParseRequestHeader(t *testing.T) {
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12) // flexible: header v2
	frame := AppendRequest(nil, md, 77, strp("cid"))[4:]
	// Insert two tagged fields into the header, which wire must skip.
	hdrEnd := 8 + 2 + 3
	withTags := append(append(append([]byte{}, frame[:hdrEnd]...), 2, 0, 1, 9, 5, 2, 1, 2), frame[hdrEnd+1:]...)
	for name, f := range map[string][]byte{"plain": frame, "tagged": withTags} {
		req, err := ParseRequest(f, testVersions)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if req.Key != 3 || req.Version != 12 || req.CorrelationID != 77 || *req.ClientID != "cid" {
			t.Fatalf("%s: header %+v", name, req)
		}
		if req.Size != len(f) { // what a producer's byte-rate quota counts
			t.Fatalf("%s: Size %d, frame %d bytes", name, req.Size, len(f))
		}
		if _, ok := req.Body.(*kmsg.MetadataRequest); !ok {
			t.Fatalf("%s: body %T", name, req.Body)
		}
	}

	// Null client id; non-flexible header v1 has no tag section.
	md1 := kmsg.NewPtrMetadataRequest()
	md1.SetVersion(1)
	req, err := ParseRequest(AppendRequest(nil, md1, 1, nil)[4:], testVersions)
	if err != nil || req.ClientID != nil {
		t.Fatalf("null client id: %+v, %v", req, err)
	}

	// ControlledShutdown v0 uses header v0: no client id.
	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.SetVersion(0)
	cs.BrokerID = 3
	f := AppendRequest(nil, cs, 5, strp("ignored"))[4:]
	if len(f) != 8+4 {
		t.Fatalf("ControlledShutdown v0 frame is %d bytes, want header v0 + broker id", len(f))
	}
	req, err = ParseRequest(f, testVersions)
	if err != nil || req.Body.(*kmsg.ControlledShutdownRequest).BrokerID != 3 {
		t.Fatalf("ControlledShutdown v0: %+v, %v", req, err)
	}
}

func TestParseRequestRefusals(t *testing.T) {
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	good := AppendRequest(nil, md, 1, strp("c"))[4:]
	with := func(key, version int16) []byte {
		b := append([]byte{}, good...)
		binary.BigEndian.PutUint16(b, uint16(key))
		binary.BigEndian.PutUint16(b[2:], uint16(version))
		return b
	}
	cases := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"short", good[:7], ErrMalformed},
		{"unknown key", with(999, 0), ErrUnknownKey},
		{"unserved key", with(4, 0), ErrUnknownKey},
		{"version too new", with(3, 99), ErrUnsupportedVersion},
		{"negative version", with(3, -1), ErrUnsupportedVersion},
		{"apiversions too new", with(keyApiVersions, 4), ErrUnsupportedApiVersions},
		{"truncated client id", good[:11], ErrMalformed},
		{"truncated body", good[:len(good)-2], ErrMalformed},
	}
	for _, tc := range cases {
		req, err := ParseRequest(tc.frame, testVersions)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if len(tc.frame) >= 8 && (req == nil || req.CorrelationID != 1) {
			t.Errorf("%s: header not returned with the error: %+v", tc.name, req)
		}
	}
}

// TestReadFrameRefusesBeforeAllocating: a 2 GiB (or negative) size fails without allocating
// anything for the frame.
func TestReadFrameRefusesBeforeAllocating(t *testing.T) {
	for _, size := range []uint32{0x7fffffff, 0x80000000, 0xffffffff, uint32(DefaultMaxRequestSize) + 1} {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], size)
		// TotalAlloc counts the whole process (the race detector, other goroutines): the
		// least of a few tries is this call's own.
		least := ^uint64(0)
		for range 5 {
			br := bufio.NewReaderSize(bytes.NewReader(hdr[:]), 16)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readFrame(br, DefaultMaxRequestSize)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrFrameSize) {
				t.Fatalf("size %#x: %v", size, err)
			}
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > 4096 { // the error value only
			t.Errorf("size %#x: %d bytes allocated", size, least)
		}
	}
}

// TestReadFrameGrows: frames above frameChunk are read in growing pieces and come out whole.
func TestReadFrameGrows(t *testing.T) {
	n := 3*frameChunk + 12345
	data := make([]byte, 4+n)
	binary.BigEndian.PutUint32(data, uint32(n))
	for i := range n {
		data[4+i] = byte(i * 7)
	}
	frame, err := readFrame(bufio.NewReader(bytes.NewReader(data)), DefaultMaxRequestSize)
	if err != nil || !bytes.Equal(frame, data[4:]) {
		t.Fatalf("frame of %d: err %v, equal %v", n, err, bytes.Equal(frame, data[4:]))
	}
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(data[:len(data)-1])), DefaultMaxRequestSize); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated frame: %v", err)
	}
}

func TestAppendResponseHeaders(t *testing.T) {
	// Flexible Metadata v12: response header v1, one empty tag byte after the correlation id.
	md := kmsg.NewPtrMetadataResponse()
	md.SetVersion(12)
	got := AppendResponse(nil, 9, md)
	want := append([]byte{0, 0, 0, 0, 0, 0, 0, 9, 0}, md.AppendTo(nil)...)
	binary.BigEndian.PutUint32(want, uint32(len(want)-4))
	if !bytes.Equal(got, want) {
		t.Errorf("metadata v12:\n got %x\nwant %x", got, want)
	}
	// ApiVersions v3 is flexible but its response header stays v0 (KIP-511).
	av := kmsg.NewPtrApiVersionsResponse()
	av.SetVersion(3)
	got = AppendResponse(nil, 9, av)
	want = append([]byte{0, 0, 0, 0, 0, 0, 0, 9}, av.AppendTo(nil)...)
	binary.BigEndian.PutUint32(want, uint32(len(want)-4))
	if !bytes.Equal(got, want) {
		t.Errorf("apiversions v3:\n got %x\nwant %x", got, want)
	}
}
