package emulators

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModulePath is the module whose go.mod marks the repository root.
const ModulePath = "github.com/go-event-processor/go-event-processor"

// EnvToolsDir names the environment variable that overrides the tools directory.
const EnvToolsDir = "GEP_TOOLS_DIR"

// CacheSubdir is the directory under os.UserCacheDir() that holds the emulators (and the local
// stack's data) of an eventctl run outside a clone of the repository.
const CacheSubdir = "go-event-processor"

// ErrNoRepository is returned (wrapped) by RepoRoot when the working directory is not in a clone
// of the repository.
var ErrNoRepository = errors.New("not in a clone of " + ModulePath)

// ToolsDir returns the directory the emulators are installed in: $GEP_TOOLS_DIR when set,
// otherwise the repository root, found by walking up from the working directory to the go.mod
// that declares ModulePath, otherwise (outside a clone, e.g. eventctl installed with go install)
// the user cache directory, os.UserCacheDir()/go-event-processor, where Install puts them.
func ToolsDir() (string, error) {
	if dir := os.Getenv(EnvToolsDir); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("resolve %s=%q: %w", EnvToolsDir, dir, err)
		}
		return abs, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	root, err := findModuleRoot(wd)
	if errors.Is(err, ErrNoRepository) {
		return CacheDir()
	}
	return root, err
}

// CacheDir returns os.UserCacheDir()/go-event-processor, the tools directory outside a clone.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the emulators (%w): set %s", err, EnvToolsDir)
	}
	return filepath.Join(base, CacheSubdir), nil
}

// RepoRoot returns the root of the clone of the repository the working directory is in, else
// $GEP_TOOLS_DIR when that is a clone. The error wraps ErrNoRepository when there is none: the
// features that build from the repository's sources (functions/) need one.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	root, err := findModuleRoot(wd)
	if !errors.Is(err, ErrNoRepository) {
		return root, err
	}
	if dir := os.Getenv(EnvToolsDir); dir != "" {
		if abs, aerr := filepath.Abs(dir); aerr == nil {
			if mod, _ := modulePath(filepath.Join(abs, "go.mod")); mod == ModulePath {
				return abs, nil
			}
		}
	}
	return "", err
}

// IsRepo reports whether dir is the root of a clone of the repository.
func IsRepo(dir string) bool {
	mod, _ := modulePath(filepath.Join(dir, "go.mod"))
	return mod == ModulePath
}

// findModuleRoot walks up from dir to the directory whose go.mod declares ModulePath.
func findModuleRoot(dir string) (string, error) {
	for d := dir; ; {
		mod, err := modulePath(filepath.Join(d, "go.mod"))
		if err != nil {
			return "", err
		}
		if mod == ModulePath {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repository root: %w: no go.mod for module %s above %s", ErrNoRepository, ModulePath, dir)
		}
		d = parent
	}
}

// modulePath returns the module path declared in the go.mod file at path, or ""
// if there is no such file.
func modulePath(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return "", nil
}
