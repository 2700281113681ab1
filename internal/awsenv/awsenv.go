// Package awsenv builds the functions' aws.Config from the Lambda environment alone, without
// aws-sdk-go-v2/config, whose shared-config, SSO, STS, IMDS and process-credential providers a
// function never uses but links (about 2.3 MB of each bootstrap).
//
// What it does not read, unlike LoadDefaultConfig: shared config and credentials files and
// profiles, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, AWS_DEFAULTS_MODE, FIPS and dual-stack endpoint
// settings, AWS_CA_BUNDLE, AWS_SDK_UA_APP_ID, AWS_ACCOUNT_ID, and container credentials
// (AWS_CONTAINER_CREDENTIALS_*). Lambda's provided.al2023 runtime sets none of them and the
// template declares none; the clients get the SDK's default retryer and HTTP client, as they do
// from LoadDefaultConfig when those are not set.
//
// Every variable is read with a literal name, so that templatecheck can see which ones.
package awsenv

import (
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the region (AWS_REGION, else AWS_DEFAULT_REGION) and the credentials of the
// execution role that Lambda puts in AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY
// (or AWS_SECRET_KEY) and AWS_SESSION_TOKEN, as config.LoadDefaultConfig reads them: static
// credentials, never refreshed. Lambda and the local stack set all of them; a missing one is an
// error that names it, rather than unsigned requests later.
func Config() (aws.Config, error) {
	cfg := aws.Config{Region: or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))}
	id := or(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_ACCESS_KEY"))
	secret := or(os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SECRET_KEY"))
	var missing []error
	if cfg.Region == "" {
		missing = append(missing, errors.New("AWS_REGION is not set: it names the region of the table and functions"))
	}
	if id == "" || secret == "" {
		missing = append(missing, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set: Lambda sets them from the execution role"))
	}
	if len(missing) > 0 {
		return aws.Config{}, errors.Join(missing...)
	}
	static := credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	static.Source = []aws.CredentialSource{aws.CredentialSourceEnvVars}
	cfg.Credentials = aws.NewCredentialsCache(static)
	return cfg, nil
}

// DynamoDBEndpoint is AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL; nil for the default.
func DynamoDBEndpoint() *string { return endpoint(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")) }

// LambdaEndpoint is AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL; nil for the default.
func LambdaEndpoint() *string { return endpoint(os.Getenv("AWS_ENDPOINT_URL_LAMBDA")) }

// endpoint resolves a base endpoint as aws-sdk-go-v2/config does from the environment: the
// service's own variable, else AWS_ENDPOINT_URL, neither when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// is true.
func endpoint(service string) *string {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return nil
	}
	if u := or(service, os.Getenv("AWS_ENDPOINT_URL")); u != "" {
		return aws.String(u)
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
