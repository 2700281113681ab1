package emulators

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDBLocalDir is where scripts/install-emulators.sh puts DynamoDB Local,
// relative to ToolsDir.
const DynamoDBLocalDir = ".cache/dynamodb-local"

// StartDynamoDB starts DynamoDB Local (in memory, one database shared by all
// credentials and regions, telemetry off) on a loopback port and returns once
// a ListTables call succeeds. The caller must Stop the process. It needs java
// on PATH and <ToolsDir>/.cache/dynamodb-local, installed by
// scripts/install-emulators.sh.
func StartDynamoDB(ctx context.Context, opts Options) (*Process, error) {
	dir, err := opts.toolsDir()
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	home := filepath.Join(dir, filepath.FromSlash(DynamoDBLocalDir))
	jar := filepath.Join(home, "DynamoDBLocal.jar")
	lib := filepath.Join(home, "DynamoDBLocal_lib")
	return start(ctx, program{
		name:    "DynamoDB Local",
		command: "java",
		files:   []string{jar, lib},
		dir:     home,
		env:     []string{"DDB_LOCAL_TELEMETRY=0"},
		args: func(port int) []string {
			store := []string{"-inMemory"}
			if opts.DataDir != "" {
				store = []string{"-dbPath", opts.DataDir}
			}
			return append([]string{"-Djava.library.path=" + lib, "-jar", jar},
				append(store, "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))...)
		},
		healthy: func(ctx context.Context, endpoint string) error {
			_, err := DynamoDBClient(endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }).
				ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		},
	}, opts)
}
