package store

import (
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

// Sort key values of the items that are alone in their partition.
const (
	skEvent      = "EVENT"
	skState      = "STATE"
	skQuarantine = "QUARANTINE"
)

func eventPK(tenant, id string) string          { return "EVT#" + tenant + "#" + id }
func accountPK(tenant, account string) string   { return "ACC#" + tenant + "#" + account }
func typePK(tenant string, t event.Type) string { return "TYPE#" + tenant + "#" + string(t) }
func timeSK(t time.Time, id string) string      { return event.TimeKey(t) + "#" + id }
func quarantinePK(shard, seq string) string     { return "Q#" + shard + "#" + seq }
func quarantineDayPK(t time.Time) string        { return "QUAR#" + t.UTC().Format(time.DateOnly) }
