package replica_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/pkg/trantor/replica"
	"github.com/mirframework/mir/stdtypes"
)

// waitTimeout bounds every wait: long enough for a loaded machine.
const waitTimeout = 20 * time.Second

// states collects the application states replicas report, per replica.
type states struct {
	mu   sync.Mutex
	last map[stdtypes.NodeID]appState
	// at maps a log length to the head some replica had there, to check
	// that every replica that reached it had the same.
	at map[uint64][sha256.Size]byte
	// restored counts the states each replica restored.
	restored map[stdtypes.NodeID]int
	bad      error
	// changed is signalled after each report.
	changed chan struct{}
}

type appState struct {
	n    uint64
	head [sha256.Size]byte
}

func (s appState) String() string { return fmt.Sprintf("%d:%x", s.n, s.head[:4]) }

func newStates() *states {
	return &states{
		last: map[stdtypes.NodeID]appState{}, at: map[uint64][sha256.Size]byte{}, restored: map[stdtypes.NodeID]int{},
		changed: make(chan struct{}, 1),
	}
}

func (s *states) report(id stdtypes.NodeID, n uint64, head [sha256.Size]byte, restored bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[id] = appState{n, head}
	if restored {
		s.restored[id]++
	}
	if h, ok := s.at[n]; ok && h != head && s.bad == nil {
		s.bad = fmt.Errorf("replica %s has head %x after %d transactions, another had %x", id, head[:4], n, h[:4])
	} else if !ok {
		s.at[n] = head
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// waitAll waits until every replica of ids has applied n transactions,
// and fails the test if states diverged.
func (s *states) waitAll(t *testing.T, ids []stdtypes.NodeID, n uint64) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		s.mu.Lock()
		bad, done := s.bad, true
		for _, id := range ids {
			done = done && s.last[id].n >= n
		}
		got := fmt.Sprint(s.last)
		s.mu.Unlock()
		if bad != nil {
			t.Fatal(bad)
		}
		if done {
			return
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("replicas did not all apply %d transactions: %s", n, got)
		}
	}
}

// TestReplicasAnswerClient: four replicas in this process, over TCP on
// 127.0.0.1, each with a WAL in its data directory; a client submits over
// TCP and gets each transaction's result (its position in the log), each
// once; every replica ends with the same state. Then one replica stops
// and starts again from its data directory, with a higher incarnation,
// and catches up. That one records its events: one run per start, with
// the slots it executed.
func TestReplicasAnswerClient(t *testing.T) {
	dir := t.TempDir()
	members, err := membership.Load(testnet.Deployment(t, dir, 4))
	if err != nil {
		t.Fatal(err)
	}
	ids := members.IDs()
	params := trantor.DefaultParams(members.Voters())
	st := newStates()
	// Client ports no outgoing connection is given: replica 3 listens on
	// its own again after its restart.
	clientAddrs := testnet.FreeAddrs(t, len(ids))
	listeners := make([]net.Listener, len(ids))
	for i := range listeners {
		if listeners[i], err = net.Listen("tcp", clientAddrs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Replica 0 serves its statistics to Prometheus.
	metricsL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	start := func(i int, l net.Listener) (*replica.Replica, func()) {
		id := ids[i]
		key, err := crypto.LoadPrivateKey(testnet.KeyFile(dir, i))
		if err != nil {
			t.Fatal(err)
		}
		var record string
		if i == 3 {
			record = filepath.Join(dir, "events")
		}
		var metricsListener net.Listener
		if i == 0 {
			metricsListener = metricsL
		}
		r, err := replica.New(replica.Config{
			RecordDir: record, MetricsListener: metricsListener,
			ID: id, Members: members, Key: key, DataDir: filepath.Join(dir, "data", string(id)),
			ClientAddr: l.Addr().String(), ClientOptions: client.ServerOptions{Listener: l}, Params: params,
			NewApp: func() trantor.App {
				return &countApp{report: func(n uint64, h [sha256.Size]byte, restored bool) { st.report(id, n, h, restored) }}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		stop := func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("replica %s: %v", id, err)
			}
		}
		return r, stop
	}
	stops := make([]func(), len(ids))
	addrs := make([]string, len(ids))
	for i := range ids {
		var r *replica.Replica
		r, stops[i] = start(i, listeners[i])
		if r.Incarnation() != 1 {
			t.Errorf("first incarnation %d, want 1", r.Incarnation())
		}
		addrs[i] = listeners[i].Addr().String()
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()

	c, err := client.Dial(addrs, 1, client.Options{ClientID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const txs = 50
	submitAll(t, c, 0, txs)
	st.waitAll(t, ids, txs)
	checkMetrics(t, "http://"+metricsL.Addr().String()+"/metrics", txs)

	// A restart from the same data directory: a higher incarnation, and
	// the replica catches up with what was executed while it was down.
	stops[3]()
	stops[3] = func() {}
	submitAll(t, c, txs, txs)
	l, err := net.Listen("tcp", addrs[3])
	if err != nil {
		t.Fatal(err)
	}
	r, stop := start(3, l)
	stops[3] = stop
	if r.Incarnation() != 2 {
		t.Errorf("incarnation %d after a restart, want 2", r.Incarnation())
	}
	submitAll(t, c, 2*txs, txs)
	st.waitAll(t, ids, 3*txs)
	for i, stop := range stops {
		stop()
		stops[i] = func() {}
	}
	runs, executed := readRecording(t, filepath.Join(dir, "events"))
	if runs != 2 || executed == 0 {
		t.Fatalf("the recording holds %d runs and %d Executed events, want 2 runs and some", runs, executed)
	}
}

// readRecording returns the runs recorded in dir and the Executed events.
func readRecording(t *testing.T, dir string) (runs, executed int) {
	t.Helper()
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	seen := map[int64]bool{}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			return len(seen), executed
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[rec.Run] = true
		if ev, err := rec.Decode(); err != nil {
			t.Fatal(err)
		} else if _, ok := ev.(*trantor.Executed); ok {
			executed++
		}
	}
}

// submitAll submits n transactions, numbered from first, and checks their
// results: each the position in the log of a transaction executed once.
func submitAll(t *testing.T, c *client.Client, first, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var calls []*client.Call
	for i := range n {
		call, err := c.SubmitAsync(ctx, []byte(fmt.Sprint("tx", first+i)))
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, call)
	}
	seen := map[uint64]bool{}
	for i, call := range calls {
		res, err := call.Wait(ctx)
		if err != nil {
			t.Fatalf("transaction %d: %v", first+i, err)
		}
		pos, err := strconv.ParseUint(string(res), 10, 64)
		if err != nil || pos == 0 || pos > uint64(first+n) || seen[pos] {
			t.Fatalf("transaction %d: result %q (a position seen before, or beyond %d transactions)", first+i, res, first+n)
		}
		seen[pos] = true
	}
}

// max returns the largest number of transactions a replica applied.
func (s *states) max() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n uint64
	for _, st := range s.last {
		n = max(n, st.n)
	}
	return n
}

// reachedAfter waits until replica id has applied n transactions and
// returns how long after since that took.
func (s *states) reachedAfter(id stdtypes.NodeID, n uint64, since time.Time) time.Duration {
	for {
		s.mu.Lock()
		done := s.last[id].n >= n
		s.mu.Unlock()
		if done {
			return time.Since(since)
		}
		<-s.changed
	}
}

func (s *states) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.last)
}

// TestConfigRefused: New refuses an incomplete configuration, and a second
// replica on a data directory in use; a replica never run is closed.
func TestConfigRefused(t *testing.T) {
	good := newDeployment(t).config(0)
	for name, change := range map[string]func(*replica.Config){
		"no members":    func(c *replica.Config) { c.Members = nil },
		"unknown ID":    func(c *replica.Config) { c.ID = "9" },
		"no data dir":   func(c *replica.Config) { c.DataDir = "" },
		"no client":     func(c *replica.Config) { c.ClientAddr = "" },
		"no app":        func(c *replica.Config) { c.NewApp = nil },
		"another's key": func(c *replica.Config) { c.ID = "1" },
		"bad params":    func(c *replica.Config) { c.Params.ISS.SegmentLength = 0 },
	} {
		c := good
		change(&c)
		if r, err := replica.New(c); err == nil {
			r.Close()
			t.Errorf("%s: accepted", name)
		}
	}
	r, err := replica.New(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replica.New(good); err == nil {
		t.Error("a second replica on the same data directory was made")
	}
	first := r.Incarnation()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = replica.New(good)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if r.Incarnation() != first+1 {
		t.Errorf("incarnation %d after %d", r.Incarnation(), first)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkMetrics scrapes a replica's statistics and checks that they tell
// it executed at least txs transactions.
func checkMetrics(t *testing.T, url string, txs int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping the metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping the metrics: status %d, %v", resp.StatusCode, err)
	}
	// The client server's families (metrics.ClientServer).
	for _, family := range []string{"mir_client_server_transactions_total{", "mir_client_server_latency_seconds_count{"} {
		if !strings.Contains(string(body), "\n"+family) {
			t.Errorf("metrics lack %s}", family)
		}
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "mir_batchfetcher_executed_total{"); ok {
			_, value, _ := strings.Cut(rest, "} ")
			if n, err := strconv.ParseFloat(value, 64); err != nil || n < float64(txs) {
				t.Errorf("metrics: %q, want at least %d executed", line, txs)
			}
			return
		}
	}
	t.Errorf("metrics lack mir_batchfetcher_executed_total:\n%s", body)
}

// A replica closed without being run closes the metrics listener it was
// given, as Run would have.
func TestCloseWithoutRunClosesMetricsListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := newDeployment(t).config(0)
	cfg.MetricsListener = l
	r, err := replica.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A deadline, so that a listener left open fails the test, not hangs it.
	_ = l.(*net.TCPListener).SetDeadline(time.Now().Add(time.Second))
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on the metrics listener after Close: %v, want net.ErrClosed", err)
	}
}
