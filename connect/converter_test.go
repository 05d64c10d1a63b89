package connect

import (
	"errors"
	"strings"
	"testing"
)

func str(s string) *string { return &s }

// The bytes Kafka's quickstart shows for the line "foo", and a null key as no bytes at all
// (JsonConverter.fromConnectData returns null for a null schema and value).
func TestJSONConverterEnvelope(t *testing.T) {
	c := &JSONConverter{SchemasEnable: true}
	b, err := c.FromString(str("foo"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"schema":{"type":"string","optional":false},"payload":"foo"}` {
		t.Fatalf("envelope %s", b)
	}
	if b, err := c.FromString(nil); b != nil || err != nil {
		t.Fatalf("null key: %q %v", b, err)
	}
	plain := &JSONConverter{}
	if b, _ := plain.FromString(str("foo")); string(b) != `"foo"` {
		t.Fatalf("without schemas: %s", b)
	}
}

// Jackson's escaping: short forms, \u00XX upper case for other controls, nothing else escaped.
func TestJacksonStringEscaping(t *testing.T) {
	for in, want := range map[string]string{
		`say "hi" \ back`:       `"say \"hi\" \\ back"`,
		"tab\there\b\f\x01\x1f": `"tab\there\b\f\u0001\u001F"`,
		"</script> & <b>":       `"</script> & <b>"`,
		"données € \u2028 😀":    "\"données € \u2028 \\uD83D\\uDE00\"",
		"\x7f":                  "\"\x7f\"",
	} {
		if got := string(appendJacksonString(nil, in)); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func TestToText(t *testing.T) {
	env := &JSONConverter{SchemasEnable: true}
	plain := &JSONConverter{}
	for _, c := range []struct {
		conv Converter
		in   []byte
		want string
	}{
		{env, []byte(`{"schema":{"type":"string","optional":false},"payload":"foo"}`), "foo"},
		{env, []byte(`{"payload":"a\u00e9\n","schema":{"type":"string"}}`), "aé\n"},
		{env, []byte(`{"schema":null,"payload":{"b":1,"a":[1,2.50]}}`), `{"a":[1,2.50],"b":1}`},
		{env, []byte(`{"schema":{"type":"int32","optional":false},"payload":42}`), "42"},
		{env, []byte(`{"schema":{"type":"string","optional":true},"payload":null}`), "null"},
		{env, []byte(`{"schema":{"type":"string","optional":false,"default":"d"},"payload":null}`), "d"},
		{env, []byte(`{"schema":{"type":"string"},"payload":7}`), "null"},
		{env, nil, "null"},
		{plain, []byte(`"foo"`), "foo"},
		{plain, []byte(`12.0`), "12.0"},
		{plain, []byte(`true`), "true"},
		{plain, []byte(`null`), "null"},
		{plain, []byte(`"x" trailing`), "x"},
		{StringConverter{}, []byte("foo\xffbar"), "foo\uFFFDbar"},
		{StringConverter{}, nil, "null"},
		{ByteArrayConverter{}, []byte("raw"), "raw"},
	} {
		got, err := c.conv.ToText(c.in)
		if err != nil {
			t.Errorf("%s %q: %v", c.conv.Class(), c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s %q: %q, want %q", c.conv.Class(), c.in, got, c.want)
		}
	}
	for _, in := range []string{`"foo"`, `{"payload":"x"}`, `{"schema":null,"payload":1,"extra":2}`, `not json`,
		`{"schema":{"optional":false},"payload":"x"}`, `{"schema":{"type":"string","optional":false},"payload":null}`} {
		_, err := env.ToText([]byte(in))
		if !errors.Is(err, ErrData) {
			t.Errorf("%s: %v, want a DataException", in, err)
		}
	}
	_, err := env.ToText([]byte(`"foo"`))
	if err == nil || !strings.Contains(err.Error(), `JsonConverter with schemas.enable requires "schema" and "payload" fields`) {
		t.Fatalf("plain JSON with schemas.enable: %v", err)
	}
	if _, err := (ByteArrayConverter{}).FromString(str("line")); !errors.Is(err, ErrData) {
		t.Fatalf("ByteArrayConverter takes a STRING: %v", err)
	}
}

// What the source writes, the sink reads back as the same line, with every converter that
// can carry a string.
func TestRoundTrip(t *testing.T) {
	for _, c := range []Converter{&JSONConverter{SchemasEnable: true}, &JSONConverter{}, StringConverter{}} {
		for _, line := range []string{"", "foo", `quo"te\`, "tab\tctl\x01", "données 😀", "{\"not\":\"parsed\"}"} {
			b, err := c.FromString(&line)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ToText(b)
			if err != nil || got != line {
				t.Errorf("%s: %q -> %s -> %q, %v", c.Class(), line, b, got, err)
			}
		}
	}
}

// FuzzJSONToText: no bytes from a topic panic the sink's converter; a failure is a
// DataException; and a string the source wrote always reads back unchanged.
func FuzzJSONToText(f *testing.F) {
	f.Add([]byte(`{"schema":{"type":"string","optional":false},"payload":"foo"}`), "foo")
	f.Add([]byte(`{"schema":{"type":"struct","fields":[]},"payload":{}}`), "")
	f.Add([]byte(`[1,{"a":null}]`), "\x00\u2028")
	f.Fuzz(func(t *testing.T, b []byte, line string) {
		for _, c := range []Converter{&JSONConverter{SchemasEnable: true}, &JSONConverter{}, StringConverter{}} {
			if _, err := c.ToText(b); err != nil && !errors.Is(err, ErrData) {
				t.Fatalf("%s: error is no DataException: %v", c.Class(), err)
			}
			line := javaUTF8([]byte(line))
			enc, err := c.FromString(&line)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.ToText(enc); err != nil || got != line {
				t.Fatalf("%s: %q -> %s -> %q, %v", c.Class(), line, enc, got, err)
			}
		}
	})
}
