package emulators

import "syscall"

// setDeathSignal makes the kernel SIGKILL the child when the parent dies, so a
// crashed or timed-out test binary leaves no emulator behind.
func setDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
