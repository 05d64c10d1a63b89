package security

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

// TestPrincipalMapper: Kafka's documented rules and SslPrincipalMapperTest's cases.
func TestPrincipalMapper(t *testing.T) {
	rules := `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L, DEFAULT`
	m, err := NewPrincipalMapper(rules, "ssl.principal.mapping.rules")
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":        "Duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US": "duke@sme",
		"cn=duke,OU=JavaSoft,O=Sun Microsystems":    "duke",
		"OU=JavaSoft,O=Sun Microsystems,C=US":       "OU=JavaSoft,O=Sun Microsystems,C=US",
	} {
		if got, err := m.Name(dn); err != nil || got != want {
			t.Errorf("Name(%q) = %q, %v; want %q", dn, got, err, want)
		}
	}
	// A comma inside a rule, upper-casing, and $ forms that are not groups.
	m, err = NewPrincipalMapper(`RULE:^CN=([^,]*),O=(.*)$/$2,$1 $$x/U`, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Name("CN=alice,O=example"); got != "EXAMPLE,ALICE $$X" {
		t.Errorf("Name = %q", got)
	}
	// No DEFAULT: a subject no rule matches fails.
	m, _ = NewPrincipalMapper(`RULE:^CN=(.*),OU=svc$/$1/`, "ssl.principal.mapping.rules")
	if _, err := m.Name("CN=bob,OU=people"); err == nil || !strings.Contains(err.Error(), "no rule of ssl.principal.mapping.rules") {
		t.Errorf("unmatched subject: %v", err)
	}
	for _, bad := range []string{"RULE:^CN=(.*)$/$1", "RULE:^CN=(.*)$/$1/X", "RULE:(?<=x)a/$1/", "SOMETHING"} {
		if _, err := NewPrincipalMapper(bad, "ssl.principal.mapping.rules"); err == nil || !strings.HasPrefix(err.Error(), "ssl.principal.mapping.rules: ") {
			t.Errorf("NewPrincipalMapper(%q) error = %v", bad, err)
		}
	}
}

// TestSubjectName: the subject as Java's X500Principal.getName() writes it, which Kafka's rules
// are written against: most specific first, Java's keywords, escapes, others as OID=#hex.
func TestSubjectName(t *testing.T) {
	name := pkix.Name{
		Country: []string{"US"}, Organization: []string{"Acme, Inc."}, OrganizationalUnit: []string{"eng"},
		CommonName: "alice",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "a@x"}},
	}
	raw, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	got, err := SubjectName(&x509.Certificate{RawSubject: raw})
	want := `1.2.840.113549.1.9.1=#0c03614078,CN=alice,OU=eng,O=Acme\, Inc.,C=US`
	if err != nil || got != want {
		t.Errorf("SubjectName = %q, %v\nwant %q", got, err, want)
	}
}
