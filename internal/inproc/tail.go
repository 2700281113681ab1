package inproc

import (
	"context"
	"log/slog"

	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
)

// withTail returns log writing, besides where it writes, each record logged with an
// invocation's context into that invocation's log tail (localinvoke.LogTailFrom) as a JSON line,
// so that an Invoke with LogType=Tail returns what the function logged, as Lambda does.
func withTail(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	return slog.New(tailHandler{inner: log.Handler()})
}

// tailHandler passes records on to inner, and copies them into the invocation's log tail.
type tailHandler struct {
	inner slog.Handler
	// with replays on the tail's handler what WithAttrs and WithGroup did to inner.
	with []func(slog.Handler) slog.Handler
}

func (h tailHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h tailHandler) Handle(ctx context.Context, r slog.Record) error {
	if tail := localinvoke.LogTailFrom(ctx); tail != nil {
		var th slog.Handler = slog.NewJSONHandler(tail, nil)
		for _, w := range h.with {
			th = w(th)
		}
		_ = th.Handle(ctx, r.Clone())
	}
	return h.inner.Handle(ctx, r)
}

func (h tailHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return tailHandler{inner: h.inner.WithAttrs(attrs), with: append(h.with[:len(h.with):len(h.with)],
		func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })}
}

func (h tailHandler) WithGroup(name string) slog.Handler {
	return tailHandler{inner: h.inner.WithGroup(name), with: append(h.with[:len(h.with):len(h.with)],
		func(x slog.Handler) slog.Handler { return x.WithGroup(name) })}
}
