package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultEntityName is how ZooKeeper names a default entity (/config/clients/<default>);
// Kafka's ConfigEntityName.Default. A client id spelled "<default>" is stored sanitized
// (%3Cdefault%3E), so the two never meet.
const DefaultEntityName = "<default>"

// Name is one side of a quota entity: absent, the default, or a name (not sanitized).
type Name struct {
	Set     bool
	Default bool
	Name    string
}

// Named is the side naming n.
func Named(n string) Name { return Name{Set: true, Name: n} }

// DefaultName is the side that is the default user or client id.
func DefaultName() Name { return Name{Set: true, Default: true} }

// Entity is what a quota is set for (Kafka's KafkaQuotaEntity): a user, a client id, or both,
// each side a name or the default. It is comparable and used as a map key.
type Entity struct {
	User     Name
	ClientID Name
}

// String is Kafka's KafkaQuotaEntity.toString ("user alice client-id app", "default user").
func (e Entity) String() string {
	var parts []string
	if e.User.Set {
		if e.User.Default {
			parts = append(parts, "default user")
		} else {
			parts = append(parts, "user "+Sanitize(e.User.Name))
		}
	}
	if e.ClientID.Set {
		if e.ClientID.Default {
			parts = append(parts, "default client-id")
		} else {
			parts = append(parts, "client-id "+e.ClientID.Name)
		}
	}
	return strings.Join(parts, " ")
}

// zkName is a side's znode name: sanitized, or <default>.
func (n Name) zkName() string {
	if n.Default {
		return DefaultEntityName
	}
	return Sanitize(n.Name)
}

// EntityPath is the entity's place under /config, as Kafka's config change notifications
// name it: "clients/<c>", "users/<u>" or "users/<u>/clients/<c>", names sanitized. It returns
// the root type ("clients" or "users") and the rest separately, as zkclient's EntityConfig
// takes them.
func (e Entity) EntityPath() (typ, name string, ok bool) {
	switch {
	case e.User.Set && e.ClientID.Set:
		return "users", e.User.zkName() + "/clients/" + e.ClientID.zkName(), true
	case e.User.Set:
		return "users", e.User.zkName(), true
	case e.ClientID.Set:
		return "clients", e.ClientID.zkName(), true
	}
	return "", "", false
}

// ParseEntityPath reads a notification's entity path ("clients/<c>", "users/<u>",
// "users/<u>/clients/<c>"); ok is false for any other path (topics, brokers, ips).
func ParseEntityPath(p string) (Entity, bool) {
	parts := strings.Split(p, "/")
	side := func(s string) (Name, bool) {
		if s == DefaultEntityName {
			return DefaultName(), true
		}
		n, err := Desanitize(s)
		if err != nil || s == "" {
			return Name{}, false
		}
		return Named(n), true
	}
	var e Entity
	var ok1, ok2 bool
	switch {
	case len(parts) == 2 && parts[0] == "clients":
		e.ClientID, ok1 = side(parts[1])
		return e, ok1
	case len(parts) == 2 && parts[0] == "users":
		e.User, ok1 = side(parts[1])
		return e, ok1
	case len(parts) == 4 && parts[0] == "users" && parts[2] == "clients":
		e.User, ok1 = side(parts[1])
		e.ClientID, ok2 = side(parts[3])
		return e, ok1 && ok2
	}
	return Entity{}, false
}

// Sanitize is Kafka's Sanitizer.sanitize: a user or client id as a znode and metric-tag
// name, URL-encoded as java.net.URLEncoder does (letters, digits and ".-_" kept, space as
// %20, '*' as %2A, every other byte of the UTF-8 as %XX).
func Sanitize(name string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Desanitize is Kafka's Sanitizer.desanitize (java.net.URLDecoder): %XX is a byte, '+' a space.
func Desanitize(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("incomplete escape at the end of %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape %q in %q", s[i:i+3], s)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// FormatDouble writes v as Java's Double.toString does, which is how Kafka stores a
// request_percentage in ZooKeeper and how kafka-configs.sh prints every quota: "1024.0",
// "0.5", and from 10^7 (or under 10^-3) "1.048576E7".
func FormatDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	// The shortest digits that read back as v, and the decimal exponent of the first one.
	e := strconv.FormatFloat(v, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	if v >= 1e-3 && v < 1e7 {
		if exp >= 0 {
			for len(digits) < exp+1 {
				digits += "0"
			}
			frac := digits[exp+1:]
			if frac == "" {
				frac = "0"
			}
			return sign + digits[:exp+1] + "." + frac
		}
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}
