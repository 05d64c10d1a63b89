package security

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// PrincipalMapper turns a client certificate's subject into a principal's name with
// ssl.principal.mapping.rules, as Kafka's SslPrincipalMapper: a comma-separated list of
// RULE:pattern/replacement/[LU] and DEFAULT, tried in order; the first rule whose pattern
// matches the whole subject gives the name (L lowercases it, U uppercases it), DEFAULT gives the
// subject as it is. Patterns are Go regular expressions (RE2), which read Kafka's usual rules
// the same way; $1..$9 in a replacement are the pattern's groups.
type PrincipalMapper struct {
	rules []principalRule
	text  string
}

type principalRule struct {
	isDefault   bool
	pattern     *regexp.Regexp
	replacement string
	lower       bool
	upper       bool
}

// NewPrincipalMapper parses rules; source names the property in errors.
func NewPrincipalMapper(rules, source string) (*PrincipalMapper, error) {
	m := &PrincipalMapper{text: rules}
	for _, r := range splitRules(rules) {
		switch {
		case r == "":
			continue
		case r == "DEFAULT":
			m.rules = append(m.rules, principalRule{isDefault: true})
		case strings.HasPrefix(r, "RULE:"):
			pr, err := parseRule(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", source, err)
			}
			m.rules = append(m.rules, pr)
		default:
			return nil, fmt.Errorf("%s: invalid rule %q: a rule is DEFAULT or RULE:pattern/replacement/ with an optional L or U after it", source, r)
		}
	}
	if len(m.rules) == 0 {
		m.rules = []principalRule{{isDefault: true}}
	}
	return m, nil
}

// splitRules splits at the commas between rules. A comma inside a rule's pattern or
// replacement belongs to it: a RULE ends at its closing '/' and optional L or U.
func splitRules(s string) []string {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		if strings.HasPrefix(s, "RULE:") {
			end := ruleEnd(s)
			out = append(out, strings.TrimSpace(s[:end]))
			s = strings.TrimSpace(s[end:])
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			out = append(out, strings.TrimSpace(s[:i]))
			s = s[i:]
		}
		s = strings.TrimSpace(strings.TrimPrefix(s, ","))
	}
	return out
}

// ruleEnd finds the end of the RULE at the start of s: after "RULE:", two '/'-terminated parts
// (a backslash escapes the next character), then an optional L or U.
func ruleEnd(s string) int {
	i, slashes := len("RULE:"), 0
	for i < len(s) && slashes < 2 {
		switch s[i] {
		case '\\':
			i++
		case '/':
			slashes++
		}
		i++
	}
	if slashes < 2 {
		if j := strings.IndexByte(s, ','); j >= 0 {
			return j
		}
		return len(s)
	}
	if i < len(s) && (s[i] == 'L' || s[i] == 'U') {
		i++
	}
	return min(i, len(s))
}

func parseRule(r string) (principalRule, error) {
	body := strings.TrimPrefix(r, "RULE:")
	parts, rest, ok := splitSlashes(body)
	if !ok {
		return principalRule{}, fmt.Errorf("invalid rule %q: want RULE:pattern/replacement/ with an optional L or U", r)
	}
	pr := principalRule{replacement: parts[1]}
	switch rest {
	case "":
	case "L":
		pr.lower = true
	case "U":
		pr.upper = true
	default:
		return principalRule{}, fmt.Errorf("invalid rule %q: after the replacement's '/' comes L, U or nothing, not %q", r, rest)
	}
	re, err := regexp.Compile(`^(?:` + parts[0] + `)$`)
	if err != nil {
		return principalRule{}, fmt.Errorf("invalid rule %q: the pattern is not a regular expression Go reads: %v", r, err)
	}
	pr.pattern = re
	return pr, nil
}

// splitSlashes reads "pattern/replacement/" (backslash-escaped slashes stay in their part, as
// written) and returns the two parts and what follows.
func splitSlashes(s string) ([2]string, string, bool) {
	var parts [2]string
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '/' {
			parts[n] = b.String()
			b.Reset()
			n++
			if n == 2 {
				return parts, s[i+1:], true
			}
			continue
		}
		b.WriteByte(c)
	}
	return parts, "", false
}

// Name maps a subject (RFC 2253) to a principal name; an error when no rule applies, which
// fails the connection's authentication, as in Kafka.
func (m *PrincipalMapper) Name(dn string) (string, error) {
	for _, r := range m.rules {
		if r.isDefault {
			return dn, nil
		}
		idx := r.pattern.FindStringSubmatchIndex(dn)
		if idx == nil {
			continue
		}
		name := expandReplacement(r.replacement, dn, idx)
		switch {
		case r.lower:
			name = strings.ToLower(name)
		case r.upper:
			name = strings.ToUpper(name)
		}
		return name, nil
	}
	return "", fmt.Errorf("no rule of ssl.principal.mapping.rules (%s) applies to %s", m.text, dn)
}

// expandReplacement writes replacement with $n replaced by group n, as Java's replaceAll does
// for a whole-string match: digits are taken while they name an existing group, a $ before
// anything else stays as it is, and \ escapes the next character.
func expandReplacement(repl, s string, idx []int) string {
	groups := len(idx)/2 - 1
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			b.WriteByte(repl[i])
		case c == '$' && i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9':
			n := int(repl[i+1] - '0')
			i++
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				next := n*10 + int(repl[i+1]-'0')
				if next > groups {
					break
				}
				n = next
				i++
			}
			if n <= groups && idx[2*n] >= 0 {
				b.WriteString(s[idx[2*n]:idx[2*n+1]])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rawATV and rawRDNSET read a certificate's subject as it was encoded, keeping each value's
// DER (asn1 treats a slice type whose name ends in SET as a SET OF).
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}
type rawRDNSET []rawATV

// rfc2253Keywords are the attribute types Java's X500Principal.getName() (RFC 2253) writes by
// name; others are written as their OID with the value's DER in hex.
var rfc2253Keywords = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}

// SubjectName is a certificate's subject as Java's X500Principal.getName() writes it (RFC
// 2253): the most specific RDN first ("CN=alice,OU=eng,O=example,C=DE"), the names Kafka's
// ssl.principal.mapping.rules are written against.
func SubjectName(cert *x509.Certificate) (string, error) {
	var rdns []rawRDNSET
	rest, err := asn1.Unmarshal(cert.RawSubject, &rdns)
	if err != nil || len(rest) > 0 {
		return "", fmt.Errorf("the certificate's subject does not parse: %v", err)
	}
	parts := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		atvs := make([]string, 0, len(rdns[i]))
		for _, atv := range rdns[i] {
			oid := atv.Type.String()
			kw, known := rfc2253Keywords[oid]
			var s string
			if known && asn1String(atv.Value, &s) {
				atvs = append(atvs, kw+"="+escapeRFC2253(s))
				continue
			}
			atvs = append(atvs, oid+"=#"+hex.EncodeToString(atv.Value.FullBytes))
		}
		parts = append(parts, strings.Join(atvs, "+"))
	}
	return strings.Join(parts, ","), nil
}

func asn1String(v asn1.RawValue, out *string) bool {
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagT61String, asn1.TagBMPString, asn1.TagNumericString:
		_, err := asn1.Unmarshal(v.FullBytes, out)
		return err == nil
	}
	return false
}

// escapeRFC2253 escapes a value as RFC 2253 section 2.4 asks: the special characters, a
// leading '#' or space and a trailing space get a backslash; control characters are hex.
func escapeRFC2253(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i == len(s)-1):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\` + strconv.FormatUint(uint64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
