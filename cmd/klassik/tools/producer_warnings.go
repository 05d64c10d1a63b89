package tools

import (
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceWarnings is console-producer's logger: it prints, as Kafka's producer logs its WARN
// lines ("Got error produce response ... retrying"), every produce error a broker answers,
// the moment it answers, so a NOT_ENOUGH_REPLICAS shows at once instead of after
// delivery.timeout.ms of silent retries. kgo reports retried batches only in its debug line
// for each produce response ("produced", to: "topic[p{retrying@offset,records(ERROR)}]"),
// and failed ones at info ("batch in a produce request failed"); everything else it logs is
// dropped.
type produceWarnings struct {
	mu       sync.Mutex
	w        io.Writer
	clientID string
}

func (p *produceWarnings) Level() kgo.LogLevel { return kgo.LogLevelDebug }

// retried matches one retried partition of kgo's "produced" line: the topic is the text
// before the partition list, so it is found separately.
var (
	producedTopic = regexp.MustCompile(`([^\[\], ]+)\[(.*?)\]`)
	retriedPart   = regexp.MustCompile(`(\d+)\{retrying@-?\d+,\d+\((.*?)\)\}`)
)

func (p *produceWarnings) Log(_ kgo.LogLevel, msg string, kv ...any) {
	f := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			f[k] = kv[i+1]
		}
	}
	switch msg {
	case "produced":
		to, _ := f["to"].(string)
		for _, t := range producedTopic.FindAllStringSubmatch(to, -1) {
			for _, r := range retriedPart.FindAllStringSubmatch(t[2], -1) {
				p.warn(t[1], r[1], "retrying", r[2])
			}
		}
	case "batch in a produce request failed":
		verb := "retrying"
		if r, _ := f["err_is_retryable"].(bool); !r {
			verb = "not retrying"
		}
		p.warn(fmt.Sprint(f["topic"]), fmt.Sprint(f["partition"]), verb, fmt.Sprint(f["err"]))
	}
}

func (p *produceWarnings) warn(topic, partition, verb, err string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%s] WARN [Producer clientId=%s] Got error produce response on topic-partition %s-%s, %s. Error: %s\n",
		time.Now().Format("2006-01-02 15:04:05,000"), p.clientID, topic, partition, verb, err)
}
