//go:build !linux

package rie

import (
	"errors"
	"os/exec"
	"syscall"
)

// supported reports whether the emulator can run here: aws-lambda-rie is Linux only.
const supported = false

func setProcAttr(*exec.Cmd) {}

func signalGroup(int, syscall.Signal) error { return nil }

func signalSession(int, syscall.Signal) (int, error) { return 0, nil }

func listensOn(int, int) (bool, error) { return false, errors.ErrUnsupported }
