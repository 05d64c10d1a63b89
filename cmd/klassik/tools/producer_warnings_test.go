package tools

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestProduceWarnings(t *testing.T) {
	var b strings.Builder
	w := &produceWarnings{w: &b, clientID: "console-producer"}
	w.Log(kgo.LogLevelDebug, "produced", "broker", "1", "to",
		"orders[0{retrying@-1,3(NOT_ENOUGH_REPLICAS: Messages are rejected since there are fewer in-sync replicas than required.)}, 1{0=>5}], audit[2{retrying@-1,1(NOT_LEADER_FOR_PARTITION: x)}]")
	w.Log(kgo.LogLevelInfo, "batch in a produce request failed", "topic", "orders", "partition", int32(3), "err", "MESSAGE_TOO_LARGE", "err_is_retryable", false)
	w.Log(kgo.LogLevelDebug, "produced", "broker", "1", "to", "orders[1{5=>9}]")
	got := b.String()
	for _, want := range []string{
		"WARN [Producer clientId=console-producer] Got error produce response on topic-partition orders-0, retrying. Error: NOT_ENOUGH_REPLICAS: Messages are rejected",
		"on topic-partition audit-2, retrying. Error: NOT_LEADER_FOR_PARTITION: x",
		"on topic-partition orders-3, not retrying. Error: MESSAGE_TOO_LARGE",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 3 {
		t.Errorf("%d lines, want 3:\n%s", n, got)
	}
}
