//go:build unix

package emulators

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in a new process group (so Stop reaches its
// children) and, where supported, kills it when the test binary dies.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
