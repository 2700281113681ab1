package emulators

import (
	"io"
	"time"
)

// DefaultStartTimeout bounds how long a start waits for the emulator to answer.
const DefaultStartTimeout = 30 * time.Second

// Options configures StartKinesis and StartDynamoDB. The zero value is ready to use.
type Options struct {
	// Port is the loopback port to listen on. Zero picks a free port. A port that
	// is already in use is an error.
	Port int

	// ToolsDir is the directory holding node_modules/ and .cache/dynamodb-local/.
	// Empty means ToolsDir().
	ToolsDir string

	// StartTimeout bounds the wait for the first successful health check.
	// Zero means DefaultStartTimeout. The context passed to the start function
	// may end the wait earlier.
	StartTimeout time.Duration

	// DataDir, when set, makes the emulator keep its data in this directory across restarts
	// (kinesalite's LevelDB store, DynamoDB Local's -dbPath) instead of in memory.
	DataDir string

	// Output, when not nil, also receives everything the emulator writes to
	// stdout and stderr. The last lines are always kept (see Process.Output).
	Output io.Writer
}

func (o Options) startTimeout() time.Duration {
	if o.StartTimeout > 0 {
		return o.StartTimeout
	}
	return DefaultStartTimeout
}

func (o Options) toolsDir() (string, error) {
	if o.ToolsDir != "" {
		return o.ToolsDir, nil
	}
	return ToolsDir()
}
