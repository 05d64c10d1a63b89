// Package properties reads Java .properties files as java.util.Properties.load does, which is
// how every Kafka script reads its configuration (Kafka's Utils.loadProps): the worker and
// connector files of Kafka Connect (config/connect-standalone.properties and friends) are
// read with it, unchanged.
//
// The rules, from Properties.load:
//
//   - A natural line ends at \n, \r or \r\n. Whitespace (space, \t, \f) at the start of a
//     line is skipped; a line that is then empty is ignored, and one that starts with # or !
//     is a comment (a backslash at the end of a comment does not continue it).
//   - A line that ends in an odd number of backslashes continues on the next natural line,
//     whose leading whitespace is dropped; the logical line is the concatenation.
//   - The key runs to the first unescaped '=', ':' or whitespace. Whitespace after it, then at
//     most one '=' or ':', then whitespace again, separate it from the value, which runs to the
//     end of the logical line (trailing whitespace included, as in Java).
//   - In keys and values \t \n \r \f stand for those characters, \uXXXX (exactly four hex
//     digits) for a UTF-16 code unit (surrogate pairs join), and a backslash before any other
//     character for that character. A malformed \uXXXX is an error, as Java throws
//     IllegalArgumentException for it.
//   - A key given twice keeps the last value.
//
// One difference, on purpose: Properties.load(InputStream) reads bytes as ISO-8859-1, so a
// UTF-8 file name such as "données.txt" would come out as mojibake in Kafka. Input that is
// valid UTF-8 is read as UTF-8 here; anything else is read byte for byte as ISO-8859-1, as
// Java does.
package properties

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxFileBytes bounds the size of a file Load reads: configuration files are a few kilobytes,
// and a bound keeps a mistaken argument (a log file, /dev/zero) from being read into memory.
const MaxFileBytes = 16 << 20

// ErrMalformed is wrapped by the error Parse returns for a malformed \uXXXX escape.
var ErrMalformed = errors.New("malformed \\uxxxx encoding")

// Properties is a parsed file: keys in the order of their first appearance, and their values.
type Properties struct {
	keys   []string
	values map[string]string
}

// Get returns the value of key and whether it is set.
func (p *Properties) Get(key string) (string, bool) {
	v, ok := p.values[key]
	return v, ok
}

// Keys returns the keys in the order they first appear in the file.
func (p *Properties) Keys() []string { return append([]string(nil), p.keys...) }

// Len is the number of distinct keys.
func (p *Properties) Len() int { return len(p.keys) }

// Map returns a copy of the key-value pairs.
func (p *Properties) Map() map[string]string {
	m := make(map[string]string, len(p.values))
	for k, v := range p.values {
		m[k] = v
	}
	return m
}

func (p *Properties) set(k, v string) {
	if _, ok := p.values[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.values[k] = v
}

// Load reads and parses the file at path, refusing files over MaxFileBytes.
func Load(path string) (*Properties, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes, the limit for a properties file", path, MaxFileBytes)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse reads the bytes of a .properties file.
func Parse(data []byte) (*Properties, error) {
	p := &Properties{values: map[string]string{}}
	r := lineReader{chars: decodeChars(data), lineNo: 1}
	for {
		line, lineNo, ok := r.next()
		if !ok {
			return p, nil
		}
		k, v, err := splitLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		p.set(k, v)
	}
}

// decodeChars returns the characters of data: UTF-8 if data is valid UTF-8, else each byte
// as the ISO-8859-1 character of that code (what Java's Properties.load(InputStream) does).
func decodeChars(data []byte) []rune {
	if utf8.Valid(data) {
		return []rune(string(data))
	}
	out := make([]rune, len(data))
	for i, b := range data {
		out[i] = rune(b)
	}
	return out
}

func isBlank(c rune) bool { return c == ' ' || c == '\t' || c == '\f' }

// lineReader hands out logical lines: comments and blank lines skipped, continuations joined,
// as Java's Properties.LineReader.
type lineReader struct {
	chars  []rune
	pos    int
	lineNo int // of chars[pos]
}

// next returns the next logical line, the number of the natural line it starts on, and false
// at the end of the input. It follows Java's LineReader.readLine step by step, down to its
// quirks at the end of the input (a line that is only a continuation backslash followed by
// one line end is an empty key there, so it is here).
func (r *lineReader) next() ([]rune, int, bool) {
	var line []rune
	skipBlank := true
	continued := false // the current natural line continues the logical one
	precedingBackslash := false
	start := r.lineNo
	for r.pos < len(r.chars) {
		c := r.chars[r.pos]
		r.pos++
		eol := c == '\n' || c == '\r'
		if eol && !(c == '\n' && r.pos >= 2 && r.chars[r.pos-2] == '\r') {
			r.lineNo++
		}
		if skipBlank {
			if isBlank(c) || (eol && !continued) {
				continue
			}
			skipBlank, continued = false, false
		}
		if len(line) == 0 && !eol {
			if c == '#' || c == '!' {
				r.skipComment()
				skipBlank = true
				continue
			}
			start = r.lineNo
		}
		if !eol {
			line = append(line, c)
			precedingBackslash = c == '\\' && !precedingBackslash
			continue
		}
		if len(line) == 0 {
			skipBlank = true
			continue
		}
		if r.pos >= len(r.chars) || !precedingBackslash {
			break
		}
		// A backslash at the end of the line is not part of it: the next line continues it.
		line = line[:len(line)-1]
		skipBlank, continued, precedingBackslash = true, true, false
		if c == '\r' && r.chars[r.pos] == '\n' {
			r.pos++
		}
	}
	if len(line) == 0 {
		return nil, 0, false
	}
	if precedingBackslash { // a continuation at the end of the input continues nothing
		line = line[:len(line)-1]
	}
	return line, start, true
}

// skipComment consumes a comment through its line end.
func (r *lineReader) skipComment() {
	for r.pos < len(r.chars) {
		c := r.chars[r.pos]
		r.pos++
		if c == '\n' || c == '\r' {
			r.lineNo++
			return
		}
	}
}

// splitLine splits a logical line into its key and value and resolves their escapes.
func splitLine(line []rune) (string, string, error) {
	keyLen, valueStart := 0, len(line)
	hasSep, precedingBackslash := false, false
	for keyLen < len(line) {
		c := line[keyLen]
		if (c == '=' || c == ':') && !precedingBackslash {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if isBlank(c) && !precedingBackslash {
			valueStart = keyLen + 1
			break
		}
		precedingBackslash = c == '\\' && !precedingBackslash
		keyLen++
	}
	for valueStart < len(line) {
		c := line[valueStart]
		if !isBlank(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	k, err := unescape(line[:keyLen])
	if err != nil {
		return "", "", err
	}
	v, err := unescape(line[valueStart:])
	if err != nil {
		return "", "", err
	}
	return k, v, nil
}

// unescape resolves the escapes of a key or value (Java's loadConvert). Characters are
// collected as UTF-16 code units so that \uD83D\uDE00 is one character, as in Java.
func unescape(in []rune) (string, error) {
	out := make([]uint16, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' || i+1 >= len(in) {
			out = utf16.AppendRune(out, c)
			continue
		}
		i++
		c = in[i]
		switch c {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(in) {
				return "", ErrMalformed
			}
			var u uint16
			for _, h := range in[i+1 : i+5] {
				d, ok := hexDigit(h)
				if !ok {
					return "", ErrMalformed
				}
				u = u<<4 | d
			}
			out = append(out, u)
			i += 4
		default:
			out = utf16.AppendRune(out, c)
		}
	}
	return string(utf16.Decode(out)), nil
}

func hexDigit(c rune) (uint16, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint16(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint16(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint16(c-'A') + 10, true
	}
	return 0, false
}
