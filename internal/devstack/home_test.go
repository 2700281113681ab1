package devstack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// TestOutsideRepository: outside a clone the stack runs the template, API keys and samples built
// into eventctl, which are the repository's.
func TestOutsideRepository(t *testing.T) {
	repo, err := emulators.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	name, keys, err := devstack.LocalAPIKeys("")
	if err != nil || len(keys) == 0 || !strings.Contains(name, devstack.BuiltIn) {
		t.Fatalf("LocalAPIKeys(\"\") = %s, %d keys, %v", name, len(keys), err)
	}
	dir, remove, err := devstack.Samples("")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	want, _ := filepath.Glob(filepath.Join(repo, "events", "*", "*.json"))
	got, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if len(got) == 0 || len(got) != len(want) {
		t.Errorf("built-in samples: %d files, the repository has %d", len(got), len(want))
	}
	tpl, err := os.ReadFile(filepath.Join(repo, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := devstack.Parse(tpl, nil)
	if err != nil || len(res.Functions) == 0 || len(res.Streams) == 0 {
		t.Fatalf("Parse(template.yaml) = %d functions, %v", len(res.Functions), err)
	}

}
