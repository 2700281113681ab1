// Package goeventprocessor carries the repository files that eventctl needs when it runs outside
// a clone (installed with go install): the SAM template, the local stack's API keys, the sample
// events, and the npm manifest that pins the Kinesis emulator. It is not an API: eventctl reads
// these files from the repository when it runs in one, and from here otherwise.
package goeventprocessor

import "embed"

// Files holds template.yaml, api-keys.local.json, package.json, package-lock.json and events/,
// as they are in the repository this eventctl was built from.
//
//go:embed template.yaml api-keys.local.json package.json package-lock.json events
var Files embed.FS
