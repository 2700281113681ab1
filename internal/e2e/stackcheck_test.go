package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// Kinesis limits: one record (data and partition key) and one PutRecords call (partition keys
// included).
const (
	kinesisMaxRecordBytes = 1 << 20
	putRecordsMaxEntries  = 500
	putRecordsMaxBytes    = 5 << 20
)

// putAll puts entries on the stack's stream in their order, as fast as it can: calls of at most
// 500 records and 5 MiB, each sent as soon as the previous one returned, with no rate limit.
// Kinesalite throttles nothing, so a refused record fails the test. It returns where each record
// went, in the order of entries.
func putAll(t *testing.T, st *devstack.Stack, entries []kinesistypes.PutRecordsRequestEntry) []kinesistypes.PutRecordsResultEntry {
	t.Helper()
	stream := st.Resources.Streams[0].Name
	results := make([]kinesistypes.PutRecordsResultEntry, 0, len(entries))
	for start := 0; start < len(entries); {
		end, size := start, 0
		for end < len(entries) && end-start < putRecordsMaxEntries {
			n := len(entries[end].Data) + len(aws.ToString(entries[end].PartitionKey))
			if n > kinesisMaxRecordBytes {
				t.Fatalf("test bug: record %d is %d bytes with its partition key; Kinesis takes %d at most", end, n, kinesisMaxRecordBytes)
			}
			if end > start && size+n > putRecordsMaxBytes {
				break
			}
			size += n
			end++
		}
		out, err := st.Kinesis.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries[start:end]})
		if err != nil {
			t.Fatalf("put records %d to %d (%d bytes) on %s: %v", start, end-1, size, stream, err)
		}
		if n := aws.ToInt32(out.FailedRecordCount); n > 0 || len(out.Records) != end-start {
			why := ""
			for i, r := range out.Records {
				if r.ErrorCode != nil {
					why = fmt.Sprintf(": record %d: %s %s", start+i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
					break
				}
			}
			t.Fatalf("put records %d to %d on %s: %d refused, %d results%s", start, end-1, stream, n, len(out.Records), why)
		}
		results = append(results, out.Records...)
		start = end
	}
	return results
}

// waitCaughtUp polls, for at most bound, until the stack's event source mappings have
// checkpointed every record of the stream; what names what is waited for, in the messages. It
// fails the test at once if the mappings stop. At the bound it reports with t.Errorf and returns
// false, so that the test can go on to say what is missing. It returns how long it waited.
// It reads ran's length only, never its value: the stack's cleanup receives that.
func waitCaughtUp(t *testing.T, st *devstack.Stack, ran <-chan error, bound time.Duration, what string) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithDeadline(t.Context(), start.Add(bound)) // bounds each CaughtUp call too
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if len(ran) > 0 {
			t.Fatalf("%s: the event source mappings stopped after %s", what, time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			s := st.Stats()
			t.Errorf("%s: the event source mapping had not checkpointed every record of the stream after %s "+
				"(%d records delivered, %d invocations, %d retries, %d bisections, %d records discarded to OnFailure; last check: %v)",
				what, bound, st.Delivered(), s.Invocations, s.Retries, s.Bisections, s.RecordsDiscarded, lastErr)
			return time.Since(start), false
		case <-tick.C:
			ok, err := st.CaughtUp(ctx)
			if ok {
				return time.Since(start), true
			}
			lastErr = err
		}
	}
}

// quarantineItems returns every item kept in the quarantine partition of one record. The store
// keys a quarantined record by where it was in the stream: pk "Q#<shard id>#<sequence number>",
// sk "QUARANTINE" (internal/store: quarantinePK in keys.go, quarantineItem in quarantine.go), so
// quarantining it again overwrites it. The query reads the whole partition, whatever the sort
// key, so that it counts every item kept for the record.
func quarantineItems(ctx context.Context, db *dynamodb.Client, table, shard, seq string) ([]store.QuarantinedRecord, error) {
	pages := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "Q#" + shard + "#" + seq}},
		ConsistentRead:            aws.Bool(true),
	})
	var all []store.QuarantinedRecord
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query the quarantine of %s/%s: %w", shard, seq, err)
		}
		var recs []store.QuarantinedRecord
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &recs); err != nil {
			return nil, fmt.Errorf("decode the quarantine of %s/%s: %w", shard, seq, err)
		}
		all = append(all, recs...)
	}
	return all, nil
}

// onFailureOverlapping returns the stack's OnFailure records (AWS would send them to the
// router's failure queue; the local stack keeps them in a DynamoDB table, internal/esm
// failures.go) of batches on shard that overlap the sequence numbers first to last.
func onFailureOverlapping(t *testing.T, st *devstack.Stack, shard, first, last string) []esm.StoredFailure {
	t.Helper()
	all, err := st.Failures.List(t.Context())
	if err != nil {
		t.Fatalf("list the OnFailure records: %v", err)
	}
	var ours []esm.StoredFailure
	for _, f := range all {
		b := f.Record.KinesisBatchInfo
		if b.ShardID == shard && !seqLess(b.EndSequenceNumber, first) && !seqLess(last, b.StartSequenceNumber) {
			ours = append(ours, f)
		}
	}
	return ours
}

// describeFailure is one OnFailure record, for messages.
func describeFailure(f esm.StoredFailure) string {
	b, r := f.Record.KinesisBatchInfo, f.Record.RequestContext
	return fmt.Sprintf("%s: %d records %s..%s, condition %s after %d invocations", f.MappingID, b.BatchSize,
		b.StartSequenceNumber, b.EndSequenceNumber, r.Condition, r.ApproximateInvokeCount)
}

// seqBetween reports whether sequence number seq is in [first, last].
func seqBetween(seq, first, last string) bool {
	return !seqLess(seq, first) && !seqLess(last, seq)
}

// seqMinMax returns the lowest and the highest of sequence numbers.
func seqMinMax(seqs []string) (lo, hi string) {
	for _, s := range seqs {
		if lo == "" || seqLess(s, lo) {
			lo = s
		}
		if hi == "" || seqLess(hi, s) {
			hi = s
		}
	}
	return lo, hi
}
