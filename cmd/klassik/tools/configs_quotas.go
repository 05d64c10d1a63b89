package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/klassik/klassik/broker/quota"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafka-configs.sh --entity-type clients|users (Kafka 3.6's ConfigCommand with
// --bootstrap-server): client quotas through DescribeClientQuotas and AlterClientQuotas.
// --entity-type users and clients may be given together for the quotas of one client id of
// one user; --entity-default names a default entity, and --client, --user,
// --client-defaults and --user-defaults are the short forms. Output is ConfigCommand's:
// "Quota configs for client-id 'slow' are producer_byte_rate=204800.0", values as Java
// prints a double, in the order a java.util.HashMap iterates them.

// quotaTarget is a users/clients command's entity: its types in command-line order and a
// name for each ("" for the default), as ConfigCommandOptions' entityTypes and entityNames.
type quotaTarget struct {
	types []string // "users", "clients"
	names []string
}

// parseQuotaTarget finds a users/clients entity on the command line; ok is false when the
// command is about topics or brokers.
func parseQuotaTarget(fs *flagSet) (t quotaTarget, ok bool, err error) {
	t.types = append(t.types, fs.byName["entity-type"].all()...)
	entityFlags := false
	// ConfigCommandOptions' entityFlags, then entityDefaultsFlags, in its order.
	for _, f := range []struct{ flag, typ string }{{"topic", "topics"}, {"client", "clients"}, {"user", "users"}, {"broker", "brokers"},
		{"client-defaults", "clients"}, {"user-defaults", "users"}, {"broker-defaults", "brokers"}} {
		if fs.byName[f.flag].given {
			t.types = append(t.types, f.typ)
			entityFlags = true
		}
	}
	for _, typ := range t.types {
		if typ == "users" || typ == "clients" {
			ok = true
		}
	}
	if !ok {
		return t, false, nil
	}
	for _, typ := range t.types {
		if !isQuotaType(typ) && typ != "topics" && typ != "brokers" {
			return t, true, usageErrorf("Invalid entity type %s, the entity type must be one of topics, clients, users, brokers", typ)
		}
	}
	if entityFlags && (fs.byName["entity-type"].given || fs.byName["entity-name"].given || fs.byName["entity-default"].given) {
		return t, true, usageErrorf("--entity-{type,name,default} should not be used in conjunction with specific entity flags")
	}
	if len(t.types) > 1 && (len(t.types) != 2 || t.types[0] == t.types[1] || !isQuotaType(t.types[0]) || !isQuotaType(t.types[1])) {
		return t, true, usageErrorf("Only 'users' and 'clients' entity types may be specified together")
	}
	names := fs.byName["entity-name"].all()
	for _, o := range fs.seq {
		switch o {
		case "entity-name":
			t.names = append(t.names, names[0])
			names = names[1:]
		case "entity-default":
			t.names = append(t.names, "")
		}
	}
	for _, f := range []string{"client", "user"} {
		if fs.byName[f].given {
			t.names = append(t.names, fs.byName[f].str())
		}
	}
	for _, f := range []string{"client-defaults", "user-defaults"} {
		if fs.byName[f].given {
			t.names = append(t.names, "")
		}
	}
	if len(t.names) > len(t.types) {
		return t, true, usageErrorf("More entity names specified than entity types")
	}
	return t, true, nil
}

func isQuotaType(typ string) bool { return typ == "users" || typ == "clients" }

// quotaEntityType is the protocol's entity type for a --entity-type.
func quotaEntityType(typ string) string {
	if typ == "users" {
		return "user"
	}
	return "client-id"
}

// isQuotaConfig is QuotaConfigs.isQuotaConfig for users and clients.
func isQuotaConfig(k string) bool {
	switch k {
	case "producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate":
		return true
	}
	return false
}

func isScram(k string) bool { return k == "SCRAM-SHA-256" || k == "SCRAM-SHA-512" }

// scalaSet prints names as Scala prints a Set of them.
func scalaSet(names []string) string { return "Set(" + strings.Join(names, ", ") + ")" }

// checkQuotaAlter is ConfigCommand.alterConfig's checks for users and clients: only quota
// configs, and for one named user SCRAM credentials (not together with quotas).
func checkQuotaAlter(t quotaTarget, adds [][2]string, dels []string) error {
	var unknownAdd, scramAdd, unknownDel, scramDel []string
	for _, a := range adds {
		switch {
		case isScram(a[0]):
			scramAdd = append(scramAdd, a[0])
		case !isQuotaConfig(a[0]):
			unknownAdd = append(unknownAdd, a[0])
		}
	}
	for _, d := range dels {
		switch {
		case isScram(d):
			scramDel = append(scramDel, d)
		case !isQuotaConfig(d):
			unknownDel = append(unknownDel, d)
		}
	}
	if t.types[0] == "clients" || len(t.types) == 2 {
		if bad := append(unknownAdd, scramAdd...); len(bad) > 0 {
			return usageErrorf("Only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: %s", scalaSet(bad))
		}
		if bad := append(unknownDel, scramDel...); len(bad) > 0 {
			return usageErrorf("Only quota configs can be deleted for 'clients' using --bootstrap-server. Unexpected config names: %s", scalaSet(bad))
		}
		return nil
	}
	if len(unknownAdd) > 0 {
		return usageErrorf("Only quota and SCRAM credential configs can be added for 'users' using --bootstrap-server. Unexpected config names: %s", scalaSet(unknownAdd))
	}
	if len(unknownDel) > 0 {
		return usageErrorf("Only quota and SCRAM credential configs can be deleted for 'users' using --bootstrap-server. Unexpected config names: %s", scalaSet(unknownDel))
	}
	if len(scramAdd)+len(scramDel) > 0 {
		for _, n := range t.names {
			if n == "" {
				return usageErrorf("The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server.")
			}
		}
		if len(scramAdd)+len(scramDel) < len(adds)+len(dels) {
			return usageErrorf("Cannot alter both quota and SCRAM credential configs simultaneously for 'users' using --bootstrap-server.")
		}
	}
	return nil
}

// hasScram reports whether an alter sets or deletes SCRAM credentials (checkQuotaAlter made
// sure it then alters nothing else).
func hasScram(adds [][2]string, dels []string) bool {
	for _, a := range adds {
		if isScram(a[0]) {
			return true
		}
	}
	for _, d := range dels {
		if isScram(d) {
			return true
		}
	}
	return false
}

// runQuotaConfigs runs --describe or --alter for a users/clients entity.
func runQuotaConfigs(t quotaTarget, action, bootstrap string, opts []kgo.Opt, adds [][2]string, dels []string, args []string, stdout io.Writer) error {
	if action == "alter" {
		if len(t.names) == 0 {
			return usageErrorf("--entity-name or --entity-default must be specified with --alter of users, clients, brokers or ips")
		}
		if len(t.types) != len(t.names) {
			return usageErrorf("An entity name must be specified for every entity type")
		}
		if err := checkQuotaAlter(t, adds, dels); err != nil {
			return err
		}
	}
	return withAdmin(bootstrap, opts, func(ctx context.Context, cl *kgo.Client, _ *kadm.Client) error {
		var err error
		switch {
		case action == "describe":
			err = describeQuotas(ctx, cl, t, stdout)
			// Kafka describes SCRAM credentials too, unless client ids or a default are asked.
			if err == nil && !slices.Contains(t.types, "clients") && !slices.Contains(t.names, "") {
				err = describeUserScram(ctx, cl, t.names, stdout)
			}
		case hasScram(adds, dels):
			if err = alterUserScram(ctx, cl, t.names[0], adds, dels); err == nil {
				fmt.Fprintf(stdout, "Completed updating config for user %s.\n", t.names[0])
			}
		default:
			err = alterQuotas(ctx, cl, t, adds, dels, stdout)
		}
		var ue usageError
		if err != nil && !errors.As(err, &ue) {
			return fmt.Errorf("Error while executing config command with args '%s'\n%v", strings.Join(args, " "), err)
		}
		return err
	})
}

// quotaEntry is one described entity with its quotas, in the response's order.
type quotaEntry struct {
	entity []kmsg.DescribeClientQuotasResponseEntryEntity
	values []kmsg.DescribeClientQuotasResponseEntryValue
}

// describeQuotaEntities asks for the quotas of t with a strict filter
// (ClientQuotaFilter.containsOnly): a name matches it exactly, "" the default, and a type
// without a name any entity of that type.
func describeQuotaEntities(ctx context.Context, cl *kgo.Client, t quotaTarget) ([]quotaEntry, error) {
	req := kmsg.NewPtrDescribeClientQuotasRequest()
	req.Strict = true
	for i, typ := range t.types {
		c := kmsg.NewDescribeClientQuotasRequestComponent()
		c.EntityType = quotaEntityType(typ)
		switch {
		case i >= len(t.names):
			c.MatchType = 2 // any specified name
		case t.names[i] == "":
			c.MatchType = 1 // the default
		default:
			c.MatchType, c.Match = 0, kmsg.StringPtr(t.names[i])
		}
		req.Components = append(req.Components, c)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, rootCause(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, errors.New(javaError(err, resp.ErrorMessage))
	}
	out := make([]quotaEntry, len(resp.Entries))
	for i, e := range resp.Entries {
		out[i] = quotaEntry{e.Entity, e.Values}
	}
	return out, nil
}

// describeQuotas prints ConfigCommand.describeQuotaConfigs' lines (describeUserScram follows
// with a user's SCRAM credentials).
func describeQuotas(ctx context.Context, cl *kgo.Client, t quotaTarget, stdout io.Writer) error {
	entries, err := describeQuotaEntities(ctx, cl, t)
	if err != nil {
		return err
	}
	for _, e := range orderQuotaEntries(entries) {
		fmt.Fprintln(stdout, quotaLine(e))
	}
	return nil
}

// quotaLine is "Quota configs for user-principal 'u', client-id 'c' are k=v, k2=v2".
func quotaLine(e quotaEntry) string {
	var who []string
	for _, want := range []struct{ typ, label string }{{"user", "user-principal"}, {"client-id", "client-id"}, {"ip", "ip"}} {
		for _, ent := range e.entity {
			if ent.Type != want.typ {
				continue
			}
			if ent.Name == nil {
				who = append(who, "the default "+want.label)
			} else {
				who = append(who, fmt.Sprintf("%s '%s'", want.label, *ent.Name))
			}
			break
		}
	}
	var vals []string
	for _, v := range orderQuotaValues(e.values) {
		vals = append(vals, v.Key+"="+quota.FormatDouble(v.Value))
	}
	return fmt.Sprintf("Quota configs for %s are %s", strings.Join(who, ", "), strings.Join(vals, ", "))
}

// alterQuotas is ConfigCommand.alterQuotaConfigs: a deleted config must be set now; the
// values are sent as doubles.
func alterQuotas(ctx context.Context, cl *kgo.Client, t quotaTarget, adds [][2]string, dels []string, stdout io.Writer) error {
	entries, err := describeQuotaEntities(ctx, cl, t)
	if err != nil {
		return err
	}
	old := map[string]bool{}
	if len(entries) > 0 {
		for _, v := range entries[0].values {
			old[v.Key] = true
		}
	}
	var invalid []string
	for _, d := range dels {
		if !old[d] {
			invalid = append(invalid, d)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("org.apache.kafka.common.errors.InvalidConfigurationException: Invalid config(s): %s", strings.Join(invalid, ","))
	}
	req := kmsg.NewPtrAlterClientQuotasRequest()
	entry := kmsg.NewAlterClientQuotasRequestEntry()
	for i, typ := range t.types {
		ent := kmsg.NewAlterClientQuotasRequestEntryEntity()
		ent.Type = quotaEntityType(typ)
		if t.names[i] != "" {
			ent.Name = kmsg.StringPtr(t.names[i])
		}
		entry.Entity = append(entry.Entity, ent)
	}
	for _, a := range adds {
		v, err := strconv.ParseFloat(strings.TrimSpace(a[1]), 64)
		if err != nil {
			return usageErrorf("Cannot parse quota configuration value for %s: %s", a[0], a[1])
		}
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key, op.Value = a[0], v
		entry.Ops = append(entry.Ops, op)
	}
	for _, d := range dels {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key, op.Remove = d, true
		entry.Ops = append(entry.Ops, op)
	}
	req.Entries = append(req.Entries, entry)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return rootCause(err)
	}
	for _, e := range resp.Entries {
		if err := kerr.ErrorForCode(e.ErrorCode); err != nil {
			return errors.New(javaError(err, e.ErrorMessage))
		}
	}
	if t.names[0] != "" {
		fmt.Fprintf(stdout, "Completed updating config for %s %s.\n", strings.TrimSuffix(t.types[0], "s"), t.names[0])
	} else {
		fmt.Fprintf(stdout, "Completed updating default config for %s in the cluster.\n", t.types[0])
	}
	return nil
}

// Java's HashMap iteration order, which decides the order of kafka-configs.sh's output: the
// admin client puts the response's entities, and each entity's values, into
// new HashMap<>(n), which iterates by bucket (the spread hash modulo the table size) and,
// within a bucket, in insertion order.

// javaStringHash is String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, c := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(c)
	}
	return h
}

// javaHashMapOrder returns the indexes of n keys with the given hashCodes, inserted in order
// into new HashMap<>(n), in the order Java iterates them.
func javaHashMapOrder(hashes []int32) []int {
	n := len(hashes)
	capacity := 1
	for capacity < n {
		capacity <<= 1
	}
	for n > capacity*3/4 { // resized when the size passes the 0.75 load factor
		capacity <<= 1
	}
	bucket := func(h int32) int32 { return (h ^ int32(uint32(h)>>16)) & int32(capacity-1) }
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return bucket(hashes[idx[a]]) < bucket(hashes[idx[b]]) })
	return idx
}

func orderQuotaValues(vs []kmsg.DescribeClientQuotasResponseEntryValue) []kmsg.DescribeClientQuotasResponseEntryValue {
	hashes := make([]int32, len(vs))
	for i, v := range vs {
		hashes[i] = javaStringHash(v.Key)
	}
	out := make([]kmsg.DescribeClientQuotasResponseEntryValue, 0, len(vs))
	for _, i := range javaHashMapOrder(hashes) {
		out = append(out, vs[i])
	}
	return out
}

// orderQuotaEntries orders entities as the admin client's HashMap<ClientQuotaEntity, ...>
// does: an entity's hashCode is its entries map's, the sum of key.hashCode ^ value.hashCode
// (0 for the null name of a default).
func orderQuotaEntries(es []quotaEntry) []quotaEntry {
	hashes := make([]int32, len(es))
	for i, e := range es {
		var h int32
		for _, ent := range e.entity {
			var vh int32
			if ent.Name != nil {
				vh = javaStringHash(*ent.Name)
			}
			h += javaStringHash(ent.Type) ^ vh
		}
		hashes[i] = h
	}
	out := make([]quotaEntry, 0, len(es))
	for _, i := range javaHashMapOrder(hashes) {
		out = append(out, es[i])
	}
	return out
}
