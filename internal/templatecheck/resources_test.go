package templatecheck_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// intValue resolves an integer literal or a !Ref to a parameter's Default.
func intValue(t *testing.T, tpl templatecheck.Template, v any) (int, bool) {
	t.Helper()
	if p := refTo(v); p != "" {
		def, ok := templatecheck.Lookup(tpl.Parameters, p, "Default")
		if !ok {
			return 0, false
		}
		v = def
	}
	switch x := v.(type) {
	case int:
		return x, true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// onlyResourceOfType returns the single resource of a type.
func onlyResourceOfType(t *testing.T, tpl templatecheck.Template, typ string) (string, templatecheck.Resource) {
	t.Helper()
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want exactly one %s, found %v", typ, ids)
	}
	return ids[0], tpl.Resources[ids[0]]
}

func TestKinesisEventSource(t *testing.T) {
	tpl := loadTemplate(t)
	var found int
	for _, f := range tpl.Functions() {
		events, _ := f.Resource.Properties["Events"].(map[string]any)
		for name, raw := range events {
			ev, _ := raw.(map[string]any)
			if ev["Type"] != "Kinesis" {
				continue
			}
			found++
			t.Run(f.LogicalID+"/"+name, func(t *testing.T) {
				p, _ := ev["Properties"].(map[string]any)
				checkKinesisEvent(t, tpl, p)
			})
		}
	}
	if found != 1 {
		t.Fatalf("want exactly one Kinesis event in the template, found %d", found)
	}
}

func checkKinesisEvent(t *testing.T, tpl templatecheck.Template, p map[string]any) {
	stream := getAttOf(p["Stream"], "Arn")
	if r, ok := tpl.Resources[stream]; !ok || r.Type != "AWS::Kinesis::Stream" {
		t.Errorf("Stream = %v, want !GetAtt <AWS::Kinesis::Stream>.Arn", p["Stream"])
	}
	if p["StartingPosition"] != "TRIM_HORIZON" {
		t.Errorf("StartingPosition = %v, want TRIM_HORIZON", p["StartingPosition"])
	}
	if n, ok := intValue(t, tpl, p["BatchSize"]); !ok || n < 1 || n > 10000 {
		t.Errorf("BatchSize = %v, want 1..10000", p["BatchSize"])
	}
	if n, ok := intValue(t, tpl, p["MaximumBatchingWindowInSeconds"]); !ok || n < 0 || n > 300 {
		t.Errorf("MaximumBatchingWindowInSeconds = %v, want 0..300", p["MaximumBatchingWindowInSeconds"])
	}
	if types, _ := p["FunctionResponseTypes"].([]any); !slices.Contains(types, any("ReportBatchItemFailures")) {
		t.Errorf("FunctionResponseTypes = %v, want ReportBatchItemFailures", p["FunctionResponseTypes"])
	}
	if p["BisectBatchOnFunctionError"] != true {
		t.Errorf("BisectBatchOnFunctionError = %v, want true", p["BisectBatchOnFunctionError"])
	}
	if n, ok := intValue(t, tpl, p["MaximumRetryAttempts"]); !ok || n < -1 || n > 10000 {
		t.Errorf("MaximumRetryAttempts = %v, want -1..10000", p["MaximumRetryAttempts"])
	}
	age, ok := intValue(t, tpl, p["MaximumRecordAgeInSeconds"])
	if !ok || (age != -1 && (age < 60 || age > 604800)) {
		t.Errorf("MaximumRecordAgeInSeconds = %v, want -1 or 60..604800", p["MaximumRecordAgeInSeconds"])
	}
	if r, ok := tpl.Resources[stream]; ok && age > 0 {
		hours := 24
		if v, ok := r.Properties["RetentionPeriodHours"]; ok {
			hours, _ = intValue(t, tpl, v)
		}
		if age > hours*3600 {
			t.Errorf("MaximumRecordAgeInSeconds %d exceeds the stream's retention of %d h", age, hours)
		}
	}
	if pf, ok := p["ParallelizationFactor"]; ok {
		if n, ok := intValue(t, tpl, pf); !ok || n < 1 || n > 10 {
			t.Errorf("ParallelizationFactor = %v, want 1..10", pf)
		}
	}
	onFailure, _ := templatecheck.Lookup(p, "DestinationConfig", "OnFailure")
	dest, _ := templatecheck.Lookup(onFailure, "Destination")
	queue := getAttOf(dest, "Arn")
	if r, ok := tpl.Resources[queue]; !ok || r.Type != "AWS::SQS::Queue" {
		t.Errorf("DestinationConfig.OnFailure.Destination = %v, want !GetAtt <AWS::SQS::Queue>.Arn", dest)
	}
	if typ, _ := templatecheck.Lookup(onFailure, "Type"); typ != "SQS" {
		t.Errorf("DestinationConfig.OnFailure.Type = %v, want SQS (SAM then grants sqs:SendMessage on the queue)", typ)
	}
}

func TestStreamIsEncrypted(t *testing.T) {
	tpl := loadTemplate(t)
	_, stream := onlyResourceOfType(t, tpl, "AWS::Kinesis::Stream")
	if got, _ := templatecheck.Lookup(stream.Properties, "StreamEncryption", "EncryptionType"); got != "KMS" {
		t.Errorf("StreamEncryption.EncryptionType = %v, want KMS", got)
	}
	if got, _ := templatecheck.Lookup(stream.Properties, "StreamEncryption", "KeyId"); got == nil || got == "" {
		t.Error("StreamEncryption.KeyId is missing")
	}
}

func TestTableMatchesDesign(t *testing.T) {
	tpl := loadTemplate(t)
	_, table := onlyResourceOfType(t, tpl, "AWS::DynamoDB::Table")
	p := table.Properties
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", p["BillingMode"])
	}
	if got, _ := templatecheck.Lookup(p, "SSESpecification", "SSEEnabled"); got != true {
		t.Errorf("SSESpecification.SSEEnabled = %v, want true", got)
	}
	if got, _ := templatecheck.Lookup(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); got != true {
		t.Errorf("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled = %v, want true", got)
	}
	wantAttrs := map[string]string{"pk": "S", "sk": "S"}
	gotAttrs := map[string]string{}
	defs, _ := p["AttributeDefinitions"].([]any)
	for _, d := range defs {
		name, _ := templatecheck.Lookup(d, "AttributeName")
		typ, _ := templatecheck.Lookup(d, "AttributeType")
		gotAttrs[fmt.Sprint(name)] = fmt.Sprint(typ)
	}
	if fmt.Sprint(gotAttrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, want %v (exactly the key attributes)", gotAttrs, wantAttrs)
	}
	if got := keySchema(p["KeySchema"]); got != "pk HASH, sk RANGE" {
		t.Errorf("KeySchema = %s, want pk HASH, sk RANGE", got)
	}
	// No index: every read is by key or a key's range (docs/design.md). An index would write every
	// event a second time and take a tenant's whole rate on its hottest key.
	if gsis, ok := p["GlobalSecondaryIndexes"]; ok {
		t.Errorf("GlobalSecondaryIndexes = %v, want none", gsis)
	}
}

func keySchema(v any) string {
	list, _ := v.([]any)
	var parts []string
	for _, k := range list {
		name, _ := templatecheck.Lookup(k, "AttributeName")
		typ, _ := templatecheck.Lookup(k, "KeyType")
		parts = append(parts, fmt.Sprintf("%v %v", name, typ))
	}
	return strings.Join(parts, ", ")
}

func TestFailureQueueIsEncrypted(t *testing.T) {
	tpl := loadTemplate(t)
	_, q := onlyResourceOfType(t, tpl, "AWS::SQS::Queue")
	if q.Properties["SqsManagedSseEnabled"] != true && q.Properties["KmsMasterKeyId"] == nil {
		t.Error("the failure queue is not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)")
	}
	if n, ok := intValue(t, tpl, q.Properties["MessageRetentionPeriod"]); !ok || n != 1209600 {
		t.Errorf("MessageRetentionPeriod = %v, want 1209600 (14 days)", q.Properties["MessageRetentionPeriod"])
	}
}

var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

func TestEveryReferenceResolves(t *testing.T) {
	tpl := loadTemplate(t)
	check := func(where string, v any) {
		for _, r := range templatecheck.References(v) {
			_, isParam := tpl.Parameters[r.Name]
			_, isCond := tpl.Conditions[r.Name]
			ok := false
			switch r.Kind {
			case "Condition":
				ok = isCond
			case "Fn::GetAtt":
				ok = isResource(tpl, r.Name)
			default:
				ok = isParam || isResource(tpl, r.Name) || slices.Contains(pseudoParameters, r.Name)
			}
			if !ok {
				t.Errorf("%s: %s does not resolve to anything declared", where, r)
			}
		}
	}
	check("Globals", tpl.Globals)
	check("Conditions", tpl.Conditions)
	check("Outputs", tpl.Outputs)
	for id, r := range tpl.Resources {
		check(id, r.Properties)
	}
	for name, o := range tpl.Outputs {
		if _, ok := templatecheck.Lookup(o, "Value"); !ok {
			t.Errorf("output %s has no Value", name)
		}
	}
}

// TestStatefulResourcesAreRetained: deleting or replacing the stack must never delete stored
// events, unprocessed records or the record of what failed. Every stateful resource (a table, a
// stream, a queue) keeps DeletionPolicy and UpdateReplacePolicy Retain, as cfn-lint's I3011 asks.
func TestStatefulResourcesAreRetained(t *testing.T) {
	tpl := loadTemplate(t)
	stateful := map[string]bool{"AWS::DynamoDB::Table": true, "AWS::Kinesis::Stream": true, "AWS::SQS::Queue": true}
	var found []string
	for id, r := range tpl.Resources {
		if !stateful[r.Type] {
			continue
		}
		found = append(found, id)
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s (%s): DeletionPolicy %q, UpdateReplacePolicy %q; want Retain for both", id, r.Type, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
	slices.Sort(found)
	for _, want := range []string{"EventStream", "EventsTable", "RouterFailureQueue"} {
		if !slices.Contains(found, want) {
			t.Errorf("stateful resources %v lack %s", found, want)
		}
	}
}
