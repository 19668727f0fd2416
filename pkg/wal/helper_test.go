package wal

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Tests that need a second process run the test binary again with
// helperEnv set to a role; TestMain then calls helperMain instead of the
// tests.
const (
	helperEnv    = "WAL_TEST_HELPER"
	helperDirEnv = "WAL_TEST_DIR"
)

// helperOptions are the options of the helper processes' logs: small
// segments, so that a run crosses several.
var helperOptions = Options{SegmentBytes: 64 << 10, MaxRecordBytes: 4 << 10}

// helperMain runs a helper process and returns its exit status.
//
//   - "hold" opens the log, writes "open" and waits for its stdin to
//     close.
//   - "append" opens the log and appends from 4 goroutines until killed,
//     writing "<index> <data>" for every record once it is durable.
//   - "node" runs a node with a WAL module and a counter (helperNode).
func helperMain(role string) int {
	if role == "node" {
		return helperNode(os.Getenv(helperDirEnv))
	}
	l, err := Open(os.Getenv(helperDirEnv), helperOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch role {
	case "hold":
		fmt.Println("open")
		_, _ = io.Copy(io.Discard, os.Stdin)
	case "append":
		var mu sync.Mutex // one line at a time on stdout
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					data := fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", (i*97)%3000))
					index, err := l.Append([]byte(data))
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(1)
					}
					mu.Lock()
					fmt.Printf("%d %s\n", index, data)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	default:
		fmt.Fprintf(os.Stderr, "unknown helper role %q\n", role)
		return 2
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startHelper starts the test binary as a helper process on dir and
// returns it with its stdout.
func startHelper(t *testing.T, role, dir string) (*exec.Cmd, *bufio.Scanner, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	return cmd, sc, stdin
}

// TestLockedByAnotherProcess: a log open in another process cannot be
// opened, until that process dies, however it dies.
func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, out, stdin := startHelper(t, "hold", dir)
	defer stdin.Close()
	if !out.Scan() || out.Text() != "open" {
		t.Fatalf("helper said %q, %v", out.Text(), out.Err())
	}
	_, err := Open(dir, helperOptions)
	wantErr(t, err, ErrLocked)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := Open(dir, helperOptions)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
}

// killTest skips a test that kills processes in short mode, and returns
// its source of randomness, from a seed it logs.
func killTest(t *testing.T) *rand.Rand {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// TestKill9 kills a process that appends in a loop (SIGKILL) at random
// moments, several times over one directory, and checks after each kill
// that every record the process reported durable is there, intact.
func TestKill9(t *testing.T) {
	rng := killTest(t)
	dir := t.TempDir()
	durable := map[uint64]string{} // every record reported durable
	const kills = 5
	for round := range kills {
		cmd, out, stdin := startHelper(t, "append", dir)
		// Kill after a random number of records, while the four writers
		// are in the middle of their appends.
		lines := 20 + rng.IntN(400)
		for range lines {
			if !out.Scan() {
				t.Fatalf("round %d: helper stopped: %v", round, out.Err())
			}
			index, data, ok := strings.Cut(out.Text(), " ")
			i, err := strconv.ParseUint(index, 10, 64)
			if !ok || err != nil {
				t.Fatalf("round %d: helper said %q", round, out.Text())
			}
			durable[i] = data
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Lines written before the kill are durable too.
		for out.Scan() {
			index, data, _ := strings.Cut(out.Text(), " ")
			i, _ := strconv.ParseUint(index, 10, 64)
			durable[i] = data
		}
		_ = stdin.Close()
		_ = cmd.Wait()

		l, err := Open(dir, helperOptions)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		recs, err := collect(l.Records(0))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		mustClose(t, l)
		found := map[uint64]string{}
		for k, rec := range recs {
			if rec.Index != uint64(k+1) {
				t.Fatalf("round %d: record %d has index %d", round, k+1, rec.Index)
			}
			found[rec.Index] = string(rec.Data)
		}
		for i, data := range durable {
			if found[i] != data {
				t.Fatalf("round %d: record %d reported durable as %.20q, found %.20q", round, i, data, found[i])
			}
		}
		t.Logf("round %d: %d records on disk, %d reported durable", round, len(recs), len(durable))
	}
}
