package rie

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	tailLines   = 60       // lines of output kept for error messages
	maxLineSize = 64 << 10 // a longer line is passed on in pieces
)

// Report is what the emulator's REPORT line says about one invocation.
type Report struct {
	RequestID      string
	InitDuration   time.Duration // set on the first invocation the emulator serves only
	Duration       time.Duration
	BilledDuration time.Duration
}

// logSink receives the emulator's stdout and stderr (which carry the function's own output),
// passes every line on to out, keeps the last lines for error messages, and reads the
// emulator's REPORT and INIT REPORT lines.
type logSink struct {
	mu          sync.Mutex
	out         io.Writer // nil discards
	tail        []string
	first       Report // the first REPORT
	last        Report // the latest REPORT
	reports     int
	runtimeInit time.Duration // the first INIT REPORT
	inits       int
	changed     chan struct{} // closed and replaced when a REPORT arrives
	capture     io.Writer     // the log tail of the invocation being served, or nil
}

func newLogSink(out io.Writer) *logSink {
	return &logSink{out: out, changed: make(chan struct{})}
}

// stream returns a writer for one of the emulator's output streams; it is not safe for
// concurrent use. Lines from different streams are passed on whole, never interleaved.
func (s *logSink) stream() *lineWriter { return &lineWriter{sink: s} }

// line handles one complete line, with its newline.
func (s *logSink) line(l []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out != nil {
		_, _ = s.out.Write(l) // a failing LogOutput must not stop the emulator's output
	}
	text := strings.TrimRight(string(l), "\r\n")
	if s.capture != nil && !emulatorLine.MatchString(text) {
		_, _ = s.capture.Write(l)
	}
	if len(s.tail) == tailLines {
		s.tail = append(s.tail[:0], s.tail[1:]...)
	}
	s.tail = append(s.tail, text)
	if r, ok := parseReport(text); ok {
		if s.reports == 0 {
			s.first = r
		}
		s.reports++
		s.last = r
		close(s.changed)
		s.changed = make(chan struct{})
		return
	}
	if d, ok := parseInitReport(text); ok {
		if s.inits == 0 {
			s.runtimeInit = d
		}
		s.inits++
	}
}

// emulatorLine matches the emulator's own log lines ("01 Dec 2026 08:25:45,203 [INFO] (rapid) …"),
// which Lambda's function logs do not hold.
var emulatorLine = regexp.MustCompile(`^\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2},\d{3} \[[A-Z]+\] \(rapid\) `)

// setCapture copies every later line but the emulator's own to w, until it is set to nil.
func (s *logSink) setCapture(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.capture = w
}

// output returns the last lines of output.
func (s *logSink) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// lastReport returns the latest REPORT and a channel closed when the next one arrives.
func (s *logSink) lastReport() (Report, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.changed
}

// awaitReport waits until the REPORT of request id has been read, at most for wait.
func (s *logSink) awaitReport(id string, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		last, changed := s.lastReport()
		if last.RequestID == id {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		}
	}
}

// lineWriter splits one output stream into lines for its sink.
type lineWriter struct {
	sink *logSink
	buf  []byte
}

// Write passes every complete line of p on; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink.line(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLineSize {
		w.flush()
	}
	if len(w.buf) == 0 {
		w.buf = nil
	}
	return len(p), nil
}

// flush passes on what is left of an unterminated last line.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.sink.line(append(w.buf, '\n'))
	}
	w.buf = nil
}

// parseReport reads a REPORT line:
//
//	REPORT RequestId: ID\tInit Duration: 0.22 ms\tDuration: 7.28 ms\tBilled Duration: 8 ms\t…
func parseReport(line string) (Report, bool) {
	rest, ok := strings.CutPrefix(line, "REPORT RequestId: ")
	if !ok {
		return Report{}, false
	}
	fields := strings.Split(rest, "\t")
	r := Report{RequestID: strings.TrimSpace(fields[0])}
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		var dst *time.Duration
		switch strings.TrimSpace(key) {
		case "Init Duration":
			dst = &r.InitDuration
		case "Duration":
			dst = &r.Duration
		case "Billed Duration":
			dst = &r.BilledDuration
		default:
			continue
		}
		if d, ok := parseMillis(strings.TrimSuffix(strings.TrimSpace(value), " ms")); ok {
			*dst = d
		}
	}
	return r, r.RequestID != ""
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// parseInitReport reads the emulator's log line "… (rapid) INIT REPORT(durationMs: 5.966000)".
func parseInitReport(line string) (time.Duration, bool) {
	m := initReport.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	return parseMillis(m[1])
}

// parseMillis reads a number of milliseconds such as "7.28".
func parseMillis(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}
