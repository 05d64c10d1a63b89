package broker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handlerFunc serves one Kafka API. A problem with a topic or partition is an error code in
// the response; a returned error closes the connection.
type handlerFunc func(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error)

type apiEntry struct {
	key      int16
	min, max int16
	handle   handlerFunc
}

// apis is every API this broker serves, filled by the init functions of the NN_name.go files.
var apis = map[int16]apiEntry{}

// register is called from each API file's init with the version range it serves.
func register(key, min, max int16, h handlerFunc) {
	if _, dup := apis[key]; dup {
		panic(fmt.Sprintf("API key %d registered twice", key))
	}
	if kmax := kmsg.RequestForKey(key).MaxVersion(); max > kmax {
		max = kmax
	}
	apis[key] = apiEntry{key: key, min: min, max: max, handle: h}
}

// versions reports the served range of key, for wire.
func versions(key int16) (int16, int16, bool) {
	e, ok := apis[key]
	return e.min, e.max, ok
}

// apiVersionKeys lists what is registered, sorted by key.
func apiVersionKeys() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(apis))
	for _, e := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = e.key, e.min, e.max
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}

// Handle implements wire.Handler.
func (b *Broker) Handle(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	e, ok := apis[req.Key]
	if !ok {
		return nil, fmt.Errorf("API key %d is not served", req.Key)
	}
	if isControllerRequest(req.Key) {
		b.delayControllerRequest(ctx) // the classroom's delay-controller-requests fault
	}
	start := time.Now()
	var rq *requestQuota
	if b.quotas.enabled() {
		rq = &requestQuota{start: start}
		ctx = context.WithValue(ctx, requestQuotaKey{}, rq)
	}
	resp, err := e.handle(b, ctx, req)
	if err == nil && rq != nil {
		b.quotas.finish(req, resp, rq) // quotas.go
	}
	took := time.Since(start)
	b.metrics.observe(req.Key, took)
	if took > slowControllerRequest && isControllerRequest(req.Key) {
		// The controller sends a broker one request at a time: a slow one holds back every
		// metadata change behind it.
		b.log.Warn().Str("request", kmsg.NameForKey(req.Key)).Dur("took", took).Msg("slow controller request")
	}
	return resp, err
}

// errCode turns a kerr error (or nil) into its code.
func errCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	if errors.Is(err, logstore.ErrLogDirOffline) {
		return kerr.KafkaStorageError.Code
	}
	return kerr.UnknownServerError.Code
}

// apiError is a Kafka error code with a sentence for the client (ErrorMessage fields).
type apiError struct {
	code *kerr.Error
	msg  string
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.code }

func errorf(code *kerr.Error, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// errMessage is the ErrorMessage to send for err (nil when none).
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	return strp(err.Error())
}

func strp(s string) *string { return &s }

// slowControllerRequest is how long a LeaderAndIsr, UpdateMetadata or StopReplica may take
// before the broker logs it.
const slowControllerRequest = 100 * time.Millisecond

func isControllerRequest(key int16) bool { return key >= 4 && key <= 6 }
