package connect

import (
	"bytes"
	"fmt"
)

// lineSplitter cuts the bytes read from a file into lines as FileStreamSourceTask.extractLine
// does: a line ends at \n, \r or \r\n; a \r that is the last byte read so far waits for the
// next byte, to see whether a \n follows; a line without its end waits for more of the file.
// Each line comes with the file position just after its end, the source offset that a
// restart resumes from.
//
// Positions count bytes. Kafka counts the characters it decoded but skips that many bytes on
// restart, which only agrees for ASCII; bytes are what a restart needs.
//
// A line longer than max bytes is an error: it could never be produced (the record would
// exceed the producer's max.request.size), and the buffer must have a bound.
type lineSplitter struct {
	buf     []byte // bytes read and not yet handed out
	pos     int64  // file position of buf[0]
	max     int
	setting string // names max in errors
}

// feed adds bytes read from the file.
func (s *lineSplitter) feed(b []byte) { s.buf = append(s.buf, b...) }

// next returns the next complete line and the position after it, or ok false when the bytes
// so far hold no complete line (then err says whether the partial line is already too long).
func (s *lineSplitter) next() (line []byte, end int64, ok bool, err error) {
	i := bytes.IndexAny(s.buf, "\r\n")
	if i < 0 || (s.buf[i] == '\r' && i+1 == len(s.buf)) {
		if len(s.buf) > s.max {
			return nil, 0, false, fmt.Errorf("a line at position %d is longer than %d bytes, the limit %s sets", s.pos, s.max, s.setting)
		}
		s.compact()
		return nil, 0, false, nil
	}
	if i > s.max {
		return nil, 0, false, fmt.Errorf("a line at position %d is %d bytes, longer than %d, the limit %s sets", s.pos, i, s.max, s.setting)
	}
	n := i + 1
	if s.buf[i] == '\r' && s.buf[i+1] == '\n' {
		n++
	}
	line = s.buf[:i:i]
	s.buf = s.buf[n:]
	s.pos += int64(n)
	return line, s.pos, true, nil
}

// compact moves the unfinished line to the front of a buffer it no longer shares with the
// lines handed out, so the buffer does not grow with the file.
func (s *lineSplitter) compact() {
	if cap(s.buf) > 2*len(s.buf)+4096 || len(s.buf) == 0 {
		s.buf = append(make([]byte, 0, len(s.buf)+4096), s.buf...)
	}
}
