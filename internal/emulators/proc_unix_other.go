//go:build unix && !linux

package emulators

import "syscall"

// setDeathSignal does nothing: parent-death signals are Linux only.
func setDeathSignal(*syscall.SysProcAttr) {}
