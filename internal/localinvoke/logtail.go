package localinvoke

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// TailBytes is how much of an invocation's log an Invoke with LogType=Tail returns, base64-encoded
// in X-Amz-Log-Result: its last 4 KB, as Lambda returns.
const TailBytes = 4 << 10

// LogTail collects one invocation's log for LogType=Tail, keeping only its last TailBytes, so that
// a function logging without end costs no more memory. A Func finds it with LogTailFrom and
// writes there what the function logged during the invocation (in addition to its log file). It
// is safe for concurrent use.
type LogTail struct {
	mu     sync.Mutex
	buf    []byte
	framed bool
}

// Write adds p to the log; it never fails.
func (l *LogTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(p) >= TailBytes {
		l.buf = append(l.buf[:0], p[len(p)-TailBytes:]...)
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) > 2*TailBytes {
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-TailBytes:]...)
	}
	return len(p), nil
}

// MarkFramed says that the runtime wrote Lambda's own lines (START, END and REPORT, as
// aws-lambda-rie writes them) into the log: the server then adds none.
func (l *LogTail) MarkFramed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.framed = true
}

// Bytes returns the last TailBytes of what was written.
func (l *LogTail) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.buf[max(0, len(l.buf)-TailBytes):]...)
}

func (l *LogTail) isFramed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.framed
}

type ctxKey int

const (
	tailKey ctxKey = iota
	requestIDKey
)

// LogTailFrom returns the log tail of the invocation ctx belongs to, or nil when the caller did
// not ask for it (LogType None, or an asynchronous invocation).
func LogTailFrom(ctx context.Context) *LogTail {
	t, _ := ctx.Value(tailKey).(*LogTail)
	return t
}

// RequestIDFrom returns the request id of the invocation ctx belongs to (X-Amzn-RequestId), or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithInvocation returns ctx carrying an invocation's request id and, when tail is not nil, its
// log tail: what the server gives a Func. Tests of a Func use it to call it as the server does.
func WithInvocation(ctx context.Context, requestID string, tail *LogTail) context.Context {
	ctx = context.WithValue(ctx, requestIDKey, requestID)
	if tail != nil {
		ctx = context.WithValue(ctx, tailKey, tail)
	}
	return ctx
}

// framedTail returns the log LogType=Tail returns for an invocation whose function wrote body:
// body alone when the runtime wrote Lambda's lines itself, else body between the START, END and
// REPORT lines Lambda writes. The REPORT line has no memory figures: the server does not know
// them.
func framedTail(t *LogTail, id string, took time.Duration) []byte {
	body := t.Bytes()
	if t.isFramed() {
		return body
	}
	var out []byte
	out = fmt.Appendf(out, "START RequestId: %s Version: %s\n", id, LatestVersion)
	out = append(out, body...)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		out = append(out, '\n')
	}
	ms := float64(took) / float64(time.Millisecond)
	billed := (took + time.Millisecond - 1) / time.Millisecond
	out = fmt.Appendf(out, "END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\t\n", id, id, ms, max(billed, 1))
	return out[max(0, len(out)-TailBytes):]
}

// newRequestID returns a random UUID (version 4), the form of Lambda's request ids.
func newRequestID() string { return uuid.NewString() }
