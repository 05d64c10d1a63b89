package broker

// AlterClientQuotas, key 49, versions 0-1 (KIP-546): sets or removes producer_byte_rate,
// consumer_byte_rate and request_percentage of a user, a client id, or both, each named or
// the default (a null name), as Kafka's ZkAdminManager.alterClientQuotas does in ZooKeeper
// mode: any broker writes the entity's znode (/config/clients/<c>, /config/users/<u>,
// /config/users/<u>/clients/<c>, names sanitized) and a /config/changes notification, keeping
// the znode's other configs (a user's SCRAM credentials), and every broker applies the new
// quotas without a restart (quotas.go). validate_only checks without writing. Each entity
// gets its own error: INVALID_REQUEST with Kafka's message for a bad entity, key or value.
//
// klassik refuses what it would not enforce: IP entities (connection_creation_rate, KIP-612)
// and controller_mutation_rate (KIP-599); and, beyond Kafka, a quota that is not a positive
// number (0 would mute a client for good).
//
// With an authorizer it needs AlterConfigs on the cluster.

import (
	"context"
	"math"
	"strconv"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(49, 0, 1, (*Broker).handleAlterClientQuotas) }

// Kafka's client quota entity types (ClientQuotaEntity.USER, CLIENT_ID, IP).
const (
	quotaEntityUser     = "user"
	quotaEntityClientID = "client-id"
	quotaEntityIP       = "ip"
)

// quotaConfigTypes are the user and client quota configs (QuotaConfigs) and their ConfigDef
// types: LONG values are stored as integers, DOUBLE ones as Java writes a double.
var quotaConfigTypes = map[string]string{
	"producer_byte_rate":       "LONG",
	"consumer_byte_rate":       "LONG",
	"request_percentage":       "DOUBLE",
	"controller_mutation_rate": "DOUBLE",
}

func (b *Broker) handleAlterClientQuotas(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AlterClientQuotasRequest)
	resp := r.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	allowed := b.authorizeCluster(req, authz.OpAlterConfigs) // KafkaApis: AlterConfigs on the cluster
	for _, entry := range r.Entries {
		re := kmsg.NewAlterClientQuotasResponseEntry()
		for _, c := range entry.Entity {
			ent := kmsg.NewAlterClientQuotasResponseEntryEntity()
			ent.Type, ent.Name = c.Type, c.Name
			re.Entity = append(re.Entity, ent)
		}
		if !allowed {
			re.ErrorCode, re.ErrorMessage = kerr.ClusterAuthorizationFailed.Code, strp("Cluster authorization failed.")
		} else if err := b.alterClientQuota(entry, r.ValidateOnly); err != nil {
			re.ErrorCode, re.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Entries = append(resp.Entries, re)
	}
	return resp, nil
}

// parseQuotaEntity reads a request's entity (ZkAdminManager.parseAndSanitizeQuotaEntity);
// a type given twice counts once, the last, as Kafka's map of them does.
func parseQuotaEntity(types []string, names []*string) (quota.Entity, error) {
	if len(types) == 0 {
		return quota.Entity{}, errorf(kerr.InvalidRequest, "Invalid empty client quota entity")
	}
	var e quota.Entity
	ip := false
	for i, typ := range types {
		n := quota.DefaultName()
		if names[i] != nil {
			n = quota.Named(*names[i])
		}
		switch typ {
		case quotaEntityUser:
			e.User = n
		case quotaEntityClientID:
			e.ClientID = n
		case quotaEntityIP:
			ip = true
		default:
			return e, errorf(kerr.InvalidRequest, "Unhandled client quota entity type: %s", typ)
		}
		if names[i] != nil && *names[i] == "" {
			return e, errorf(kerr.InvalidRequest, "Empty %s not supported", typ)
		}
	}
	if ip && (e.User.Set || e.ClientID.Set) {
		return e, errorf(kerr.InvalidRequest, "Invalid quota entity combination, IP entity should not be used with user/client ID entity.")
	}
	if ip {
		return e, errorf(kerr.InvalidRequest, "klassik does not enforce IP connection rate quotas (connection_creation_rate, KIP-612) yet; set user or client-id quotas")
	}
	return e, nil
}

// alterClientQuota applies one entry's ops to its entity's stored config.
func (b *Broker) alterClientQuota(entry kmsg.AlterClientQuotasRequestEntry, validateOnly bool) error {
	types := make([]string, len(entry.Entity))
	names := make([]*string, len(entry.Entity))
	for i, c := range entry.Entity {
		types[i], names[i] = c.Type, c.Name
	}
	e, err := parseQuotaEntity(types, names)
	if err != nil {
		return err
	}
	typ, name, _ := e.EntityPath()
	props, err := b.zk.EntityConfig(typ, name)
	if err != nil {
		return errorf(kerr.UnknownServerError, "reading /config/%s/%s: %v", typ, name, err)
	}
	for _, op := range entry.Ops {
		if op.Remove {
			delete(props, op.Key)
			continue
		}
		v, err := quotaValue(op.Key, op.Value)
		if err != nil {
			return err
		}
		props[op.Key] = v
	}
	if validateOnly {
		return nil
	}
	if err := b.zk.SetEntityConfig(typ, name, props); err != nil {
		return errorf(kerr.UnknownServerError, "writing /config/%s/%s: %v", typ, name, err)
	}
	b.quotas.apply(e, props) // at once here; the other brokers follow the notification
	return nil
}

// quotaValue checks one quota and writes it as Kafka stores it: a LONG config as an integer
// (within 1e-6 of the value given, or refused), a DOUBLE one as Java's Double.toString.
func quotaValue(key string, v float64) (string, error) {
	typ, ok := quotaConfigTypes[key]
	if !ok {
		return "", errorf(kerr.InvalidRequest, "Invalid configuration key %s", key)
	}
	if key == "controller_mutation_rate" {
		return "", errorf(kerr.InvalidRequest, "klassik does not enforce controller_mutation_rate (KIP-599) yet; the quotas it enforces are producer_byte_rate, consumer_byte_rate and request_percentage")
	}
	if !validQuotaValue(v) {
		return "", errorf(kerr.InvalidRequest, "Configuration %s must be a positive number, not %s (a quota of 0 or less would throttle the client for good)", key, quota.FormatDouble(v))
	}
	if typ == "DOUBLE" {
		return quota.FormatDouble(v), nil
	}
	const epsilon = 1e-6
	if v+epsilon >= math.MaxInt64 {
		return "", errorf(kerr.InvalidRequest, "Configuration %s must be a %s value", key, typ)
	}
	n := int64(v + epsilon)
	if math.Abs(float64(n)-v) > epsilon {
		return "", errorf(kerr.InvalidRequest, "Configuration %s must be a %s value", key, typ)
	}
	return strconv.FormatInt(n, 10), nil
}

// quotaConfigValue reads a stored quota as a double (ZkAdminManager.fromProps).
func quotaConfigValue(key, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errorf(kerr.UnknownServerError, "Unexpected client quota configuration value: %s -> %s", key, s)
	}
	return v, nil
}
