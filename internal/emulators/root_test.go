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
