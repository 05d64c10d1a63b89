package tools

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The entity of a users/clients command, as ConfigCommandOptions gathers entityTypes and
// entityNames: --entity-name and --entity-default in command-line order, then the short flags.
func TestParseQuotaTarget(t *testing.T) {
	for _, c := range []struct {
		args  []string
		types []string
		names []string
	}{
		{[]string{"--entity-type", "clients", "--entity-name", "slow"}, []string{"clients"}, []string{"slow"}},
		{[]string{"--entity-type", "clients", "--entity-default"}, []string{"clients"}, []string{""}},
		{[]string{"--entity-type", "users", "--entity-default", "--entity-type", "clients", "--entity-name", "c"}, []string{"users", "clients"}, []string{"", "c"}},
		{[]string{"--entity-type", "users", "--entity-name", "u", "--entity-type", "clients", "--entity-default"}, []string{"users", "clients"}, []string{"u", ""}},
		{[]string{"--entity-type", "users", "--entity-type", "clients"}, []string{"users", "clients"}, nil},
		{[]string{"--client", "c", "--user", "u"}, []string{"clients", "users"}, []string{"c", "u"}},
		{[]string{"--user-defaults", "--client", "c"}, []string{"clients", "users"}, []string{"c", ""}},
	} {
		fs := configsFlags()
		if err := fs.parse(c.args); err != nil {
			t.Fatal(err)
		}
		qt, ok, err := parseQuotaTarget(fs)
		if err != nil || !ok || !reflect.DeepEqual(qt.types, c.types) || !reflect.DeepEqual(qt.names, c.names) {
			t.Errorf("%v: %+v %v %v, want %v %v", c.args, qt, ok, err, c.types, c.names)
		}
	}
	fs := configsFlags()
	_ = fs.parse([]string{"--entity-type", "topics", "--entity-name", "t"})
	if _, ok, err := parseQuotaTarget(fs); ok || err != nil {
		t.Fatalf("a topics command taken for quotas: %v %v", ok, err)
	}
}

func entity(typ string, name *string) kmsg.DescribeClientQuotasResponseEntryEntity {
	return kmsg.DescribeClientQuotasResponseEntryEntity{Type: typ, Name: name}
}

func value(k string, v float64) kmsg.DescribeClientQuotasResponseEntryValue {
	return kmsg.DescribeClientQuotasResponseEntryValue{Key: k, Value: v}
}

// kafka-configs.sh's lines: the entity in words, the values as Java doubles in the order of a
// java.util.HashMap (the orders below are what OpenJDK 17 prints for the same insertions).
func TestQuotaDescribeOutput(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		e    quotaEntry
		want string
	}{
		{quotaEntry{[]kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", s("slow"))}, []kmsg.DescribeClientQuotasResponseEntryValue{value("producer_byte_rate", 204800)}},
			"Quota configs for client-id 'slow' are producer_byte_rate=204800.0"},
		{quotaEntry{[]kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", nil)}, []kmsg.DescribeClientQuotasResponseEntryValue{value("producer_byte_rate", 1024), value("consumer_byte_rate", 10485760)}},
			"Quota configs for the default client-id are consumer_byte_rate=1.048576E7, producer_byte_rate=1024.0"},
		{quotaEntry{[]kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", s("c1")), entity("user", s("alice"))},
			[]kmsg.DescribeClientQuotasResponseEntryValue{value("request_percentage", 50), value("producer_byte_rate", 1), value("consumer_byte_rate", 2), value("controller_mutation_rate", 3)}},
			"Quota configs for user-principal 'alice', client-id 'c1' are producer_byte_rate=1.0, consumer_byte_rate=2.0, controller_mutation_rate=3.0, request_percentage=50.0"},
		{quotaEntry{[]kmsg.DescribeClientQuotasResponseEntryEntity{entity("user", nil), entity("client-id", nil)}, []kmsg.DescribeClientQuotasResponseEntryValue{value("request_percentage", 12.5)}},
			"Quota configs for the default user-principal, the default client-id are request_percentage=12.5"},
	} {
		if got := quotaLine(c.e); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}

	// Entities in HashMap<ClientQuotaEntity, ...> order; OpenJDK 17 iterates these six,
	// inserted in this order, as 0,2,3,4,5,1.
	es := []quotaEntry{
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", s("slow"))}},
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", s("fast"))}},
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("user", s("ANONYMOUS"))}},
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("client-id", nil)}},
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("user", nil)}},
		{entity: []kmsg.DescribeClientQuotasResponseEntryEntity{entity("user", s("alice")), entity("client-id", s("c1"))}},
	}
	var got []string
	for _, e := range orderQuotaEntries(es) {
		n := "<default>"
		if e.entity[0].Name != nil {
			n = *e.entity[0].Name
		}
		got = append(got, e.entity[0].Type+":"+n)
	}
	want := "client-id:slow user:ANONYMOUS client-id:<default> user:<default> user:alice client-id:fast"
	if strings.Join(got, " ") != want {
		t.Fatalf("entity order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
