package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BootstrapSizes builds each function as it is deployed (linux/arm64, CGO_ENABLED=0,
// -tags lambda.norpc, stripped) and returns the size of each bootstrap, by code directory.
func BootstrapSizes(ctx context.Context, root string, codeURIs []string) (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "bench-bootstraps")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sizes := map[string]int64{}
	for _, uri := range codeURIs {
		out := filepath.Join(dir, filepath.Base(uri), "bootstrap")
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+uri)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", uri, err, b)
		}
		info, err := os.Stat(out)
		if err != nil {
			return nil, err
		}
		sizes[uri] = info.Size()
	}
	return sizes, nil
}
