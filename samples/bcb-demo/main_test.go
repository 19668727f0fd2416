package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/internal/cli"
)

// TestMain fails the tests if a goroutine outlives them: run must stop
// the nodes and everything they started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// checkDelivered checks that every node delivered each text, in order.
func checkDelivered(t *testing.T, out string, texts []string) {
	t.Helper()
	for _, id := range ids {
		var got []string
		for line := range strings.SplitSeq(out, "\n") {
			if rest, ok := strings.CutPrefix(line, fmt.Sprintf("node %s delivered ", id)); ok {
				got = append(got, rest)
			}
		}
		var want []string
		for i, text := range texts {
			want = append(want, fmt.Sprintf("0/%d: %s", i, text))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("node %s delivered %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("every node delivered all %d\n", len(texts))) {
		t.Errorf("no final line:\n%s", out)
	}
	// Stale retransmissions and echoes beyond the quorum may be dropped;
	// nothing invalid may.
	if !strings.Contains(out, ", of which invalid: 0\n") {
		t.Errorf("invalid messages dropped:\n%s", out)
	}
}

func TestArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	texts := []string{"hello", "consistent", "broadcast"}
	if err := run(context.Background(), texts, strings.NewReader("ignored\n"), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s%s", err, &stdout, &stderr)
	}
	checkDelivered(t, stdout.String(), texts)
	if stderr.Len() > 0 {
		t.Errorf("stderr:\n%s", &stderr)
	}
}

func TestStandardInput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	var texts []string
	for i := range 20 {
		texts = append(texts, fmt.Sprintf("line %d", i))
	}
	stdin := strings.NewReader(strings.Join(texts, "\n") + "\n")
	if err := run(context.Background(), []string{"-timeout", "20s"}, stdin, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s%s", err, &stdout, &stderr)
	}
	checkDelivered(t, stdout.String(), texts)
}

func TestEmptyInput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), nil, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	checkDelivered(t, stdout.String(), nil)
}

func TestLineTooLong(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), nil, strings.NewReader(strings.Repeat("x", maxLineBytes+1)+"\n"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Fatalf("run = %v, want an error about the input", err)
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"x"}, strings.NewReader(""), &stdout, &stderr); err == nil {
		t.Fatal("run succeeded after its context ended")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-timeout", "0"}, {"-gap-timeout", "0"}, {"-nosuchflag"}, {strings.Repeat("x", maxLineBytes+1)}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%.20q: run = %v, want a usage error", args, err)
		}
	}
}
