package awsenv

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func setEnv(t *testing.T, vars map[string]string) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_LAMBDA",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, vars[k])
	}
}

func TestConfigFromLambdaEnvironment(t *testing.T) {
	setEnv(t, map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"})
	cfg, err := Config()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Fatalf("got region %q and credentials %+v", cfg.Region, creds)
	}
}

func TestConfigNamesWhatIsMissing(t *testing.T) {
	setEnv(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKID"})
	_, err := Config()
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("error %v, want one naming AWS_REGION and AWS_SECRET_ACCESS_KEY", err)
	}
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		env            map[string]string
		dynamo, lambda string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", "http://127.0.0.1:4566"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_DYNAMODB": "http://d"}, "http://d", "http://a"},
		{map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://l", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
	} {
		setEnv(t, tc.env)
		if d, l := aws.ToString(DynamoDBEndpoint()), aws.ToString(LambdaEndpoint()); d != tc.dynamo || l != tc.lambda {
			t.Errorf("%v: endpoints %q and %q, want %q and %q", tc.env, d, l, tc.dynamo, tc.lambda)
		}
	}
}
