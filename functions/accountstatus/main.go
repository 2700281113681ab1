// Command accountstatus is the AccountStatus type function: it validates and persists that type's events.
package main

import (
	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/wiring"
)

func main() { wiring.StartTypeFunction(event.TypeAccountStatus) }
