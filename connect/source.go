package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxBufferedLines bounds the lines a source task has sent and the broker has not yet
// acknowledged: Produce blocks beyond it (kgo's MaxBufferedRecords), so a slow or absent
// broker stops the reading instead of growing memory.
const maxBufferedLines = 10000

// readChunk is how much of the file a source task reads at a time.
const readChunk = 64 << 10

// sourceTask is FileStreamSourceTask run by Kafka's WorkerSourceTask: it reads lines from the
// connector's file (or standard input), produces each to the topic, and commits the position
// after the last line the broker acknowledged, with every line before it, to the offsets file.
// It owns its goroutine (run); the producer's callbacks only touch sub and failed.
type sourceTask struct {
	w   *Worker
	c   *ConnectorConfig
	id  string // "local-file-source-0"
	log zerolog.Logger

	sub    submitted
	failed chan error // the first send that failed; buffered, one
}

// partition is the task's source partition, Kafka's {"filename": file}.
func (t *sourceTask) partition() map[string]string { return map[string]string{"filename": t.c.File} }

func (t *sourceTask) run(ctx context.Context) error {
	t.failed = make(chan error, 1)
	opts := append(t.w.clientOpts("connector-producer-"+t.id),
		kgo.RequiredAcks(kgo.AllISRAcks()), // Kafka's Connect producer: acks=all, idempotent
		kgo.MaxBufferedRecords(maxBufferedLines),
		kgo.ProducerBatchMaxBytes(int32(min(t.w.cfg.MaxRequestSize, 1<<30))),
		kgo.DefaultProduceTopic(t.c.Topic))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	// Records still buffered when the task stops are flushed within the graceful timeout
	// (task.shutdown.graceful.timeout.ms); produceCtx ends only after that, failing what is
	// left, uncommitted, so it is sent again after a restart. It also bounds a Produce
	// blocked on a full buffer while the broker is away.
	grace := t.w.cfg.ShutdownTimeout
	produceCtx, stopProducing := context.WithCancel(context.Background())
	defer func() {
		stopProducing()
		cl.Close()
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-produceCtx.Done():
			return
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			stopProducing()
		case <-produceCtx.Done():
		}
	}()
	t.log.Info().Str("file", t.fileName()).Str("topic", t.c.Topic).
		Msgf("WorkerSourceTask{id=%s} Source task finished initialization and start", t.id)

	runErr := t.loop(ctx, produceCtx, cl)

	flushCtx, cancel := context.WithTimeout(produceCtx, grace)
	if err := cl.Flush(flushCtx); err != nil {
		t.log.Warn().Int("outstanding", t.sub.pending()).
			Msgf("WorkerSourceTask{id=%s} Failed to flush, timed out while waiting for producer to flush outstanding %d messages", t.id, t.sub.pending())
	}
	cancel()
	t.commit()
	return runErr
}

func (t *sourceTask) fileName() string {
	if t.c.File == "" {
		return "stdin"
	}
	return t.c.File
}

// loop reads and sends until ctx ends (nil) or the task fails (the error).
func (t *sourceTask) loop(ctx, produceCtx context.Context, cl *kgo.Client) error {
	lines := lineSplitter{max: t.w.cfg.MaxRequestSize, setting: "producer.max.request.size"}
	var in reader
	defer func() {
		if in != nil {
			in.close()
		}
	}()
	lastCommit := time.Now()
	warnedMissing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-t.failed:
			return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from producer send callback: %w", err)
		default:
		}
		if time.Since(lastCommit) >= t.w.cfg.OffsetFlushInterval {
			t.commit()
			lastCommit = time.Now()
		}
		if in == nil {
			var err error
			in, err = t.open(&lines)
			if errors.Is(err, os.ErrNotExist) {
				ev := t.log.Debug()
				if !warnedMissing {
					ev, warnedMissing = t.log.Warn(), true
				}
				ev.Msgf("Couldn't find file %s for FileStreamSourceTask, sleeping to wait for it to be created", t.c.File)
				t.wait(ctx, lastCommit)
				continue
			}
			if err != nil {
				return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: %w", err)
			}
		}
		chunk, err := in.read(ctx, t.w.PollInterval)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: reading %s: %w", t.fileName(), err)
		}
		if len(chunk) == 0 {
			if errors.Is(err, io.EOF) && t.c.File == "" {
				<-ctx.Done() // standard input ended: nothing more will come
				return nil
			}
			if t.c.File != "" {
				t.wait(ctx, lastCommit)
			}
			continue
		}
		lines.feed(chunk)
		for n := 0; ; n++ {
			line, end, ok, err := lines.next()
			if err != nil {
				return fmt.Errorf("org.apache.kafka.connect.errors.ConnectException: %s: %w", t.fileName(), err)
			}
			if !ok {
				break
			}
			if err := t.send(produceCtx, cl, line, end); err != nil {
				return err
			}
			if (n+1)%t.c.BatchSize == 0 && ctx.Err() != nil { // a look at ctx every batch.size lines
				return nil // the lines left in the splitter are uncommitted: read again after a restart
			}
		}
	}
}

// wait sleeps for the poll interval, or less if a commit falls due, or until ctx ends.
func (t *sourceTask) wait(ctx context.Context, lastCommit time.Time) {
	d := min(t.w.PollInterval, max(time.Until(lastCommit.Add(t.w.cfg.OffsetFlushInterval)), time.Millisecond))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// send converts a line and produces it; its position is committable once acknowledged.
func (t *sourceTask) send(produceCtx context.Context, cl *kgo.Client, line []byte, end int64) error {
	text := javaUTF8(line)
	key, err := t.c.KeyConverter.FromString(nil)
	if err != nil {
		return err
	}
	value, err := t.c.ValueConverter.FromString(&text)
	if err != nil {
		return err
	}
	r := t.sub.submit(end)
	cl.Produce(produceCtx, &kgo.Record{Topic: t.c.Topic, Key: key, Value: value}, func(_ *kgo.Record, err error) {
		if err == nil {
			t.sub.ack(r)
			return
		}
		if produceCtx.Err() != nil {
			return // stopping: the line stays uncommitted and is read again after a restart
		}
		select {
		case t.failed <- err:
		default:
		}
	})
	return nil
}

// commit stores the position after the acknowledged prefix of lines and writes the offsets
// file (Kafka's WorkerSourceTask.commitOffsets).
func (t *sourceTask) commit() {
	pos, n, ok := t.sub.committable()
	if !ok || t.c.File == "" { // offsets of standard input mean nothing: Kafka keeps none
		return
	}
	if err := t.w.store.Set(t.c.Name, t.partition(), map[string]int64{"position": pos}); err != nil {
		t.log.Error().Err(err).Msgf("WorkerSourceTask{id=%s} Failed to commit offsets", t.id)
		return
	}
	if err := t.w.store.Flush(); err != nil {
		t.log.Error().Err(err).Msgf("WorkerSourceTask{id=%s} Failed to flush offsets to storage", t.id)
		return
	}
	t.log.Info().Int("messages", n).Int64("position", pos).
		Msgf("WorkerSourceTask{id=%s} Committing offsets for %d acknowledged messages", t.id, n)
}

// open opens the file at the stored position (or standard input), positioning lines there.
func (t *sourceTask) open(lines *lineSplitter) (reader, error) {
	if t.c.File == "" {
		return newStdinReader(t.w.Stdin), nil
	}
	f, err := os.Open(t.c.File)
	if err != nil {
		return nil, err
	}
	pos, err := t.storedPosition()
	if err != nil {
		f.Close()
		return nil, err
	}
	if pos > 0 {
		if fi, err := f.Stat(); err == nil && fi.Size() < pos {
			t.log.Warn().Int64("position", pos).Int64("size", fi.Size()).
				Msgf("%s is shorter than its stored offset: was it truncated or replaced? Reading resumes when it grows past it", t.c.File)
		}
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		t.log.Info().Int64("position", pos).Msgf("Found previous offset, skipped to file offset %d of %s", pos, t.c.File)
	}
	lines.pos = pos
	t.log.Info().Msgf("Opened %s for reading", t.c.File)
	return &fileReader{f: f}, nil
}

// storedPosition is the committed position in the file, 0 if none.
func (t *sourceTask) storedPosition() (int64, error) {
	raw, ok, err := t.w.store.Get(t.c.Name, t.partition())
	if err != nil || !ok {
		return 0, err
	}
	var off struct {
		Position *json.Number `json:"position"`
	}
	if err := json.Unmarshal(raw, &off); err != nil || off.Position == nil {
		return 0, errors.New("Offset position is the incorrect type")
	}
	pos, err := off.Position.Int64()
	if err != nil || pos < 0 {
		return 0, errors.New("Offset position is the incorrect type")
	}
	return pos, nil
}

// reader is where a source task reads: a file, polled, or standard input.
type reader interface {
	// read returns the next bytes, or none after waiting up to wait (standard input) or at
	// once (a file at its end: io.EOF).
	read(ctx context.Context, wait time.Duration) ([]byte, error)
	close()
}

type fileReader struct {
	f   *os.File
	buf [readChunk]byte
}

func (r *fileReader) read(context.Context, time.Duration) ([]byte, error) {
	n, err := r.f.Read(r.buf[:])
	return r.buf[:n], err
}

func (r *fileReader) close() { r.f.Close() }

// stdinReader reads standard input on a goroutine, since a read of it blocks; chunks come
// through a channel of one, so at most two chunks are held.
type stdinReader struct {
	chunks chan []byte
	err    chan error
}

func newStdinReader(in io.Reader) *stdinReader {
	r := &stdinReader{chunks: make(chan []byte, 1), err: make(chan error, 1)}
	go func() {
		for {
			buf := make([]byte, readChunk)
			n, err := in.Read(buf)
			if n > 0 {
				r.chunks <- buf[:n]
			}
			if err != nil {
				r.err <- err
				return
			}
		}
	}()
	return r
}

func (r *stdinReader) read(ctx context.Context, wait time.Duration) ([]byte, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case b := <-r.chunks:
		return b, nil
	case err := <-r.err:
		select {
		case b := <-r.chunks:
			r.err <- err
			return b, nil
		default:
		}
		r.err <- err
		return nil, err
	case <-timer.C:
		return nil, nil
	case <-ctx.Done():
		return nil, nil
	}
}

// close leaves the reading goroutine blocked in Read: standard input cannot be interrupted,
// and the process is ending.
func (r *stdinReader) close() {}
