package rie

import (
	"net"
	"os"
	"testing"
)

// TestListensOn: the port's listening socket is found in the process that holds it, and not in
// one that only could connect to it.
func TestListensOn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if ok, err := listensOn(os.Getpid(), port); err != nil || !ok {
		t.Errorf("this process listens on %d: got %v, %v", port, ok, err)
	}
	if ok, err := listensOn(os.Getppid(), port); err == nil && ok {
		t.Errorf("the parent process does not listen on %d, but listensOn says it does", port)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	if ok, err := listensOn(os.Getpid(), free); err != nil || ok {
		t.Errorf("nobody listens on %d: got %v, %v", free, ok, err)
	}
}
