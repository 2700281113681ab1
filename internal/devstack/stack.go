package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/reqcount"
)

// Runtimes a stack can run its functions on.
const (
	RuntimeInproc = "inproc" // handlers called in this process: fast, the default
	RuntimeRIE    = "rie"    // each function's bootstrap under aws-lambda-runtime-interface-emulator
)

// Options configure a stack. The zero value runs the repository's template in memory, in process.
type Options struct {
	// Root is the repository root (template.yaml, functions/ for the rie runtime): found from the
	// working directory when empty (see emulators.RepoRoot). Outside a clone it stays empty: the
	// template is the one built into eventctl, and the rie runtime is not available.
	Root string
	// ToolsDir holds the emulators (node_modules/, .cache/dynamodb-local/): when empty, Root if
	// the caller set it, else emulators.ToolsDir(). Missing emulators are installed there.
	ToolsDir   string
	Template   string            // template path; Root/template.yaml when empty (the built-in one outside a clone)
	Parameters map[string]string // template parameter overrides
	Runtime    string            // RuntimeInproc (default) or RuntimeRIE
	DataDir    string            // keep the emulators' data here across restarts; in memory when empty
	Endpoint   string            // an existing endpoint (LocalStack, AWS) to use instead of starting emulators
	LogDir     string            // function logs, one file per function; DefaultLogDir(Home()) when empty
	Mappings   bool              // run the Kinesis event source mappings
	Log        *slog.Logger      // the stack's own messages; discarded when nil
	// EnvOverrides replace declared environment variables, SAM env.json style: by logical id,
	// or under "Parameters" for every function. Variables the template does not declare are
	// ignored, as SAM ignores them.
	EnvOverrides map[string]map[string]string
	// Focus, when set, runs only this function on Runtime; the others run in process.
	Focus string
	// Echo copies one function's logs to a writer as well as to its log file.
	Echo Echo
	// APIKeys are stored for the query API's authorizer: API key → tenant.
	APIKeys map[string]string
	// KinesisPort and DynamoDBPort fix the emulators' loopback ports; free ports when zero.
	KinesisPort, DynamoDBPort int
	// PollInterval is how long a caught-up shard waits before it is read again: esm's default
	// (50 ms, for a snappy local stack) when zero; AWS polls standard iterators once a second.
	PollInterval time.Duration
}

// Echo names a function whose logs are also written To.
type Echo struct {
	Function string
	To       io.Writer
}

// Stack is a running local stack. Stop it when done.
type Stack struct {
	Resources        Resources
	KinesisEndpoint  string
	DynamoDBEndpoint string
	LambdaEndpoint   string // the Invoke API the stack serves
	Kinesis          *kinesis.Client
	DynamoDB         *dynamodb.Client
	Lambda           *lambda.Client
	Invocations      *localinvoke.Server
	Requests         *reqcount.Counter   // DynamoDB requests made by the functions (inproc runtime)
	Capacity         *reqcount.Capacity  // DynamoDB capacity units they consumed (inproc runtime)
	Failures         *esm.DynamoFailures // OnFailure records of the mappings (AWS sends them to the queue)
	APIEndpoints     map[string]string   // base URL of each REST API, by logical id
	LogDir           string

	opts      Options
	template  string // where the template came from, for messages
	emulators []*emulators.Process
	log       *slog.Logger
	mu        sync.Mutex
	closers   []func() error
	runtimes  map[string]runtime
	mappings  []mapping
	rie       rieBuild
	installed bool // install ran
}

// runtime is a function the stack can invoke, with what it reports about itself.
type runtime interface {
	Func() localinvoke.Func
	InitDuration() time.Duration
	Stop() error
}

// Start brings the stack up: emulators, resources from the template, the Invoke API and the
// functions. On error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.ToolsDir == "" && opts.Root != "" {
		opts.ToolsDir = opts.Root
	}
	if opts.ToolsDir == "" {
		if opts.ToolsDir, err = emulators.ToolsDir(); err != nil {
			return nil, err
		}
	}
	if opts.Root == "" {
		if opts.Root, err = emulators.RepoRoot(); err != nil && !errors.Is(err, emulators.ErrNoRepository) {
			return nil, err
		}
	}
	if opts.Runtime == "" {
		opts.Runtime = RuntimeInproc
	}
	if opts.Runtime != RuntimeInproc && opts.Runtime != RuntimeRIE {
		return nil, fmt.Errorf("runtime %q: want %s or %s", opts.Runtime, RuntimeInproc, RuntimeRIE)
	}
	if opts.LogDir == "" {
		home := opts.Root
		if home == "" {
			home = opts.ToolsDir
		}
		opts.LogDir = DefaultLogDir(home)
	}
	s := &Stack{opts: opts, log: opts.Log, LogDir: opts.LogDir, Requests: &reqcount.Counter{}, Capacity: &reqcount.Capacity{}, runtimes: map[string]runtime{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	var tpl []byte
	if s.template, tpl, err = templateFile(opts.Root, opts.Template); err != nil {
		return nil, err
	}
	if s.Resources, err = Parse(tpl, opts.Parameters); err != nil {
		return nil, fmt.Errorf("%s: %w", s.template, err)
	}
	if err := s.applyOverrides(); err != nil {
		return nil, err
	}
	for _, u := range s.Resources.Unsupported {
		s.log.Warn("not emulated locally", "resource", u)
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	if err := s.startEmulators(ctx); err != nil {
		return nil, err
	}
	if err := s.createResources(ctx); err != nil {
		return nil, err
	}
	if err := s.serveInvokeAPI(); err != nil {
		return nil, err
	}
	if err := s.startFunctions(ctx); err != nil {
		return nil, err
	}
	if err := s.serveAPIs(ctx); err != nil {
		return nil, err
	}
	if opts.Mappings {
		if err := s.createMappings(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Stack) onStop(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, f)
}

// Stop stops everything the stack started, in reverse order. It is safe to call twice.
func (s *Stack) Stop() error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}

// CountsRequests reports whether Requests counts the functions' DynamoDB requests: only when
// they run in this process.
func (s *Stack) CountsRequests() bool { return s.opts.Runtime == RuntimeInproc }

// Env is the environment a shell needs to reach the stack with the AWS CLI or SDKs.
func (s *Stack) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_KINESIS":  s.KinesisEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB": s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_LAMBDA":   s.LambdaEndpoint,
		"AWS_REGION":                Region,
		"AWS_DEFAULT_REGION":        Region, // the AWS CLI v1 and boto3 read only this one
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
	}
}

func (s *Stack) startEmulators(ctx context.Context) error {
	if s.opts.Endpoint != "" {
		s.KinesisEndpoint, s.DynamoDBEndpoint = s.opts.Endpoint, s.opts.Endpoint
	} else {
		data := func(name string) (string, error) {
			if s.opts.DataDir == "" {
				return "", nil
			}
			dir := filepath.Join(s.opts.DataDir, name)
			return dir, os.MkdirAll(dir, 0o755)
		}
		kdir, err := data(kinesisDataDir)
		if err != nil {
			return err
		}
		ddir, err := data(dynamoDBDataDir)
		if err != nil {
			return err
		}
		s.log.Info("starting emulators", "kinesis", "kinesalite", "dynamodb", "DynamoDB Local")
		var kp, dp *emulators.Process
		var kerr, derr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			kp, kerr = emulators.StartKinesis(ctx, emulators.Options{ToolsDir: s.opts.ToolsDir, DataDir: kdir, Port: s.opts.KinesisPort})
		}()
		go func() {
			defer wg.Done()
			dp, derr = emulators.StartDynamoDB(ctx, emulators.Options{ToolsDir: s.opts.ToolsDir, DataDir: ddir, Port: s.opts.DynamoDBPort})
		}()
		wg.Wait()
		if errors.Is(kerr, emulators.ErrNotInstalled) || errors.Is(derr, emulators.ErrNotInstalled) {
			for _, p := range []*emulators.Process{kp, dp} {
				if p != nil {
					_ = p.Stop()
				}
			}
			if err := s.install(ctx); err != nil {
				return err
			}
			return s.startEmulators(ctx)
		}
		for _, p := range []*emulators.Process{kp, dp} {
			if p != nil {
				s.onStop(p.Stop)
				s.mu.Lock()
				s.emulators = append(s.emulators, p)
				s.mu.Unlock()
			}
		}
		if err := errors.Join(kerr, derr); err != nil {
			return err
		}
		s.KinesisEndpoint, s.DynamoDBEndpoint = kp.Endpoint(), dp.Endpoint()
	}
	s.Kinesis = emulators.KinesisClient(s.KinesisEndpoint)
	s.DynamoDB = emulators.DynamoDBClient(s.DynamoDBEndpoint)
	return nil
}

// install installs the emulators once, when they are missing, as scripts/install-emulators.sh
// does (emulators.Install: the same pins and checksum).
func (s *Stack) install(ctx context.Context) error {
	if s.installed {
		return fmt.Errorf("the emulators are still missing in %s after the install ran", s.opts.ToolsDir)
	}
	s.installed = true
	s.log.Warn("installing the local emulators (first use) into " + s.opts.ToolsDir)
	if err := emulators.Install(ctx, s.opts.ToolsDir, os.Stderr); err != nil {
		return fmt.Errorf("%w (it needs node, npm and java; scripts/install-emulators.sh does the same in a clone)", err)
	}
	return nil
}

// serveInvokeAPI listens on a free loopback port.
func (s *Stack) serveInvokeAPI() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the Lambda Invoke API: %w", err)
	}
	s.Invocations = localinvoke.New()
	srv := &http.Server{Handler: s.Invocations, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.onStop(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	s.LambdaEndpoint = "http://" + ln.Addr().String()
	s.Lambda = emulators.LambdaClient(s.LambdaEndpoint)
	return nil
}

// DefaultLogDir is where a stack started from root writes its functions' logs.
func DefaultLogDir(root string) string { return filepath.Join(root, ".cache", "devstack", "logs") }

// functionLog opens a function's log file for appending (and echoes it when asked).
func (s *Stack) functionLog(id string) (io.Writer, error) {
	f, err := os.OpenFile(filepath.Join(s.opts.LogDir, id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", id, err)
	}
	s.onStop(f.Close)
	if s.opts.Echo.Function == id && s.opts.Echo.To != nil {
		return io.MultiWriter(f, s.opts.Echo.To), nil
	}
	return f, nil
}

// applyOverrides applies EnvOverrides to the declared variables of each function.
func (s *Stack) applyOverrides() error {
	for id := range s.opts.EnvOverrides {
		if _, ok := s.Function(id); !ok && id != "Parameters" {
			return fmt.Errorf("environment overrides name %s, which is not a function of the template", id)
		}
	}
	for i := range s.Resources.Functions {
		f := &s.Resources.Functions[i]
		for _, scope := range []string{"Parameters", f.LogicalID} {
			for k, v := range s.opts.EnvOverrides[scope] {
				if _, declared := f.Env[k]; declared {
					f.Env[k] = v
				} else {
					s.log.Warn("override ignored: the template does not declare it", "function", f.LogicalID, "variable", k)
				}
			}
		}
	}
	return nil
}

// Function returns the function with a logical id.
func (s *Stack) Function(id string) (Function, bool) { return s.Resources.Function(id) }

// InitDuration returns the init duration the runtime reported for a function (zero in process).
func (s *Stack) InitDuration(id string) time.Duration {
	s.mu.Lock()
	rt := s.runtimes[id]
	s.mu.Unlock()
	if rt == nil {
		return 0
	}
	return rt.InitDuration()
}
