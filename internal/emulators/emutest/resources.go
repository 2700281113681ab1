package emutest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// resourceTimeout bounds creating (until ACTIVE) or deleting one resource.
const resourceTimeout = 30 * time.Second

var (
	nameSeq    atomic.Int64
	nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

// UniqueName returns a name that is valid for Kinesis streams and DynamoDB
// tables, unique within the test binary and readable in logs: the test's name
// (shortened, unsafe characters replaced) followed by a sequence number and a
// random suffix.
func UniqueName(tb testing.TB) string {
	base := nameUnsafe.ReplaceAllString(tb.Name(), "-")
	if len(base) > 60 {
		base = base[:60]
	}
	var r [3]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%s-%d-%s", base, nameSeq.Add(1), hex.EncodeToString(r[:]))
}

// CreateStream creates a uniquely named stream with the given number of
// shards, waits until it is ACTIVE and returns its name. The stream is deleted
// when tb's test ends. Failures fail tb.
func (s *Stack) CreateStream(tb testing.TB, shards int32) string {
	tb.Helper()
	name := UniqueName(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), resourceTimeout)
	defer cancel()
	if _, err := s.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name),
		ShardCount: aws.Int32(shards),
	}); err != nil {
		tb.Fatalf("emutest: create stream %s: %v", name, err)
	}
	tb.Cleanup(func() { s.deleteStream(tb, name) })
	waiter := kinesis.NewStreamExistsWaiter(s.Kinesis, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 500*time.Millisecond
	})
	if err := waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, resourceTimeout); err != nil {
		tb.Fatalf("emutest: wait for stream %s to become ACTIVE: %v", name, err)
	}
	return name
}

// CreateTable creates a table from input(name), where name is unique, waits
// until it is ACTIVE and returns the name. The table's name is always set to
// name, whatever input returns. The table is deleted when tb's test ends.
// Failures fail tb.
func (s *Stack) CreateTable(tb testing.TB, input func(name string) *dynamodb.CreateTableInput) string {
	tb.Helper()
	name := UniqueName(tb)
	in := input(name)
	if in == nil {
		tb.Fatalf("emutest: create table %s: input returned nil", name)
	}
	in.TableName = aws.String(name)
	ctx, cancel := context.WithTimeout(tb.Context(), resourceTimeout)
	defer cancel()
	if _, err := s.DynamoDB.CreateTable(ctx, in); err != nil {
		tb.Fatalf("emutest: create table %s: %v", name, err)
	}
	tb.Cleanup(func() { s.deleteTable(tb, name) })
	waiter := dynamodb.NewTableExistsWaiter(s.DynamoDB, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 500*time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, resourceTimeout); err != nil {
		tb.Fatalf("emutest: wait for table %s to become ACTIVE: %v", name, err)
	}
	return name
}

// deleteStream deletes a stream created by CreateStream; failures are logged,
// since the emulator is in memory and ends with the test binary.
func (s *Stack) deleteStream(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), resourceTimeout)
	defer cancel()
	if _, err := s.Kinesis.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		tb.Logf("emutest: delete stream %s: %v", name, err)
	}
}

// deleteTable deletes a table created by CreateTable; failures are logged.
func (s *Stack) deleteTable(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), resourceTimeout)
	defer cancel()
	if _, err := s.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		tb.Logf("emutest: delete table %s: %v", name, err)
	}
}
