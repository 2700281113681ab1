// Package esm emulates Lambda's Kinesis event source mapping, for a local
// stack without Docker: it polls every shard of a stream, invokes a function
// through the Lambda Invoke API with the Kinesis event exactly as Lambda sends
// it, and handles the answer as AWS documents it.
//
//	m, err := esm.New(esm.Config{ID: "RouterFunction-Stream", StreamName: "events",
//		FunctionName: "router", BatchSize: 1000, ReportBatchItemFailures: true,
//		BisectBatchOnFunctionError: true, MaximumRetryAttempts: 10},
//		kinesisClient, lambdaClient, esm.NewDynamoCheckpoints(ddb, "checkpoints"),
//		esm.NewDynamoFailures(ddb, "failures"), logger)
//	go m.Run(ctx)
//
// Semantics (see Config for each setting):
//
//   - Batches. Each shard has ParallelizationFactor batch streams; a record
//     goes to the one its partition key hashes to, so one key's records are
//     delivered in order and never concurrently. A batch holds up to
//     BatchSize records, fewer if the event would exceed 6 MB; with a
//     MaximumBatchingWindow the records are gathered until the batch is full
//     or the window, which starts when the previous invocation completed, has
//     passed.
//   - Answers. A function error (X-Amz-Function-Error) fails the whole batch.
//     With ReportBatchItemFailures, {"batchItemFailures":[{"itemIdentifier":
//     "<sequence number>"}]} fails the records from the lowest listed
//     sequence number on and checkpoints those before it; an empty or null
//     response or list is a success; an itemIdentifier that is missing, null,
//     empty or not in the batch, or a body that is not such an object, fails
//     the whole batch. Without ReportBatchItemFailures any answer without a
//     function error is a success.
//   - Failures. A whole-batch failure is split in two halves when
//     BisectBatchOnFunctionError is set (no retry attempt consumed), else
//     retried; failed batch items are retried from the lowest failed record.
//     Each retry consumes one of MaximumRetryAttempts; then the records are
//     discarded with an OnFailure record (condition RetryAttemptsExhausted)
//     sent to the FailureSink. Records older than MaximumRecordAge are
//     discarded before any invocation (condition RecordAgeExceeded). An
//     invocation that fails before the function runs (throttling, connection
//     refused, unknown function) is retried without consuming attempts, until
//     the records are too old. Retries wait RetryDelay, doubling up to 5 s.
//   - Checkpoints. After every batch that moves it, a shard's checkpoint (the
//     last record before the oldest one not yet processed) is written to
//     Checkpoints; a mapping started again with the same ID reads each shard
//     from just after its checkpoint. Delivery is at least once: a batch in
//     flight when the process stops is delivered again.
//   - Kinesis errors (throttling, expired iterators, connection errors) are
//     logged and retried with backoff, from the last record read; nothing is
//     skipped and Run never gives up.
//
// Local differences from AWS: PollInterval (AWS: 1 s) and RetryDelay are
// settable, MaximumRecordAge has no 60 s minimum, the records' invokeIdentityArn
// is empty, and OnFailure records go to a FailureSink (DynamoFailures keeps
// them in a DynamoDB table) instead of an SQS queue or SNS topic.
package esm
