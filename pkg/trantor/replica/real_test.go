package replica_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

// process is one replica running as a child process (the test binary,
// made a replica by childEnv).
type process struct {
	*testnet.Child
	id     stdtypes.NodeID
	stderr testnet.Output
}

// startProcess starts replica id; its "state" lines go to st.
func startProcess(t *testing.T, id stdtypes.NodeID, membershipFile, dataDir, clientAddr string, st *states) *process {
	t.Helper()
	p := &process{id: id}
	p.Child = testnet.StartChild(t, []string{
		childEnv + "=1", childEnv + "_ID=" + string(id), childEnv + "_MEMBERSHIP=" + membershipFile,
		childEnv + "_DATA=" + dataDir, childEnv + "_CLIENT=" + clientAddr,
	}, &stateLines{st: st, id: id}, &p.stderr)
	return p
}

// stateLines reads the "state" lines of a replica's output.
type stateLines struct {
	st      *states
	id      stdtypes.NodeID
	partial []byte
}

func (w *stateLines) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

func (w *stateLines) line(line string) {
	f := strings.Fields(line)
	restored := len(f) == 4 && f[3] == "restored"
	if (len(f) != 3 && !restored) || f[0] != "state" {
		return
	}
	n, err1 := strconv.ParseUint(f[1], 10, 64)
	head, err2 := hex.DecodeString(f[2])
	if err1 == nil && err2 == nil && len(head) == sha256.Size {
		w.st.report(w.id, n, [sha256.Size]byte(head), restored)
	}
}

// TestRealKill9 is the real test of docs/trantor.md: four replicas, each
// a process of its own, over TCP on 127.0.0.1, with a client submitting
// all along; one replica is killed with SIGKILL mid-run and restarted
// from its data directory. It recovers (its WAL, then state transfer or
// the log), every replica ends with the same application state, and the
// client got one result for each transaction, each a distinct position
// in the log.
func TestRealKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	dir := t.TempDir()
	membershipFile := testnet.Deployment(t, dir, 4)
	members, err := membership.Load(membershipFile)
	if err != nil {
		t.Fatal(err)
	}
	ids := members.IDs()
	clientAddrs := testnet.FreeAddrs(t, len(ids))
	st := newStates()
	procs := make([]*process, len(ids))
	start := func(i int) {
		procs[i] = startProcess(t, ids[i], membershipFile, filepath.Join(dir, "data", string(ids[i])), clientAddrs[i], st)
	}
	for i := range ids {
		start(i)
	}
	defer func() {
		for _, p := range procs {
			p.Signal(t, syscall.SIGTERM)
			if code := p.ExitCode(); code != 0 {
				t.Errorf("replica %s exited with %d: %s", p.id, code, p.stderr.String())
			}
		}
	}()

	c, err := client.Dial(clientAddrs, 1, client.Options{ClientID: "alice", MaxOutstanding: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ld := startLoad(c)
	ld.states = st

	time.Sleep(1500 * time.Millisecond)
	victim := len(ids) - 1
	procs[victim].Signal(t, syscall.SIGKILL)
	time.Sleep(1000 * time.Millisecond)
	start(victim)
	restarted := time.Now()
	before := st.max()
	time.Sleep(1500 * time.Millisecond)
	n := ld.stop(t)

	st.waitAll(t, ids, n)
	caughtUp := st.reachedAfter(ids[victim], before, restarted)
	st.mu.Lock()
	defer st.mu.Unlock()
	t.Logf("%d transactions; the killed replica, restarted %v after its kill, had the %d transactions executed before its restart %v after it (states restored: %d)",
		n, time.Second, before, caughtUp, st.restored[ids[victim]])
	for _, id := range ids {
		if s := st.last[id]; s.n != n || s.head != st.at[n] {
			t.Errorf("replica %s ended with %d transactions, head %x; want %d, %x", id, s.n, s.head[:4], n, st.at[n])
		}
	}
}

// load submits transactions one after another from a goroutine, keeping
// the client's window full, until stopped.
type load struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	calls  []*client.Call
	err    error
	// states are shown when a transaction is not answered.
	states fmt.Stringer
}

func startLoad(c *client.Client) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for i := 0; ctx.Err() == nil; i++ {
			call, err := c.SubmitAsync(ctx, []byte(fmt.Sprint("tx", i)))
			if err != nil {
				if ctx.Err() == nil {
					l.err = err
				}
				return
			}
			l.mu.Lock()
			l.calls = append(l.calls, call)
			l.mu.Unlock()
		}
	}()
	return l
}

// stop stops submitting, waits for every result, checks that each is a
// distinct position in the log, the largest the number of transactions,
// and returns that number.
func (l *load) stop(t *testing.T) uint64 {
	t.Helper()
	l.cancel()
	<-l.done
	if l.err != nil {
		t.Fatal(l.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	seen := make(map[uint64]bool, len(l.calls))
	n := uint64(len(l.calls))
	for i, call := range l.calls {
		res, err := call.Wait(ctx)
		if err != nil {
			var stuck []int
			for j, c := range l.calls {
				select {
				case <-c.Done():
				default:
					stuck = append(stuck, j)
				}
			}
			t.Fatalf("transaction %d of %d: %v; transactions not answered: %v; replicas' states: %s", i, n, err, stuck, l.states)
		}
		pos, err := strconv.ParseUint(string(res), 10, 64)
		if err != nil || pos == 0 || pos > n || seen[pos] {
			t.Fatalf("transaction %d: result %q, a position seen before or beyond %d transactions", i, res, n)
		}
		seen[pos] = true
	}
	return n
}
