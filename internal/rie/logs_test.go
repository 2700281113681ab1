package rie

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		line string
		want Report
		ok   bool
	}{
		{"REPORT RequestId: a-1\tInit Duration: 0.22 ms\tDuration: 7.28 ms\tBilled Duration: 8 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t",
			Report{RequestID: "a-1", InitDuration: 220 * time.Microsecond, Duration: 7280 * time.Microsecond, BilledDuration: 8 * time.Millisecond}, true},
		{"REPORT RequestId: b-2\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t",
			Report{RequestID: "b-2", Duration: time.Second, BilledDuration: time.Second}, true},
		{"START RequestId: a-1 Version: $LATEST", Report{}, false},
		{"2026/11/26 REPORT RequestId: x", Report{}, false},
		{"REPORT RequestId: ", Report{}, false},
	}
	for _, tt := range tests {
		got, ok := parseReport(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseReport(%q) = %+v, %t; want %+v, %t", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseInitReport(t *testing.T) {
	d, ok := parseInitReport("26 Nov 2026 00:02:59,098 [INFO] (rapid) INIT REPORT(durationMs: 5.966000)")
	if !ok || d != 5966*time.Microsecond {
		t.Errorf("parseInitReport = %s, %t; want 5.966ms, true", d, ok)
	}
	if _, ok := parseInitReport("26 Nov 2026 00:02:59,092 [INFO] (rapid) INIT START(type: on-demand, phase: init)"); ok {
		t.Error("parseInitReport read an INIT START line")
	}
}

func TestLogSink(t *testing.T) {
	var out bytes.Buffer
	s := newLogSink(&out)
	stdout, stderr := s.stream(), s.stream()
	_, _ = stdout.Write([]byte("START RequestId: r1 Version: $LATEST\nfunction li"))
	_, _ = stderr.Write([]byte("[INFO] (rapid) INIT REPORT(durationMs: 2.5)\n"))
	_, _ = stdout.Write([]byte("ne\nREPORT RequestId: r1\tInit Duration: 0.10 ms\tDuration: 3.00 ms\tBilled Duration: 3 ms\t\nunterminated"))
	if !s.awaitReport("r1", time.Second) {
		t.Fatal("REPORT of r1 not seen")
	}
	stdout.flush()
	stderr.flush()
	want := "START RequestId: r1 Version: $LATEST\n[INFO] (rapid) INIT REPORT(durationMs: 2.5)\nfunction line\n" +
		"REPORT RequestId: r1\tInit Duration: 0.10 ms\tDuration: 3.00 ms\tBilled Duration: 3 ms\t\nunterminated\n"
	if out.String() != want {
		t.Errorf("output:\n%q\nwant\n%q", out.String(), want)
	}
	if s.first.InitDuration != 100*time.Microsecond || s.last.Duration != 3*time.Millisecond || s.runtimeInit != 2500*time.Microsecond || s.inits != 1 {
		t.Errorf("sink read first %+v last %+v runtime init %s inits %d", s.first, s.last, s.runtimeInit, s.inits)
	}
	if s.awaitReport("r2", 10*time.Millisecond) {
		t.Error("awaitReport(r2) = true before any REPORT of r2")
	}
	if !strings.HasSuffix(s.output(), "\nunterminated") {
		t.Errorf("output tail = %q", s.output())
	}
}

func TestLogSinkKeepsTail(t *testing.T) {
	s := newLogSink(nil)
	w := s.stream()
	for i := range tailLines + 10 {
		_, _ = w.Write([]byte(strings.Repeat("x", i%3) + "\n"))
	}
	if n := len(strings.Split(s.output(), "\n")); n != tailLines {
		t.Errorf("tail has %d lines, want %d", n, tailLines)
	}
}

func TestClassify(t *testing.T) {
	panicBody := `{"errorMessage":"aargh","errorType":"string","stackTrace":[{"path":"x.go","line":1}]}`
	tests := []struct {
		name     string
		status   int
		header   string
		body     string
		wantOut  string
		wantType string // "" = no FunctionError
		wantErr  string
	}{
		{name: "response", status: 200, body: `{"batchItemFailures":[]}`, wantOut: `{"batchItemFailures":[]}`},
		{name: "null", status: 200, body: `null`, wantOut: `null`},
		{name: "object with errorMessage only", status: 200, body: `{"errorMessage":"x"}`, wantOut: `{"errorMessage":"x"}`},
		{name: "returned error", status: 200, body: `{"errorMessage":"boom","errorType":"errorString"}`, wantType: "errorString"},
		{name: "error with header", status: 200, header: "Unhandled", body: `{"errorMessage":"boom","errorType":"errorString"}`, wantType: "errorString"},
		{name: "header without error JSON", status: 200, header: "Unhandled", body: `oops`, wantType: "Unhandled"},
		{name: "timeout", status: 200, body: "Task timed out after 3.00 seconds", wantType: timeoutType},
		{name: "panic", status: 502, body: panicBody, wantType: "string"},
		{name: "crash", status: 502, body: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: exit status 3"}`, wantType: "Runtime.ExitError"},
		{name: "bad gateway without JSON", status: 502, body: ``, wantErr: "answered 502"},
		{name: "busy", status: 400, body: ``, wantErr: "answered 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := classify("fn", tt.status, tt.header, []byte(tt.body))
			var fe *FunctionError
			switch {
			case tt.wantType != "":
				if !errors.As(err, &fe) || fe.Type != tt.wantType || fe.Function != "fn" || fe.Status != tt.status || string(fe.Payload) != tt.body {
					t.Fatalf("classify = %q, %v (%+v); want a FunctionError of type %s", out, err, fe, tt.wantType)
				}
				if tt.name == "panic" && (fe.Message != "aargh" || len(fe.StackTrace) == 0) {
					t.Errorf("panic read as %+v", fe)
				}
			case tt.wantErr != "":
				if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("classify = %q, %v; want an error containing %q", out, err, tt.wantErr)
				}
			default:
				if err != nil || string(out) != tt.wantOut {
					t.Fatalf("classify = %q, %v; want %q", out, err, tt.wantOut)
				}
			}
		})
	}
	if _, err := classify("fn", http.StatusOK, "", []byte(`{"errorMessage":"m","errorType":"T"}`)); err.Error() != "function fn: T: m" {
		t.Errorf("FunctionError.Error() = %q", err.Error())
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("GEP_RIE_PARENT_ONLY", "1")
	f := Function{Name: "router", MemoryMB: 0, Env: map[string]string{
		"TABLE_NAME": "t", "AWS_ACCESS_KEY_ID": "local", "AWS_LAMBDA_FUNCTION_NAME": "ignored", "AWS_DEFAULT_REGION": "eu-west-1",
	}}
	got := environment(f, "/task", 30)
	want := []string{
		"AWS_ACCESS_KEY_ID=local", "AWS_DEFAULT_REGION=eu-west-1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_NAME=router", "AWS_LAMBDA_FUNCTION_TIMEOUT=30", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=eu-west-1", "LAMBDA_TASK_ROOT=/task", "LANG=en_US.UTF-8", "PATH=" + lambdaPath, "TABLE_NAME=t", "TZ=:UTC",
	}
	if !slices.Equal(got, want) {
		t.Errorf("environment =\n%q\nwant\n%q", got, want)
	}
	if env := environment(Function{Name: "f", MemoryMB: 512}, "/task", 3); !slices.Contains(env, "AWS_REGION="+DefaultRegion) ||
		!slices.Contains(env, "AWS_DEFAULT_REGION="+DefaultRegion) || !slices.Contains(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512") {
		t.Errorf("environment without Env = %q", env)
	}
}

func TestRequestID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := requestID(), requestID()
	if !uuid.MatchString(a) || a == b {
		t.Errorf("requestID() = %q, %q", a, b)
	}
}
