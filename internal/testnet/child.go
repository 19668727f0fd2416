package testnet

import (
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/loopback"
)

// FreeAddrs returns n distinct addresses of 127.0.0.1 that are free when
// it returns (see Deployment on what that promises).
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs, err := loopback.FreeAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// Child is a process that runs the test binary itself as a program: a
// test's TestMain sees env and runs the program instead of the tests.
// That is how a test runs nodes as separate processes, to kill one with
// SIGKILL.
type Child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
}

// StartChild starts the test binary with env added to the environment,
// its standard output and error going to stdout and stderr, and its
// standard input to Stdin. The test's cleanup stops it (SIGTERM).
func StartChild(t testing.TB, env []string, stdout, stderr io.Writer) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Child{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { c.Signal(t, syscall.SIGTERM) })
	return c
}

// Stdin is the child's standard input.
func (c *Child) Stdin() io.Writer { return c.stdin }

// Exited is closed once the child has exited and its output is written.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// ExitCode returns the child's exit code once it has exited (-1 if a
// signal ended it).
func (c *Child) ExitCode() int { return c.cmd.ProcessState.ExitCode() }

// Signal sends sig to the child, unless it has exited, and waits for it
// to exit: at most a minute, then the test fails.
func (c *Child) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(time.Minute):
		t.Errorf("child %d did not exit on %v", c.cmd.Process.Pid, sig)
	}
}
