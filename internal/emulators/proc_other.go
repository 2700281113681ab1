//go:build !unix

package emulators

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr does nothing: process groups are not available here.
func setProcAttr(*exec.Cmd) {}

// signalGroup kills the process pid; without process groups its children
// survive, and every signal is a kill.
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	err = p.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return syscall.ESRCH
	}
	return err
}
