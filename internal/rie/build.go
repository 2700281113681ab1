package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// EmulatorPackage is the emulator's main package; go.mod pins its version with a tool directive.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// EmulatorName is the file name BuildEmulator gives the emulator.
const EmulatorName = "aws-lambda-rie"

// BootstrapName is the file name of a function's executable, as provided.al2023 expects it.
const BootstrapName = "bootstrap"

// BuildFunction builds the function whose code is in codeURI (a directory relative to moduleRoot,
// such as "functions/router") the way `sam build` builds a provided.al2023 Go function, for this
// machine's architecture: GOOS=linux, GOARCH=runtime.GOARCH, CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags="-s -w". It writes outDir/<last element of codeURI>/bootstrap and returns
// its path. A failed build's error carries the go command's output.
func BuildFunction(ctx context.Context, moduleRoot, codeURI, outDir string) (bootstrapPath string, err error) {
	paths, err := BuildFunctions(ctx, moduleRoot, outDir, codeURI)
	if err != nil {
		return "", err
	}
	return paths[codeURI], nil
}

// BuildFunctions builds several functions as BuildFunction does, with one go command (so they
// share its work), and returns each bootstrap's path by codeURI. Their directories' last
// elements must differ.
func BuildFunctions(ctx context.Context, moduleRoot, outDir string, codeURIs ...string) (map[string]string, error) {
	if len(codeURIs) == 0 {
		return map[string]string{}, nil
	}
	names := map[string]string{}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}
	for _, uri := range codeURIs {
		name := functionDir(uri)
		if name == "" || name == "." || name == ".." {
			return nil, fmt.Errorf("build %q: not a function directory", uri)
		}
		if other, dup := names[name]; dup {
			return nil, fmt.Errorf("build %s and %s: both would be written to %s", other, uri, filepath.Join(outDir, name))
		}
		names[name] = uri
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	// go build -o DIR/ writes each main package to DIR/<last element>; move each into place.
	staging, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	defer os.RemoveAll(staging)
	args = append(args, "-o", staging+string(filepath.Separator))
	for _, uri := range codeURIs {
		args = append(args, "./"+filepath.ToSlash(filepath.Clean(uri)))
	}
	env := []string{"GOOS=linux", "GOARCH=" + runtime.GOARCH, "CGO_ENABLED=0"}
	if err := goCommand(ctx, moduleRoot, env, args...); err != nil {
		return nil, fmt.Errorf("build %s: %w", strings.Join(codeURIs, ", "), err)
	}
	paths := map[string]string{}
	for name, uri := range names {
		dir := filepath.Join(outDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("build %s: %w", uri, err)
		}
		dst := filepath.Join(dir, BootstrapName)
		if err := os.Rename(filepath.Join(staging, name), dst); err != nil {
			return nil, fmt.Errorf("build %s: %w", uri, err)
		}
		if paths[uri], err = filepath.Abs(dst); err != nil {
			return nil, fmt.Errorf("build %s: %w", uri, err)
		}
	}
	return paths, nil
}

// BuildEmulator builds aws-lambda-rie, at the version go.mod pins, into outDir and returns its
// path. The go command's build cache makes a rebuild cheap; outDir can be a cache directory
// shared by runs.
func BuildEmulator(ctx context.Context, moduleRoot, outDir string) (path string, err error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", EmulatorName, err)
	}
	out, err := filepath.Abs(filepath.Join(outDir, EmulatorName))
	if err != nil {
		return "", fmt.Errorf("build %s: %w", EmulatorName, err)
	}
	if err := goCommand(ctx, moduleRoot, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-o", out, EmulatorPackage); err != nil {
		return "", fmt.Errorf("build %s: %w", EmulatorName, err)
	}
	return out, nil
}

// functionDir returns the name BuildFunctions gives a function's directory: the last element of
// its code directory.
func functionDir(codeURI string) string {
	return filepath.Base(filepath.Clean(codeURI))
}

// goCommand runs the go command in dir with env added to this process's environment, and returns
// an error with its output if it fails.
func goCommand(ctx context.Context, dir string, env []string, args ...string) error {
	goExe, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is needed to build: %w", err)
	}
	cmd := exec.CommandContext(ctx, goExe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(err, ctxErr)
		}
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
