package security

import (
	"bytes"
	"crypto/subtle"
	"fmt"

	"github.com/klassik/klassik/wire"
)

// PlainUsers authenticates SASL/PLAIN (RFC 4616) against the user_<name>="<password>" options
// of a listener's listener.name.<l>.plain.sasl.jaas.config, as Kafka's
// PlainServerCallbackHandler does. Safe for concurrent use; read-only after NewPlainUsers.
type PlainUsers struct {
	users map[string][]byte
}

// NewPlainUsers copies the user table.
func NewPlainUsers(users map[string]string) *PlainUsers {
	p := &PlainUsers{users: make(map[string][]byte, len(users))}
	for u, pw := range users {
		p.users[u] = []byte(pw)
	}
	return p
}

// NewServer starts one PLAIN exchange.
func (p *PlainUsers) NewServer() wire.SASLServer { return &plainServer{users: p} }

// plainServer is one PLAIN exchange: a single client message, [authzid] NUL authcid NUL passwd.
type plainServer struct {
	users     *PlainUsers
	principal string
	done      bool
}

// dummyPassword is compared against when the user is unknown, so that an unknown user takes
// as long to refuse as a wrong password.
var dummyPassword = bytes.Repeat([]byte{0x5a}, 32)

func (s *plainServer) Step(token []byte) ([]byte, bool, error) {
	if s.done {
		return nil, false, fmt.Errorf("unexpected PLAIN token after the exchange completed")
	}
	authzid, rest, ok1 := bytes.Cut(token, []byte{0})
	user, password, ok2 := bytes.Cut(rest, []byte{0})
	if !ok1 || !ok2 || bytes.IndexByte(password, 0) >= 0 {
		return nil, false, fmt.Errorf("invalid SASL/PLAIN message: want authzid NUL user NUL password (%d NUL bytes in %d bytes)", bytes.Count(token, []byte{0}), len(token))
	}
	if len(user) == 0 {
		return nil, false, fmt.Errorf("SASL/PLAIN: username not specified")
	}
	if len(password) == 0 {
		return nil, false, fmt.Errorf("SASL/PLAIN: password not specified")
	}
	want, known := s.users.users[string(user)]
	if !known {
		want = dummyPassword
	}
	if subtle.ConstantTimeCompare(want, password) != 1 || !known {
		return nil, false, &wire.AuthenticationError{Message: "Authentication failed: Invalid username or password"}
	}
	if len(authzid) > 0 && !bytes.Equal(authzid, user) {
		return nil, false, &wire.AuthenticationError{Message: "Authentication failed: Client requested an authorization id that is different from username"}
	}
	s.principal, s.done = "User:"+string(user), true
	return []byte{}, true, nil
}

func (s *plainServer) Principal() string { return s.principal }
