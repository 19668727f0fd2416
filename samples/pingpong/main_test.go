package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/internal/cli"
)

// TestMain fails the tests if a goroutine outlives them: run must stop
// both nodes and everything they started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-count", "3", "-interval", "5ms"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"node 0 pings node 1 every 5ms until it has 3 pongs\n",
		"pong 1/3 seq=1 rtt=", "pong 2/3 seq=2 rtt=", "pong 3/3 seq=3 rtt=",
		"pongs received: 3\n",
		"messages dropped: 0 by the network, 0 as invalid\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A fourth ping may leave before the third pong is in: the pinger
	// pings every tick until it has its pongs.
	if !regexp.MustCompile(`(?m)^pings sent: [34], pongs received: 3$`).MatchString(out) {
		t.Errorf("output lacks the count of pings and pongs:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^rtt min/median/p99/max: \S+ / \S+ / \S+ / \S+$`).MatchString(out) {
		t.Errorf("output lacks the round-trip times:\n%s", out)
	}
	if stderr.Len() > 0 {
		t.Errorf("unexpected output on stderr:\n%s", &stderr)
	}
}

func TestRunTimeout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-count", "3", "-interval", "1h", "-timeout", "20ms"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "gave up after 20ms with 0 of 3 pongs") {
		t.Fatalf("run = %v, want it to give up", err)
	}
	if !strings.Contains(stdout.String(), "pings sent: 0, pongs received: 0\n") {
		t.Errorf("no summary after giving up:\n%s", &stdout)
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-count", "3", "-interval", "1h"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("run = %v, want it interrupted", err)
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-count", "0"},
		{"-interval", "-1s"},
		{"-timeout", "-1s"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
		if !strings.Contains(stderr.String(), "Usage: pingpong") {
			t.Errorf("run(%q) printed no usage:\n%s", args, &stderr)
		}
	}
}
