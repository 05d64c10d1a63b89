package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxPollRecords is Kafka's consumer default max.poll.records: the records one poll hands
// the task, and so the bytes one write to the file holds at most (with the fetch's bounds).
const maxPollRecords = 500

// sinkFile is the file a sink connector's tasks append to (FileStreamSinkTask opens it with
// CREATE and APPEND), or standard output. Shared by the connector's tasks; safe for
// concurrent use.
type sinkFile struct {
	mu   sync.Mutex
	f    *os.File  // nil: standard output
	w    io.Writer // f, or standard output
	name string
}

func openSinkFile(name string, stdout io.Writer) (*sinkFile, error) {
	if name == "" {
		return &sinkFile{w: stdout, name: "stdout"}, nil
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '%s' for FileStreamSinkTask: %w", name, err)
	}
	return &sinkFile{f: f, w: f, name: name}, nil
}

func (s *sinkFile) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(b)
	return err
}

// sync makes what was written durable before offsets are committed for it (Kafka's sink
// only flushes the stream; a sync is what lets a committed offset promise the line is there).
func (s *sinkFile) sync() error {
	if s.f == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Sync()
}

// sinkTask is FileStreamSinkTask run by Kafka's WorkerSinkTask: it consumes the connector's
// topics in the group connect-NAME, converts each value back to text, appends one line per
// record to the file, syncs the file and only then commits the offsets of what it wrote.
// It owns its goroutine (run); the group's revoke callback shares pending under mu.
type sinkTask struct {
	w   *Worker
	c   *ConnectorConfig
	id  string // "local-file-sink-0"
	out *sinkFile
	log zerolog.Logger

	mu      sync.Mutex
	pending map[string]map[int32]kgo.EpochOffset // written, not yet committed: next offset to read
}

// GroupID is the consumer group of a sink connector, Kafka's naming.
func GroupID(connector string) string { return "connect-" + connector }

func (t *sinkTask) run(ctx context.Context) error {
	t.pending = map[string]map[int32]kgo.EpochOffset{}
	opts := append(t.w.clientOpts("connector-consumer-"+t.id),
		kgo.ConsumerGroup(GroupID(t.c.Name)),
		kgo.DisableAutoCommit(), // offsets are committed after the file is synced
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // Connect's sink default: earliest
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			t.commit(ctx, cl, revoked)
			t.drop(revoked)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			t.drop(lost) // another member owns them now: what this one wrote is read again
		}))
	if t.c.TopicsRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(t.c.TopicsRegex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(t.c.Topics...))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	t.log.Info().Strs("topics", t.c.Topics).Str("group", GroupID(t.c.Name)).Str("file", t.out.name).
		Msgf("WorkerSinkTask{id=%s} Sink task finished initialization and start", t.id)

	runErr := t.loop(ctx, cl)

	// A final commit of what was written, then leave the group (its revoke commits nothing
	// more): a clean stop repeats nothing.
	commitCtx, cancel := context.WithTimeout(context.Background(), t.w.cfg.OffsetFlushTimeout)
	t.commit(commitCtx, cl, nil)
	cancel()
	closed := make(chan struct{})
	go func() { cl.CloseAllowingRebalance(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(t.w.cfg.ShutdownTimeout):
		t.log.Warn().Msgf("WorkerSinkTask{id=%s} Leaving the group took longer than %s", t.id, t.w.cfg.ShutdownTimeout)
	}
	return runErr
}

func (t *sinkTask) loop(ctx context.Context, cl *kgo.Client) error {
	lastCommit := time.Now()
	for {
		pollCtx, cancel := context.WithTimeout(ctx, min(time.Second, t.w.cfg.OffsetFlushInterval))
		fetches := cl.PollRecords(pollCtx, maxPollRecords)
		cancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return nil // records fetched and not written are not committed: fetched again
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.log.Warn().Err(err).Str("topic", topic).Int32("partition", p).Msgf("WorkerSinkTask{id=%s} fetch error", t.id)
			}
		})
		err := t.put(fetches)
		cl.AllowRebalance()
		if err != nil {
			return err
		}
		if time.Since(lastCommit) >= t.w.cfg.OffsetFlushInterval {
			commitCtx, cancel := context.WithTimeout(ctx, t.w.cfg.OffsetFlushTimeout)
			t.commit(commitCtx, cl, nil)
			cancel()
			lastCommit = time.Now()
		}
	}
}

// put converts every record of a poll, then appends them in one write, and notes their
// offsets as written. A record that does not convert fails the task before anything of the
// poll is written, as Kafka converts a batch before SinkTask.put (errors.tolerance=none).
func (t *sinkTask) put(fetches kgo.Fetches) error {
	var buf []byte
	written := map[string]map[int32]kgo.EpochOffset{}
	var convErr error
	fetches.EachRecord(func(r *kgo.Record) {
		if convErr != nil {
			return
		}
		if _, err := t.c.KeyConverter.ToText(r.Key); err != nil {
			convErr = fmt.Errorf("Error converting message key in topic '%s' partition %d at offset %d: %w", r.Topic, r.Partition, r.Offset, err)
			return
		}
		text, err := t.c.ValueConverter.ToText(r.Value)
		if err != nil {
			convErr = fmt.Errorf("Error converting message value in topic '%s' partition %d at offset %d: %w", r.Topic, r.Partition, r.Offset, err)
			return
		}
		buf = append(append(buf, text...), '\n')
		if written[r.Topic] == nil {
			written[r.Topic] = map[int32]kgo.EpochOffset{}
		}
		written[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	})
	if convErr != nil {
		return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler: %w", convErr)
	}
	if len(buf) == 0 {
		return nil
	}
	if err := t.out.write(buf); err != nil {
		return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: writing %s: %w", t.out.name, err)
	}
	t.mu.Lock()
	for topic, ps := range written {
		if t.pending[topic] == nil {
			t.pending[topic] = map[int32]kgo.EpochOffset{}
		}
		for p, o := range ps {
			t.pending[topic][p] = o
		}
	}
	t.mu.Unlock()
	return nil
}

// commit syncs the file and commits the written offsets of the given partitions (all when
// only is nil) (Kafka's WorkerSinkTask.commitOffsets after SinkTask.flush).
func (t *sinkTask) commit(ctx context.Context, cl *kgo.Client, only map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sel := map[string]map[int32]kgo.EpochOffset{}
	n := 0
	for topic, ps := range t.pending {
		for p, o := range ps {
			if only != nil && !containsPartition(only[topic], p) {
				continue
			}
			if sel[topic] == nil {
				sel[topic] = map[int32]kgo.EpochOffset{}
			}
			sel[topic][p] = o
			n++
		}
	}
	if n == 0 {
		return
	}
	if err := t.out.sync(); err != nil {
		t.log.Error().Err(err).Msgf("WorkerSinkTask{id=%s} Flushing %s failed; offsets are not committed", t.id, t.out.name)
		return
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, sel, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil && commitErr == nil {
					commitErr = err
				}
			}
		}
	})
	if commitErr != nil {
		t.log.Error().Err(commitErr).Msgf("WorkerSinkTask{id=%s} Commit of offsets threw an unexpected exception", t.id)
		return
	}
	for topic, ps := range sel {
		for p, o := range ps {
			if t.pending[topic][p] == o {
				delete(t.pending[topic], p)
			}
		}
	}
	t.log.Info().Int("partitions", n).Msgf("WorkerSinkTask{id=%s} Committed offsets %s", t.id, describeOffsets(sel))
}

func (t *sinkTask) drop(parts map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range parts {
		for _, p := range ps {
			delete(t.pending[topic], p)
		}
	}
}

func containsPartition(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// describeOffsets renders offsets as Kafka logs them: {connect-test-0=OffsetAndMetadata{offset=2}}.
func describeOffsets(offs map[string]map[int32]kgo.EpochOffset) string {
	var parts []string
	for topic, ps := range offs {
		for p, o := range ps {
			parts = append(parts, fmt.Sprintf("%s-%d=OffsetAndMetadata{offset=%d}", topic, p, o.Offset))
		}
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}
