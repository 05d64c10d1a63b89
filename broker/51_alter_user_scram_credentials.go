package broker

// AlterUserScramCredentials, key 51, version 0 (KIP-554): adds, replaces or deletes users'
// SCRAM credentials. The client sends the salt and the salted password (never the password);
// the broker derives StoredKey and ServerKey and writes them in Kafka's form into
// /config/users/<user>, keeping the znode's other keys (the user's quotas), with a
// /config/changes notification that every broker's credential cache follows
// (scram_credentials.go). As Kafka in ZooKeeper mode, only the controller alters (NOT_CONTROLLER
// elsewhere; admin clients send it there), and each user gets one result: an empty name or an
// unknown mechanism fails the user, iterations outside 4096..16384 are UNACCEPTABLE_CREDENTIAL,
// a user and mechanism twice DUPLICATE_RESOURCE, deleting what does not exist RESOURCE_NOT_FOUND.
// With an authorizer the client needs Alter on the cluster (CLUSTER_AUTHORIZATION_FAILED for
// every user), checked after NOT_CONTROLLER, as in KafkaApis.

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

func init() { register(51, 0, 0, (*Broker).handleAlterUserScramCredentials) }

func (b *Broker) handleAlterUserScramCredentials(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := r.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	failed := map[string]error{} // the first failure of each user
	fail := func(user string, code *kerr.Error, msg string) {
		if _, ok := failed[user]; !ok {
			failed[user] = errorf(code, "%s", msg)
		}
	}
	users := map[string]bool{}
	type pair struct {
		user string
		mech int8
	}
	seen := map[pair]int{}
	for _, d := range r.Deletions {
		users[d.Name] = true
		switch {
		case d.Name == "":
			fail(d.Name, kerr.UnacceptableCredential, "Username must not be empty")
		case security.ScramMechanismOfType(d.Mechanism) == nil:
			fail(d.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
		}
		seen[pair{d.Name, d.Mechanism}]++
	}
	for _, u := range r.Upsertions {
		users[u.Name] = true
		m := security.ScramMechanismOfType(u.Mechanism)
		switch {
		case u.Name == "":
			fail(u.Name, kerr.UnacceptableCredential, "Username must not be empty")
		case m == nil:
			fail(u.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
		case int(u.Iterations) < m.MinIterations:
			fail(u.Name, kerr.UnacceptableCredential, "Too few iterations")
		case u.Iterations > security.MaxScramIterations:
			fail(u.Name, kerr.UnacceptableCredential, "Too many iterations")
		case len(u.SaltedPassword) == 0 || len(u.Salt) == 0:
			fail(u.Name, kerr.UnacceptableCredential, "The salt and the salted password must not be empty")
		}
		seen[pair{u.Name, u.Mechanism}]++
	}
	for p, n := range seen {
		if n > 1 {
			fail(p.user, kerr.DuplicateResource, "A user credential cannot be altered twice in the same request")
		}
	}
	switch {
	case !b.ctrl.IsActive():
		for u := range users {
			failed[u] = errorf(kerr.NotController, "this broker is not the controller")
		}
	case !b.authorizeCluster(req, authz.OpAlter):
		for u := range users {
			failed[u] = kerr.ClusterAuthorizationFailed
		}
	}

	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, user := range names {
		if failed[user] == nil {
			if err := b.alterScram(user, r); err != nil {
				failed[user] = err
			}
		}
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = user
		if err := failed[user]; err != nil {
			res.ErrorCode, res.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

// alterScram applies the request's deletions and upsertions of one user to its znode.
func (b *Broker) alterScram(user string, r *kmsg.AlterUserSCRAMCredentialsRequest) error {
	name := quota.Sanitize(user)
	props, err := b.zk.EntityConfig("users", name)
	if err != nil {
		return errorf(kerr.UnknownServerError, "reading /config/users/%s: %v", name, err)
	}
	for _, d := range r.Deletions {
		if d.Name != user {
			continue
		}
		m := security.ScramMechanismOfType(d.Mechanism)
		if _, ok := props[m.Name]; !ok {
			return errorf(kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist")
		}
		delete(props, m.Name)
	}
	for _, u := range r.Upsertions {
		if u.Name != user {
			continue
		}
		m := security.ScramMechanismOfType(u.Mechanism)
		props[m.Name] = security.FormatCredential(m.CredentialFromSaltedPassword(u.Salt, u.SaltedPassword, int(u.Iterations)))
	}
	if err := b.zk.SetEntityConfig("users", name, props); err != nil {
		return errorf(kerr.UnknownServerError, "writing /config/users/%s: %v", name, err)
	}
	b.scram.apply(user, props) // at once here; the other brokers follow the notification
	b.log.Info().Str("user", user).Msg("SCRAM credentials altered")
	return nil
}
