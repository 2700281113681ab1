package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/inproc"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
)

// resourceTimeout bounds the wait for a stream or table to become active.
const resourceTimeout = 30 * time.Second

// createResources creates the template's streams and tables; ones that exist already (a stack
// started again on the same data) are kept.
func (s *Stack) createResources(ctx context.Context) error {
	for _, st := range s.Resources.Streams {
		_, err := s.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(st.Name), ShardCount: aws.Int32(st.Shards)})
		var inUse *ktypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create stream %s (%s): %w", st.Name, st.LogicalID, err)
		}
		w := kinesis.NewStreamExistsWaiter(s.Kinesis, func(o *kinesis.StreamExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
		})
		if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(st.Name)}, resourceTimeout); err != nil {
			return fmt.Errorf("wait for stream %s: %w", st.Name, err)
		}
		s.log.Info("stream ready", "stream", st.Name, "shards", st.Shards, "existed", err != nil)
	}
	for _, in := range s.Resources.Tables {
		if err := s.createTable(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) createTable(ctx context.Context, in *dynamodb.CreateTableInput) error {
	_, err := s.DynamoDB.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
	}
	w := dynamodb.NewTableExistsWaiter(s.DynamoDB, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, resourceTimeout); err != nil {
		return fmt.Errorf("wait for table %s: %w", aws.ToString(in.TableName), err)
	}
	s.log.Info("table ready", "table", aws.ToString(in.TableName), "existed", err != nil)
	return nil
}

// startFunctions makes every function of the template invocable through the Invoke API.
func (s *Stack) startFunctions(ctx context.Context) error {
	for _, f := range s.Resources.Functions {
		out, err := s.functionLog(f.LogicalID)
		if err != nil {
			return err
		}
		var rt runtime
		switch {
		case s.opts.Runtime == RuntimeRIE && (s.opts.Focus == "" || s.opts.Focus == f.LogicalID):
			rt, err = s.startRIE(ctx, f, out)
		default:
			rt, err = s.startInproc(f, out)
		}
		if err != nil {
			return fmt.Errorf("start function %s: %w", f.LogicalID, err)
		}
		s.onStop(rt.Stop)
		s.runtimes[f.LogicalID] = rt
		s.Invocations.Register(f.Name, withTimeout(rt.Func(), f.Timeout))
	}
	return nil
}

// inprocRuntime is a function whose handler runs in this process.
type inprocRuntime struct {
	f func(context.Context, []byte) ([]byte, error)
}

func (p inprocRuntime) Func() localinvoke.Func      { return p.f }
func (p inprocRuntime) InitDuration() time.Duration { return 0 }
func (p inprocRuntime) Stop() error                 { return nil }

func (s *Stack) startInproc(f Function, out io.Writer) (runtime, error) {
	db := emulators.DynamoDBClient(s.DynamoDBEndpoint, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, s.Requests.APIOption(), s.Capacity.APIOption())
	})
	log := slog.New(slog.NewJSONHandler(out, nil)).With("function", f.LogicalID)
	h, err := inproc.Handler(f.CodeURI, f.Env, db, s.Lambda, log)
	if err != nil {
		return nil, err
	}
	return inprocRuntime{h}, nil
}

// withTimeout ends an invocation that runs past the function's timeout, as Lambda does: the
// caller sees a function error and the event source mapping retries.
func withTimeout(f localinvoke.Func, timeout time.Duration) localinvoke.Func {
	if timeout <= 0 {
		return f
	}
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		type result struct {
			out []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			out, err := f(ctx, payload)
			done <- result{out, err}
		}()
		select {
		case r := <-done:
			return r.out, r.err
		case <-ctx.Done():
			return nil, fmt.Errorf("Task timed out after %s", timeout)
		}
	}
}
