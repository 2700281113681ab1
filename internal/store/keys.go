package store

// Sort key values of the items that are alone in their partition (the layout's other keys are in
// layout.go).
const (
	skEvent      = "EVENT"
	skQuarantine = "QUARANTINE"
)

func eventPK(tenant, id string) string        { return "EVT#" + tenant + "#" + id }
func accountPK(tenant, account string) string { return "ACC#" + tenant + "#" + account }
func quarantinePK(shard, seq string) string   { return "Q#" + shard + "#" + seq }
