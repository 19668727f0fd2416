package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
)

// TestReplica runs a replica of a one-node membership in the test's
// process: it runs until its context ends, then returns nil, and a
// second start from the same data directory is the next incarnation.
func TestReplica(t *testing.T) {
	dir := t.TempDir()
	membershipFile := testnet.Deployment(t, dir, 1)
	data := filepath.Join(dir, "data")
	for incarnation := 1; incarnation <= 2; incarnation++ {
		var out testnet.Output
		cmd := newRootCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"replica", "--membership", membershipFile, "--id", "0", "--data", data})
		ctx, cancel := context.WithCancel(context.Background())
		done, exited := make(chan error, 1), make(chan struct{})
		go func() {
			done <- cmd.ExecuteContext(ctx)
			close(exited)
		}()
		out.WaitFor(t, "replica", fmt.Sprintf("node 0 (incarnation %d) running", incarnation), exited, time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("start %d: %v\n%s", incarnation, err, &out)
		}
	}
}

func TestReplicaBadFlags(t *testing.T) {
	dir := t.TempDir()
	membershipFile := testnet.Deployment(t, dir, 2)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replica", "--id", "0"}, `"membership" not set`},
		{[]string{"replica", "--membership", membershipFile}, `"id" not set`},
		{[]string{"replica", "--membership", membershipFile, "--id", "7"}, `node "7" is not in`},
		{[]string{"replica", "--membership", membershipFile, "--id", "0", "--key", testnet.KeyFile(dir, 1)}, "is not the key of node 0"},
		{[]string{"replica", "--membership", filepath.Join(dir, "none.json"), "--id", "0"}, "none.json"},
	} {
		out, err := run(t, c.args...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("%q: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
}
