package devstack

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/rie"
)

// rieBuild holds what the rie runtime builds once per stack: the emulator and the bootstraps.
type rieBuild struct {
	once       sync.Once
	err        error
	emulator   string
	bootstraps map[string]string // by CodeUri
}

// buildRIE builds the emulator and the bootstrap of every function that runs on it, with one go
// command, the way `sam build` builds them.
func (s *Stack) buildRIE(ctx context.Context) (*rieBuild, error) {
	b := &s.rie
	b.once.Do(func() {
		if s.opts.Root == "" {
			b.err = NeedsRepository("the rie runtime")
			return
		}
		out := filepath.Join(s.opts.Root, ".cache", "devstack", "build")
		var uris []string
		for _, f := range s.Resources.Functions {
			if s.opts.Focus == "" || s.opts.Focus == f.LogicalID {
				uris = append(uris, f.CodeURI)
			}
		}
		s.log.Info("building bootstraps for the rie runtime", "functions", len(uris))
		if b.emulator, b.err = rie.BuildEmulator(ctx, s.opts.Root, out); b.err != nil {
			return
		}
		b.bootstraps, b.err = rie.BuildFunctions(ctx, s.opts.Root, out, uris...)
	})
	return b, b.err
}

// startRIE runs a function's bootstrap under the Lambda runtime interface emulator, with the
// template's environment plus the endpoints and credentials of the local stack.
func (s *Stack) startRIE(ctx context.Context, f Function, out io.Writer) (runtime, error) {
	b, err := s.buildRIE(ctx)
	if err != nil {
		return nil, fmt.Errorf("build for the rie runtime: %w", err)
	}
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range s.Env() {
		env[k] = v
	}
	rt, err := rie.Start(ctx, rie.Function{Name: f.Name, Bootstrap: b.bootstraps[f.CodeURI], Emulator: b.emulator,
		Env: env, LogOutput: out, Timeout: f.Timeout, MemoryMB: f.MemoryMB})
	if err != nil {
		return nil, err
	}
	return rieRuntime{rt}, nil
}

// rieRuntime reports the init duration the emulator logs for the runtime's start (its REPORT
// line's "Init Duration" measures only the hand-off).
type rieRuntime struct{ rt *rie.Runtime }

func (r rieRuntime) Func() localinvoke.Func      { return r.rt.Func() }
func (r rieRuntime) InitDuration() time.Duration { return r.rt.RuntimeInitDuration() }
func (r rieRuntime) Stop() error                 { return r.rt.Stop() }
func (r rieRuntime) PID() int                    { return r.rt.PID() }
