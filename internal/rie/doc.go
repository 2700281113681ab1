// Package rie runs Lambda functions the way `sam local invoke` does, without containers: each
// function's bootstrap, built as `sam build` builds it, runs under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie, pinned as a tool in go.mod), one emulator process per
// function, listening on loopback.
//
//	emu, _ := rie.BuildEmulator(ctx, root, cache)
//	boot, _ := rie.BuildFunction(ctx, root, "functions/router", cache)
//	rt, _ := rie.Start(ctx, rie.Function{Name: "router", Bootstrap: boot, Emulator: emu, Env: env})
//	defer rt.Stop()
//	out, err := rt.Invoke(ctx, payload) // or register rt.Func() in a localinvoke.Server
//
// What the emulator does, and what this package does about it:
//
//   - It serves one invocation at a time, and a second request while one is running crashes it,
//     so a Runtime serializes its invocations, even those whose callers gave up waiting.
//   - It answers a function error with 200 (502 when the runtime crashed) and the error JSON
//     {"errorMessage", "errorType"} in the body, without X-Amz-Function-Error, and a timeout
//     with 200 and the text "Task timed out after N.00 seconds". Invoke turns all of these into
//     a *FunctionError (and honours X-Amz-Function-Error should an emulator send it).
//   - It passes its whole environment to the function, so it is started with only the
//     function's environment and the variables Lambda sets (see Start).
//   - It starts the bootstrap on the first invocation, in a process group of its own. A Runtime
//     puts the emulator in a new session and Stop ends every process of that session.
//   - Its REPORT line's "Init Duration" (first invocation only) measures how long the emulator
//     took to hand the init to its sandbox, not the runtime's init; its own log line
//     "INIT REPORT(durationMs: …)" measures the bootstrap's start until it asked for its first
//     event. InitDuration returns the first, RuntimeInitDuration the second.
//
// The emulator runs on Linux only; elsewhere Start returns an error wrapping errors.ErrUnsupported.
package rie
