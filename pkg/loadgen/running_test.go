package loadgen_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/loadgen"
)

// TestRunningReuse: against a target that refuses every connection, a
// run started with a context already cancelled ends at once without
// error (or with the context's error, given a Duration); Stop twice, Wait
// after Stop and Progress after Wait return the same figures and do not
// block.
func TestRunningReuse(t *testing.T) {
	g := dial(t, loadgen.Target{Addrs: []string{"127.0.0.1:1"}, F: 0, Clients: 2})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, mode := range []loadgen.Mode{loadgen.OpenLoop, loadgen.ClosedLoop} {
		l := loadgen.Load{Mode: mode, Rate: 1000, Outstanding: 2, Workload: kvPuts(t, 100)}
		r, err := g.Start(cancelled, l)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Wait()
		if err != nil || res.Completed != 0 {
			t.Fatalf("%v run with a cancelled context: %+v, %v", mode, res, err)
		}
		for range 2 {
			if res2, err := r.Stop(); err != nil || res2 != res {
				t.Fatalf("Stop after Wait: %+v, %v; want %+v", res2, err, res)
			}
		}
		if p := r.Progress(); p.Total.Completed != 0 {
			t.Fatalf("Progress after Wait: %+v", p)
		}
		l.Duration = time.Hour
		r, err = g.Start(cancelled, l)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v run of a Duration with a cancelled context: %v, want context.Canceled", mode, err)
		}
	}
	// A run stopped while its transactions wait for connections that
	// never come ends, twice.
	r, err := g.Start(context.Background(), loadgen.Load{Mode: loadgen.ClosedLoop, Outstanding: 2, Workload: kvPuts(t, 100)})
	if err != nil {
		t.Fatal(err)
	}
	r.Progress()
	if _, err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	r.Progress()
}

// TestStartWaitsWithContext: Start waits for the run before to end, or
// for its context.
func TestStartWaitsWithContext(t *testing.T) {
	g := dial(t, loadgen.Target{Addrs: []string{"127.0.0.1:1"}, F: 0, Clients: 1})
	first, err := g.Start(context.Background(), loadgen.Load{Mode: loadgen.OpenLoop, Rate: 10, Workload: kvPuts(t, 100)})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	started := make(chan error, 1)
	go func() {
		r, err := g.Start(cancelled, loadgen.Load{Mode: loadgen.OpenLoop, Rate: 10, Workload: kvPuts(t, 100)})
		if err == nil {
			_, err = r.Stop()
			err = errors.Join(err, errors.New("started while another run ran"))
		}
		started <- err
	}()
	select {
	case err := <-started:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Start with a cancelled context: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		first.Stop()
		<-started
		t.Fatal("Start with a cancelled context waited for the run before")
	}
}
