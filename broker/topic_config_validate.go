package broker

// Parsing and validating topic configs as Kafka's ConfigDef and LogConfig.validate do, with
// their messages, so that a refusal reads as Kafka's does:
//
//	Unknown topic config name: retention.msx
//	Invalid value abc for configuration retention.ms: Not a number of type LONG
//	Invalid value 0 for configuration min.insync.replicas: Value must be at least 1
//	Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/klassik/klassik/conf"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configException is Kafka's ConfigException: a value that does not parse or validate.
// AlterConfigs prefixes its message with the resource; CreateTopics answers it as it is.
type configException struct{ msg string }

func (e *configException) Error() string { return e.msg }

// invalidValue is ConfigException(name, value, message).
func invalidValue(name string, value any, msg string) error {
	return &configException{msg: fmt.Sprintf("Invalid value %s for configuration %s: %s", javaString(value), name, msg)}
}

// invalidConfiguration is Kafka's InvalidConfigurationException: its message goes out as it is.
type invalidConfiguration struct{ msg string }

func (e *invalidConfiguration) Error() string { return e.msg }

var typeNames = map[kmsg.ConfigType]string{
	kmsg.ConfigTypeBoolean: "BOOLEAN", kmsg.ConfigTypeString: "STRING", kmsg.ConfigTypeInt: "INT",
	kmsg.ConfigTypeShort: "SHORT", kmsg.ConfigTypeLong: "LONG", kmsg.ConfigTypeDouble: "DOUBLE",
	kmsg.ConfigTypeList: "LIST", kmsg.ConfigTypeClass: "CLASS", kmsg.ConfigTypePassword: "PASSWORD",
}

// parseConfigValue parses a value of type typ as ConfigDef.parseType does: int64 for INT and
// LONG, bool, string (trimmed), float64, []string for LIST.
func parseConfigValue(name string, typ kmsg.ConfigType, raw string) (any, error) {
	s := strings.TrimSpace(raw)
	switch typ {
	case kmsg.ConfigTypeBoolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, invalidValue(name, raw, "Expected value to be either true or false")
	case kmsg.ConfigTypeInt, kmsg.ConfigTypeLong:
		bits := 64
		if typ == kmsg.ConfigTypeInt {
			bits = 32
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return nil, invalidValue(name, raw, "Not a number of type "+typeNames[typ])
		}
		return n, nil
	case kmsg.ConfigTypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalidValue(name, raw, "Not a number of type DOUBLE")
		}
		return f, nil
	case kmsg.ConfigTypeList:
		return parseList(s), nil
	default:
		return s, nil
	}
}

var commaWithSpace = regexp.MustCompile(`\s*,\s*`)

// parseList splits a LIST value as Kafka does: "" is the empty list, otherwise every comma
// separates items, empty ones included.
func parseList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}
	}
	return commaWithSpace.Split(s, -1)
}

func formatList(l []string) string { return strings.Join(l, ",") }

// formatConfigValue writes a parsed value as ConfigDef.convertToString does.
func formatConfigValue(v any) string {
	switch x := v.(type) {
	case []string:
		return formatList(x)
	case float64:
		return javaDouble(x)
	}
	return javaString(v)
}

// javaString writes a value as Java's toString would, for messages.
func javaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return javaDouble(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// javaDouble writes f as Java's Double.toString: "0.5", "1.0", "1.0E-4".
func javaDouble(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(f, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// The validators of ConfigDef and LogConfig, with their messages.

func atLeast(min int64) func(string, any) error {
	return func(name string, v any) error {
		if v.(int64) < min {
			return invalidValue(name, v, "Value must be at least "+strconv.FormatInt(min, 10))
		}
		return nil
	}
}

func betweenDouble(min, max int) func(string, any) error {
	return func(name string, v any) error {
		switch f := v.(float64); {
		case f < float64(min):
			return invalidValue(name, v, "Value must be at least "+strconv.Itoa(min))
		case f > float64(max):
			return invalidValue(name, v, "Value must be no more than "+strconv.Itoa(max))
		}
		return nil
	}
}

func validString(allowed ...string) func(string, any) error {
	return func(name string, v any) error {
		for _, a := range allowed {
			if v.(string) == a {
				return nil
			}
		}
		return invalidValue(name, v, "String must be one of: "+strings.Join(allowed, ", "))
	}
}

func validList(allowed ...string) func(string, any) error {
	item := validString(allowed...)
	return func(name string, v any) error {
		for _, it := range v.([]string) {
			if err := item(name, it); err != nil {
				return err
			}
		}
		return nil
	}
}

var replicaEntry = regexp.MustCompile(`^([0-9]+:[0-9]+)?$`)

// throttledReplicas is Kafka's ThrottledReplicaListValidator: "*" or partition:broker items.
func throttledReplicas(name string, v any) error {
	items := v.([]string)
	all := true
	for _, it := range items {
		all = all && replicaEntry.MatchString(strings.TrimSpace(it))
	}
	if all || strings.Join(items, "") == "*" {
		return nil
	}
	return invalidValue(name, v, name+" must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
}

// messageFormatVersion is Kafka's MetadataVersionValidator.
func messageFormatVersion(name string, v any) error {
	if !conf.ValidMessageFormatVersion(v.(string)) {
		return invalidValue(name, v, "Version "+v.(string)+" is not a valid version")
	}
	return nil
}

// validateTopicConfig checks a topic's overrides over the broker's values as Kafka's
// LogConfig.validate does: unknown names first, then every config in definition order
// (parse, then its validator), then the rules across configs.
func validateTopicConfig(bc *conf.Config, overrides map[string]string) error {
	names := make([]string, 0, len(overrides))
	for k := range overrides {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if findTopicConfigDef(k) == nil {
			return &invalidConfiguration{msg: "Unknown topic config name: " + k}
		}
	}
	parsed := map[string]any{}
	for i := range topicConfigDefs {
		d := &topicConfigDefs[i]
		raw, ok := overrides[d.name]
		if !ok {
			raw = d.brokerValue(bc)
		}
		v, err := parseConfigValue(d.name, d.typ, raw)
		if err != nil {
			return err
		}
		if d.check != nil {
			if err := d.check(d.name, v); err != nil {
				return err
			}
		}
		parsed[d.name] = v
	}
	if minLag, maxLag := parsed["min.compaction.lag.ms"].(int64), parsed["max.compaction.lag.ms"].(int64); minLag > maxLag {
		return &invalidConfiguration{msg: fmt.Sprintf("conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", minLag, maxLag)}
	}
	if parsed["remote.storage.enable"].(bool) {
		// What a Kafka 3.6 broker with remote.log.storage.system.enable=false (its default)
		// answers; klassik has no tiered storage at all.
		return &configException{msg: "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."}
	}
	return nil
}
