package schemas_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/go-event-processor/go-event-processor/schemas"
)

// TestSchemasAreCurrent fails when a Go type changed and the committed schemas did not.
func TestSchemasAreCurrent(t *testing.T) {
	files, err := schemas.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("schemas/%s is stale or missing: run `go run ./schemas/gen` from the repository root and commit the result", name)
		}
	}
}
