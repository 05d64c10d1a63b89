package tools

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDeserializers checks each of Kafka's deserializers against what String.valueOf of its
// result prints in Java, and its SerializationException for bytes it cannot read.
func TestDeserializers(t *testing.T) {
	be64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	tests := []struct {
		class   string
		in      []byte
		want    string
		wantErr string
	}{
		{"LongDeserializer", be64(3), "3", ""},
		{"LongDeserializer", be64(1 << 40), "1099511627776", ""},
		{"LongDeserializer", be64(math.MaxUint64), "-1", ""},
		{"LongDeserializer", []byte("kafka"), "", "Size of data received by LongDeserializer is not 8"},
		{"IntegerDeserializer", be32(0xfffffffe), "-2", ""},
		{"IntegerDeserializer", be64(1), "", "Size of data received by IntegerDeserializer is not 4"},
		{"ShortDeserializer", []byte{0x01, 0x00}, "256", ""},
		{"DoubleDeserializer", be64(math.Float64bits(1.5)), "1.5", ""},
		{"DoubleDeserializer", be64(math.Float64bits(3)), "3.0", ""},
		{"DoubleDeserializer", be64(math.Float64bits(1e7)), "1.0E7", ""},
		{"DoubleDeserializer", be64(math.Float64bits(1234567.5)), "1234567.5", ""},
		{"DoubleDeserializer", be64(math.Float64bits(0.001)), "0.001", ""},
		{"DoubleDeserializer", be64(math.Float64bits(0.0001234)), "1.234E-4", ""},
		{"DoubleDeserializer", be64(math.Float64bits(-2.5e300)), "-2.5E300", ""},
		{"DoubleDeserializer", be64(math.Float64bits(math.Copysign(0, -1))), "-0.0", ""},
		{"DoubleDeserializer", be64(math.Float64bits(math.Inf(-1))), "-Infinity", ""},
		{"DoubleDeserializer", be64(math.Float64bits(math.NaN())), "NaN", ""},
		{"FloatDeserializer", be32(math.Float32bits(0.1)), "0.1", ""},
		{"FloatDeserializer", be32(math.Float32bits(1e10)), "1.0E10", ""},
		{"BooleanDeserializer", []byte{1}, "true", ""},
		{"BooleanDeserializer", []byte{0}, "false", ""},
		{"BooleanDeserializer", []byte{0xff}, "", "Unexpected byte received by BooleanDeserializer: -1"},
		{"UUIDDeserializer", []byte("0F4A3C5E-1B2D-4E6F-8A9B-0C1D2E3F4A5B"), "0f4a3c5e-1b2d-4e6f-8a9b-0c1d2e3f4a5b", ""},
		{"UUIDDeserializer", []byte("not-a-uuid"), "", "Error parsing data into UUID"},
		{"StringDeserializer", []byte("kafka"), "kafka", ""},
		{"StringDeserializer", []byte{'a', 0xff, 'b'}, "a\uFFFDb", ""},
		{"BytesDeserializer", []byte("a\\b\x00\x7f~"), `a\x5Cb\x00\x7F~`, ""},
		{"ByteArrayDeserializer", []byte{0, 1}, "\x00\x01", ""},
		{"VoidDeserializer", []byte{}, "", "Data should be null for a VoidDeserializer."},
	}
	for _, tc := range tests {
		d, err := lookupDeserializer("value.deserializer", serdePkg+tc.class)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s(%x): error %v, want %q", tc.class, tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s(%x) = %q, %v; want %q", tc.class, tc.in, got, err, tc.want)
		}
	}
}

// TestUnknownDeserializer: a class klassik does not know is an error that names it (Kafka
// logs "Unable to instantiate a deserializer from ..." and prints the bytes).
func TestUnknownDeserializer(t *testing.T) {
	_, err := newFormatter(map[string]string{"value.deserializer": "com.example.AvroDeserializer"})
	if err == nil || !strings.Contains(err.Error(), "com.example.AvroDeserializer") || !strings.Contains(err.Error(), "LongDeserializer") {
		t.Fatalf("got %v", err)
	}
	code, _, stderr := runCmd(t, "console-consumer", "--bootstrap-server", "127.0.0.1:1", "--topic", "t",
		"--property", "key.deserializer=org.example.Nope")
	if code != 1 || !strings.Contains(stderr, "Unable to instantiate a deserializer from org.example.Nope (key.deserializer)") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestQuickstartConsumerLine parses the console-consumer line of Kafka's Streams quickstart,
// with both spellings of the formatter, and formats a WordCount output record as Kafka's
// DefaultMessageFormatter prints it: the word, a tab, the count.
func TestQuickstartConsumerLine(t *testing.T) {
	for _, formatter := range []string{"kafka.tools.DefaultMessageFormatter", "org.apache.kafka.tools.consumer.DefaultMessageFormatter"} {
		fs := consoleConsumerFlags()
		err := fs.parse([]string{"--bootstrap-server", "localhost:9092", "--topic", "streams-wordcount-output", "--from-beginning",
			"--formatter", formatter, "--property", "print.key=true", "--property", "print.value=true",
			"--property", "key.deserializer=org.apache.kafka.common.serialization.StringDeserializer",
			"--property", "value.deserializer=org.apache.kafka.common.serialization.LongDeserializer"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseConsumeOpts(fs)
		if err != nil {
			t.Fatal(err)
		}
		f, err := newFormatter(o.props)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, r := range []*kgo.Record{
			{Key: []byte("kafka"), Value: binary.BigEndian.AppendUint64(nil, 4)},
			{Key: []byte("summit"), Value: binary.BigEndian.AppendUint64(nil, 1)},
			{Key: []byte("gone"), Value: nil}, // a tombstone: null.literal
		} {
			if err := f.format(&b, r); err != nil {
				t.Fatal(err)
			}
		}
		if want := "kafka\t4\nsummit\t1\ngone\tnull\n"; b.String() != want {
			t.Errorf("%s: got %q, want %q", formatter, b.String(), want)
		}
		if err := f.format(&b, &kgo.Record{Key: []byte("k"), Value: []byte("not a long")}); err == nil || !strings.Contains(err.Error(), "LongDeserializer is not 8") {
			t.Errorf("a 10-byte value: %v", err)
		}
	}
	// --value-deserializer sets the same property, and --property wins over it.
	fs := consoleConsumerFlags()
	if err := fs.parse([]string{"--bootstrap-server", "b:1", "--topic", "t", "--value-deserializer", serdePkg + "IntegerDeserializer",
		"--key-deserializer", serdePkg + "LongDeserializer", "--property", "key.deserializer=" + serdePkg + "StringDeserializer"}); err != nil {
		t.Fatal(err)
	}
	o, err := parseConsumeOpts(fs)
	if err != nil || o.props["value.deserializer"] != serdePkg+"IntegerDeserializer" || o.props["key.deserializer"] != serdePkg+"StringDeserializer" {
		t.Fatalf("%v %v", o, err)
	}
	fs = consoleConsumerFlags()
	if err := fs.parse([]string{"--bootstrap-server", "b:1", "--topic", "t", "--formatter", "kafka.tools.LoggingMessageFormatter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := parseConsumeOpts(fs); err == nil || !strings.Contains(err.Error(), "LoggingMessageFormatter") {
		t.Fatalf("another formatter: %v", err)
	}
}
