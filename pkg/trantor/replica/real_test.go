package replica_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
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
	id  stdtypes.NodeID
	cmd *exec.Cmd
	// exited is closed once the process has exited and its output is
	// read.
	exited chan struct{}
	stderr strings.Builder
}

// startProcess starts replica id; its "state" lines go to st.
func startProcess(t *testing.T, id stdtypes.NodeID, membershipFile, dataDir, clientAddr string, st *states) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1", childEnv+"_ID="+string(id), childEnv+"_MEMBERSHIP="+membershipFile,
		childEnv+"_DATA="+dataDir, childEnv+"_CLIENT="+clientAddr)
	p := &process{id: id, cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.exited)
		readStates(out, id, st)
		_ = cmd.Wait()
	}()
	return p
}

// readStates reads a replica's output until it ends.
func readStates(out io.Reader, id stdtypes.NodeID, st *states) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "state" {
			continue
		}
		n, err1 := strconv.ParseUint(f[1], 10, 64)
		head, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || len(head) != 32 {
			continue
		}
		st.report(id, n, [32]byte(head))
	}
	_, _ = io.Copy(io.Discard, out)
}

// signal sends sig to the process and waits for it to exit.
func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		t.Fatalf("replica %s did not exit on %v", p.id, sig)
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
	clientAddrs := freeAddrs(t, len(ids))
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
			p.signal(t, syscall.SIGTERM)
			if p.cmd.ProcessState.ExitCode() != 0 {
				t.Errorf("replica %s exited with %v: %s", p.id, p.cmd.ProcessState, p.stderr.String())
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
	procs[victim].signal(t, syscall.SIGKILL)
	time.Sleep(1000 * time.Millisecond)
	start(victim)
	restarted := time.Now()
	before := st.max()
	time.Sleep(1500 * time.Millisecond)
	n := ld.stop(t)

	st.waitAll(t, ids, n)
	t.Logf("%d transactions; the killed replica restarted %v after its kill and applied the %d transactions executed before its restart within %v",
		n, time.Second, before, st.reachedAfter(ids[victim], before, restarted))
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		if s := st.last[id]; s.n != n || s.head != st.at[n] {
			t.Errorf("replica %s ended with %d transactions, head %x; want %d, %x", id, s.n, s.head[:4], n, st.at[n])
		}
	}
}

// freeAddrs returns n free addresses of 127.0.0.1 (free when it returns).
func freeAddrs(t *testing.T, n int) []string {
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		l.Close()
	}
	return addrs
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
