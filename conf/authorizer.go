package conf

import "strings"

// AuthorizerACL is the authorizer.class.name of Kafka's ZooKeeper-mode authorizer, the one
// klassik implements (broker/authz).
const AuthorizerACL = "kafka.security.authorizer.AclAuthorizer"

func checkAuthorizerClassName(v any) string {
	switch v.(string) {
	case "", AuthorizerACL:
		return ""
	case "kafka.security.auth.SimpleAclAuthorizer":
		return "must be " + AuthorizerACL + ": SimpleAclAuthorizer was removed in Kafka 3.0, AclAuthorizer reads the same ACLs"
	case "org.apache.kafka.metadata.authorizer.StandardAuthorizer":
		return "must be " + AuthorizerACL + ": StandardAuthorizer is KRaft's, and klassik runs in ZooKeeper mode"
	}
	return `must be "` + AuthorizerACL + `" or "" (klassik has no other authorizer)`
}

// checkSuperUsers wants each semicolon-separated part to be a principal, "Type:name", as
// AclAuthorizer parses them (Java's split drops trailing empty parts).
func checkSuperUsers(v any) string {
	s := v.(string)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	parts := strings.Split(s, ";")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		if !strings.Contains(p, ":") {
			return `must be principals "Type:name" separated by semicolons, e.g. "User:admin;User:broker"; "` + strings.TrimSpace(p) + `" has no type`
		}
	}
	return ""
}

// AuthorizerEnabled reports whether requests are checked against ACLs.
func (c *Config) AuthorizerEnabled() bool { return c.AuthorizerClassName == AuthorizerACL }
