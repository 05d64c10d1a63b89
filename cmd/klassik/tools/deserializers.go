package tools

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The deserializers of DefaultMessageFormatter's key.deserializer, value.deserializer and
// headers.deserializer properties (console-consumer's --key-deserializer and
// --value-deserializer set the first two), by Kafka's class names. Kafka instantiates the
// class and prints String.valueOf of what it returns; each one here returns that text, or
// the SerializationException's message for bytes it cannot read.
//
// Two differences from Kafka, both for bytes Kafka would not print usefully: a null key or
// value is printed as null.literal (Kafka hands the deserializer the literal's bytes, so
// LongDeserializer fails on a tombstone), and ByteArrayDeserializer prints the bytes as they
// are (Kafka prints the Java array's identity, "[B@1b6d3586"), as without a deserializer.
type deserializer func(b []byte) (string, error)

const serdePkg = "org.apache.kafka.common.serialization."

var deserializers = map[string]deserializer{
	serdePkg + "StringDeserializer":     func(b []byte) (string, error) { return strings.ToValidUTF8(string(b), "\uFFFD"), nil },
	serdePkg + "ByteArrayDeserializer":  func(b []byte) (string, error) { return string(b), nil },
	serdePkg + "ByteBufferDeserializer": func(b []byte) (string, error) { return string(b), nil },
	serdePkg + "BytesDeserializer":      func(b []byte) (string, error) { return kafkaBytesString(b), nil },
	serdePkg + "LongDeserializer": func(b []byte) (string, error) {
		if len(b) != 8 {
			return "", fmt.Errorf("Size of data received by LongDeserializer is not 8")
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10), nil
	},
	serdePkg + "IntegerDeserializer": func(b []byte) (string, error) {
		if len(b) != 4 {
			return "", fmt.Errorf("Size of data received by IntegerDeserializer is not 4")
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10), nil
	},
	serdePkg + "ShortDeserializer": func(b []byte) (string, error) {
		if len(b) != 2 {
			return "", fmt.Errorf("Size of data received by ShortDeserializer is not 2")
		}
		return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(b))), 10), nil
	},
	serdePkg + "DoubleDeserializer": func(b []byte) (string, error) {
		if len(b) != 8 {
			return "", fmt.Errorf("Size of data received by Deserializer is not 8")
		}
		return javaFloat(math.Float64frombits(binary.BigEndian.Uint64(b)), 64), nil
	},
	serdePkg + "FloatDeserializer": func(b []byte) (string, error) {
		if len(b) != 4 {
			return "", fmt.Errorf("Size of data received by Deserializer is not 4")
		}
		return javaFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32), nil
	},
	serdePkg + "BooleanDeserializer": func(b []byte) (string, error) {
		if len(b) != 1 {
			return "", fmt.Errorf("Size of data received by BooleanDeserializer is not 1")
		}
		switch b[0] {
		case 1:
			return "true", nil
		case 0:
			return "false", nil
		}
		return "", fmt.Errorf("Unexpected byte received by BooleanDeserializer: %d", int8(b[0]))
	},
	serdePkg + "UUIDDeserializer": func(b []byte) (string, error) {
		s := string(b)
		if !uuidText.MatchString(s) {
			return "", fmt.Errorf("Error parsing data into UUID")
		}
		return strings.ToLower(s), nil
	},
	serdePkg + "VoidDeserializer": func(b []byte) (string, error) {
		return "", fmt.Errorf("Data should be null for a VoidDeserializer.")
	},
}

// uuidText is the canonical text of a UUID, which UUIDDeserializer reads (UUID.fromString
// also takes shortened groups; the canonical form is what UUIDSerializer writes).
var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// lookupDeserializer returns the deserializer of a class name given to property prop; an
// unknown class is an error naming it and the classes there are.
func lookupDeserializer(prop, class string) (deserializer, error) {
	class = strings.TrimSpace(class)
	if d, ok := deserializers[class]; ok {
		return d, nil
	}
	var names []string
	for n := range deserializers {
		names = append(names, strings.TrimPrefix(n, serdePkg))
	}
	slices.Sort(names)
	return nil, fmt.Errorf("Unable to instantiate a deserializer from %s (%s): klassik's console-consumer knows %s%s",
		class, prop, serdePkg, strings.Join(names, ", "))
}

// kafkaBytesString is org.apache.kafka.common.utils.Bytes.toString: printable ASCII as it
// is, every other byte (the backslash too) as \xNN.
func kafkaBytesString(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= ' ' && c <= '~' && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02X`, c)
		}
	}
	return sb.String()
}

// javaFloat is Java's Double.toString (bits 64) and Float.toString (bits 32): the shortest
// digits that read back as the same number, in plain notation from 10^-3 up to 10^7 and in
// computerized scientific notation ("1.0E10", "1.5E-5") outside; NaN, Infinity, -0.0.
func javaFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, bits) // [-]d[.ddd]e±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		var whole, frac string
		if exp >= 0 {
			for len(digits) < exp+1 {
				digits += "0"
			}
			whole, frac = digits[:exp+1], digits[exp+1:]
		} else {
			whole, frac = "0", strings.Repeat("0", -exp-1)+digits
		}
		if frac == "" {
			frac = "0"
		}
		return sign + whole + "." + frac
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}
