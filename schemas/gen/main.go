// Command gen writes the JSON Schema of every event type into schemas/ (run it from the
// repository's root: go run ./schemas/gen).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-event-processor/go-event-processor/schemas"
)

func main() {
	files, err := schemas.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, b := range files {
		path := filepath.Join("schemas", name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gen: write %s: %v (run from the repository root)\n", path, err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
