package rie

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// supported reports whether the emulator can run here.
const supported = true

// setProcAttr starts the emulator as the leader of a new session (and so of a new process group)
// and makes the kernel SIGKILL it when the test binary or tool that started it dies. The
// emulator starts each bootstrap in a process group of its own, but in the same session, so the
// session finds them all.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }

// signalSession sends sig to the process group led by sid and to every live process of the
// session sid, and returns how many processes of the session (other than zombies) it found.
func signalSession(sid int, sig syscall.Signal) (int, error) {
	var errs []error
	if err := syscall.Kill(-sid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		errs = append(errs, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	found := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, session, ok := procStat(pid)
		if !ok || session != sid || state == 'Z' {
			continue
		}
		found++
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
		}
	}
	return found, errors.Join(errs...)
}

// procStat returns the state and session id of process pid, from /proc/PID/stat.
func procStat(pid int) (state byte, session int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp session ...; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return 0, 0, false
	}
	session, err = strconv.Atoi(string(f[3]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], session, true
}

// listensOn reports whether a process of the session sid (the emulator's: it leads its own
// session, so sid is its pid) holds a listening TCP socket on the loopback port. A port that
// merely accepts connections may belong to another process that took it between pickPorts and
// the emulator's bind; a wrapper that starts the emulator as its child is still in the session.
func listensOn(sid, port int) (bool, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return false, err
		}
		for _, line := range bytes.Split(b, []byte("\n"))[1:] {
			f := bytes.Fields(line)
			if len(f) < 10 || string(f[3]) != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := bytes.Cut(f[1], []byte(":"))
			if p, err := strconv.ParseUint(string(hexPort), 16, 16); ok && err == nil && int(p) == port {
				inodes["socket:["+string(f[9])+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return false, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pid != sid {
			if _, session, ok := procStat(pid); !ok || session != sid {
				continue
			}
		}
		dir := "/proc/" + e.Name() + "/fd"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			if target, err := os.Readlink(dir + "/" + fd.Name()); err == nil && inodes[target] {
				return true, nil
			}
		}
	}
	return false, nil
}
