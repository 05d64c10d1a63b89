package conf

import (
	"fmt"
	"strings"
)

// JAAS is one login module of a sasl.jaas.config value, the form Kafka's JaasConfig parses:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";
//
// a login module class, a control flag, options key=value (a value quoted with "", in which \
// escapes the next character, or a bare word), and a closing semicolon.
type JAAS struct {
	LoginModule string
	Flag        string // required, requisite, sufficient or optional
	Options     map[string]string
}

// Login modules Kafka ships for the mechanisms klassik serves.
const (
	PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

// LoginModuleFor is the login module Kafka pairs with a SASL mechanism ("" for one klassik
// does not serve).
func LoginModuleFor(mechanism string) string {
	switch mechanism {
	case "PLAIN":
		return PlainLoginModule
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		return ScramLoginModule
	}
	return ""
}

// ParseJAAS parses a sasl.jaas.config value holding exactly one login module, as Kafka requires
// of sasl.jaas.config. Errors say where the text went wrong without repeating it (it holds
// passwords).
func ParseJAAS(s string) (JAAS, error) {
	p := &jaasParser{s: s}
	var j JAAS
	p.space()
	j.LoginModule = p.word()
	if j.LoginModule == "" {
		return j, fmt.Errorf("expected a login module class name, e.g. %s", PlainLoginModule)
	}
	p.space()
	j.Flag = p.word()
	switch j.Flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return j, fmt.Errorf("expected a control flag (required, requisite, sufficient or optional) after the login module %s", j.LoginModule)
	}
	j.Options = map[string]string{}
	for {
		p.space()
		if p.eof() {
			return j, fmt.Errorf("the login module %s is not closed with ';'", j.LoginModule)
		}
		if p.peek() == ';' {
			p.i++
			break
		}
		key := p.key()
		if key == "" {
			return j, fmt.Errorf("expected an option key=value or ';' at character %d", p.i+1)
		}
		p.space()
		if p.eof() || p.peek() != '=' {
			return j, fmt.Errorf("option %s has no '=' and value", key)
		}
		p.i++
		p.space()
		val, err := p.value()
		if err != nil {
			return j, fmt.Errorf("option %s: %v", key, err)
		}
		if _, dup := j.Options[key]; dup {
			return j, fmt.Errorf("option %s is given twice", key)
		}
		j.Options[key] = val
	}
	p.space()
	if !p.eof() {
		return j, fmt.Errorf("sasl.jaas.config must hold exactly one login module; more text follows the first one's ';' at character %d", p.i+1)
	}
	return j, nil
}

type jaasParser struct {
	s string
	i int
}

func (p *jaasParser) eof() bool  { return p.i >= len(p.s) }
func (p *jaasParser) peek() byte { return p.s[p.i] }

func (p *jaasParser) space() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.i++
	}
}

// word reads a run of characters up to space, '=' or ';'.
func (p *jaasParser) word() string {
	start := p.i
	for !p.eof() && strings.IndexByte(" \t\r\n=;\"", p.peek()) < 0 {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *jaasParser) key() string { return p.word() }

func (p *jaasParser) value() (string, error) {
	if p.eof() {
		return "", fmt.Errorf("no value")
	}
	if p.peek() != '"' {
		w := p.word()
		if w == "" {
			return "", fmt.Errorf("no value")
		}
		return w, nil
	}
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", fmt.Errorf("the quoted value ends with a lone '\\'")
			}
			b.WriteByte(p.peek())
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("the quoted value has no closing '\"'")
}

// PlainUsers are the user_<name>="<password>" options of a PlainLoginModule, by user name: the
// users PLAIN authenticates on a broker (Kafka's PlainServerCallbackHandler).
func (j JAAS) PlainUsers() map[string]string {
	users := map[string]string{}
	for k, v := range j.Options {
		if name, ok := strings.CutPrefix(k, "user_"); ok && name != "" {
			users[name] = v
		}
	}
	return users
}
