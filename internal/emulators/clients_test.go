package emulators_test

import (
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

func TestAWSConfig(t *testing.T) {
	cfg := emulators.AWSConfig("http://127.0.0.1:1234")
	if cfg.Region != "us-east-1" {
		t.Errorf("Region = %q, want us-east-1", cfg.Region)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1234" {
		t.Errorf("BaseEndpoint = %v, want http://127.0.0.1:1234", cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "local" || creds.SecretAccessKey != "local" {
		t.Errorf("credentials = %q/%q, want local/local", creds.AccessKeyID, creds.SecretAccessKey)
	}
	if got := cfg.Retryer().MaxAttempts(); got != 3 {
		t.Errorf("retryer MaxAttempts = %d, want 3", got)
	}
	if emulators.AWSConfig("").BaseEndpoint != nil {
		t.Error("AWSConfig(\"\") sets BaseEndpoint")
	}
}
