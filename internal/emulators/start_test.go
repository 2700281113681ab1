//go:build unix

package emulators_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/syncbuf"
)

// needEmulators skips when GEP_SKIP_EMULATORS=1; otherwise a missing install
// makes the start fail the test.
func needEmulators(t *testing.T) {
	t.Helper()
	if os.Getenv("GEP_SKIP_EMULATORS") == "1" {
		t.Skip("GEP_SKIP_EMULATORS=1")
	}
}

func TestStartStop(t *testing.T) {
	needEmulators(t)
	tests := []struct {
		name  string
		start func(context.Context, emulators.Options) (*emulators.Process, error)
		call  func(ctx context.Context, endpoint string) error
	}{
		{"kinesalite", emulators.StartKinesis, func(ctx context.Context, endpoint string) error {
			_, err := emulators.KinesisClient(endpoint).ListStreams(ctx, &kinesis.ListStreamsInput{})
			return err
		}},
		{"DynamoDB Local", emulators.StartDynamoDB, func(ctx context.Context, endpoint string) error {
			_, err := emulators.DynamoDBClient(endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			p, err := tt.start(ctx, emulators.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Stop() })

			if want := "http://127.0.0.1:" + strconv.Itoa(p.Port()); p.Endpoint() != want {
				t.Errorf("Endpoint() = %q, want %q", p.Endpoint(), want)
			}
			if err := tt.call(ctx, p.Endpoint()); err != nil {
				t.Fatalf("call while running: %v", err)
			}

			pid := p.PID()
			if err := p.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			assertGone(t, pid)
			if err := p.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := tt.call(callCtx, p.Endpoint()); err == nil {
				t.Error("call after Stop succeeded")
			}
		})
	}
}

func TestStartKinesisOutput(t *testing.T) {
	needEmulators(t)
	var sink syncbuf.Buffer
	p, err := emulators.StartKinesis(t.Context(), emulators.Options{Output: &sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil { // Stop drains the output
		t.Fatal(err)
	}
	if !strings.Contains(p.Output(), "Listening at") {
		t.Errorf("Output() = %q, want kinesalite's listening line", p.Output())
	}
	if !strings.Contains(sink.String(), "Listening at") {
		t.Errorf("Options.Output got %q, want kinesalite's listening line", sink.String())
	}
}

func TestStartPortInUse(t *testing.T) {
	needEmulators(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	_, err = emulators.StartKinesis(t.Context(), emulators.Options{Port: port})
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("StartKinesis on a busy port: err = %v, want an error naming port %d", err, port)
	}
}

func TestStartFailureShowsOutput(t *testing.T) {
	needEmulators(t)
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		want    []string
	}{
		{"exits", `console.error("fake kinesalite: boom"); process.exit(3)`, 10 * time.Second,
			[]string{"exited before it was ready", "exit status 3", "fake kinesalite: boom"}},
		{"hangs", `console.log("fake kinesalite: sleeping"); setInterval(() => {}, 1000)`, time.Second,
			[]string{"not ready after", "fake kinesalite: sleeping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fakeKinesalite(t, tt.script)
			_, err := emulators.StartKinesis(t.Context(), emulators.Options{ToolsDir: dir, StartTimeout: tt.timeout})
			if err == nil {
				t.Fatal("StartKinesis succeeded with a broken kinesalite")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// fakeKinesalite returns a tools dir whose kinesalite/cli.js runs script.
func fakeKinesalite(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	cli := filepath.Join(dir, "node_modules", "kinesalite", "cli.js")
	if err := os.MkdirAll(filepath.Dir(cli), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cli, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertGone fails t if the process pid or its process group still exists.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still exists after Stop (kill -0: %v)", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after Stop (kill -0: %v)", pid, err)
	}
}
