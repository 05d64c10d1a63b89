package integration

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchLongPoll: a Fetch with min_bytes=1 on a partition with nothing new is held by the
// broker until data arrives or max_wait_ms passes (Kafka's DelayedFetch in the purgatory). A
// waiting fetch must be woken by a produce, not answer at its deadline; and an idle one must
// wait, not answer at once (which would make consumers spin).
func TestFetchLongPoll(t *testing.T) {
	c := NewCluster(t)
	topic := topicName(t, "longpoll")
	c.CreateTopic(t, topic, 1, 1, nil)

	t.Run("idle fetch waits for max_wait", func(t *testing.T) {
		conn, err := DialRaw(c.Broker(1).Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		resp, err := conn.Request(fetchRequest(topic, 0, 0, 1000, 1), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		p := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
		if p.ErrorCode != 0 || len(p.RecordBatches) != 0 {
			t.Fatalf("idle fetch: error code %d, %d bytes of records, want none", p.ErrorCode, len(p.RecordBatches))
		}
		// Kafka sends an empty record set, never a null one: librdkafka (kcat,
		// confluent-kafka) rejects a null record set as "invalid MessageSetSize -1".
		if p.RecordBatches == nil {
			t.Fatalf("idle fetch: record set is null (size -1), want empty (size 0) as Kafka sends")
		}
		if took < 800*time.Millisecond {
			t.Fatalf("idle fetch with max_wait_ms=1000 answered after %v: the broker did not hold it", took)
		}
	})

	t.Run("raw fetch woken by produce", func(t *testing.T) {
		conn, err := DialRaw(c.Broker(1).Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		type result struct {
			resp kmsg.Response
			err  error
			at   time.Time
		}
		done := make(chan result, 1)
		go func() {
			resp, err := conn.Request(fetchRequest(topic, 0, 0, 20000, 1), 60*time.Second)
			done <- result{resp, err, time.Now()}
		}()
		// Produce 500ms after the fetch went out: the scenario is a consumer already waiting.
		timer := time.NewTimer(500 * time.Millisecond)
		select {
		case r := <-done:
			t.Fatalf("fetch on an empty partition returned before anything was produced: %+v %v", r.resp, r.err)
		case <-timer.C:
		}
		cl := c.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("wake up")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		acked := time.Now()
		var r result
		select {
		case r = <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("the waiting fetch (max_wait_ms=20000) was not answered within 15s of the produce")
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		if lag := r.at.Sub(acked); lag > 5*time.Second {
			t.Fatalf("the waiting fetch answered %v after the produce: it was not woken", lag)
		}
		p := r.resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
		batches, err := DecodeBatches(p.RecordBatches)
		if err != nil || p.ErrorCode != 0 || len(batches) != 1 || batches[0].NumRecords != 1 {
			t.Fatalf("woken fetch: error code %d, batches %+v, err %v; want one batch with the record", p.ErrorCode, batches, err)
		}
	})

	t.Run("franz-go consumer", func(t *testing.T) {
		// A franz-go consumer waiting at offset 1 (after the record of the previous
		// subtest) gets a record produced while it waits.
		cl := c.Client(t,
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(1)}}),
			kgo.FetchMaxWait(20*time.Second))
		got := make(chan *kgo.Record, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			for ctx.Err() == nil {
				if rs := cl.PollFetches(ctx).Records(); len(rs) > 0 {
					got <- rs[0]
					return
				}
			}
			got <- nil
		}()
		// Produce 500ms later, while the consumer waits.
		timer := time.NewTimer(500 * time.Millisecond)
		<-timer.C
		producer := c.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := producer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("for franz")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		acked := time.Now()
		select {
		case r := <-got:
			if r == nil {
				t.Fatal("franz-go consumer got nothing")
			}
			if string(r.Value) != "for franz" || r.Offset != 1 {
				t.Fatalf("franz-go consumer got %q at offset %d, want %q", r.Value, r.Offset, "for franz")
			}
			if lag := time.Since(acked); lag > 10*time.Second {
				t.Fatalf("franz-go consumer got the record %v after it was produced", lag)
			}
		case <-time.After(40 * time.Second):
			t.Fatal("franz-go consumer did not get the record")
		}
	})
}
