package esm_test

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// After a shard is split, the parent is read to its end (checkpoint
// SHARD_END) before its children are read, so each key's records stay in
// order across the split.
func TestReshardReadsParentBeforeChildren(t *testing.T) {
	e := newEnv(t, 1, nil)
	var before, after [][2]string
	for i := range 12 {
		before = append(before, [2]string{fmt.Sprintf("acc-%d", i%4), fmt.Sprintf("before-%d", i)})
		after = append(after, [2]string{fmt.Sprintf("acc-%d", i%4), fmt.Sprintf("after-%d", i)})
	}
	parentSeqs, parents := e.put(before...)
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	if _, err := e.stack.Kinesis.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName: aws.String(e.stream), ShardToSplit: aws.String(parents[0]), NewStartingHashKey: aws.String(mid.String()),
	}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	waiter := kinesis.NewStreamExistsWaiter(e.stack.Kinesis, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := waiter.Wait(t.Context(), &kinesis.DescribeStreamInput{StreamName: aws.String(e.stream)}, testTimeout); err != nil {
		t.Fatalf("wait for the split: %v", err)
	}
	childSeqs, children := e.put(after...)
	for _, c := range children {
		if c == parents[0] {
			t.Fatalf("record put after the split went to the parent shard %s", c)
		}
	}

	cfg := e.config(func(c *esm.Config) { c.BatchSize = 5 })
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	got := delivered(e.fn.Calls())
	if len(got) != len(parentSeqs)+len(childSeqs) {
		t.Fatalf("delivered %d records, want %d", len(got), len(parentSeqs)+len(childSeqs))
	}
	isParent := map[string]bool{}
	for _, s := range parentSeqs {
		isParent[s] = true
	}
	for i, s := range got {
		if want := i < len(parentSeqs); isParent[s] != want {
			t.Fatalf("delivery order %v: a child's record came before the parent was read to its end", got)
		}
	}
	if cp := e.checkpoint(cfg.ID, parents[0]); cp != esm.ShardEnd {
		t.Errorf("parent checkpoint = %q, want %q", cp, esm.ShardEnd)
	}
}
