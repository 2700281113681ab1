package eventgen

import "github.com/go-event-processor/go-event-processor/event"

// Expected is what the pipeline must make of a stream: the oracle the demo and the tests check
// the table against.
type Expected struct {
	Stored      map[string]*event.Event // by tenant + "/" + id: the events to persist, each once
	Duplicates  int                     // records that repeat a stored event
	Quarantined map[string]int          // records that can never succeed, by reject code
}

// QuarantinedTotal is the number of records to quarantine.
func (e Expected) QuarantinedTotal() int {
	n := 0
	for _, v := range e.Quarantined {
		n += v
	}
	return n
}

// Expect applies the pipeline's rules to a stream: a record that does not decode is quarantined
// with its code; the first event with an id is stored; a later one with the same content is a
// duplicate, with other content a conflict (quarantined). When two events with one id travel on
// different shards, which one is stored can differ, but the counts cannot.
func Expect(records []Record) Expected {
	ex := Expected{Stored: map[string]*event.Event{}, Quarantined: map[string]int{}}
	for _, r := range records {
		e, err := event.Decode(r.Data)
		if err != nil {
			code := event.CodeInvalid
			if rej, ok := err.(*event.RejectError); ok {
				code = rej.Code
			}
			ex.Quarantined[code]++
			continue
		}
		key := e.Tenant + "/" + e.ID
		prev, seen := ex.Stored[key]
		switch {
		case !seen:
			ex.Stored[key] = e
		case prev.Fingerprint() == e.Fingerprint():
			ex.Duplicates++
		default:
			ex.Quarantined[event.CodeConflict]++
		}
	}
	return ex
}
