package wire

// API contract: these signatures are what broker/ uses.

import (
	"context"
	"net"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request is one decoded request with its header.
type Request struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string
	Body          kmsg.Request // decoded with kmsg at Version
	Conn          *ConnInfo
}

// ConnInfo describes the connection a request came on.
type ConnInfo struct {
	ID         uint64
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	Listener   string // the listener name, e.g. "PLAINTEXT"
}

// Handler serves requests. It returns the response body (nil for a Produce with acks=0,
// which gets no response), or an error to close the connection. Calls for one connection are
// made one at a time in request order; calls for different connections run concurrently.
type Handler interface {
	Handle(ctx context.Context, req *Request) (kmsg.Response, error)
}

// Versions tells wire which API keys and versions the broker serves; wire closes a connection
// that sends anything else (ApiVersions excepted: see ServerConfig.UnsupportedApiVersions).
type Versions func(key int16) (min, max int16, ok bool)

// ServerConfig configures a Server.
type ServerConfig struct {
	Listener       net.Listener
	ListenerName   string
	MaxRequestSize int32 // socket.request.max.bytes: frames larger are refused before allocating
	Handler        Handler
	Versions       Versions
	// ApiVersionsFallback builds the v0 ApiVersions response (UNSUPPORTED_VERSION with the
	// supported list) sent when a client asks ApiVersions at a version newer than served.
	ApiVersionsFallback func() *kmsg.ApiVersionsResponse
	Logger              zerolog.Logger
}

// Server accepts connections on one listener and runs each one's read and write loops.
type Server struct{}

// NewServer makes a server; Serve starts it.
func NewServer(cfg ServerConfig) *Server { panic("unimplemented") }

// Serve accepts until Close; it returns nil after Close.
func (s *Server) Serve() error { panic("unimplemented") }

// Close stops accepting, closes every connection and waits for their goroutines.
func (s *Server) Close() error { panic("unimplemented") }

// Client is one connection to a Kafka broker for inter-broker requests (controller to broker,
// follower to leader): it writes framed requests and reads their responses in order.
// Safe for concurrent use; requests are pipelined.
type Client struct{}

// Dial connects to addr ("host:port") as clientID.
func Dial(ctx context.Context, addr string, clientID string) (*Client, error) { panic("unimplemented") }

// Request sends req at the version set on it (req.SetVersion) and decodes the response.
func (c *Client) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	panic("unimplemented")
}

// Close closes the connection; pending requests fail.
func (c *Client) Close() error { panic("unimplemented") }
