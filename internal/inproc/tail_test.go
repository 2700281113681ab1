package inproc

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
)

// TestLogsReachTheTail: what a handler logs with an invocation's context goes to its log and, as
// the same JSON line, to the invocation's log tail; with attributes and groups added on the way.
func TestLogsReachTheTail(t *testing.T) {
	var file bytes.Buffer
	log := withTail(slog.New(slog.NewJSONHandler(&file, nil))).With("function", "F").WithGroup("g")
	tail := &localinvoke.LogTail{}
	ctx := localinvoke.WithInvocation(context.Background(), "req-1", tail)
	log.InfoContext(ctx, "batch handled", "records", 2)
	log.InfoContext(context.Background(), "not in an invocation")
	lines := strings.Split(strings.TrimSpace(string(tail.Bytes())), "\n")
	if len(lines) != 1 {
		t.Fatalf("tail holds %d lines, want 1:\n%s", len(lines), tail.Bytes())
	}
	var got struct {
		Msg      string         `json:"msg"`
		Function string         `json:"function"`
		G        map[string]any `json:"g"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil || got.Msg != "batch handled" || got.Function != "F" || got.G["records"] != float64(2) {
		t.Errorf("tail line %s (%v)", lines[0], err)
	}
	if n := strings.Count(file.String(), "\n"); n != 2 || !strings.Contains(file.String(), lines[0][strings.Index(lines[0], `"level"`):]) {
		t.Errorf("log file:\n%s", file.String())
	}
	if withTail(nil) != nil {
		t.Error("withTail(nil) is not nil")
	}
}
