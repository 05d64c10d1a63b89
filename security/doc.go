// Package security is how a klassik broker authenticates its clients and itself, the
// counterpart of Kafka's org.apache.kafka.common.security: TLS with PEM keystores (KIP-651)
// and client certificates mapped to principals (SslPrincipalMapper), and the server side of the
// SASL mechanisms PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677), with SCRAM
// credentials in Kafka's stored form (ScramCredentialUtils).
//
// In the classic architecture every listener has a security protocol: PLAINTEXT, SSL (TLS;
// with ssl.client.auth the principal is the client certificate's subject), SASL_PLAINTEXT or
// SASL_SSL (a SASL exchange, inside TLS for SASL_SSL, names the principal). Package wire runs
// the TLS handshake and the SASL exchange on each connection; this package provides what they
// need: the tls.Config of a listener, kept current when its files change (TLSStore), the
// principal of a certificate (PrincipalMapper), and one SASL server per exchange (Plain,
// Scram). The SCRAM credentials themselves live in ZooKeeper (/config/users/<user>); package
// broker caches them and hands this package a lookup.
//
// Passwords never reach a log line or an error message; comparisons of secrets are constant
// time.
package security
