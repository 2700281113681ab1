package emulators

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Region is the AWS region clients of the emulators use.
const Region = "us-east-1"

// AWSConfig returns the configuration for clients of the emulator at endpoint:
// static credentials "local"/"local", region us-east-1, BaseEndpoint set to
// endpoint (left unset when endpoint is empty), and a standard retryer with at
// most 3 attempts, backoff of at most 200 ms and no client-side rate limiting.
// It reads nothing from the environment or shared config files.
func AWSConfig(endpoint string) aws.Config {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 200 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg
}

// KinesisClient returns a Kinesis client for the emulator at endpoint,
// configured by AWSConfig and then optFns.
func KinesisClient(endpoint string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(AWSConfig(endpoint), optFns...)
}

// DynamoDBClient returns a DynamoDB client for the emulator at endpoint,
// configured by AWSConfig and then optFns.
func DynamoDBClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(endpoint), optFns...)
}

// LambdaClient returns a Lambda client for a local Lambda endpoint (for
// example one that serves the functions in-process), configured by AWSConfig
// and then optFns.
func LambdaClient(endpoint string, optFns ...func(*lambda.Options)) *lambda.Client {
	return lambda.NewFromConfig(AWSConfig(endpoint), optFns...)
}
