package security

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/klassik/klassik/wire"
)

// SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677), as Kafka's ScramSaslServer,
// ScramFormatter and ScramCredentialUtils. A broker never sees a password: it keeps, per user
// and mechanism, the salt, StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey =
// HMAC(SaltedPassword, "Server Key") and the iteration count, and checks the client's proof
// against StoredKey.

// ScramMechanism is SCRAM-SHA-256 or SCRAM-SHA-512.
type ScramMechanism struct {
	Name          string // "SCRAM-SHA-256"
	Type          int8   // the protocol's code (DescribeUserScramCredentials): 1, 2
	MinIterations int    // Kafka's ScramMechanism.minIterations
	hash          func() hash.Hash
}

var (
	ScramSHA256 = &ScramMechanism{Name: "SCRAM-SHA-256", Type: 1, MinIterations: 4096, hash: sha256.New}
	ScramSHA512 = &ScramMechanism{Name: "SCRAM-SHA-512", Type: 2, MinIterations: 4096, hash: sha512.New}
)

// ScramMechanisms are the mechanisms klassik serves, in Kafka's order.
var ScramMechanisms = []*ScramMechanism{ScramSHA256, ScramSHA512}

// MaxScramIterations is the most iterations AlterUserScramCredentials accepts (Kafka's limit).
const MaxScramIterations = 16384

// ScramMechanismNamed returns the mechanism of that name, or nil.
func ScramMechanismNamed(name string) *ScramMechanism {
	for _, m := range ScramMechanisms {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// ScramMechanismOfType returns the mechanism of that protocol code, or nil.
func ScramMechanismOfType(t int8) *ScramMechanism {
	for _, m := range ScramMechanisms {
		if m.Type == t {
			return m
		}
	}
	return nil
}

// ScramCredential is what is stored for one user and mechanism.
type ScramCredential struct {
	Salt, StoredKey, ServerKey []byte
	Iterations                 int
}

func (m *ScramMechanism) hmac(key, data []byte) []byte {
	h := hmac.New(m.hash, key)
	h.Write(data)
	return h.Sum(nil)
}

func (m *ScramMechanism) digest(b []byte) []byte {
	h := m.hash()
	h.Write(b)
	return h.Sum(nil)
}

// SaltedPassword is Hi(password, salt, iterations), PBKDF2 with the mechanism's HMAC.
func (m *ScramMechanism) SaltedPassword(password, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(m.hash, string(password), salt, iterations, m.hash().Size())
}

// CredentialFromSaltedPassword derives the stored keys (what AlterUserScramCredentials, which
// carries the salted password, and ScramFormatter.generateCredential do).
func (m *ScramMechanism) CredentialFromSaltedPassword(salt, salted []byte, iterations int) ScramCredential {
	return ScramCredential{
		Salt:       append([]byte(nil), salt...),
		StoredKey:  m.digest(m.hmac(salted, []byte("Client Key"))),
		ServerKey:  m.hmac(salted, []byte("Server Key")),
		Iterations: iterations,
	}
}

// NewCredential makes a credential for password with a fresh random salt.
func (m *ScramMechanism) NewCredential(password []byte, iterations int) (ScramCredential, error) {
	if iterations < m.MinIterations {
		return ScramCredential{}, fmt.Errorf("iterations %d is less than the minimum %d required for %s", iterations, m.MinIterations, m.Name)
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return ScramCredential{}, err
	}
	salted, err := m.SaltedPassword(password, salt, iterations)
	if err != nil {
		return ScramCredential{}, err
	}
	return m.CredentialFromSaltedPassword(salt, salted, iterations), nil
}

// FormatCredential writes a credential as Kafka stores it in /config/users/<user>:
// salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=<n>.
func FormatCredential(c ScramCredential) string {
	b64 := base64.StdEncoding.EncodeToString
	return "salt=" + b64(c.Salt) + ",stored_key=" + b64(c.StoredKey) + ",server_key=" + b64(c.ServerKey) + ",iterations=" + strconv.Itoa(c.Iterations)
}

// ParseCredential reads FormatCredential's form (ScramCredentialUtils.credentialFromString):
// exactly the four keys.
func ParseCredential(s string) (ScramCredential, error) {
	var c ScramCredential
	seen := map[string]bool{}
	for _, tok := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(tok, "=")
		if !ok || k == "" {
			return c, errors.New("credential is not salt=...,stored_key=...,server_key=...,iterations=N")
		}
		if seen[k] {
			return c, fmt.Errorf("credential has %s twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "salt":
			c.Salt, err = base64.StdEncoding.DecodeString(v)
		case "stored_key":
			c.StoredKey, err = base64.StdEncoding.DecodeString(v)
		case "server_key":
			c.ServerKey, err = base64.StdEncoding.DecodeString(v)
		case "iterations":
			c.Iterations, err = strconv.Atoi(v)
			if err == nil && c.Iterations <= 0 {
				err = errors.New("not positive")
			}
		default:
			return c, fmt.Errorf("credential has an unknown key %q", k)
		}
		if err != nil {
			return c, fmt.Errorf("credential's %s: %v", k, err)
		}
	}
	if len(seen) != 4 {
		return c, errors.New("credential needs salt, stored_key, server_key and iterations")
	}
	return c, nil
}

// ScramLookup finds the stored credential of a user for a mechanism.
type ScramLookup func(mechanism *ScramMechanism, user string) (ScramCredential, bool)

// NewScramServer starts one exchange of mechanism m against lookup.
func NewScramServer(m *ScramMechanism, lookup ScramLookup) wire.SASLServer {
	return &scramServer{m: m, lookup: lookup, nonce: randomNonce}
}

// scramServer is one exchange: client-first, server-first, client-final, server-final.
type scramServer struct {
	m      *ScramMechanism
	lookup ScramLookup
	nonce  func() string // the server's part of the nonce (tests fix it)

	state       int // 0: want client-first; 1: want client-final; 2: done; 3: failed
	user        string
	gs2Header   string // "n,," or "n,a=<authzid>,"
	firstBare   string // client-first-message-bare
	serverFirst string
	clientNonce string
	fullNonce   string
	cred        ScramCredential
	known       bool // cred is the user's, not a stand-in
}

func randomNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// standInKey derives credentials for unknown users, so that an unknown user fails at the same
// step, and as fast, as a wrong password (RFC 5802 section 9).
var standInKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

func (s *scramServer) Step(token []byte) ([]byte, bool, error) {
	switch s.state {
	case 0:
		out, err := s.clientFirst(string(token))
		if err != nil {
			s.state = 3
			return nil, false, err
		}
		s.state = 1
		return []byte(out), false, nil
	case 1:
		out, err := s.clientFinal(string(token))
		if err != nil {
			s.state = 3
			return nil, false, err
		}
		s.state = 2
		return []byte(out), true, nil
	}
	return nil, false, fmt.Errorf("unexpected SCRAM token in server state %d", s.state)
}

func (s *scramServer) Principal() string { return "User:" + s.user }

// clientFirst reads gs2-header [reserved-mext ","] "n=" saslname ",r=" nonce ["," extensions]
// (Kafka supports only the gs2 flag "n": no channel binding) and answers the server-first
// message.
func (s *scramServer) clientFirst(msg string) (string, error) {
	rest, ok := strings.CutPrefix(msg, "n,")
	if !ok {
		return "", errors.New("invalid SCRAM client-first message: the gs2 header must be \"n,\" (no channel binding)")
	}
	authzid := ""
	if a, ok := strings.CutPrefix(rest, "a="); ok {
		i := strings.IndexByte(a, ',')
		if i < 0 {
			return "", errors.New("invalid SCRAM client-first message: unterminated authzid")
		}
		authzid, rest = a[:i], a[i:]
		if _, err := scramUsername(authzid); err != nil {
			return "", err
		}
	}
	rest, ok = strings.CutPrefix(rest, ",")
	if !ok {
		return "", errors.New("invalid SCRAM client-first message: the gs2 header does not end with ','")
	}
	s.gs2Header = msg[:len(msg)-len(rest)]
	s.firstBare = rest
	fields := strings.Split(rest, ",")
	if strings.HasPrefix(fields[0], "m=") {
		return "", errors.New("invalid SCRAM client-first message: mandatory extension (m=) not supported")
	}
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "n=") || !strings.HasPrefix(fields[1], "r=") {
		return "", errors.New("invalid SCRAM client-first message: want n=<user>,r=<nonce>")
	}
	user, err := scramUsername(fields[0][2:])
	if err != nil {
		return "", err
	}
	clientNonce := fields[1][2:]
	if clientNonce == "" || !printable(clientNonce) {
		return "", errors.New("invalid SCRAM client-first message: the nonce is empty or not printable")
	}
	for _, ext := range fields[2:] {
		k, v, ok := strings.Cut(ext, "=")
		if !ok || k == "" || !alpha(k) || v == "" {
			return "", errors.New("invalid SCRAM client-first message: bad extension")
		}
		if k == "tokenauth" && strings.EqualFold(v, "true") {
			return "", errors.New("SCRAM delegation-token authentication is not supported by klassik")
		}
	}
	if authzid != "" {
		if az, _ := scramUsername(authzid); az != user {
			return "", &wire.AuthenticationError{Message: "Authentication failed: Client requested an authorization id that is different from username"}
		}
	}
	s.user = user
	s.cred, s.known = s.lookup(s.m, user)
	if !s.known || s.cred.Iterations < s.m.MinIterations {
		s.known = false
		s.cred = s.standIn(user)
	}
	s.clientNonce, s.fullNonce = clientNonce, clientNonce+s.nonce()
	s.serverFirst = "r=" + s.fullNonce + ",s=" + base64.StdEncoding.EncodeToString(s.cred.Salt) + ",i=" + strconv.Itoa(s.cred.Iterations)
	return s.serverFirst, nil
}

func (s *scramServer) standIn(user string) ScramCredential {
	salt := s.m.hmac(standInKey, []byte("salt:"+user))[:16]
	return ScramCredential{Salt: salt, StoredKey: s.m.hmac(standInKey, []byte("stored:"+user)),
		ServerKey: s.m.hmac(standInKey, []byte("server:"+user)), Iterations: s.m.MinIterations}
}

// clientFinal reads "c=" cbind ",r=" nonce ["," extensions] ",p=" proof, checks the proof
// (constant time) and answers "v=" ServerSignature.
func (s *scramServer) clientFinal(msg string) (string, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return "", errors.New("invalid SCRAM client-final message: no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	fields := strings.Split(withoutProof, ",")
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "c=") || !strings.HasPrefix(fields[1], "r=") {
		return "", errors.New("invalid SCRAM client-final message: want c=<binding>,r=<nonce>,...,p=<proof>")
	}
	cbind, err := base64.StdEncoding.DecodeString(fields[0][2:])
	if err != nil || string(cbind) != s.gs2Header {
		return "", errors.New("invalid SCRAM client-final message: the channel binding is not the client-first gs2 header")
	}
	// RFC 5802 wants the final nonce to be the server-first one. librdkafka (kcat,
	// confluent-kafka, up to at least 2.x) sends its own nonce in front of it once more, and
	// Kafka 3.6 accepts that; so does klassik, and nothing else. The proof covers the whole
	// exchange (AuthMessage), server nonce included, so a replay fails either way.
	if n := fields[1][2:]; subtle.ConstantTimeCompare([]byte(n), []byte(s.fullNonce)) != 1 &&
		subtle.ConstantTimeCompare([]byte(n), []byte(s.clientNonce+s.fullNonce)) != 1 {
		return "", errors.New("invalid client nonce in the final client message")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != len(s.cred.StoredKey) {
		return "", errors.New("invalid SCRAM client-final message: the proof is not a base64 digest")
	}
	authMessage := []byte(s.firstBare + "," + s.serverFirst + "," + withoutProof)
	clientSignature := s.m.hmac(s.cred.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	subtle.XORBytes(clientKey, proof, clientSignature)
	if subtle.ConstantTimeCompare(s.m.digest(clientKey), s.cred.StoredKey) != 1 || !s.known {
		return "", errors.New("invalid client credentials")
	}
	return "v=" + base64.StdEncoding.EncodeToString(s.m.hmac(s.cred.ServerKey, authMessage)), nil
}

// scramUsername decodes a saslname: "=2C" is ',' and "=3D" is '='; any other '=' is refused
// (ScramFormatter.username).
func scramUsername(saslName string) (string, error) {
	if saslName == "" {
		return "", errors.New("invalid SCRAM username: empty")
	}
	u := strings.ReplaceAll(saslName, "=2C", ",")
	if strings.Contains(strings.ReplaceAll(u, "=3D", ""), "=") {
		return "", errors.New("invalid SCRAM username: '=' not followed by 2C or 3D")
	}
	for _, r := range saslName {
		if r == 0 || r == ',' {
			return "", errors.New("invalid SCRAM username: NUL or ',' in it")
		}
	}
	return strings.ReplaceAll(u, "=3D", "="), nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

func alpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < 'A' || s[i] > 'Z') {
			return false
		}
	}
	return true
}
