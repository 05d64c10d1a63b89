// Package wire is klassik's network layer: the counterpart of Kafka's SocketServer (acceptor
// and processor threads) and RequestChannel (the queue between the network and KafkaApis).
//
// In the classic architecture a broker listens on each of its listeners, frames the bytes of
// every connection into requests, hands them to the request handlers (KafkaApis; here the
// broker package's Handler) and writes the responses back in request order. The controller
// talks to brokers, and followers to leaders, over the same protocol: Client is the small
// inter-broker client (Kafka's NetworkClient as used by ControllerChannelManager and
// ReplicaFetcherThread).
//
// # Framing
//
// Every request and response is a size-prefixed frame. Sizes are big-endian int32 and count
// the bytes that follow them. wire refuses a request frame whose size is negative or larger
// than ServerConfig.MaxRequestSize (socket.request.max.bytes) before allocating anything for
// it, and closes that connection.
//
//	request frame:
//	+------------+---------+-------------+----------------+----------------------+---------+------+
//	| size int32 | api key | api version | correlation id | client id            | tagged  | body |
//	|            | int16   | int16       | int32          | int16 len + bytes,   | fields* |      |
//	|            |         |             |                | -1 = null            |         |      |
//	+------------+---------+-------------+----------------+----------------------+---------+------+
//	             |<------------------------ size bytes ------------------------------------------>|
//
//	response frame:
//	+------------+----------------+----------+------+
//	| size int32 | correlation id | tagged   | body |
//	|            | int32          | fields** |      |
//	+------------+----------------+----------+------+
//
//	 * request header v2, only for flexible versions (KIP-482): uvarint count, then
//	   (uvarint tag, uvarint size, bytes) per field; wire skips them. The client id stays a
//	   classic int16-length string even in header v2. ControlledShutdown v0 uses header v0,
//	   which has no client id.
//	** response header v1, only for flexible versions: wire writes an empty set (one 0 byte).
//	   ApiVersions responses always use header v0, without tagged fields (KIP-511), so that a
//	   client that does not yet know the broker's versions can read them.
//
// Bodies are decoded and encoded by kmsg at the request's version; wire never encodes a
// message body by hand. ParseRequest is the pure, fuzzed decoding of one frame.
//
// # Connections
//
// Each accepted connection runs three goroutines, started through one tracker so that
// Server.Close can wait for all of them (as nats-server does):
//
//   - the read loop reads frames, decodes them and queues at most readAhead requests;
//   - the handle loop calls Handler.Handle for one request at a time, in arrival order;
//   - the write loop encodes the responses in the same order into a buffered writer and
//     flushes when no further response is queued, so pipelined small responses share a write.
//
// A handler may throttle its request's connection (Request.Throttle, KIP-219): the response
// goes out at once, and both the read and the handle loop wait until the throttle ends before
// they take the connection's next request, as Kafka mutes a throttled channel. A client over
// its quota is thus slowed down whether or not it honours throttle_time_ms.
//
// # Security
//
// A listener may run TLS (ServerConfig.TLS: SSL and SASL_SSL) and SASL (ServerConfig.SASL:
// SASL_PLAINTEXT and SASL_SSL). Both happen on the read loop before the first request is
// queued: the TLS handshake, then the SASL exchange (Kafka's SaslServerAuthenticator,
// sasl.go), during which only ApiVersions, SaslHandshake and SaslAuthenticate are accepted and
// every frame is bounded by sasl.server.max.receive.size. The principal that authentication
// establishes is the connection's (ConnInfo.Principal). Client.DialWith is the other side, for
// the broker's own connections on the inter-broker listener, re-authenticating before the
// session ends (KIP-368).
//
// A request outside Versions closes the connection (as Kafka does), except ApiVersions at a
// version newer than served, which is answered with the v0 UNSUPPORTED_VERSION response from
// ServerConfig.ApiVersionsFallback (KIP-511) and leaves the connection open. A Handler that
// returns an error or panics closes its connection only; a nil response (Produce with acks=0)
// sends nothing.
package wire
