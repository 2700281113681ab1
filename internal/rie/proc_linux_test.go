package rie

import (
	"net"
	"os"
	"testing"
)

// TestListensOn: the port's listening socket is found in the session of the process that holds
// it, and not in another session.
func TestListensOn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, sid, ok := procStat(os.Getpid())
	if !ok {
		t.Fatal("cannot read this process's session from /proc")
	}
	if ok, err := listensOn(sid, port); err != nil || !ok {
		t.Errorf("this process listens on %d: got %v, %v", port, ok, err)
	}
	if ok, err := listensOn(1, port); err == nil && ok && sid != 1 {
		t.Errorf("session 1 does not listen on %d, but listensOn says it does", port)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	if ok, err := listensOn(sid, free); err != nil || ok {
		t.Errorf("nobody listens on %d: got %v, %v", free, ok, err)
	}
}
