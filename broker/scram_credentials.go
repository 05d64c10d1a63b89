package broker

// The SCRAM credentials (Kafka's CredentialCache with UserConfigHandler, ZooKeeper mode): each
// user's SCRAM-SHA-256 and SCRAM-SHA-512 credentials are keys of /config/users/<user> (the user
// name sanitized, as quotas name it), in Kafka's form salt=...,stored_key=...,server_key=...,
// iterations=N; no password is ever stored. The broker reads them all at start when a listener
// enables a SCRAM mechanism, and reads a user again on every /config/changes notification for
// users/<user>, so a credential added or changed with kafka-configs (AlterUserScramCredentials,
// or --zookeeper before the brokers start) works at once on every broker. The same znode holds
// the user's quotas, which quotas.go reads and which the SCRAM keys leave alone.

import (
	"strings"
	"sync"

	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/security"
)

// scramCredentials caches the credentials by user and mechanism. Safe for concurrent use: SASL
// exchanges read it, the ZooKeeper event loop and AlterUserScramCredentials write it.
type scramCredentials struct {
	b  *Broker
	mu sync.RWMutex
	on bool                                           // a listener enables SCRAM; guarded by mu
	m  map[string]map[string]security.ScramCredential // user -> mechanism name -> credential
}

func newScramCredentials(b *Broker) *scramCredentials {
	return &scramCredentials{b: b, m: map[string]map[string]security.ScramCredential{}}
}

// enable turns the cache on (a listener serves SCRAM); loadAll then fills it.
func (s *scramCredentials) enable() {
	s.mu.Lock()
	s.on = true
	s.mu.Unlock()
}

func (s *scramCredentials) enabled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.on
}

// loadAll reads every user's credentials (DynamicConfigManager's start-up pass).
func (s *scramCredentials) loadAll() {
	if !s.enabled() {
		return
	}
	users, err := s.b.zk.EntityNames("users")
	if err != nil {
		s.b.log.Error().Err(err).Msg("listing /config/users: SCRAM users follow the next change notification")
		return
	}
	n := 0
	for _, u := range users {
		if s.refresh("users/" + u) {
			n++
		}
	}
	s.b.log.Info().Int("users", n).Msg("SCRAM credentials loaded from /config/users")
}

// refresh reads one user's credentials again for its notification path "users/<user>"; other
// paths (a user's client id quotas, clients, topics) are not SCRAM's. It reports whether the
// user has a credential now.
func (s *scramCredentials) refresh(entityPath string) bool {
	if !s.enabled() {
		return false
	}
	sanitized, ok := strings.CutPrefix(entityPath, "users/")
	if !ok || strings.Contains(sanitized, "/") || sanitized == quota.DefaultEntityName {
		return false
	}
	user, err := quota.Desanitize(sanitized)
	if err != nil {
		return false
	}
	props, err := s.b.zk.EntityConfig("users", sanitized)
	if err != nil {
		s.b.log.Error().Err(err).Str("user", user).Msg("reading a user's SCRAM credentials; keeping those in force")
		return false
	}
	s.apply(user, props)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m[user]) > 0
}

// apply replaces user's credentials with the SCRAM keys of props (the znode's config); a
// credential that does not parse is left out with a warning, so that user cannot
// authenticate with that mechanism.
func (s *scramCredentials) apply(user string, props map[string]string) {
	creds := map[string]security.ScramCredential{}
	for _, m := range security.ScramMechanisms {
		v, ok := props[m.Name]
		if !ok {
			continue
		}
		c, err := security.ParseCredential(v)
		if err != nil {
			s.b.log.Warn().Str("user", user).Str("mechanism", m.Name).Err(err).
				Msg("ignoring a SCRAM credential that does not parse (written by another tool?)")
			continue
		}
		creds[m.Name] = c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(creds) == 0 {
		delete(s.m, user)
	} else {
		s.m[user] = creds
	}
}

// lookup is the security.ScramLookup of every SCRAM exchange.
func (s *scramCredentials) lookup(m *security.ScramMechanism, user string) (security.ScramCredential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.m[user][m.Name]
	return c, ok
}
