package streams

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
)

// The topics of WordCountDemo (its INPUT_TOPIC and OUTPUT_TOPIC).
const (
	InputTopic  = "streams-plaintext-input"
	OutputTopic = "streams-wordcount-output"
)

// DefaultApplicationID is WordCountDemo's application.id: the consumer group, and the prefix
// of the internal topics.
const DefaultApplicationID = "streams-wordcount"

// StoreName is the name Kafka Streams generates for the store of WordCountDemo's count():
// KGroupedStreamImpl asks the builder for a store name with the prefix KSTREAM-AGGREGATE-,
// and the builder's counter stands at 3 after the source (0), flatMapValues (1) and the
// groupBy key selector (2).
const StoreName = "KSTREAM-AGGREGATE-STATE-STORE-0000000003"

// RepartitionTopic is the topic that carries the words from sub-topology 0 to 1, named as
// Kafka names it: "<application.id>-<store name>-repartition".
func RepartitionTopic(applicationID string) string {
	return applicationID + "-" + StoreName + "-repartition"
}

// ChangelogTopic is the compacted topic that backs the store:
// "<application.id>-<store name>-changelog" (ProcessorStateManager.storeChangelogTopic).
func ChangelogTopic(applicationID string) string {
	return applicationID + "-" + StoreName + "-changelog"
}

// Words is WordCountDemo's flatMapValues: value.toLowerCase(Locale.getDefault()).split("\\W+"),
// with Java's semantics, for a default locale that is not Turkic (en_US, say):
//
//   - \W is ASCII-only in Java without UNICODE_CHARACTER_CLASS: everything but [a-zA-Z0-9_]
//     separates words, so "café" gives "caf".
//   - A line that starts with a separator gives an empty first word (" hello" is "", "hello"),
//     and a line with no separator at all, the empty line included, is one word ("" is
//     [""]); trailing empty strings are dropped (String.split with limit 0), so "   " gives
//     no word. Kafka counts the empty word like any other (its repartition filter drops only
//     null keys), and so does this.
func Words(line string) []string {
	return splitNonWord(javaLower(line))
}

// javaLower is String.toLowerCase for a non-Turkic locale. Only ASCII letters survive the
// split, so the one difference from Go's per-rune lower-casing that can change a word is
// U+0130 (İ), which Java turns into "i" and a combining dot (a separator), and Go into "i".
func javaLower(s string) string {
	if !strings.ContainsRune(s, '\u0130') {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\u0130' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isWordByte is Java's \w without UNICODE_CHARACTER_CLASS: [a-zA-Z_0-9]. Every byte of a
// multi-byte UTF-8 sequence is >= 0x80 and so a separator, as each UTF-16 unit is in Java.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// splitNonWord is Java's s.split("\\W+"): see Words.
func splitNonWord(s string) []string {
	var out []string
	start, matched := 0, false
	for i := 0; i < len(s); {
		if isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isWordByte(s[j]) {
			j++
		}
		out = append(out, s[start:i])
		start, i, matched = j, j, true
	}
	if !matched {
		return []string{s}
	}
	out = append(out, s[start:])
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// EncodeLong is Kafka's LongSerializer: the 8 bytes of v, big-endian.
func EncodeLong(v int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v))
}

// DecodeLong is Kafka's LongDeserializer, with its error for a value of the wrong size.
func DecodeLong(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("Size of data received by LongDeserializer is not 8 (got %d bytes)", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
