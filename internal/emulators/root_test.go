package emulators_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

func TestToolsDirFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(emulators.EnvToolsDir, dir)
	got, err := emulators.ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Errorf("ToolsDir() = %q, want %q", got, dir)
	}
}

func TestToolsDirFindsModuleRoot(t *testing.T) {
	t.Setenv(emulators.EnvToolsDir, "")
	got, err := emulators.ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(got, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "module "+emulators.ModulePath) {
		t.Errorf("ToolsDir() = %q, whose go.mod is not module %s", got, emulators.ModulePath)
	}
}

func TestStartNotInstalled(t *testing.T) {
	starters := map[string]func(context.Context, emulators.Options) (*emulators.Process, error){
		"kinesalite":     emulators.StartKinesis,
		"DynamoDB Local": emulators.StartDynamoDB,
	}
	for name, start := range starters {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := start(t.Context(), emulators.Options{ToolsDir: dir})
			if p != nil {
				_ = p.Stop()
			}
			if !errors.Is(err, emulators.ErrNotInstalled) {
				t.Fatalf("err = %v, want ErrNotInstalled", err)
			}
			for _, want := range []string{dir, "is missing", "scripts/install-emulators.sh"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestToolsDirOutsideRepository: outside a clone, without GEP_TOOLS_DIR, the emulators live in
// the user cache directory, and RepoRoot says there is no repository.
func TestToolsDirOutsideRepository(t *testing.T) {
	t.Setenv(emulators.EnvToolsDir, "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	t.Setenv("HOME", cache)           // and on macOS, under Library/Caches
	t.Chdir(t.TempDir())
	got, err := emulators.ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.UserCacheDir()
	if got != filepath.Join(want, emulators.CacheSubdir) {
		t.Errorf("ToolsDir() = %q, want %q", got, filepath.Join(want, emulators.CacheSubdir))
	}
	if root, err := emulators.RepoRoot(); !errors.Is(err, emulators.ErrNoRepository) {
		t.Errorf("RepoRoot() = %q, %v; want ErrNoRepository", root, err)
	}
}

// TestRepoRootFromToolsDir: outside a clone, GEP_TOOLS_DIR naming a clone is the repository.
func TestRepoRootFromToolsDir(t *testing.T) {
	t.Setenv(emulators.EnvToolsDir, "")
	repo, err := emulators.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(emulators.EnvToolsDir, repo)
	t.Chdir(t.TempDir())
	if got, err := emulators.RepoRoot(); err != nil || got != repo {
		t.Errorf("RepoRoot() = %q, %v; want %q", got, err, repo)
	}
}
