package conf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// valueError is a bad value: "key = value: what is allowed (where it came from)".
type valueError struct {
	key    string
	value  string // as it would be written in server.toml
	msg    string
	source string // "in server.toml", "from environment variable KAFKA_X", ...; may be ""
}

func (e *valueError) Error() string {
	s := e.key + " = " + e.value + ": " + e.msg
	if e.source != "" {
		s += " (" + e.source + ")"
	}
	return s
}

// setting is a value given explicitly by one of the layers.
type setting struct {
	value   any    // int64, bool or string, by the property's kind
	display string // the value as it would be written in server.toml
	source  string
}

// Default returns Kafka's defaults. The result does not validate as it is: Kafka has no
// default for zookeeper.connect, and its broker.id default (-1, generate one) is not
// supported.
func Default() *Config {
	c, _, errs := build(nil)
	if len(errs) > 0 {
		panic("conf: the defaults do not build: " + errors.Join(errs...).Error())
	}
	return c
}

// Load reads the TOML file at path (path may be "" for defaults only), then applies the
// KAFKA_* variables found in environ (os.Environ() form), then overrides ("key=value" with
// Kafka's property names), then validates. Errors name the key and what is allowed; an
// unknown key names the closest known one. Every problem found is reported, one per line.
//
// On success advertised.listeners and inter.broker.listener.name hold their effective
// values, even where they were not set.
func Load(path string, environ []string, overrides []string) (*Config, error) {
	vals := map[string]setting{}
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the broker configuration: %w", err)
		}
		fileErrs, ok := readTOML(string(data), path, vals)
		if !ok {
			return nil, errors.Join(fileErrs...)
		}
		errs = append(errs, fileErrs...)
	}
	errs = append(errs, readEnv(environ, vals)...)
	errs = append(errs, readOverrides(overrides, vals)...)
	c, origins, buildErrs := build(vals)
	errs = append(errs, buildErrs...)
	// A value rejected above left its default in place: say nothing more about that key.
	rejected := map[string]bool{}
	for _, e := range errs {
		if ve, ok := e.(*valueError); ok {
			rejected[ve.key] = true
			if p := byName[ve.key]; p != nil && p.into != "" {
				rejected[p.into] = true
			}
		}
	}
	for _, e := range unjoin(c.Validate()) {
		if ve, ok := e.(*valueError); ok {
			if rejected[ve.key] {
				continue
			}
			if ve.source == "" && origins[ve.key] != "" {
				cp := *ve
				cp.source = origins[ve.key]
				e = &cp
			}
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if strings.TrimSpace(c.AdvertisedListeners) == "" {
		c.AdvertisedListeners = c.Listeners
	}
	if strings.TrimSpace(c.InterBrokerListenerName) == "" {
		ls, _ := parseListenerList(c.AdvertisedListeners)
		c.InterBrokerListenerName = c.defaultInterBrokerName(ls)
	}
	c.InterBrokerListenerName = strings.ToUpper(strings.TrimSpace(c.InterBrokerListenerName))
	return c, nil
}

// build makes a Config from the defaults and the explicit settings, folding properties into
// one another with Kafka's precedence. origins says, for each property set explicitly or
// derived from one that was, where its value came from.
func build(vals map[string]setting) (c *Config, origins map[string]string, errs []error) {
	c, origins = &Config{}, map[string]string{}
	explicit := map[string]bool{}
	for _, p := range table {
		if p.field == nil {
			continue
		}
		if p.def != "" {
			v, msg := p.fromText(p.def)
			if msg == "" {
				msg = p.set(c, v)
			}
			if msg != "" {
				errs = append(errs, fmt.Errorf("conf: bad default for %s: %s", p.name, msg))
			}
		}
		if s, ok := vals[p.name]; ok {
			explicit[p.name] = true
			origins[p.name] = s.source
			if msg := p.set(c, s.value); msg != "" {
				errs = append(errs, &valueError{key: p.name, value: s.display, msg: msg, source: s.source})
			}
		}
	}
	// Folded properties: the first one set, in table order, fills its target unless the
	// target itself is set; with none set, the first with a default does.
	decided := map[string]bool{}
	for k := range explicit {
		decided[k] = true
	}
	for _, p := range table {
		s, ok := vals[p.name]
		if p.into == "" || !ok {
			continue
		}
		if p.check != nil {
			if msg := p.check(s.value); msg != "" {
				errs = append(errs, &valueError{key: p.name, value: s.display, msg: msg, source: s.source})
				continue
			}
		}
		if decided[p.into] {
			continue
		}
		decided[p.into] = true
		target := byName[p.into]
		origins[p.into] = "from " + p.name + " = " + s.display + " " + s.source
		if msg := target.set(c, p.convert(s.value)); msg != "" {
			errs = append(errs, &valueError{key: p.name, value: s.display, msg: msg, source: s.source})
		}
	}
	for _, p := range table {
		if p.into == "" || p.def == "" || decided[p.into] {
			continue
		}
		decided[p.into] = true
		v, _ := p.fromText(p.def)
		byName[p.into].set(c, p.convert(v))
	}
	for name, s := range vals {
		if c.explicit == nil {
			c.explicit = map[string]string{}
		}
		c.explicit[name] = plain(s.value)
		if _, _, _, ok := listenerOverride(name); ok {
			if c.overrides == nil {
				c.overrides = map[string]any{}
			}
			c.overrides[name] = s.value
			origins[name] = s.source
		}
	}
	for _, p := range table {
		if p.defaultFrom != "" && !explicit[p.name] {
			from := byName[p.defaultFrom]
			p.set(c, from.get(c))
			if o, ok := origins[from.name]; ok {
				origins[p.name] = "from " + from.name + " " + o
			}
		}
	}
	return c, origins, errs
}

// unjoin lists the errors inside an errors.Join.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// unknownError names an unknown property and the closest known one.
func unknownError(name, where string) error {
	return fmt.Errorf("unknown property %q %s (did you mean %q?)", name, where, closest(name))
}

// readTOML decodes server.toml and flattens its tables back into Kafka's dotted names.
// ok is false when the file is not TOML at all.
func readTOML(data, path string, vals map[string]setting) (errs []error, ok bool) {
	var doc map[string]any
	if _, err := toml.Decode(data, &doc); err != nil {
		return []error{fmt.Errorf("%s is not valid TOML: %w", path, err)}, false
	}
	flat := map[string]any{}
	flatten("", doc, flat, path, &errs)
	names := make([]string, 0, len(flat))
	for k := range flat {
		names = append(names, k)
	}
	sort.Strings(names)
	source := "in " + path
	for _, name := range names {
		raw := flat[name]
		p := propertyFor(name)
		if p == nil {
			errs = append(errs, unknownName(name, source))
			continue
		}
		v, msg := p.fromTOML(raw)
		if msg != "" {
			errs = append(errs, &valueError{key: name, value: formatTOML(raw), msg: msg, source: source})
			continue
		}
		vals[name] = setting{value: v, display: formatValue(v), source: source}
	}
	return errs, true
}

func flatten(prefix string, m map[string]any, out map[string]any, path string, errs *[]error) {
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(name, sub, out, path, errs)
			continue
		}
		if _, dup := out[name]; dup {
			*errs = append(*errs, fmt.Errorf("%s is set twice in %s", name, path))
			continue
		}
		out[name] = v
	}
}

// ignoredEnv are KAFKA_ variables that Kafka's container images read for the JVM or the
// image itself, not as broker properties; klassik ignores them.
var (
	ignoredEnv = map[string]bool{
		"KAFKA_HEAP_OPTS": true, "KAFKA_OPTS": true, "KAFKA_VERSION": true, "KAFKA_HOME": true,
		"KAFKA_JVM_PERFORMANCE_OPTS": true, "KAFKA_GC_LOG_OPTS": true, "KAFKA_DEBUG": true,
		"KAFKA_TOOLS_LOG4J_LOGLEVEL": true,
	}
	ignoredEnvPrefixes = []string{"KAFKA_JMX_", "KAFKA_LOG4J_"}
)

// EnvProperty maps a KAFKA_* environment variable to the property it sets, the way the
// common Kafka images do: strip KAFKA_ (or bitnami's KAFKA_CFG_), lowercase, and read `_` as
// `.`, `__` as `_` and `___` as `-`. ok is false for variables that are not properties: ones
// without the prefix and the images' own (KAFKA_HEAP_OPTS, KAFKA_JMX_*, ...).
func EnvProperty(name string) (property string, ok bool) {
	if !strings.HasPrefix(name, "KAFKA_") || ignoredEnv[name] {
		return "", false
	}
	for _, p := range ignoredEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return "", false
		}
	}
	rest := strings.TrimPrefix(name, "KAFKA_")
	rest = strings.TrimPrefix(rest, "CFG_")
	if rest == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); {
		if rest[i] != '_' {
			b.WriteByte(rest[i])
			i++
			continue
		}
		n := 0
		for i < len(rest) && rest[i] == '_' {
			n++
			i++
		}
		for ; n >= 3; n -= 3 {
			b.WriteByte('-')
		}
		switch n {
		case 2:
			b.WriteByte('_')
		case 1:
			b.WriteByte('.')
		}
	}
	return strings.ToLower(b.String()), true
}

func readEnv(environ []string, vals map[string]setting) []error {
	var errs []error
	for _, kv := range environ {
		name, text, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		key, ok := EnvProperty(name)
		if !ok {
			continue
		}
		if err := setText(key, text, "from environment variable "+name, vals); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func readOverrides(overrides []string, vals map[string]setting) []error {
	var errs []error
	for _, o := range overrides {
		key, text, ok := strings.Cut(o, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("--override %q: expected key=value with a Kafka property name, e.g. --override broker.id=1", o))
			continue
		}
		if err := setText(key, text, "from --override "+o, vals); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// setText sets property key from its text form, as an environment variable or an --override
// gives it; source says which, in errors and in the setting.
func setText(key, text, source string, vals map[string]setting) error {
	p := propertyFor(key)
	if p == nil {
		return unknownName(key, source)
	}
	v, msg := p.fromText(text)
	if msg != "" {
		return &valueError{key: key, value: strconv.Quote(text), msg: msg, source: source}
	}
	vals[key] = setting{value: v, display: formatValue(v), source: source}
	return nil
}

// formatValue writes a typed value as server.toml would hold it.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// formatTOML writes a decoded TOML value back, for error messages.
func formatTOML(v any) string {
	switch x := v.(type) {
	case string, int64, bool:
		return formatValue(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		items := make([]string, len(x))
		for i, it := range x {
			items[i] = formatTOML(it)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "datetime"
	case []any:
		return "array"
	case []map[string]any:
		return "array of tables"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// closest is the known property name nearest to name (Levenshtein distance; ties go to the
// earlier name in the table, which lists the common properties first).
func closest(name string) string {
	best, bestD := "", math.MaxInt
	for _, p := range table {
		if d := levenshtein(name, p.name); d < bestD {
			best, bestD = p.name, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
