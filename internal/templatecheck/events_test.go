package templatecheck_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// typeOfCodeUri maps each type function's code to the event type it persists.
var typeOfCodeUri = map[string]event.Type{
	"functions/transaction":   event.TypeTransaction,
	"functions/fraudalert":    event.TypeFraudAlert,
	"functions/accountstatus": event.TypeAccountStatus,
	"functions/accountcheck":  event.TypeAccountCheck,
}

// TestEventSamplesFitTheirFunctions checks every file in events/<function>/ decodes, with no
// unknown field, into its function's input type: the router's into a Kinesis event, the type
// functions' into a typefn.Batch whose events are valid events of the function's type.
func TestEventSamplesFitTheirFunctions(t *testing.T) {
	root := moduleRoot(t)
	tpl := loadTemplate(t)
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(root, "events", filepath.Base(f.CodeUri), "*.json"))
			if len(files) == 0 {
				t.Fatalf("no sample in events/%s/ for `sam local invoke %s -e …`", filepath.Base(f.CodeUri), f.LogicalID)
			}
			for _, file := range files {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				rel, _ := filepath.Rel(root, file)
				if typ, ok := typeOfCodeUri[f.CodeUri]; ok {
					var b typefn.Batch
					if err := strictDecode(raw, &b); err != nil || len(b.Records) == 0 {
						t.Fatalf("%s is not a typefn.Batch with records: %v", rel, err)
					}
					for i, r := range b.Records {
						e, err := event.Decode(r.Event)
						if err != nil || e.Type != typ {
							t.Errorf("%s record %d: %v (type %v, want %s)", rel, i, err, e, typ)
						}
					}
					continue
				}
				switch f.CodeUri {
				case "functions/query":
					var r events.APIGatewayProxyRequest
					if err := strictDecode(raw, &r); err != nil || r.HTTPMethod == "" || r.Path == "" {
						t.Errorf("%s is not an API Gateway proxy request: %v", rel, err)
					}
					continue
				case "functions/authorizer":
					var r events.APIGatewayCustomAuthorizerRequest
					if err := strictDecode(raw, &r); err != nil || r.AuthorizationToken == "" || r.MethodArn == "" {
						t.Errorf("%s is not a TOKEN authorizer request: %v", rel, err)
					}
					continue
				}
				var k events.KinesisEvent
				if err := strictDecode(raw, &k); err != nil || len(k.Records) == 0 {
					t.Fatalf("%s is not a Kinesis event with records: %v", rel, err)
				}
				for i, r := range k.Records {
					if len(r.Kinesis.Data) == 0 || r.Kinesis.SequenceNumber == "" || r.Kinesis.PartitionKey == "" {
						t.Errorf("%s record %d lacks data, sequence number or partition key", rel, i)
					}
				}
			}
		})
	}
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestTableMatchesStoreSchema keeps EventsTable in template.yaml and store.Schema (what the local
// stack and the tests create) the same: keys, attribute types and indexes.
func TestTableMatchesStoreSchema(t *testing.T) {
	tpl := loadTemplate(t)
	table, ok := tpl.Resources["EventsTable"]
	if !ok {
		t.Fatal("template.yaml has no EventsTable")
	}
	want := store.Schema("x")
	keys := func(v any) []string {
		var out []string
		list, _ := v.([]any)
		for _, k := range list {
			m := k.(map[string]any)
			out = append(out, m["AttributeName"].(string)+":"+m["KeyType"].(string))
		}
		return out
	}
	schemaKeys := func(ks []types.KeySchemaElement) []string {
		var out []string
		for _, k := range ks {
			out = append(out, *k.AttributeName+":"+string(k.KeyType))
		}
		return out
	}
	if got := keys(table.Properties["KeySchema"]); !slices.Equal(got, schemaKeys(want.KeySchema)) {
		t.Errorf("EventsTable KeySchema %v, store.Schema %v", got, schemaKeys(want.KeySchema))
	}
	gsis, _ := table.Properties["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != len(want.GlobalSecondaryIndexes) {
		t.Fatalf("EventsTable has %d indexes, store.Schema %d", len(gsis), len(want.GlobalSecondaryIndexes))
	}
	for i, g := range gsis {
		m := g.(map[string]any)
		w := want.GlobalSecondaryIndexes[i]
		pv, _ := templatecheck.Lookup(m, "Projection", "ProjectionType")
		proj, _ := pv.(string)
		if m["IndexName"] != *w.IndexName || !slices.Equal(keys(m["KeySchema"]), schemaKeys(w.KeySchema)) || proj != string(w.Projection.ProjectionType) {
			t.Errorf("index %d: template %v, store.Schema %s %v %s", i, m, *w.IndexName, schemaKeys(w.KeySchema), w.Projection.ProjectionType)
		}
	}
	attrs := map[string]string{}
	list, _ := table.Properties["AttributeDefinitions"].([]any)
	for _, a := range list {
		m := a.(map[string]any)
		attrs[m["AttributeName"].(string)] = m["AttributeType"].(string)
	}
	for _, a := range want.AttributeDefinitions {
		if attrs[*a.AttributeName] != string(a.AttributeType) {
			t.Errorf("attribute %s: template type %q, store.Schema %q", *a.AttributeName, attrs[*a.AttributeName], a.AttributeType)
		}
	}
}
