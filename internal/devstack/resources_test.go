package devstack_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

func repoTemplate(t *testing.T) templatecheck.Template {
	_, file, _, _ := runtime.Caller(0)
	tpl, err := templatecheck.Load(filepath.Join(filepath.Dir(file), "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestReadResourcesFromTemplate(t *testing.T) {
	res, err := devstack.ReadResources(repoTemplate(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Streams) != 1 || res.Streams[0].Name != "EventStream" || res.Streams[0].Shards != 1 {
		t.Errorf("streams %+v", res.Streams)
	}
	if len(res.Tables) != 1 || len(res.Tables[0].GlobalSecondaryIndexes) != 0 || len(res.Tables[0].KeySchema) != 2 {
		t.Errorf("tables %+v", res.Tables)
	}
	if len(res.Functions) != 7 {
		t.Fatalf("functions %+v", res.Functions)
	}
	if len(res.APIs) != 1 || res.APIs[0].Authorizer != "AuthorizerFunction" || len(res.APIs[0].Routes) != 8 || res.APIs[0].Routes[0].Function != "QueryFunction" {
		t.Errorf("APIs %+v", res.APIs)
	}
	for _, f := range res.Functions {
		if f.Env["TABLE_NAME"] != "EventsTable" {
			t.Errorf("%s TABLE_NAME = %q", f.LogicalID, f.Env["TABLE_NAME"])
		}
		if _, ok := f.Env["AWS_ENDPOINT_URL"]; ok {
			t.Errorf("%s: AWS_ENDPOINT_URL set though EndpointUrl is empty", f.LogicalID)
		}
		if f.LogicalID != "RouterFunction" {
			continue
		}
		if f.Env["TRANSACTION_FUNCTION"] != "TransactionFunction" || len(f.Kinesis) != 1 {
			t.Fatalf("router %+v", f)
		}
		k := f.Kinesis[0]
		if k.Stream != "EventStream" || k.BatchSize != 500 || !k.ReportBatchItemFailures || !k.BisectBatchOnFunctionError ||
			k.StartingPosition != "TRIM_HORIZON" || k.MaximumRetryAttempts < 0 || k.MaximumRecordAge <= 0 || !strings.Contains(k.OnFailure, "RouterFailureQueue") {
			t.Errorf("router's Kinesis event %+v", k)
		}
	}
	res, err = devstack.ReadResources(repoTemplate(t), map[string]string{"ShardCount": "3", "EndpointUrl": "http://127.0.0.1:1"})
	if err != nil || res.Streams[0].Shards != 3 || res.Functions[0].Env["AWS_ENDPOINT_URL"] != "http://127.0.0.1:1" {
		t.Errorf("overrides: %v %+v", err, res)
	}
}

func TestTemplateErrorsNameResourceAndProperty(t *testing.T) {
	tpl := repoTemplate(t)
	tpl.Resources["EventStream"].Properties["ShardCount"] = "many"
	_, err := devstack.ReadResources(tpl, nil)
	if err == nil || !strings.Contains(err.Error(), "EventStream") || !strings.Contains(err.Error(), "ShardCount") {
		t.Errorf("error %v does not name EventStream and ShardCount", err)
	}
	if _, err := devstack.ReadResources(repoTemplate(t), map[string]string{"Nope": "1"}); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("unknown override: %v", err)
	}
}
