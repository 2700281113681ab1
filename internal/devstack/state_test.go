package devstack_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// TestClearDataKeepsOtherFiles: --fresh clears the stack's own data, not the directory.
func TestClearDataKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"kinesis/shard", "dynamodb/shared-local-instance.db", "state.json", "notes.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := devstack.ClearData(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"kinesis", "dynamodb", "state.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not the stack's was removed: %v", err)
	}
}
