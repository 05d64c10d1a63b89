package properties

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cases are inputs with what java.util.Properties.load makes of them (TestAgainstJava checks
// these expectations with a real JVM where one is installed).
var cases = []struct {
	name string
	in   string
	want map[string]string
}{
	{"separators", "a=1\nb:2\nc 3\nd\t4\ne\f5\n", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}},
	{"blanks around separator", "  a  =  1\nb :2\nc= 3\n", map[string]string{"a": "1", "b": "2", "c": "3"}},
	{"whitespace then separator then more", "a  = = 1\nb : : 2\n", map[string]string{"a": "= 1", "b": ": 2"}},
	{"trailing whitespace kept", "a=1  \n", map[string]string{"a": "1  "}},
	{"key only", "alone\n  spaced   \n", map[string]string{"alone": "", "spaced": ""}},
	{"empty value", "a=\nb:\n", map[string]string{"a": "", "b": ""}},
	{"comments", "# c1\n! c2\n   # c3\na=1 # not a comment\n", map[string]string{"a": "1 # not a comment"}},
	{"comment ending in backslash does not continue", "# c \\\na=1\n", map[string]string{"a": "1"}},
	{"continuation", "a=one \\\n    two\\\n\tthree\n", map[string]string{"a": "one twothree"}},
	{"continued line starting with #", "a=x\\\n  #y\n", map[string]string{"a": "x#y"}},
	{"even backslashes do not continue", "a=x\\\\\nb=y\n", map[string]string{"a": `x\`, "b": "y"}},
	{"continuation at end of input", "a=x\\", map[string]string{"a": "x"}},
	{"continuation onto a blank line ends it", "a=x\\\n\nb=y\n", map[string]string{"a": "x", "b": "y"}},
	{"CR and CRLF line ends", "a=1\rb=2\r\nc=3", map[string]string{"a": "1", "b": "2", "c": "3"}},
	{"CRLF continuation", "a=1\\\r\n 2\r\n", map[string]string{"a": "12"}},
	{"escapes", `a=\t\n\r\f\\\q\=\:\ ` + "\n", map[string]string{"a": "\t\n\r\f\\q=: "}},
	{"escaped separators in key", `k\=1\:2\ 3=v` + "\n", map[string]string{"k=1:2 3": "v"}},
	{"unicode escapes", `a=\u0041\u00e9\u20AC` + "\n" + `b=\uD83D\uDE00` + "\n", map[string]string{"a": "Aé€", "b": "😀"}},
	{"last value wins", "a=1\na=2\n", map[string]string{"a": "2"}},
	{"no trailing newline", "name=local-file-source\ntopic=connect-test", map[string]string{"name": "local-file-source", "topic": "connect-test"}},
	{"only blanks and comments", "\n\n  \t\n# x\n", map[string]string{}},
	{"lone backslash line then comment", "\\\n#x=1\n", map[string]string{}},
	{"separator first", "=v\n:w\n", map[string]string{"": "w"}},
	{"lone continuation then one CR at the end is an empty key", "a=1\n\\\r", map[string]string{"a": "1", "": ""}},
	{"lone continuation then CRLF at the end is nothing", "a=1\n\\\r\n", map[string]string{"a": "1"}},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Map(); !maps.Equal(got, c.want) {
				t.Fatalf("Parse(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestKeysInFileOrder(t *testing.T) {
	p, err := Parse([]byte("z=1\na=2\nz=3\nm=4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Keys(); !slices.Equal(got, []string{"z", "a", "m"}) {
		t.Fatalf("keys %q", got)
	}
	if v, _ := p.Get("z"); v != "3" {
		t.Fatalf("z = %q", v)
	}
	if _, ok := p.Get("nope"); ok {
		t.Fatal("Get of a missing key says it is set")
	}
}

// A malformed \uXXXX is an error naming the line, as Java throws IllegalArgumentException.
func TestMalformedUnicodeEscape(t *testing.T) {
	for _, in := range []string{`a=\u12`, "a=1\n\nb=\\u12G4\n", `k\uZZZZ=1`} {
		_, err := Parse([]byte(in))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse(%q): %v, want ErrMalformed", in, err)
		}
	}
	_, err := Parse([]byte("a=1\n# c\n\nb=\\u12G4\n"))
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("error %v does not name line 4", err)
	}
}

// UTF-8 files read as UTF-8; other bytes read as ISO-8859-1 as Java's load(InputStream) does.
func TestCharsets(t *testing.T) {
	p, err := Parse([]byte("file=données.txt\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Get("file"); v != "données.txt" {
		t.Fatalf("UTF-8: %q", v)
	}
	p, err = Parse([]byte("file=donn\xe9es.txt\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Get("file"); v != "données.txt" {
		t.Fatalf("ISO-8859-1: %q", v)
	}
}

// Kafka's own quickstart files parse to what Kafka reads from them.
func TestKafkaQuickstartFiles(t *testing.T) {
	dir := "../../integration/testdata/connect"
	p, err := Load(filepath.Join(dir, "connect-standalone.properties"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bootstrap.servers":              "localhost:9092",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
		"offset.storage.file.filename":   "/tmp/connect.offsets",
		"offset.flush.interval.ms":       "10000",
	}
	if got := p.Map(); !maps.Equal(got, want) {
		t.Fatalf("connect-standalone.properties: %q", got)
	}
	p, err = Load(filepath.Join(dir, "connect-file-source.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Keys(); !slices.Equal(got, []string{"name", "connector.class", "tasks.max", "file", "topic"}) {
		t.Fatalf("connect-file-source.properties keys %q", got)
	}
	if v, _ := p.Get("topic"); v != "connect-test" {
		t.Fatalf("topic %q", v)
	}
}

func TestLoadLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.properties")
	if err := os.WriteFile(path, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Load of a file over the limit: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// escapeForStore writes s so that Parse reads it back, as Properties.store escapes.
func escapeForStore(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\' || r == '=' || r == ':' || r == '#' || r == '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == ' ' && (key || i == 0):
			b.WriteString(`\ `)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzParse: no input panics Parse, and what it reads, written back with Java's escaping,
// reads the same again.
func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`a=\u12`))
	f.Add([]byte("\\\r\n\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no ErrMalformed: %v", err)
			}
			return
		}
		var out strings.Builder
		for _, k := range p.Keys() {
			v, _ := p.Get(k)
			out.WriteString(escapeForStore(k, true) + "=" + escapeForStore(v, false) + "\n")
		}
		q, err := Parse([]byte(out.String()))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out.String(), err)
		}
		if !maps.Equal(p.Map(), q.Map()) || !slices.Equal(p.Keys(), q.Keys()) {
			t.Fatalf("round trip: %q -> %q -> %q", b, p.Map(), q.Map())
		}
	})
}
