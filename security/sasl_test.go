package security

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestScramRFC7677: the SCRAM-SHA-256 exchange of RFC 7677 section 3, byte for byte.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	salted, err := ScramSHA256.SaltedPassword([]byte("pencil"), salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	cred := ScramSHA256.CredentialFromSaltedPassword(salt, salted, 4096)
	srv := NewScramServer(ScramSHA256, func(m *ScramMechanism, user string) (ScramCredential, bool) {
		return cred, m == ScramSHA256 && user == "user"
	}).(*scramServer)
	srv.nonce = func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" }
	first, done, err := srv.Step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if err != nil || done || string(first) != "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096" {
		t.Fatalf("server-first = %q, %v, %v", first, done, err)
	}
	final, done, err := srv.Step([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if err != nil || !done || string(final) != "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server-final = %q, %v, %v", final, done, err)
	}
	if srv.Principal() != "User:user" {
		t.Errorf("principal %q", srv.Principal())
	}
	// librdkafka's client-final repeats its nonce before the server-first one; the proof,
	// computed over that message, still proves the password.
	srv = NewScramServer(ScramSHA256, func(*ScramMechanism, string) (ScramCredential, bool) { return cred, true }).(*scramServer)
	srv.nonce = func() string { return "SRV" }
	if _, _, err := srv.Step([]byte("n,,n=user,r=CLI")); err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=biws,r=CLICLISRV"
	auth := []byte("n=user,r=CLI,r=CLISRV,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," + withoutProof)
	clientKey := ScramSHA256.hmac(salted, []byte("Client Key"))
	sig := ScramSHA256.hmac(cred.StoredKey, auth)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	if _, done, err := srv.Step([]byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof))); err != nil || !done {
		t.Errorf("librdkafka's client-final: %v", err)
	}
	if _, _, err := srv.Step([]byte("more")); err == nil {
		t.Error("a token after the exchange was accepted")
	}
}

// exchange runs a franz-go SCRAM client (an implementation independent of ours) against srv.
func exchange(t *testing.T, client sasl.Mechanism, srv wire.SASLServer) error {
	t.Helper()
	session, msg, err := client.Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		challenge, done, err := srv.Step(msg)
		if err != nil {
			return err
		}
		cdone, next, err := session.Challenge(challenge)
		if err != nil {
			t.Fatalf("the client refused the server's message %q: %v", challenge, err)
		}
		if done != cdone {
			t.Fatalf("server done %v, client done %v", done, cdone)
		}
		if done {
			return nil
		}
		msg = next
	}
	t.Fatal("exchange did not end")
	return nil
}

// TestScramWithFranzGo: SCRAM-SHA-256 and -512 against franz-go's client: the right password
// in; a wrong one, an unknown user and a credential of the other mechanism out, all with the
// generic message (an attacker learns nothing about which users exist).
func TestScramWithFranzGo(t *testing.T) {
	for _, m := range ScramMechanisms {
		t.Run(m.Name, func(t *testing.T) {
			cred, err := m.NewCredential([]byte("alice-secret"), 8192)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]string{"alice": FormatCredential(cred)}
			lookup := func(mm *ScramMechanism, user string) (ScramCredential, bool) {
				s, ok := stored[user]
				if !ok || mm != m {
					return ScramCredential{}, false
				}
				c, err := ParseCredential(s)
				return c, err == nil
			}
			client := func(user, pass string) sasl.Mechanism {
				a := scram.Auth{User: user, Pass: pass}
				if m == ScramSHA512 {
					return a.AsSha512Mechanism()
				}
				return a.AsSha256Mechanism()
			}
			srv := NewScramServer(m, lookup)
			if err := exchange(t, client("alice", "alice-secret"), srv); err != nil {
				t.Fatalf("right password: %v", err)
			}
			if srv.Principal() != "User:alice" {
				t.Errorf("principal %q", srv.Principal())
			}
			for _, c := range [][2]string{{"alice", "wrong"}, {"mallory", "alice-secret"}} {
				err := exchange(t, client(c[0], c[1]), NewScramServer(m, lookup))
				var ae *wire.AuthenticationError
				if err == nil || errors.As(err, &ae) {
					t.Errorf("%s/%s: %v, want a failure with no message for the client", c[0], c[1], err)
				}
			}
			other := ScramSHA256
			if m == ScramSHA256 {
				other = ScramSHA512
			}
			if err := exchange(t, client("alice", "alice-secret"), NewScramServer(other, lookup)); err == nil {
				t.Errorf("a %s credential authenticated %s", m.Name, other.Name)
			}
		})
	}
}

func TestScramMessages(t *testing.T) {
	cred, _ := ScramSHA256.NewCredential([]byte("p"), 4096)
	lookup := func(*ScramMechanism, string) (ScramCredential, bool) { return cred, true }
	for _, first := range []string{
		"", "y,,n=u,r=abc", "p=tls-unique,,n=u,r=abc", "n,a=u", "n,,m=x,n=u,r=abc", "n,,r=abc,n=u", "n,,n=,r=abc",
		"n,,n=u=41,r=abc", "n,,n=u,r=", "n,,n=u,r=a b", "n,,n=u,r=abc,1=2", "n,,n=u,r=abc,tokenauth=true",
	} {
		if _, _, err := NewScramServer(ScramSHA256, lookup).Step([]byte(first)); err == nil {
			t.Errorf("client-first %q accepted", first)
		}
	}
	srv := NewScramServer(ScramSHA256, lookup)
	if _, _, err := srv.Step([]byte("n,a=other,n=u,r=abc")); err == nil || err.Error() != "Authentication failed: Client requested an authorization id that is different from username" {
		t.Errorf("another authzid: %v", err)
	}
	srv = NewScramServer(ScramSHA256, lookup)
	first, _, err := srv.Step([]byte("n,,n=a=2Cb=3Dc,r=abc"))
	if err != nil || srv.Principal() != "User:a,b=c" {
		t.Fatalf("escaped user name: %v %q", err, srv.Principal())
	}
	nonce := strings.TrimPrefix(strings.Split(string(first), ",")[0], "r=")
	for _, final := range []string{
		"c=biws,r=" + nonce, "c=eSws,r=" + nonce + ",p=AAAA", "c=biws,r=abcX,p=AAAA", "c=biws,r=" + nonce + ",p=!!!", "c=biws,r=" + nonce + ",p=AAAA",
	} {
		s := *srv.(*scramServer)
		if _, _, err := s.Step([]byte(final)); err == nil {
			t.Errorf("client-final %q accepted", final)
		}
	}
}

// TestCredentialFormat: Kafka's stored form of a SCRAM credential (ScramCredentialUtils).
func TestCredentialFormat(t *testing.T) {
	c := ScramCredential{Salt: []byte("salt"), StoredKey: []byte{1, 2, 3}, ServerKey: []byte{4, 5}, Iterations: 8192}
	s := FormatCredential(c)
	if s != "salt=c2FsdA==,stored_key=AQID,server_key=BAU=,iterations=8192" {
		t.Errorf("FormatCredential = %q", s)
	}
	back, err := ParseCredential(s)
	if err != nil || FormatCredential(back) != s {
		t.Errorf("ParseCredential(%q) = %+v, %v", s, back, err)
	}
	for _, bad := range []string{"", "salt=c2FsdA==,stored_key=AQID,server_key=BAU=", "salt=c2FsdA==,stored_key=AQID,server_key=BAU=,iterations=0",
		"salt=!,stored_key=AQID,server_key=BAU=,iterations=1", "salt=c2FsdA==,stored_key=AQID,server_key=BAU=,iterations=1,x=1",
		"salt=c2FsdA==,salt=c2FsdA==,server_key=BAU=,iterations=1", "password=x"} {
		if _, err := ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) accepted", bad)
		}
	}
	if _, err := ScramSHA512.NewCredential([]byte("x"), 100); err == nil || err.Error() != "iterations 100 is less than the minimum 4096 required for SCRAM-SHA-512" {
		t.Errorf("NewCredential with 100 iterations: %v", err)
	}
}

func TestPlain(t *testing.T) {
	users := NewPlainUsers(map[string]string{"alice": "alice-secret"})
	for _, tc := range []struct {
		token, principal, clientMsg string
	}{
		{"\x00alice\x00alice-secret", "User:alice", ""},
		{"alice\x00alice\x00alice-secret", "User:alice", ""},
		{"\x00alice\x00wrong", "", "Authentication failed: Invalid username or password"},
		{"\x00bob\x00alice-secret", "", "Authentication failed: Invalid username or password"},
		{"bob\x00alice\x00alice-secret", "", "Authentication failed: Client requested an authorization id that is different from username"},
		{"\x00alice", "", "-"},
		{"\x00\x00pw", "", "-"},
		{"\x00alice\x00", "", "-"},
		{"\x00alice\x00alice-secret\x00", "", "-"},
	} {
		srv := users.NewServer()
		resp, done, err := srv.Step([]byte(tc.token))
		if tc.principal != "" {
			if err != nil || !done || len(resp) != 0 || srv.Principal() != tc.principal {
				t.Errorf("%q: %q %v %v %q", tc.token, resp, done, err, srv.Principal())
			}
			continue
		}
		var ae *wire.AuthenticationError
		switch {
		case err == nil:
			t.Errorf("%q accepted", tc.token)
		case tc.clientMsg == "-" && errors.As(err, &ae):
			t.Errorf("%q: %v is shown to the client", tc.token, err)
		case tc.clientMsg != "-" && (!errors.As(err, &ae) || ae.Message != tc.clientMsg):
			t.Errorf("%q: %v, want %q for the client", tc.token, err, tc.clientMsg)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", tc.token, err)
		}
	}
}

// FuzzScram feeds two arbitrary tokens to a SCRAM-SHA-512 exchange: it must never panic, and
// never succeed without the password.
func FuzzScram(f *testing.F) {
	f.Add([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add([]byte("n,a=user,n=user,r=x,ext=1"), []byte("c=bixh,r=x,p="))
	f.Add([]byte("n,,n==2C=3D,r=\x7f"), []byte(",p=,p="))
	cred, _ := ScramSHA512.NewCredential([]byte("the-password"), 4096)
	lookup := func(*ScramMechanism, string) (ScramCredential, bool) { return cred, true }
	f.Fuzz(func(t *testing.T, first, final []byte) {
		srv := NewScramServer(ScramSHA512, lookup)
		if _, done, err := srv.Step(first); err != nil || done {
			return
		}
		if _, done, err := srv.Step(final); err == nil || done {
			t.Fatalf("an exchange without the password succeeded: %q %q", first, final)
		}
	})
}

// FuzzPlain: no token panics PLAIN, and only the password gets in.
func FuzzPlain(f *testing.F) {
	f.Add([]byte("\x00alice\x00alice-secret"))
	f.Add([]byte("a\x00b\x00c\x00d"))
	users := NewPlainUsers(map[string]string{"alice": "alice-secret"})
	f.Fuzz(func(t *testing.T, token []byte) {
		_, done, err := users.NewServer().Step(token)
		if err == nil && done && !strings.HasSuffix(string(token), "\x00alice\x00alice-secret") {
			t.Fatalf("%q authenticated", token)
		}
	})
}
