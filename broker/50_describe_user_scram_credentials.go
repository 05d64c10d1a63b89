package broker

// DescribeUserScramCredentials, key 50, version 0 (KIP-554): which SCRAM mechanisms each user
// has a credential for, and its iterations; never the credential. As Kafka's
// ZkAdminManager.describeUserScramCredentials: no users asked means every user with a
// credential in /config/users, sorted; a user asked for without one is RESOURCE_NOT_FOUND, an
// empty name too, a name asked twice DUPLICATE_RESOURCE. Any broker answers, from ZooKeeper.
// With an authorizer the client needs Describe on the cluster (CLUSTER_AUTHORIZATION_FAILED).

import (
	"context"
	"sort"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/security"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(50, 0, 0, (*Broker).handleDescribeUserScramCredentials) }

func (b *Broker) handleDescribeUserScramCredentials(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if !b.authorizeCluster(req, authz.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	describe := func(user string, props map[string]string, explicit bool) (kmsg.DescribeUserSCRAMCredentialsResponseResult, bool) {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = user
		for _, m := range security.ScramMechanisms {
			v, ok := props[m.Name]
			if !ok {
				continue
			}
			c, err := security.ParseCredential(v)
			if err != nil {
				res.ErrorCode = kerr.UnknownServerError.Code
				res.ErrorMessage = strp("Error processing describe user SCRAM credential configs request")
				res.CredentialInfos = nil
				return res, true
			}
			ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			ci.Mechanism, ci.Iterations = m.Type, int32(c.Iterations)
			res.CredentialInfos = append(res.CredentialInfos, ci)
		}
		if len(res.CredentialInfos) == 0 {
			if !explicit {
				return res, false
			}
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = strp("Attempt to describe a user credential that does not exist: " + user)
		}
		return res, true
	}

	if len(r.Users) == 0 {
		names, err := b.zk.EntityNames("users")
		if err != nil {
			resp.ErrorCode, resp.ErrorMessage = kerr.UnknownServerError.Code, strp("reading /config/users: "+err.Error())
			return resp, nil
		}
		var users []string
		byUser := map[string]kmsg.DescribeUserSCRAMCredentialsResponseResult{}
		for _, n := range names {
			user, err := quota.Desanitize(n)
			if err != nil || n == quota.DefaultEntityName {
				continue
			}
			props, err := b.zk.EntityConfig("users", n)
			if err != nil {
				resp.ErrorCode, resp.ErrorMessage = kerr.UnknownServerError.Code, strp("reading /config/users: "+err.Error())
				return resp, nil
			}
			if res, ok := describe(user, props, false); ok {
				users = append(users, user)
				byUser[user] = res
			}
		}
		sort.Strings(users)
		for _, u := range users {
			resp.Results = append(resp.Results, byUser[u])
		}
		return resp, nil
	}

	count := map[string]int{}
	for _, u := range r.Users {
		count[u.Name]++
	}
	done := map[string]bool{}
	for _, u := range r.Users {
		if done[u.Name] {
			continue // one result per user asked, however often
		}
		done[u.Name] = true
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = u.Name
		switch {
		case u.Name == "":
			res.ErrorCode, res.ErrorMessage = kerr.ResourceNotFound.Code, strp("Username must not be empty")
		case count[u.Name] > 1:
			res.ErrorCode = kerr.DuplicateResource.Code
			res.ErrorMessage = strp("Cannot describe SCRAM credentials for the same user twice in a single request: " + u.Name)
		default:
			props, err := b.zk.EntityConfig("users", quota.Sanitize(u.Name))
			if err != nil {
				res.ErrorCode, res.ErrorMessage = kerr.UnknownServerError.Code, strp("Error processing describe user SCRAM credential configs request")
			} else {
				res, _ = describe(u.Name, props, true)
			}
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}
