package localinvoke_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/syncbuf"
)

// echo answers its payload and writes a line into the invocation's log tail.
func echo(ctx context.Context, payload []byte) ([]byte, error) {
	if t := localinvoke.LogTailFrom(ctx); t != nil {
		fmt.Fprintf(t, "echo %s\n", payload)
	}
	return payload, nil
}

func serve(t *testing.T, opts ...localinvoke.Option) (*localinvoke.Server, *lambda.Client, string) {
	t.Helper()
	s := localinvoke.New(opts...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, emulators.LambdaClient(srv.URL), srv.URL
}

func TestRegionAndAccountAreTheStacks(t *testing.T) {
	if localinvoke.DefaultRegion != devstack.Region || localinvoke.DefaultAccount != devstack.Account {
		t.Errorf("localinvoke answers for %s/%s, the local stack is %s/%s", localinvoke.DefaultRegion, localinvoke.DefaultAccount, devstack.Region, devstack.Account)
	}
}

// TestFunctionNameForms: every form of FunctionName Lambda's Invoke takes reaches the function,
// with the SDK (which escapes the ARN's colons in the path) as the client.
func TestFunctionNameForms(t *testing.T) {
	s, client, _ := serve(t)
	s.Register("EchoFunction", echo)
	ok := []struct{ name, qualifier string }{
		{"EchoFunction", ""},
		{"EchoFunction:$LATEST", ""},
		{"EchoFunction:live", ""},
		{"EchoFunction", "$LATEST"},
		{"EchoFunction:live", "live"},
		{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:$LATEST", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:prod", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:7", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction", "prod"},
		{"000000000000:function:EchoFunction", ""},
		{"000000000000:function:EchoFunction:$LATEST", ""},
		{"function:EchoFunction", ""},
	}
	for _, c := range ok {
		in := &lambda.InvokeInput{FunctionName: aws.String(c.name), Payload: []byte(`{"n":1}`)}
		if c.qualifier != "" {
			in.Qualifier = aws.String(c.qualifier)
		}
		out, err := client.Invoke(t.Context(), in)
		if err != nil {
			t.Errorf("Invoke %q (qualifier %q): %v", c.name, c.qualifier, err)
			continue
		}
		if out.StatusCode != 200 || string(out.Payload) != `{"n":1}` || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("Invoke %q: status %d, payload %s, version %q", c.name, out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion))
		}
	}
	if got := s.Invocations(); got != int64(len(ok)) {
		t.Errorf("%d invocations ran, want %d", got, len(ok))
	}

	bad := []struct {
		name, qualifier string
		status          int
		code, message   string
	}{
		{"NoSuchFunction", "", 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction"},
		{"arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction:$LATEST", "", 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction:$LATEST"},
		{"arn:aws:lambda:eu-west-1:000000000000:function:EchoFunction", "", 404, "ResourceNotFoundException", "region us-east-1, account 000000000000"},
		{"123456789012:function:EchoFunction", "", 404, "ResourceNotFoundException", "region us-east-1, account 000000000000"},
		{"EchoFunction:live", "prod", 400, "InvalidParameterValueException", "does not match the specified qualifier"},
		{"Echo Function", "", 400, "ValidationException", "at 'functionName' failed to satisfy constraint"},
		{"arn:aws:s3:::bucket", "", 400, "ValidationException", "at 'functionName'"},
		{strings.Repeat("f", 65), "", 400, "ValidationException", "at 'functionName'"},
		{"EchoFunction", "bad/qualifier", 400, "ValidationException", "at 'qualifier'"},
	}
	for _, c := range bad {
		in := &lambda.InvokeInput{FunctionName: aws.String(c.name), Payload: []byte(`{}`)}
		if c.qualifier != "" {
			in.Qualifier = aws.String(c.qualifier)
		}
		_, err := client.Invoke(t.Context(), in)
		var apiErr interface {
			ErrorCode() string
			ErrorMessage() string
		}
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &apiErr) || !errors.As(err, &re) {
			t.Errorf("Invoke %q: error %v, want %s", c.name, err, c.code)
			continue
		}
		if apiErr.ErrorCode() != c.code || re.HTTPStatusCode() != c.status || !strings.Contains(apiErr.ErrorMessage(), c.message) {
			t.Errorf("Invoke %q (qualifier %q): %d %s %q, want %d %s containing %q", c.name, c.qualifier, re.HTTPStatusCode(), apiErr.ErrorCode(), apiErr.ErrorMessage(), c.status, c.code, c.message)
		}
	}
	if got := s.Invocations(); got != int64(len(ok)) {
		t.Errorf("%d invocations ran after the refused ones, want %d", got, len(ok))
	}
}

// TestErrorShape: an unknown function is Lambda's 404 with its JSON error shape.
func TestErrorShape(t *testing.T) {
	_, _, base := serve(t)
	resp, err := http.Post(base+"/2015-03-31/functions/"+url.PathEscape("arn:aws:lambda:us-east-1:000000000000:function:Nope")+"/invocations", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" || body["Type"] != "User" ||
		body["message"] != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:Nope" || resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("404: %d, headers %v, body %v", resp.StatusCode, resp.Header, body)
	}
}

func TestDryRun(t *testing.T) {
	s, client, _ := serve(t)
	s.Register("EchoFunction", echo)
	out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(localinvoke.FunctionARN("EchoFunction")),
		InvocationType: types.InvocationTypeDryRun, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 204 || len(out.Payload) != 0 || s.Invocations() != 0 {
		t.Errorf("DryRun: status %d, payload %q, %d invocations ran", out.StatusCode, out.Payload, s.Invocations())
	}
	if _, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("Nope"), InvocationType: types.InvocationTypeDryRun}); err == nil {
		t.Error("DryRun of an unknown function succeeded")
	}
}

// TestEventInvocations: Event answers 202 with an empty body at once, runs the function later,
// logs a function error, and refuses with 429 what does not fit in the bounded queue.
func TestEventInvocations(t *testing.T) {
	var logs syncbuf.Buffer
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []string
	s, client, _ := serve(t, localinvoke.WithAsyncQueue(3, 1<<20, 1), localinvoke.WithLogger(slogTo(&logs)))
	s.Register("Slow", func(ctx context.Context, payload []byte) ([]byte, error) {
		<-release
		mu.Lock()
		ran = append(ran, string(payload))
		mu.Unlock()
		if localinvoke.RequestIDFrom(ctx) == "" {
			return nil, errors.New("no request id")
		}
		if strings.Contains(string(payload), "fail") {
			return nil, errors.New("boom from an event")
		}
		return []byte(`"ignored"`), nil
	})
	send := func(p string) (*lambda.InvokeOutput, error) { // the SDK would retry a 429 on its own
		return client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("Slow"), InvocationType: types.InvocationTypeEvent, Payload: []byte(p)},
			func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	}
	// One runs (blocked) and three wait: the fifth does not fit.
	for i, p := range []string{`"a"`, `"b"`, `"fail"`, `"c"`} {
		start := time.Now()
		out, err := send(p)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if out.StatusCode != 202 || len(out.Payload) != 0 || time.Since(start) > 2*time.Second {
			t.Errorf("event %d: status %d, payload %q, answered after %s", i, out.StatusCode, out.Payload, time.Since(start))
		}
		if i == 0 {
			waitUntil(t, func() bool { return s.AsyncStats().Running == 1 && s.AsyncStats().Queued == 0 })
		}
	}
	_, err := send(`"too many"`)
	var re interface{ HTTPStatusCode() int }
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 429 || !errors.As(err, &apiErr) || apiErr.ErrorCode() != "TooManyRequestsException" {
		t.Errorf("event past the queue's bound: %v, want 429 TooManyRequestsException", err)
	}
	// Too large for an event, though not for RequestResponse.
	if _, err := send(`"` + strings.Repeat("x", localinvoke.MaxAsyncPayloadBytes) + `"`); !errors.As(err, &re) || re.HTTPStatusCode() != 413 {
		t.Errorf("event over 1 MB: %v, want 413", err)
	}
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.WaitAsync(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.AsyncStats()
	if st.Accepted != 4 || st.Refused != 1 || st.Done != 3 || st.Failed != 1 || st.Queued != 0 || st.Running != 0 {
		t.Errorf("async stats %+v, want 4 accepted, 1 refused, 3 done, 1 failed", st)
	}
	mu.Lock()
	if strings.Join(ran, ",") != `"a","b","fail","c"` {
		t.Errorf("events ran as %v, want in the order sent", ran)
	}
	mu.Unlock()
	if !strings.Contains(logs.String(), "boom from an event") || !strings.Contains(logs.String(), "function=Slow") {
		t.Errorf("the failed event was not logged: %q", logs.String())
	}
}

// TestLogTail: LogType=Tail returns the base64 of the invocation's log, framed by Lambda's START,
// END and REPORT lines, at most its last 4 KB; a runtime that writes its own frame gets none added.
func TestLogTail(t *testing.T) {
	s, client, _ := serve(t)
	s.Register("EchoFunction", echo)
	s.Register("Chatty", func(ctx context.Context, payload []byte) ([]byte, error) {
		t := localinvoke.LogTailFrom(ctx)
		for i := range 1000 {
			fmt.Fprintf(t, "line %04d of a chatty function\n", i)
		}
		return nil, errors.New("chatty failed")
	})
	s.Register("Framed", func(ctx context.Context, payload []byte) ([]byte, error) {
		t := localinvoke.LogTailFrom(ctx)
		t.MarkFramed()
		fmt.Fprintf(t, "START RequestId: %s Version: $LATEST\nown\nEND RequestId: %[1]s\n", localinvoke.RequestIDFrom(ctx))
		return []byte(`{}`), nil
	})
	tail := func(name string) (string, *lambda.InvokeOutput) {
		out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), LogType: types.LogTypeTail, Payload: []byte(`{"x":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil {
			t.Fatalf("%s: LogResult %q is not base64: %v", name, aws.ToString(out.LogResult), err)
		}
		return string(b), out
	}
	log, out := tail("arn:aws:lambda:us-east-1:000000000000:function:EchoFunction")
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "START RequestId: ") || !strings.HasSuffix(lines[0], " Version: $LATEST") ||
		lines[1] != `echo {"x":1}` || !strings.HasPrefix(lines[2], "END RequestId: ") || !strings.HasPrefix(lines[3], "REPORT RequestId: ") ||
		!strings.Contains(lines[3], "\tDuration: ") || !strings.Contains(lines[3], "\tBilled Duration: ") || string(out.Payload) != `{"x":1}` {
		t.Errorf("log tail:\n%s", log)
	}
	log, out = tail("Chatty")
	if len(log) != localinvoke.TailBytes || !strings.Contains(log, "line 0999 of a chatty function\nEND RequestId: ") ||
		strings.Contains(log, "line 0000") || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Errorf("tail of a chatty function: %d bytes, function error %q:\n%s", len(log), aws.ToString(out.FunctionError), log)
	}
	log, _ = tail("Framed")
	if strings.Count(log, "START RequestId") != 1 || !strings.Contains(log, "\nown\n") || strings.Contains(log, "REPORT") {
		t.Errorf("tail of a framed runtime:\n%s", log)
	}
	// Without LogType=Tail, no header and no tail in the context.
	out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("EchoFunction"), Payload: []byte(`{}`)})
	if err != nil || out.LogResult != nil {
		t.Errorf("LogType None: %v, LogResult %v", err, out.LogResult)
	}
}

// TestPayloadChecks: a payload that is not JSON, or too large, is refused before anything runs.
func TestPayloadChecks(t *testing.T) {
	s, _, base := serve(t)
	s.Register("EchoFunction", echo)
	post := func(body []byte, header map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/2015-03-31/functions/EchoFunction/invocations", bytes.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
	}
	cases := []struct {
		body   []byte
		header map[string]string
		status int
		code   string
	}{
		{[]byte(`not json`), nil, 400, "InvalidRequestContentException"},
		{bytes.Repeat([]byte(" "), localinvoke.MaxSyncPayloadBytes+1), nil, 413, "RequestTooLargeException"},
		{[]byte(`{}`), map[string]string{"X-Amz-Invocation-Type": "Later"}, 400, "ValidationException"},
		{[]byte(`{}`), map[string]string{"X-Amz-Log-Type": "All"}, 400, "ValidationException"},
		{nil, nil, 200, ""},
	}
	for i, c := range cases {
		if status, code := post(c.body, c.header); status != c.status || code != c.code {
			t.Errorf("case %d: %d %q, want %d %q", i, status, code, c.status, c.code)
		}
	}
	if s.Invocations() != 1 {
		t.Errorf("%d invocations ran, want only the empty payload's", s.Invocations())
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
