package rie_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/rie"
)

// TestLogTail: an invocation given a log tail gets the function's lines of that invocation,
// framed by the emulator's START, END and REPORT lines under the request id it was given, without
// the emulator's own log lines and without the lines of other invocations.
func TestLogTail(t *testing.T) {
	rt, _ := start(t, rie.Function{Name: "probe-tail"})
	invoke := func(id string, req probeRequest) string {
		tail := &localinvoke.LogTail{}
		payload, _ := json.Marshal(req)
		_, _ = rt.Invoke(localinvoke.WithInvocation(t.Context(), id, tail), payload)
		return string(tail.Bytes())
	}
	first := invoke("11111111-1111-4111-8111-111111111111", probeRequest{Echo: "x", Log: "line of the first"})
	_, _ = call(t.Context(), rt, probeRequest{Log: "line of an invocation without tail"})
	second := invoke("22222222-2222-4222-8222-222222222222", probeRequest{Fail: "boom", Log: "line of the second"})
	for _, c := range []struct {
		log, id, line, not string
	}{
		{first, "11111111-1111-4111-8111-111111111111", "line of the first\n", "line of the second"},
		{second, "22222222-2222-4222-8222-222222222222", "line of the second\n", "line of the first"},
	} {
		if !strings.HasPrefix(c.log, "START RequestId: "+c.id+" Version: $LATEST\n") || !strings.Contains(c.log, c.line) ||
			!strings.Contains(c.log, "\nEND RequestId: "+c.id+"\nREPORT RequestId: "+c.id+"\t") || !strings.HasSuffix(c.log, "\n") ||
			strings.Contains(c.log, "(rapid)") || strings.Contains(c.log, c.not) || strings.Contains(c.log, "without tail") {
			t.Errorf("log tail of %s:\n%s", c.id, c.log)
		}
	}
	if !strings.Contains(second, `"errorMessage":"boom"`) {
		t.Errorf("the second tail lacks the runtime's error line:\n%s", second)
	}
	if rep, _ := rt.LastReport(); rep.RequestID != "22222222-2222-4222-8222-222222222222" {
		t.Errorf("last REPORT is of %q, want the request id given in the context", rep.RequestID)
	}
}
