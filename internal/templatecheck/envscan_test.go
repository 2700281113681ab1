package templatecheck_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

func fixture(importPath, dir string, files ...string) templatecheck.Package {
	return templatecheck.Package{ImportPath: importPath, Dir: filepath.Join("testdata", "envscan", dir), GoFiles: files}
}

func TestEnvReadsResolvesLiteralsConstantsAndHelpers(t *testing.T) {
	reads, err := templatecheck.EnvReads([]templatecheck.Package{
		fixture("example.test/envscan/app", "app", "main.go"),
		fixture("example.test/envscan/cfg", "cfg", "cfg.go"),
	})
	if err != nil {
		t.Fatalf("EnvReads: %v", err)
	}
	got := map[string]int{}
	for _, r := range reads {
		got[r.Name]++
		if r.Pos.Filename == "" || r.Pos.Line == 0 {
			t.Errorf("read of %s has no position", r.Name)
		}
	}
	want := map[string]int{
		"TABLE_NAME":           2, // c.MustEnv(c.TableEnv) in app, wrapped("", alias) in cfg
		"FRAUD_ALERT_FUNCTION": 1,
		"LOCAL_ONLY":           1,
		"AWS_REGION":           1,
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("reads of %s = %d, want %d (all: %v)", name, got[name], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("read names = %v, want exactly %v", got, want)
	}
}

func TestEnvReadsReportsNamesItCannotResolve(t *testing.T) {
	_, err := templatecheck.EnvReads([]templatecheck.Package{fixture("example.test/envscan/bad", "bad", "bad.go")})
	if err == nil {
		t.Fatal("EnvReads: no error for dynamic variable names")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 unresolved reads, got %d:\n%v", len(lines), err)
	}
	for _, l := range lines {
		if !strings.Contains(l, "bad.go:") || !strings.Contains(l, "os.Getenv") {
			t.Errorf("message %q should name the file position and os.Getenv", l)
		}
	}
}
