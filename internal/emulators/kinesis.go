package emulators

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// kinesaliteShardLimit is the most shards all streams of one kinesalite may have
// together; tests share one emulator, so it is far above kinesalite's 10.
const kinesaliteShardLimit = 1000

// StartKinesis starts kinesalite (in memory, streams become ACTIVE at once) on
// a loopback port and returns once a ListStreams call succeeds. The caller
// must Stop the process. It needs node on PATH and
// <ToolsDir>/node_modules/kinesalite, installed by scripts/install-emulators.sh.
func StartKinesis(ctx context.Context, opts Options) (*Process, error) {
	dir, err := opts.toolsDir()
	if err != nil {
		return nil, fmt.Errorf("start kinesalite: %w", err)
	}
	cli := filepath.Join(dir, "node_modules", "kinesalite", "cli.js")
	return start(ctx, program{
		name:    "kinesalite",
		command: "node",
		files:   []string{cli},
		dir:     dir,
		args: func(port int) []string {
			args := []string{cli,
				"--port", strconv.Itoa(port),
				"--createStreamMs", "0",
				"--deleteStreamMs", "0",
				"--updateStreamMs", "0",
				"--shardLimit", strconv.Itoa(kinesaliteShardLimit),
			}
			if opts.DataDir != "" {
				args = append(args, "--path", opts.DataDir)
			}
			return args
		},
		healthy: func(ctx context.Context, endpoint string) error {
			_, err := KinesisClient(endpoint, func(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} }).
				ListStreams(ctx, &kinesis.ListStreamsInput{})
			return err
		},
	}, opts)
}
