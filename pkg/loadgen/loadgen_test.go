package loadgen_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/samples/kvstore"
)

func TestMain(m *testing.M) {
	// A generator that was closed and a cluster that was stopped leave no
	// goroutine behind.
	goleak.VerifyTestMain(m)
}

// startLocal starts a 4-replica cluster over TCP for the test.
func startLocal(t *testing.T) *loadgen.Local {
	t.Helper()
	c, err := loadgen.StartLocal(loadgen.LocalOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func dial(t *testing.T, target loadgen.Target) *loadgen.Generator {
	t.Helper()
	g, err := loadgen.Dial(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func kvPuts(t *testing.T, size int) *loadgen.KVPuts {
	t.Helper()
	w, err := loadgen.NewKVPuts(size)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkAnswered fails unless every measured transaction was answered,
// with latencies in order.
func checkAnswered(t *testing.T, res loadgen.Result) {
	t.Helper()
	if res.Completed == 0 || res.Errors != 0 || res.Timeouts != 0 {
		t.Fatalf("completed %d, errors %d, timeouts %d: want all completed", res.Completed, res.Errors, res.Timeouts)
	}
	l := res.Latency
	if !(0 < l.P50Ms && l.P50Ms <= l.P90Ms && l.P90Ms <= l.P99Ms && l.P99Ms <= l.P999Ms && l.P999Ms <= l.MaxMs) {
		t.Fatalf("latency percentiles out of order: %+v", l)
	}
	if want := float64(res.Completed) / res.DurationSeconds; res.Throughput != want {
		t.Fatalf("throughput %g, want %g", res.Throughput, want)
	}
}

// TestOpenAndClosedLoop: both loops against a local cluster over TCP,
// one generator for both runs (the clients carry on across runs), the
// progress reported every second, the warm-up left out.
func TestOpenAndClosedLoop(t *testing.T) {
	c := startLocal(t)
	g := dial(t, loadgen.Target{Addrs: c.ClientAddrs(), F: c.F(), Clients: 4})
	w := kvPuts(t, 512)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.Ready(ctx, w); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var progress []loadgen.Progress
	open, err := g.Run(context.Background(), loadgen.Load{
		Mode: loadgen.OpenLoop, Rate: 200, Warmup: time.Second, Duration: 1500 * time.Millisecond, Workload: w,
		Progress: func(p loadgen.Progress) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, p)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAnswered(t, open)
	// 300 arrivals are expected in 1.5 s at 200/s; Poisson's standard
	// deviation is 17.
	if open.Completed < 150 || open.Completed > 450 {
		t.Errorf("%d transactions completed in the open loop's 1.5 s at 200/s", open.Completed)
	}
	if open.Mode != "open" || open.Rate != 200 || open.TxBytes != 512 {
		t.Errorf("result %+v does not describe the load", open)
	}
	mu.Lock()
	if len(progress) < 2 || !progress[0].Warmup || progress[len(progress)-1].Warmup {
		t.Errorf("progress %+v: want a warm-up second, then a measured one", progress)
	}
	mu.Unlock()

	closed, err := g.Run(context.Background(), loadgen.Load{
		Mode: loadgen.ClosedLoop, Outstanding: 2, Duration: time.Second, Workload: w,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAnswered(t, closed)
	if closed.Mode != "closed" || closed.Outstanding != 2 || closed.Clients != 4 || closed.Shed != 0 {
		t.Errorf("result %+v does not describe the load", closed)
	}

	// A run without a duration goes on until stopped; the caller polls
	// its progress.
	r, err := g.Start(context.Background(), loadgen.Load{Mode: loadgen.OpenLoop, Rate: 200, Arrivals: loadgen.Uniform, Workload: w})
	if err != nil {
		t.Fatal(err)
	}
	var answered int64
	deadline := time.Now().Add(30 * time.Second)
	for answered < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("%d answered in 30 s at 200/s", answered)
		}
		time.Sleep(50 * time.Millisecond)
		p := r.Progress()
		answered += p.Completed
		if p.Total.Completed != answered || p.Submitted < answered || p.Interval <= 0 || p.Warmup {
			t.Fatalf("progress %+v after %d answered", p, answered)
		}
	}
	select {
	case <-r.Done():
		t.Fatal("the run ended by itself")
	default:
	}
	res, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	checkAnswered(t, res)
	if res.Completed < answered || res.DurationSeconds <= 0 {
		t.Errorf("result %+v after %d answered", res, answered)
	}
	if again, err := r.Wait(); err != nil || again != res {
		t.Errorf("Wait after Stop: %+v, %v", again, err)
	}
}

// TestStartEndsWithContext: a run without a duration ends without error
// when its context ends, and the next run may start.
func TestStartEndsWithContext(t *testing.T) {
	g := dial(t, loadgen.Target{Addrs: []string{"127.0.0.1:1"}, F: 0, Clients: 1})
	ctx, cancel := context.WithCancel(context.Background())
	r, err := g.Start(ctx, loadgen.Load{Mode: loadgen.OpenLoop, Rate: 100, Workload: kvPuts(t, 100)})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	res, err := r.Wait()
	if err != nil || res.Completed != 0 || res.DurationSeconds <= 0 {
		t.Fatalf("run ended with %+v, %v; want nothing completed and no error", res, err)
	}
	// A run with a duration that is stopped ends without error too.
	r, err = g.Start(context.Background(), loadgen.Load{Mode: loadgen.ClosedLoop, Outstanding: 1, Duration: time.Hour, Workload: kvPuts(t, 100)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestTimeouts: against nodes that accept connections and never answer,
// every measured transaction times out; the run still ends.
func TestTimeouts(t *testing.T) {
	var addrs []string
	for range 4 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	g := dial(t, loadgen.Target{Addrs: addrs, F: 1, Clients: 2})
	res, err := g.Run(context.Background(), loadgen.Load{
		Mode: loadgen.OpenLoop, Rate: 100, Arrivals: loadgen.Uniform, Duration: 300 * time.Millisecond,
		Timeout: 200 * time.Millisecond, Workload: kvPuts(t, 100),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 0 || res.Timeouts < 25 || res.Timeouts > 31 {
		t.Fatalf("completed %d, timeouts %d: want about 30 timeouts and nothing completed", res.Completed, res.Timeouts)
	}
}

// TestRunEndsWithContext: a run whose context ends returns at once with
// the context's error.
func TestRunEndsWithContext(t *testing.T) {
	g := dial(t, loadgen.Target{Addrs: []string{"127.0.0.1:1"}, F: 0, Clients: 1})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := g.Run(ctx, loadgen.Load{
		Mode: loadgen.ClosedLoop, Outstanding: 1, Duration: time.Hour, Timeout: time.Hour, Workload: kvPuts(t, 100),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v, want context.Canceled", err)
	}
	// Nothing answers: Ready waits until ctx ends.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := g.Ready(ctx, kvPuts(t, 100)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ready returned %v, want context.DeadlineExceeded", err)
	}
}

func TestBadLoads(t *testing.T) {
	g := dial(t, loadgen.Target{Addrs: []string{"127.0.0.1:1"}, F: 0, Clients: 1, MaxOutstanding: 8})
	w := kvPuts(t, 100)
	for _, tc := range []struct {
		name string
		load loadgen.Load
		want string
	}{
		{"no rate", loadgen.Load{Mode: loadgen.OpenLoop, Duration: time.Second, Workload: w}, "rate"},
		{"negative rate", loadgen.Load{Mode: loadgen.OpenLoop, Rate: -1, Duration: time.Second, Workload: w}, "rate"},
		{"bad arrivals", loadgen.Load{Mode: loadgen.OpenLoop, Rate: 1, Arrivals: 7, Duration: time.Second, Workload: w}, "arrivals"},
		{"no outstanding", loadgen.Load{Mode: loadgen.ClosedLoop, Duration: time.Second, Workload: w}, "outstanding"},
		{"too many outstanding", loadgen.Load{Mode: loadgen.ClosedLoop, Outstanding: 9, Duration: time.Second, Workload: w}, "outstanding"},
		{"no duration", loadgen.Load{Mode: loadgen.OpenLoop, Rate: 1, Workload: w}, "duration"},
		{"negative warm-up", loadgen.Load{Mode: loadgen.OpenLoop, Rate: 1, Duration: time.Second, Warmup: -1, Workload: w}, "warm-up"},
		{"no workload", loadgen.Load{Mode: loadgen.OpenLoop, Rate: 1, Duration: time.Second}, "workload"},
		{"bad mode", loadgen.Load{Mode: 5, Rate: 1, Duration: time.Second, Workload: w}, "mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.Run(context.Background(), tc.load)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
		})
	}
}

func TestBadTargets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target loadgen.Target
	}{
		{"too many clients", loadgen.Target{Addrs: []string{"127.0.0.1:1"}, Clients: 5000}},
		{"negative clients", loadgen.Target{Addrs: []string{"127.0.0.1:1"}, Clients: -1}},
		{"outstanding past the window", loadgen.Target{Addrs: []string{"127.0.0.1:1"}, MaxOutstanding: 129}},
		{"too few nodes for f", loadgen.Target{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, F: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if g, err := loadgen.Dial(tc.target); err == nil {
				g.Close()
				t.Fatal("Dial took it")
			}
		})
	}
}

// TestKVPuts: a put's encoding is exactly the size asked for, it
// decodes to a put, and a result other than OK is an error.
func TestKVPuts(t *testing.T) {
	for size := loadgen.MinKVPutBytes; size <= loadgen.MaxKVPutBytes; size++ {
		w, err := loadgen.NewKVPuts(size)
		if err != nil {
			if strings.Contains(err.Error(), "exactly") {
				continue // The one size a length prefix skips.
			}
			t.Fatal(err)
		}
		tx := w.Tx(3, uint64(size))
		if len(tx) != size {
			t.Fatalf("NewKVPuts(%d) makes transactions of %d bytes", size, len(tx))
		}
		if op, err := kvstore.DecodeOp(tx); err != nil || op.Kind != kvstore.Put {
			t.Fatalf("a transaction of %d bytes decodes to %v, %v", size, op, err)
		}
	}
	for _, size := range []int{loadgen.MinKVPutBytes - 1, loadgen.MaxKVPutBytes + 1, 0, -1} {
		if _, err := loadgen.NewKVPuts(size); err == nil {
			t.Errorf("NewKVPuts(%d) took it", size)
		}
	}
	w := kvPuts(t, 100)
	if err := w.Check(kvstore.Result{Status: kvstore.OK}.Encode()); err != nil {
		t.Errorf("OK refused: %v", err)
	}
	if err := w.Check(kvstore.Result{Status: kvstore.Full}.Encode()); !errors.Is(err, loadgen.ErrRefused) {
		t.Errorf("Full: %v, want ErrRefused", err)
	}
	if err := w.Check(nil); err == nil {
		t.Error("an empty result taken")
	}
	// Two transactions are two slices: the client keeps each.
	if a, b := w.Tx(0, 0), w.Tx(0, 0); &a[0] == &b[0] {
		t.Error("Tx returned the same slice twice")
	}
}
