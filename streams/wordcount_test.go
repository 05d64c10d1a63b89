package streams

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWords checks WordCountDemo's value.toLowerCase(Locale.getDefault()).split("\\W+") with
// the results Java gives (String.split drops trailing empty strings, keeps a leading one
// after a leading separator, and returns the whole string when nothing matches).
func TestWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"all streams lead to kafka", []string{"all", "streams", "lead", "to", "kafka"}},
		{"Hello Kafka Streams", []string{"hello", "kafka", "streams"}},
		{"join kafka summit", []string{"join", "kafka", "summit"}},
		{"a,b;;c--d", []string{"a", "b", "c", "d"}},
		{"snake_case and digits 42", []string{"snake_case", "and", "digits", "42"}},
		{" leading space", []string{"", "leading", "space"}},
		{"trailing space   ", []string{"trailing", "space"}},
		{"", []string{""}},         // no match: the string itself
		{"word", []string{"word"}}, // likewise
		{"   ", nil},               // all empty, all trailing: dropped
		{"café au lait", []string{"caf", "au", "lait"}}, // \W is ASCII-only in Java
		{"İstanbul", []string{"i", "stanbul"}},          // Java: "i" + U+0307, a separator
		{"\u212Aelvin", []string{"kelvin"}},             // KELVIN SIGN lower-cases to k
		{"tab\tand\nnewline", []string{"tab", "and", "newline"}},
	}
	for _, tc := range tests {
		if got := Words(tc.line); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("Words(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestLong checks LongSerializer's bytes and LongDeserializer's size check.
func TestLong(t *testing.T) {
	for _, tc := range []struct {
		v int64
		b []byte
	}{
		{1, []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{258, []byte{0, 0, 0, 0, 0, 0, 1, 2}},
		{-1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{1 << 40, []byte{0, 0, 1, 0, 0, 0, 0, 0}},
	} {
		if got := EncodeLong(tc.v); !bytes.Equal(got, tc.b) {
			t.Errorf("EncodeLong(%d) = %x, want %x", tc.v, got, tc.b)
		}
		if got, err := DecodeLong(tc.b); err != nil || got != tc.v {
			t.Errorf("DecodeLong(%x) = %d, %v", tc.b, got, err)
		}
	}
	if _, err := DecodeLong([]byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "is not 8") {
		t.Errorf("DecodeLong of 3 bytes: %v", err)
	}
}

// TestStoreRollback checks that an aborted transaction's counts are put back exactly,
// words it added removed, and that a committed one's stay.
func TestStoreRollback(t *testing.T) {
	s := newStore(map[string]int64{"kafka": 3})
	s.increment("kafka")
	s.increment("kafka")
	s.increment("new")
	if s.counts["kafka"] != 5 || s.counts["new"] != 1 {
		t.Fatalf("counts %v", s.counts)
	}
	s.rollback()
	if !reflect.DeepEqual(s.counts, map[string]int64{"kafka": 3}) {
		t.Fatalf("after rollback %v", s.counts)
	}
	if n := s.increment("kafka"); n != 4 {
		t.Fatalf("increment after rollback: %d", n)
	}
	s.commit()
	s.increment("x")
	s.rollback()
	if !reflect.DeepEqual(s.counts, map[string]int64{"kafka": 4}) {
		t.Fatalf("after commit then rollback %v", s.counts)
	}
}

func TestNames(t *testing.T) {
	if got := ChangelogTopic("streams-wordcount"); got != "streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog" {
		t.Errorf("changelog %s", got)
	}
	if got := RepartitionTopic("streams-wordcount"); got != "streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition" {
		t.Errorf("repartition %s", got)
	}
}

func TestParseProperties(t *testing.T) {
	var notes bytes.Buffer
	cfg, err := ParseProperties(map[string]string{
		"application.id":       "wc",
		"bootstrap.servers":    "h1:9092, h2:9092",
		"processing.guarantee": "exactly_once",
		"commit.interval.ms":   "100",
		"session.timeout.ms":   "6000",
		"replication.factor":   "3",
		"auto.offset.reset":    "latest",
		"num.stream.threads":   "2",
	}, &notes)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.ApplicationID, want.Bootstrap, want.Guarantee = "wc", []string{"h1:9092", "h2:9092"}, ExactlyOnceV2
	want.CommitInterval, want.SessionTimeout, want.ReplicationFactor, want.ResetEarliest = 100*time.Millisecond, 6*time.Second, 3, false
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	for _, n := range []string{"exactly_once is deprecated", "num.stream.threads is not supported"} {
		if !strings.Contains(notes.String(), n) {
			t.Errorf("notes lack %q:\n%s", n, notes.String())
		}
	}
	for k, v := range map[string]string{"processing.guarantee": "twice", "replication.factor": "0", "commit.interval.ms": "soon", "auto.offset.reset": "none"} {
		if _, err := ParseProperties(map[string]string{k: v}, io.Discard); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
