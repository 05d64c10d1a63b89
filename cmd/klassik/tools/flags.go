package tools

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file is a small option parser in the manner of the joptsimple parser behind Kafka's
// scripts: options are `--name value` or `--name=value` (a single dash works too), an option
// may be given more than once (its values accumulate), and a "multi" option such as
// producer-perf-test's --producer-props takes every following argument up to the next option.

// errHelp is returned by parse when --help was given.
var errHelp = errors.New("help requested")

type optKind int

const (
	kindBool     optKind = iota // --list
	kindValue                   // --topic t; repeated values accumulate
	kindOptional                // --compression-codec [gzip]; the value may be left out
	kindMulti                   // --producer-props a=1 b=2 ...
)

// option is one declared option and, after parse, what was given for it.
type option struct {
	name    string
	kind    optKind
	argName string
	help    string
	def     string // value used by str() when the option was not given
	optDef  string // value for a kindOptional option given without a value

	given bool
	vals  []string
}

// str is the last value given, or the default.
func (o *option) str() string {
	if len(o.vals) == 0 {
		return o.def
	}
	return o.vals[len(o.vals)-1]
}

// all is every value given, in order.
func (o *option) all() []string { return o.vals }

// integer parses str() as an int64, naming the option in the error.
func (o *option) integer() (int64, error) {
	s := o.str()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Option --%s expects an integer but was given %q", o.name, s)
	}
	return n, nil
}

// flagSet is a command's options.
type flagSet struct {
	cmd     string
	summary string
	opts    []*option
	byName  map[string]*option
	aliases map[string]string
	args    []string // positional arguments
	seq     []string // the options given, by name, in command-line order

	// clientOpts are the kgo options of --command-config's security properties, read by run
	// (security.go).
	clientOpts []kgo.Opt
}

func newFlagSet(cmd, summary string) *flagSet {
	fs := &flagSet{cmd: cmd, summary: summary, byName: map[string]*option{}, aliases: map[string]string{}}
	fs.Bool("help", "Print usage information.")
	return fs
}

func (fs *flagSet) add(o *option) *option {
	fs.opts = append(fs.opts, o)
	fs.byName[o.name] = o
	return o
}

// Bool declares a switch.
func (fs *flagSet) Bool(name, help string) *option {
	return fs.add(&option{name: name, kind: kindBool, help: help})
}

// Value declares an option taking one value per occurrence.
func (fs *flagSet) Value(name, argName, def, help string) *option {
	return fs.add(&option{name: name, kind: kindValue, argName: argName, def: def, help: help})
}

// Optional declares an option whose value may be left out (then optDef is used).
func (fs *flagSet) Optional(name, argName, optDef, help string) *option {
	return fs.add(&option{name: name, kind: kindOptional, argName: argName, optDef: optDef, help: help})
}

// Multi declares an option taking all following arguments up to the next option.
func (fs *flagSet) Multi(name, argName, help string) *option {
	return fs.add(&option{name: name, kind: kindMulti, argName: argName, help: help})
}

// Alias makes --alias mean --name.
func (fs *flagSet) Alias(alias, name string) { fs.aliases[alias] = name }

func (fs *flagSet) lookup(name string) *option {
	if a, ok := fs.aliases[name]; ok {
		name = a
	}
	return fs.byName[name]
}

// isOptionLike reports whether an argument looks like an option rather than a value.
// A lone "-" or a negative number ("-1") is a value.
func isOptionLike(a string) bool {
	if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
		return false
	}
	if _, err := strconv.ParseFloat(a, 64); err == nil {
		return false
	}
	return true
}

// parse reads args. It returns errHelp for --help and a sentence for anything wrong.
func (fs *flagSet) parse(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			fs.args = append(fs.args, args[i+1:]...)
			break
		}
		if !isOptionLike(a) {
			fs.args = append(fs.args, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name, value, hasValue = name[:eq], name[eq+1:], true
		}
		o := fs.lookup(name)
		if o == nil {
			return fmt.Errorf("%s is not a recognized option", name)
		}
		o.given = true
		fs.seq = append(fs.seq, o.name)
		switch o.kind {
		case kindBool:
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return fmt.Errorf("Option --%s takes no argument (was given %q)", o.name, value)
				}
				if !b {
					o.given = false
				}
			}
		case kindValue:
			if !hasValue {
				if i+1 >= len(args) {
					return fmt.Errorf("Option %s requires an argument", o.name)
				}
				i++
				value = args[i]
			}
			o.vals = append(o.vals, value)
		case kindOptional:
			if !hasValue {
				if i+1 < len(args) && !isOptionLike(args[i+1]) {
					i++
					value = args[i]
				} else {
					value = o.optDef
				}
			}
			o.vals = append(o.vals, value)
		case kindMulti:
			if hasValue {
				o.vals = append(o.vals, value)
			}
			for i+1 < len(args) && !isOptionLike(args[i+1]) {
				i++
				o.vals = append(o.vals, args[i])
			}
			if len(o.vals) == 0 {
				return fmt.Errorf("Option %s requires an argument", o.name)
			}
		}
	}
	if fs.byName["help"].given {
		return errHelp
	}
	return nil
}

// usage writes the help text: a summary and a table of options like joptsimple prints.
func (fs *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n", fs.summary)
	fmt.Fprintf(w, "Usage: klassik %s [options]\n\n", fs.cmd)
	fmt.Fprintf(w, "%-40s %s\n", "Option", "Description")
	fmt.Fprintf(w, "%-40s %s\n", "------", "-----------")
	opts := append([]*option(nil), fs.opts...)
	sort.SliceStable(opts, func(i, j int) bool { return opts[i].name < opts[j].name })
	aliasesOf := map[string][]string{}
	for a, n := range fs.aliases {
		aliasesOf[n] = append(aliasesOf[n], a)
	}
	for _, o := range opts {
		left := "--" + o.name
		for _, a := range aliasesOf[o.name] {
			left += ", --" + a
		}
		switch o.kind {
		case kindValue, kindMulti:
			left += " <" + o.argName + ">"
		case kindOptional:
			left += " [" + o.argName + "]"
		}
		help := o.help
		if o.def != "" {
			help += fmt.Sprintf(" (default: %s)", o.def)
		}
		if len(left) > 40 {
			fmt.Fprintf(w, "%s\n%-40s %s\n", left, "", help)
		} else {
			fmt.Fprintf(w, "%-40s %s\n", left, help)
		}
	}
}

// usageError is a problem with the command line: the message is printed, then the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// missing is Kafka's message for a required option that was not given.
func missing(name string) error { return usageErrorf("Missing required argument \"[%s]\"", name) }

// requireGiven checks that each named option was given.
func (fs *flagSet) requireGiven(names ...string) error {
	for _, n := range names {
		if !fs.byName[n].given {
			return missing(n)
		}
	}
	return nil
}

// exactlyOne checks that exactly one of the named action options was given.
func (fs *flagSet) exactlyOne(names ...string) (string, error) {
	var got []string
	for _, n := range names {
		if fs.byName[n].given {
			got = append(got, n)
		}
	}
	if len(got) != 1 {
		list := "--" + strings.Join(names, ", --")
		return "", usageErrorf("Command must include exactly one action: %s", list)
	}
	return got[0], nil
}

// parseProps turns k=v strings (each may hold several comma-separated pairs when split is
// true) into a map, in the way --property and --producer-property are read.
func parseProps(kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("Invalid property %q: expected key=value", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// parsePropertiesFile reads a Java .properties file (key=value or key: value, # and ! comments).
func parsePropertiesFile(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			m[line] = ""
			continue
		}
		m[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return m
}

// unescape turns the escapes a shell user types in --property values (\t, \n) into characters,
// as Kafka's console tools do for key.separator and line.separator.
func unescape(s string) string {
	r := strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\r`, "\r", `\\`, `\`)
	return r.Replace(s)
}
