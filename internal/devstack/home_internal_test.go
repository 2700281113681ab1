package devstack

import (
	"strings"
	"testing"
)

// TestRIENeedsRepository: without a clone, the rie runtime says what it needs instead of failing
// on a missing directory.
func TestRIENeedsRepository(t *testing.T) {
	s := &Stack{opts: Options{Runtime: RuntimeRIE}}
	_, err := s.buildRIE(t.Context())
	if err == nil || !strings.Contains(err.Error(), "clone") || !strings.Contains(err.Error(), "functions/") {
		t.Fatalf("buildRIE without a repository: %v", err)
	}
}
