package devstack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	goeventprocessor "github.com/go-event-processor/go-event-processor"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// BuiltIn names the copies of the repository's files built into eventctl, in messages.
const BuiltIn = "built into eventctl"

// Home is the directory whose .cache/devstack holds the local stack's data and logs by default:
// the repository root when the working directory is in a clone, else the tools directory
// ($GEP_TOOLS_DIR, or os.UserCacheDir()/go-event-processor outside a clone).
func Home() (string, error) {
	root, err := emulators.RepoRoot()
	if err == nil {
		return root, nil
	}
	if !errors.Is(err, emulators.ErrNoRepository) {
		return "", err
	}
	return emulators.ToolsDir()
}

// Parse reads the resources of a template given as bytes (see Load).
func Parse(template []byte, overrides map[string]string) (Resources, error) {
	tpl, err := templatecheck.Parse(template)
	if err != nil {
		return Resources{}, err
	}
	return ReadResources(tpl, overrides)
}

// templateFile returns the template a stack runs: path when set, else root's template.yaml,
// else (outside a clone) the copy built into eventctl. name says which, for messages.
func templateFile(root, path string) (name string, data []byte, err error) {
	if path == "" && root != "" {
		path = filepath.Join(root, "template.yaml")
	}
	if path != "" {
		data, err = os.ReadFile(path)
		if err != nil {
			return path, nil, fmt.Errorf("read the template: %w", err)
		}
		return path, data, nil
	}
	data, err = fs.ReadFile(goeventprocessor.Files, "template.yaml")
	return "template.yaml (" + BuiltIn + ")", data, err
}

// LocalAPIKeys returns the query API keys of the local stack: root's api-keys.local.json, else
// (outside a clone) the copy built into eventctl. name says which file, for messages.
func LocalAPIKeys(root string) (name string, keys map[string]string, err error) {
	if root != "" {
		name = filepath.Join(root, "api-keys.local.json")
		keys, err = ReadAPIKeys(name)
		return name, keys, err
	}
	b, err := fs.ReadFile(goeventprocessor.Files, "api-keys.local.json")
	if err != nil {
		return "", nil, err
	}
	name = "api-keys.local.json (" + BuiltIn + ")"
	keys, err = parseAPIKeys(name, b)
	return name, keys, err
}

// Samples returns the directory of the sample events (events/): root's, else (outside a clone) a
// temporary copy of the samples built into eventctl, which remove deletes.
func Samples(root string) (dir string, remove func(), err error) {
	if root != "" {
		return filepath.Join(root, "events"), func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "eventctl-events-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { _ = os.RemoveAll(tmp) }
	sub, err := fs.Sub(goeventprocessor.Files, "events")
	if err == nil {
		err = os.CopyFS(tmp, sub)
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("write the built-in samples: %w", err)
	}
	return tmp, remove, nil
}

// NeedsRepository is the error of a feature that builds from the repository's sources.
func NeedsRepository(feature string) error {
	return fmt.Errorf("%s builds the functions from the repository's sources (functions/): run eventctl in a clone of %s (or set %s to one)",
		feature, emulators.ModulePath, emulators.EnvToolsDir)
}
