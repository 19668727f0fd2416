// Package testnet helps the tests that run nodes over TCP on 127.0.0.1 as
// the samples' programs do: a membership on free ports with the nodes' key
// files, the output of a node that runs in the test's process, and nodes
// run as processes of their own (Child).
package testnet

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// Deployment writes to dir a membership of n nodes on free ports of
// 127.0.0.1, in membership.json, and each node's private key, in
// node-I.key: the files `mir membership generate` writes, and the
// samples' programs read. It returns the membership file's path.
//
// A port is free when Deployment returns, and the node listens on it only
// when it starts: another program could take it meanwhile, which is
// unlikely. A test that makes the transports itself passes each a
// listener instead (tcp.Options.Listener), which nobody can take.
func Deployment(t testing.TB, dir string, n int) string {
	t.Helper()
	addrs := FreeAddrs(t, n)
	m, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "membership.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if err := crypto.SavePrivateKey(KeyFile(dir, i), k); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// KeyFile returns the path of node i's key file in dir, as Deployment
// writes it (membership.KeyFile).
func KeyFile(dir string, i int) string {
	path, err := membership.KeyFile(dir, stdtypes.NewNodeIDFromInt(i))
	if err != nil {
		panic(err) // A number always names a file.
	}
	return path
}

// Output collects what a node prints while the test reads it: it is safe
// for concurrent use, and each write wakes WaitFor, so that a test waits
// for a line without polling. The zero value is an empty Output.
type Output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // Has a value after a write that WaitFor has not seen.
}

// written returns the channel that signals writes, made on first use.
// o.mu must be held.
func (o *Output) written() chan struct{} {
	if o.wrote == nil {
		o.wrote = make(chan struct{}, 1)
	}
	return o.wrote
}

// Write appends p to the output.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.written() <- struct{}{}:
	default:
	}
	return o.buf.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitFor waits until the output holds want, and fails the test if done
// closes or timeout passes first. who names the node in the failure.
func (o *Output) WaitFor(t testing.TB, who, want string, done <-chan struct{}, timeout time.Duration) {
	t.Helper()
	o.mu.Lock()
	wrote := o.written()
	o.mu.Unlock()
	deadline := time.After(timeout)
	for !strings.Contains(o.String(), want) {
		select {
		case <-wrote:
		case <-done:
			if !strings.Contains(o.String(), want) {
				t.Fatalf("%s ended without printing %q:\n%s", who, want, o)
			}
		case <-deadline:
			t.Fatalf("%s did not print %q within %v:\n%s", who, want, timeout, o)
		}
	}
}
