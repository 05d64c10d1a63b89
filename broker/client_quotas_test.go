package broker

import (
	"errors"
	"strings"
	"testing"

	"github.com/klassik/klassik/broker/quota"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func sp(s string) *string { return &s }

// AlterClientQuotas' entity checks, with ZkAdminManager's messages.
func TestParseQuotaEntity(t *testing.T) {
	e, err := parseQuotaEntity([]string{"user", "client-id"}, []*string{sp("alice"), nil})
	if err != nil || e != (quota.Entity{User: quota.Named("alice"), ClientID: quota.DefaultName()}) {
		t.Fatalf("user alice, default client-id: %v %v", e, err)
	}
	for _, c := range []struct {
		types []string
		names []*string
		msg   string
	}{
		{nil, nil, "Invalid empty client quota entity"},
		{[]string{"group"}, []*string{sp("g")}, "Unhandled client quota entity type: group"},
		{[]string{"client-id"}, []*string{sp("")}, "Empty client-id not supported"},
		{[]string{"ip", "user"}, []*string{sp("1.2.3.4"), sp("u")}, "IP entity should not be used with user/client ID entity"},
		{[]string{"ip"}, []*string{sp("1.2.3.4")}, "does not enforce IP connection rate quotas"},
	} {
		_, err := parseQuotaEntity(c.types, c.names)
		if !errors.Is(err, kerr.InvalidRequest) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v %v: %v, want INVALID_REQUEST %q", c.types, c.names, err, c.msg)
		}
	}
}

// Values are stored as Kafka stores them: LONG configs as integers, request_percentage as
// Java prints a double.
func TestQuotaValue(t *testing.T) {
	for _, c := range []struct {
		key  string
		v    float64
		want string
	}{
		{"producer_byte_rate", 204800, "204800"},
		{"consumer_byte_rate", 1024.0000001, "1024"},
		{"request_percentage", 200, "200.0"},
		{"request_percentage", 12.5, "12.5"},
	} {
		if got, err := quotaValue(c.key, c.v); err != nil || got != c.want {
			t.Errorf("%s=%v: %q %v, want %q", c.key, c.v, got, err, c.want)
		}
	}
	for _, c := range []struct {
		key string
		v   float64
		msg string
	}{
		{"producer_byte_rate", 1.5, "Configuration producer_byte_rate must be a LONG value"},
		{"producer_byte_rate", 0, "must be a positive number"},
		{"request_percentage", -1, "must be a positive number"},
		{"retention.ms", 1, "Invalid configuration key retention.ms"},
		{"controller_mutation_rate", 10, "does not enforce controller_mutation_rate"},
		{"producer_byte_rate", 1e30, "must be a LONG value"},
	} {
		if _, err := quotaValue(c.key, c.v); !errors.Is(err, kerr.InvalidRequest) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s=%v: %v, want %q", c.key, c.v, err, c.msg)
		}
	}
}

func filterReq(strict bool, comps ...kmsg.DescribeClientQuotasRequestComponent) *kmsg.DescribeClientQuotasRequest {
	r := kmsg.NewPtrDescribeClientQuotasRequest()
	r.Strict, r.Components = strict, comps
	return r
}

func comp(typ string, match kmsg.QuotasMatchType, name *string) kmsg.DescribeClientQuotasRequestComponent {
	c := kmsg.NewDescribeClientQuotasRequestComponent()
	c.EntityType, c.MatchType, c.Match = typ, match, name
	return c
}

// DescribeClientQuotas' filter checks and the matching of ZkAdminManager.
func TestQuotaFilter(t *testing.T) {
	for _, c := range []struct {
		r    *kmsg.DescribeClientQuotasRequest
		code *kerr.Error
		msg  string
	}{
		{filterReq(false, comp("user", 2, nil), comp("user", 0, sp("a"))), kerr.InvalidRequest, "Duplicate user filter component entity type"},
		{filterReq(false, comp("client-id", 1, nil), comp("client-id", 1, nil)), kerr.InvalidRequest, "Duplicate client filter component entity type"},
		{filterReq(false, comp("", 2, nil)), kerr.InvalidRequest, "Unexpected empty filter component entity type"},
		{filterReq(false, comp("group", 2, nil)), kerr.UnsupportedVersion, "Custom entity type 'group' not supported"},
		{filterReq(false, comp("ip", 2, nil), comp("user", 2, nil)), kerr.InvalidRequest, "IP filter component should not be used"},
		{filterReq(false, comp("user", 7, nil)), kerr.InvalidRequest, "Unexpected match type: 7"},
		{filterReq(false, comp("user", 0, nil)), kerr.InvalidRequest, "needs a name"},
	} {
		_, _, _, err := parseQuotaFilter(c.r)
		if !errors.Is(err, c.code) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %v %q", c.r.Components, err, c.code, c.msg)
		}
	}

	user, client, _, err := parseQuotaFilter(filterReq(true, comp("user", 0, sp("alice")), comp("client-id", 1, nil)))
	if err != nil || !user.exact() || !client.exact() || !client.name.Default {
		t.Fatalf("exact user, default client: %+v %+v %v", user, client, err)
	}
	anyName, _, _, _ := parseQuotaFilter(filterReq(false, comp("user", 2, nil)))
	absent := quotaFilter{}
	for _, c := range []struct {
		f      quotaFilter
		n      quota.Name
		strict bool
		want   bool
	}{
		{user, quota.Named("alice"), true, true},
		{user, quota.Named("bob"), false, false},
		{user, quota.DefaultName(), false, false},
		{client, quota.DefaultName(), true, true},
		{client, quota.Named("x"), true, false},
		{anyName, quota.Named("x"), true, true},
		{anyName, quota.DefaultName(), true, true}, // "any specified" takes the default too
		{anyName, quota.Name{}, false, false},
		{absent, quota.Name{}, true, true},
		{absent, quota.Named("x"), true, false}, // strict: an unnamed type excludes
		{absent, quota.Named("x"), false, true},
	} {
		if got := c.f.matches(c.n, c.strict); got != c.want {
			t.Errorf("%+v matches %+v (strict %v) = %v, want %v", c.f, c.n, c.strict, got, c.want)
		}
	}
}
