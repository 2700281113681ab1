package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/producer"
)

// input is one record read for send, with where it was read.
type input struct {
	rec  producer.Record
	file string // the file's name, or "stdin"
	line int    // where the record begins, from 1
	note string // what the record is inside the file, for messages ("record 2 of the Kinesis event")
}

func (in input) where() string { return fmt.Sprintf("%s:%d", in.file, in.line) }

// maxShownProblems bounds the bad records send lists before it says how many more there are.
const maxShownProblems = 10

// validate checks every record with the pipeline's own rules (event.Decode): it lists the ones the
// pipeline would quarantine on w, file:line: reason, and refuses them all when any is bad.
func validate(w io.Writer, ins []input) error {
	bad := 0
	for _, in := range ins {
		if _, err := event.Decode(in.rec.Data); err != nil {
			if bad < maxShownProblems {
				what := ""
				if in.note != "" {
					what = " (" + in.note + ")"
				}
				fmt.Fprintf(w, "%s: %v%s\n", in.where(), err, what)
			}
			bad++
		}
	}
	if bad == 0 {
		return nil
	}
	if bad > maxShownProblems {
		fmt.Fprintf(w, "… and %d more\n", bad-maxShownProblems)
	}
	return fmt.Errorf("%d of %d records are not events the pipeline accepts (reasons above); nothing was sent (--raw sends them as they are, to be quarantined)", bad, len(ins))
}

// readInputs reads a file, a directory or stdin ("-"). In a directory, the samples of the
// functions that take no records (API Gateway requests, authorizer events) are skipped, said on
// notes.
func readInputs(stdin io.Reader, arg string, notes io.Writer) ([]input, error) {
	if arg == "-" {
		raw, err := io.ReadAll(stdin)
		if err != nil {
			return nil, err
		}
		return parseInputs(raw, "stdin")
	}
	info, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		raw, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		return parseInputs(raw, arg)
	}
	var out []input
	err = filepath.WalkDir(arg, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".ndjson")) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if what := notRecords(raw); what != "" {
			fmt.Fprintf(notes, "skipped %s: %s, not events\n", path, what)
			return nil
		}
		ins, err := parseInputs(raw, path)
		out = append(out, ins...)
		return err
	})
	return out, err
}

// notRecords says what a sample of events/ holds when it is the event of a function that takes no
// records: an API Gateway request or a TOKEN authorizer's event; "" otherwise.
func notRecords(raw []byte) string {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	if _, ok := probe["httpMethod"]; ok {
		return "an API Gateway request (a sample for the query function)"
	}
	if _, ok := probe["authorizationToken"]; ok {
		return "an authorizer's event (a sample for the authorizer function)"
	}
	return ""
}

// parseInputs reads one JSON value (an event, an array of events, a Kinesis event or a type
// function batch) or NDJSON, keeping the line each record begins on.
func parseInputs(raw []byte, name string) ([]input, error) {
	var whole any
	if json.Unmarshal(raw, &whole) == nil {
		switch v := whole.(type) {
		case []any:
			elems, err := elements(raw, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out := make([]input, len(elems))
			for i, e := range elems {
				out[i] = input{rec: record(e.raw), file: name, line: lineOf(raw, e.off)}
			}
			return out, nil
		case map[string]any:
			if _, ok := v["Records"]; ok {
				return kinesisSample(raw, name)
			}
			if _, ok := v["records"]; ok {
				return batchSample(raw, name)
			}
			return []input{{rec: record(bytes.TrimSpace(raw)), file: name, line: lineOf(raw, firstNonSpace(raw, 0))}}, nil
		}
	}
	var out []input
	s := bufio.NewScanner(bytes.NewReader(raw))
	s.Buffer(make([]byte, 0, 64<<10), 2<<20)
	for line := 1; s.Scan(); line++ {
		if t := bytes.TrimSpace(s.Bytes()); len(t) > 0 {
			out = append(out, input{rec: record(append([]byte(nil), t...)), file: name, line: line})
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no JSON event, array of events or NDJSON", name)
	}
	return out, nil
}

// kinesisSample reads the records of a Kinesis event (events/router/kinesis.json): their data.
func kinesisSample(raw []byte, name string) ([]input, error) {
	elems, err := elements(raw, "Records")
	if err != nil {
		return nil, fmt.Errorf("%s: not a Kinesis event: %w", name, err)
	}
	out := make([]input, len(elems))
	for i, e := range elems {
		var r events.KinesisEventRecord
		if err := json.Unmarshal(e.raw, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: record %d of the Kinesis event: %w", name, lineOf(raw, e.off), i, err)
		}
		pk := r.Kinesis.PartitionKey
		if pk == "" {
			pk = record(r.Kinesis.Data).PartitionKey
		}
		out[i] = input{rec: producer.Record{Data: r.Kinesis.Data, PartitionKey: pk}, file: name, line: lineOf(raw, e.off),
			note: fmt.Sprintf("the data of Records[%d]", i)}
	}
	return out, nil
}

// batchSample reads the events of a type function's batch (events/transaction/batch.json).
func batchSample(raw []byte, name string) ([]input, error) {
	elems, err := elements(raw, "records")
	if err != nil {
		return nil, fmt.Errorf("%s: not a type function batch: %w", name, err)
	}
	out := make([]input, len(elems))
	for i, e := range elems {
		var r struct {
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(e.raw, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: records[%d] of the batch: %w", name, lineOf(raw, e.off), i, err)
		}
		out[i] = input{rec: record(r.Event), file: name, line: lineOf(raw, e.off), note: fmt.Sprintf("the event of records[%d]", i)}
	}
	return out, nil
}

// element is one value of a JSON array and its byte offset in the document.
type element struct {
	raw json.RawMessage
	off int
}

// elements returns the values of the array at the top of raw (key "") or under the top-level
// member key (its exact name), with their offsets.
func elements(raw []byte, key string) ([]element, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if key != "" {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil, errors.New("want a JSON object")
		}
		for {
			if !dec.More() {
				return nil, fmt.Errorf("no %q member", key)
			}
			t, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if t == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, fmt.Errorf("want an array (%v)", err)
	}
	var out []element
	for dec.More() {
		off := firstNonSpace(raw, int(dec.InputOffset()))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, element{raw: v, off: off})
	}
	return out, nil
}

// firstNonSpace is the offset of the first byte at or after from that is neither JSON white space
// nor a comma: where the next value begins.
func firstNonSpace(raw []byte, from int) int {
	for from < len(raw) && strings.IndexByte(" \t\r\n,", raw[from]) >= 0 {
		from++
	}
	return from
}

// lineOf is the line (from 1) of the byte at off.
func lineOf(raw []byte, off int) int { return 1 + bytes.Count(raw[:min(off, len(raw))], []byte{'\n'}) }

// record keys a record by the account its envelope (or prototype shape) names.
func record(b []byte) producer.Record {
	pk := "unknown"
	if e, err := event.Decode(b); err == nil {
		pk = e.Subject
	} else {
		var w struct {
			Subject string `json:"subject"`
		}
		if json.Unmarshal(b, &w) == nil && w.Subject != "" {
			pk = w.Subject
		}
	}
	return producer.Record{Data: b, PartitionKey: pk}
}
