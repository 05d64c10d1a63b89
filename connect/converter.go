package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Converter turns Connect data into the bytes of a record key or value and back, as Kafka's
// org.apache.kafka.connect.storage.Converter does, for the data the file connectors handle.
type Converter interface {
	// Class is the converter's Kafka class name.
	Class() string
	// FromString is fromConnectData for what the file source makes: a line, a string with
	// Schema.STRING_SCHEMA; or, for s == nil, null with no schema (the key of every line).
	FromString(s *string) ([]byte, error)
	// ToText is toConnectData followed by what FileStreamSinkTask writes for the value,
	// PrintStream.println(value): the string itself, and "null" for null.
	ToText(b []byte) (string, error)
}

// ErrData is wrapped by conversion failures, Kafka's DataException.
var ErrData = errors.New("org.apache.kafka.connect.errors.DataException")

func dataErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrData, fmt.Sprintf(format, args...))
}

// The converter classes, by Kafka's names.
const (
	JsonConverterClass      = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass    = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayConverterClass = "org.apache.kafka.connect.converters.ByteArrayConverter"
)

// newConverter makes the converter that a key.converter or value.converter property names,
// configured with the properties under its prefix (schemas.enable, converter.encoding).
func newConverter(setting, class string, props map[string]string, isKey bool) (Converter, error) {
	simple := func(full string) bool { return class == full || class == full[strings.LastIndexByte(full, '.')+1:] }
	switch {
	case simple(JsonConverterClass):
		c := &JSONConverter{SchemasEnable: true}
		if v, ok := props["schemas.enable"]; ok {
			switch strings.ToLower(v) {
			case "true":
			case "false":
				c.SchemasEnable = false
			default:
				return nil, fmt.Errorf("Invalid value %s for configuration %s.schemas.enable: Expected value to be either true or false", v, setting)
			}
		}
		return c, nil
	case simple(StringConverterClass):
		if enc, ok := props["converter.encoding"]; ok && !strings.EqualFold(enc, "UTF-8") && !strings.EqualFold(enc, "UTF8") {
			return nil, fmt.Errorf("Invalid value %s for configuration %s.converter.encoding: klassik's StringConverter reads and writes UTF-8 only", enc, setting)
		}
		return StringConverter{}, nil
	case simple(ByteArrayConverterClass):
		return ByteArrayConverter{}, nil
	}
	return nil, fmt.Errorf("Invalid value %s for configuration %s: Class %s could not be found. (klassik has %s, %s and %s)",
		class, setting, class, JsonConverterClass, StringConverterClass, ByteArrayConverterClass)
}

// StringConverter is org.apache.kafka.connect.storage.StringConverter with its default
// encoding, UTF-8.
type StringConverter struct{}

func (StringConverter) Class() string { return StringConverterClass }

func (StringConverter) FromString(s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return []byte(*s), nil
}

func (StringConverter) ToText(b []byte) (string, error) {
	if b == nil {
		return "null", nil
	}
	return javaUTF8(b), nil
}

// ByteArrayConverter is org.apache.kafka.connect.converters.ByteArrayConverter: it passes
// bytes through, and refuses data with any schema but BYTES, as Kafka's does: the file
// source's lines (STRING) fail with it, in Kafka too.
type ByteArrayConverter struct{}

func (ByteArrayConverter) Class() string { return ByteArrayConverterClass }

func (ByteArrayConverter) FromString(s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return nil, dataErr("Invalid schema type for ByteArrayConverter: STRING")
}

// ToText writes the bytes as they are: Kafka's sink would print the Java array's identity
// ("[B@1b6d3586"), which no one wants in a file.
func (ByteArrayConverter) ToText(b []byte) (string, error) {
	if b == nil {
		return "null", nil
	}
	return string(b), nil
}

// JSONConverter is org.apache.kafka.connect.json.JsonConverter. With SchemasEnable (Kafka's
// default) a value is written in the envelope
//
//	{"schema":{"type":"string","optional":false},"payload":"foo"}
//
// and without it as the bare JSON value, "foo". Null with no schema is a null record key or
// value, as fromConnectData returns null for it.
type JSONConverter struct {
	SchemasEnable bool
}

func (c *JSONConverter) Class() string { return JsonConverterClass }

// stringSchemaJSON is asJsonSchema(Schema.STRING_SCHEMA) as Jackson writes it.
const stringSchemaJSON = `{"type":"string","optional":false}`

func (c *JSONConverter) FromString(s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	var b []byte
	if c.SchemasEnable {
		b = append(b, `{"schema":`+stringSchemaJSON+`,"payload":`...)
	}
	b = appendJacksonString(b, *s)
	if c.SchemasEnable {
		b = append(b, '}')
	}
	return b, nil
}

// ToText reads the JSON (with the envelope when SchemasEnable, which must then hold exactly
// "schema" and "payload") and renders the value: a string as itself, null as "null", and any
// other value as its compact JSON (where Java's toString differs, e.g. {a=1} for a map).
func (c *JSONConverter) ToText(b []byte) (string, error) {
	if b == nil {
		return "null", nil
	}
	v, err := decodeJSON(b)
	if err != nil {
		return "", dataErr("Converting byte[] to Kafka Connect data failed due to serialization error: %v", err)
	}
	if !c.SchemasEnable {
		return renderJSON(v), nil
	}
	env, ok := v.(map[string]any)
	_, hasSchema := env["schema"]
	_, hasPayload := env["payload"]
	if !ok || len(env) != 2 || !hasSchema || !hasPayload {
		return "", dataErr(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`)
	}
	payload := env["payload"]
	if env["schema"] == nil {
		return renderJSON(payload), nil
	}
	schema, ok := env["schema"].(map[string]any)
	typ, isText := schema["type"].(string)
	if !ok || !isText {
		return "", dataErr("Schema must contain 'type' field")
	}
	if payload == nil {
		if def, has := schema["default"]; has && def != nil {
			payload = def
		} else if opt, _ := schema["optional"].(bool); !opt {
			return "", dataErr("Invalid null value for required %s field", strings.ToUpper(typ))
		}
	}
	if typ == "string" {
		if s, ok := payload.(string); ok {
			return s, nil
		}
		return "null", nil // Jackson's textValue() of a non-text node: null
	}
	return renderJSON(payload), nil
}

// decodeJSON reads the first JSON value of b; trailing bytes are ignored, as Jackson's
// readTree ignores them by default.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// renderJSON renders a decoded JSON value as the sink writes it.
func renderJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// javaUTF8 decodes b as Java's new String(b, UTF_8) does: every byte that is not part of a
// valid sequence becomes U+FFFD.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // utf8.RuneError for an invalid byte
		b = b[n:]
	}
	return sb.String()
}

// appendJacksonString appends s as a JSON string exactly as Jackson's UTF8JsonGenerator writes
// it (Kafka 3.6 has Jackson 2.13.5; the behaviour holds before 2.18): '"' and '\\' escaped,
// \b \t \n \f \r in their short forms, other control characters as \u00XX, a character beyond
// the Basic Multilingual Plane as its UTF-16 surrogate pair (😀 is \uD83D\uDE00), hex in upper
// case, and everything else (non-ASCII, '/', '<', U+2028) as UTF-8 as it is. Go's
// encoding/json would escape <, >, &, U+2028 and U+2029 and keep 😀 whole, which Kafka does not.
// TestEnvelopeAgainstJackson checks this against Jackson itself.
func appendJacksonString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	u4 := func(b []byte, u rune) []byte {
		return append(b, '\\', 'u', hex[u>>12&0xf], hex[u>>8&0xf], hex[u>>4&0xf], hex[u&0xf])
	}
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				b = u4(u4(b, hi), lo)
			} else {
				b = utf8.AppendRune(b, r) // an invalid byte is U+FFFD, as Java decoded it
			}
			continue
		}
		i++
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = u4(b, rune(c))
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
