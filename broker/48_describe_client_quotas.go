package broker

// DescribeClientQuotas, key 48, versions 0-1 (KIP-546): the quotas stored for the entities a
// filter matches, read from ZooKeeper as Kafka's ZkAdminManager.describeClientQuotas does.
// Each filter component names an entity type (user, client-id, ip) and matches an exact
// name, the default entity (match type 1; a null name in the answer) or any specified name
// (2); with strict, an entity that has a type the filter does not name is left out. A filter
// error (a type given twice, an unknown type, ip with user or client-id) fails the whole
// request with Kafka's error and message.
//
// With an authorizer it needs DescribeConfigs on the cluster.

import (
	"context"
	"sort"
	"strings"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(48, 0, 1, (*Broker).handleDescribeClientQuotas) }

// Kafka's DescribeClientQuotasRequest match types.
const (
	matchExact     = 0
	matchDefault   = 1
	matchSpecified = 2
)

// quotaFilter is one filter component: absent, or matching any name, the default, or a name
// (ClientQuotaFilterComponent; name.Set is false for "any").
type quotaFilter struct {
	present bool
	name    quota.Name // what it matches when not "any"
}

func (f quotaFilter) exact() bool { return f.present && f.name.Set }

// matches is ZkAdminManager's matches(component, name) for an entity side n.
func (f quotaFilter) matches(n quota.Name, strict bool) bool {
	if !f.present {
		return !n.Set || !strict
	}
	if !f.name.Set {
		return n.Set
	}
	return n == f.name
}

// describedQuota is one entity with its stored config.
type describedQuota struct {
	e     quota.Entity
	props map[string]string
}

func (b *Broker) handleDescribeClientQuotas(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeClientQuotasRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	if !b.authorizeCluster(req, authz.OpDescribeConfigs) {
		resp.ErrorCode, resp.ErrorMessage = kerr.ClusterAuthorizationFailed.Code, strp("Cluster authorization failed.")
		return resp, nil
	}
	entries, ips, err := b.describeClientQuotas(r)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = errCode(err), errMessage(err)
		return resp, nil
	}
	for _, d := range entries {
		re := kmsg.NewDescribeClientQuotasResponseEntry()
		// user before client-id, as Kafka's entity map lists them
		for _, side := range []struct {
			typ string
			n   quota.Name
		}{{quotaEntityUser, d.e.User}, {quotaEntityClientID, d.e.ClientID}} {
			if side.n.Set {
				re.Entity = append(re.Entity, quotaResponseEntity(side.typ, side.n))
			}
		}
		if re.Values, err = quotaValues(d.props, func(k string) bool { _, ok := quotaConfigTypes[k]; return ok }); err != nil {
			return describeQuotasError(resp, err), nil
		}
		resp.Entries = append(resp.Entries, re)
	}
	for _, d := range ips {
		re := kmsg.NewDescribeClientQuotasResponseEntry()
		re.Entity = append(re.Entity, quotaResponseEntity(quotaEntityIP, d.e.User))
		if re.Values, err = quotaValues(d.props, func(k string) bool { return k == "connection_creation_rate" }); err != nil {
			return describeQuotasError(resp, err), nil
		}
		resp.Entries = append(resp.Entries, re)
	}
	return resp, nil
}

func describeQuotasError(resp *kmsg.DescribeClientQuotasResponse, err error) *kmsg.DescribeClientQuotasResponse {
	resp.Entries = nil
	resp.ErrorCode, resp.ErrorMessage = kerr.UnknownServerError.Code, strp(err.Error())
	return resp
}

func quotaResponseEntity(typ string, n quota.Name) kmsg.DescribeClientQuotasResponseEntryEntity {
	ent := kmsg.NewDescribeClientQuotasResponseEntryEntity()
	ent.Type = typ
	if !n.Default {
		ent.Name = strp(n.Name)
	}
	return ent
}

// quotaValues are the quota configs of props, by key, as doubles.
func quotaValues(props map[string]string, isQuota func(string) bool) ([]kmsg.DescribeClientQuotasResponseEntryValue, error) {
	var keys []string
	for k := range props {
		if isQuota(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []kmsg.DescribeClientQuotasResponseEntryValue
	for _, k := range keys {
		v, err := quotaConfigValue(k, props[k])
		if err != nil {
			return nil, err
		}
		val := kmsg.NewDescribeClientQuotasResponseEntryValue()
		val.Key, val.Value = k, v
		out = append(out, val)
	}
	return out, nil
}

// parseQuotaFilter reads the request's components (ZkAdminManager.describeClientQuotas).
func parseQuotaFilter(r *kmsg.DescribeClientQuotasRequest) (user, client, ip quotaFilter, err error) {
	for _, c := range r.Components {
		var f quotaFilter
		f.present = true
		switch c.MatchType {
		case matchExact:
			if c.Match == nil {
				return user, client, ip, errorf(kerr.InvalidRequest, "An exact match of entity type %s needs a name to match", c.EntityType)
			}
			f.name = quota.Named(*c.Match)
		case matchDefault:
			f.name = quota.DefaultName()
		case matchSpecified:
		default:
			return user, client, ip, errorf(kerr.InvalidRequest, "Unexpected match type: %d", c.MatchType)
		}
		var dst *quotaFilter
		switch c.EntityType {
		case quotaEntityUser:
			dst = &user
		case quotaEntityClientID:
			dst = &client
		case quotaEntityIP:
			dst = &ip
		case "":
			return user, client, ip, errorf(kerr.InvalidRequest, "Unexpected empty filter component entity type")
		default:
			return user, client, ip, errorf(kerr.UnsupportedVersion, "Custom entity type '%s' not supported", c.EntityType)
		}
		if dst.present {
			kind := map[string]string{quotaEntityUser: "user", quotaEntityClientID: "client", quotaEntityIP: "ip"}[c.EntityType]
			return user, client, ip, errorf(kerr.InvalidRequest, "Duplicate %s filter component entity type", kind)
		}
		*dst = f
	}
	if (user.present || client.present) && ip.present {
		return user, client, ip, errorf(kerr.InvalidRequest, "Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.")
	}
	return user, client, ip, nil
}

// describeClientQuotas is ZkAdminManager.handleDescribeClientQuotas and
// handleDescribeIpQuotas: which znodes to read for the filter, then which of their entities
// match it. IP entities come back with their address in the User side.
func (b *Broker) describeClientQuotas(r *kmsg.DescribeClientQuotasRequest) ([]describedQuota, []describedQuota, error) {
	user, client, ip, err := parseQuotaFilter(r)
	if err != nil {
		return nil, nil, err
	}
	strict := r.Strict
	var found []describedQuota
	if !ip.present {
		excludeUser := strict && !user.present
		excludeClient := strict && !client.present
		read := func(e quota.Entity) error {
			typ, name, _ := e.EntityPath()
			props, err := b.zk.EntityConfig(typ, name)
			if err == nil {
				found = append(found, describedQuota{e, props})
			}
			return err
		}
		switch {
		case user.exact() && excludeClient:
			err = read(quota.Entity{User: user.name})
		case !excludeUser && !client.exact():
			err = b.readAllQuotaEntities("users", func(n quota.Name) error { return read(quota.Entity{User: n}) })
		}
		if err == nil {
			switch {
			case excludeUser && client.exact():
				err = read(quota.Entity{ClientID: client.name})
			case !user.exact() && !excludeClient:
				err = b.readAllQuotaEntities("clients", func(n quota.Name) error { return read(quota.Entity{ClientID: n}) })
			}
		}
		if err == nil {
			switch {
			case user.exact() && client.exact():
				err = read(quota.Entity{User: user.name, ClientID: client.name})
			case !excludeUser && !excludeClient:
				err = b.readAllQuotaEntities("users", func(u quota.Name) error {
					typ, name, _ := quota.Entity{User: u}.EntityPath()
					return b.readAllQuotaEntities(typ+"/"+name+"/clients", func(c quota.Name) error {
						return read(quota.Entity{User: u, ClientID: c})
					})
				})
			}
		}
		if err != nil {
			return nil, nil, errorf(kerr.UnknownServerError, "reading quotas from ZooKeeper: %v", err)
		}
	}
	var out []describedQuota
	for _, d := range found {
		if hasQuotaConfig(d.props) && user.matches(d.e.User, strict) && client.matches(d.e.ClientID, strict) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return entityOrder(out[i].e) < entityOrder(out[j].e) })

	var ips []describedQuota
	if !user.present && !client.present {
		readIP := func(n quota.Name) error {
			name := quota.DefaultEntityName
			if !n.Default {
				name = n.Name
			}
			props, err := b.zk.EntityConfig("ips", name)
			if err == nil && props["connection_creation_rate"] != "" {
				ips = append(ips, describedQuota{quota.Entity{User: n}, props})
			}
			return err
		}
		switch {
		case ip.exact():
			err = readIP(ip.name)
		case (ip.present && !ip.name.Set) || (!ip.present && !strict):
			err = b.readAllQuotaEntities("ips", readIP)
		}
		if err != nil {
			return nil, nil, errorf(kerr.UnknownServerError, "reading IP quotas from ZooKeeper: %v", err)
		}
	}
	return out, ips, nil
}

// readAllQuotaEntities calls f for each entity under /config/<path>, names desanitized
// (<default> the default); a znode whose name does not desanitize is skipped.
func (b *Broker) readAllQuotaEntities(path string, f func(quota.Name) error) error {
	names, err := b.zk.EntityNames(path)
	if err != nil {
		return err
	}
	for _, s := range names {
		n := quota.DefaultName()
		if s != quota.DefaultEntityName {
			d, err := quota.Desanitize(s)
			if err != nil {
				b.log.Warn().Str("znode", "/config/"+path+"/"+s).Msg("skipping a quota entity whose name is not sanitized as Kafka writes it")
				continue
			}
			n = quota.Named(d)
			if path == "ips" {
				n = quota.Named(s)
			}
		}
		if err := f(n); err != nil {
			return err
		}
	}
	return nil
}

func hasQuotaConfig(props map[string]string) bool {
	for k := range props {
		if _, ok := quotaConfigTypes[k]; ok {
			return true
		}
	}
	return false
}

// entityOrder sorts described entities: by user, then client id, the default first.
func entityOrder(e quota.Entity) string {
	side := func(n quota.Name) string {
		switch {
		case !n.Set:
			return "0"
		case n.Default:
			return "1"
		}
		return "2" + n.Name
	}
	return strings.Join([]string{side(e.User), side(e.ClientID)}, "\x00")
}
