// Package emulators starts and stops local AWS emulators for integration tests:
// kinesalite (Kinesis) and DynamoDB Local, each as a child process listening on a
// loopback port.
//
// The emulators are installed by scripts/install-emulators.sh (or `make tools`), or by
// Install (eventctl does it on first use, with the same pins), into the repository root, or
// into $GEP_TOOLS_DIR when that is set, or outside a clone into the user cache directory
// (os.UserCacheDir()/go-event-processor); see ToolsDir.
// Every process runs in its own process group, so Stop ends it together with any
// children. On Linux a process is also killed when the test binary dies.
//
// Tests normally use the shared stack in package emutest instead of calling
// StartKinesis and StartDynamoDB themselves.
package emulators
