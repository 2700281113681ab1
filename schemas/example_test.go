package schemas_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/schemas"
)

// Generate returns the schema of every event type; each fixes the envelope's type and describes
// that type's data.
func ExampleGenerate() {
	files, err := schemas.Generate()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range event.Types {
		var s struct {
			Title string `json:"title"`
		}
		if err := json.Unmarshal(files[schemas.FileName(t)], &s); err != nil {
			log.Fatal(err)
		}
		fmt.Println(schemas.FileName(t), "—", s.Title)
	}
	// Output:
	// account_status.schema.json — account_status event
	// fraud_alert.schema.json — fraud_alert event
	// account_check.schema.json — account_check event
	// transaction.schema.json — transaction event
}
