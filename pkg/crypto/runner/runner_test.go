package runner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var _ modules.StatsReporter = (*runner.Pool)(nil)

// TestMain fails the tests if a goroutine outlives them: the workers and
// the emitter end with the context they were started with.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// request asks for Items squares.
type request struct {
	stdtypes.Header
	ID    int
	Items int
	// Fail makes Run fail on this item; Panic makes it panic.
	Fail, Panic int
}

// result holds the squares of 0..Items-1 and their sum, set by Finish.
type result struct {
	stdtypes.Header
	ID      int
	Squares []int
	Sum     int
}

func newRequest(id, items int) *request {
	return &request{Header: stdtypes.NewHeader("squares"), ID: id, Items: items, Fail: -1, Panic: -1}
}

// squares plans square jobs, recording the ranges it is asked to compute.
type squares struct {
	minChunk, maxChunk int
	mu                 sync.Mutex
	ranges             map[int][][2]int
}

func (s *squares) plan(ev stdtypes.Event) (runner.Job, error) {
	req, ok := ev.(*request)
	if !ok {
		return runner.Job{}, fmt.Errorf("unexpected %s", stdtypes.TypeName(ev))
	}
	res := &result{Header: stdtypes.NewHeader("app"), ID: req.ID, Squares: make([]int, req.Items)}
	return runner.Job{
		Items:    req.Items,
		MinChunk: s.minChunk,
		MaxChunk: s.maxChunk,
		Response: res,
		Run: func(lo, hi int) error {
			s.mu.Lock()
			if s.ranges == nil {
				s.ranges = make(map[int][][2]int)
			}
			s.ranges[req.ID] = append(s.ranges[req.ID], [2]int{lo, hi})
			s.mu.Unlock()
			for i := lo; i < hi; i++ {
				if i == req.Fail {
					return errors.New("failed on purpose")
				}
				if i == req.Panic {
					panic("panicked on purpose")
				}
				res.Squares[i] = i * i
			}
			return nil
		},
		Finish: func() {
			for _, v := range res.Squares {
				res.Sum += v
			}
		},
	}, nil
}

func checkResult(t *testing.T, ev stdtypes.Event, id, items int) {
	t.Helper()
	res, ok := ev.(*result)
	if !ok || res.ID != id || len(res.Squares) != items {
		t.Fatalf("unexpected response %+v for request %d of %d items", ev, id, items)
	}
	sum := 0
	for i, v := range res.Squares {
		if v != i*i {
			t.Fatalf("request %d: square %d is %d", id, i, v)
		}
		sum += v
	}
	if res.Sum != sum {
		t.Fatalf("request %d: Finish not run: sum %d, want %d", id, res.Sum, sum)
	}
}

func TestSync(t *testing.T) {
	s := &squares{}
	m := runner.NewSync(s.plan)
	out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewInit("squares"), newRequest(1, 5), newRequest(2, 0), newRequest(3, 100)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 3 {
		t.Fatalf("%d responses", out.Len())
	}
	for i, want := range [][2]int{{1, 5}, {2, 0}, {3, 100}} {
		checkResult(t, out.Get(i), want[0], want[1])
	}
	if got := s.ranges[3]; !slices.Equal(got, [][2]int{{0, 100}}) {
		t.Errorf("sync split a job: %v", got)
	}
	if out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewInit("squares"))); err != nil || out.Len() != 0 {
		t.Errorf("Init alone: %v, %v", out, err)
	}
}

func TestSyncErrors(t *testing.T) {
	s := &squares{}
	failing := newRequest(1, 5)
	failing.Fail = 3
	cases := []struct {
		name string
		plan runner.Planner
		ev   stdtypes.Event
		want string
	}{
		{"planner error", s.plan, stdevents.NewGarbageCollect("squares", 1), "unexpected"},
		{"run error", s.plan, failing, "failed on purpose"},
		{"no response", func(stdtypes.Event) (runner.Job, error) { return runner.Job{}, nil }, newRequest(1, 1), "no response"},
		{"negative items", func(stdtypes.Event) (runner.Job, error) {
			return runner.Job{Items: -1, Response: &result{}}, nil
		}, newRequest(1, 1), "-1 items"},
		{"no run", func(stdtypes.Event) (runner.Job, error) {
			return runner.Job{Items: 1, Response: &result{}}, nil
		}, newRequest(1, 1), "no Run"},
	}
	for _, tc := range cases {
		_, err := runner.NewSync(tc.plan).ApplyEvents(stdtypes.ListOf(tc.ev))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// collect reads n responses from p, failing after a timeout.
func collect(t *testing.T, p *runner.Pool, n int) map[int]stdtypes.Event {
	t.Helper()
	got := make(map[int]stdtypes.Event)
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case list := <-p.EventsOut():
			for _, ev := range list.Slice() {
				got[ev.(*result).ID] = ev
			}
		case <-timeout:
			t.Fatalf("%d of %d responses", len(got), n)
		}
	}
	return got
}

func newPool(t *testing.T, plan runner.Planner, workers, maxPending int) *runner.Pool {
	t.Helper()
	p, err := runner.NewPool(plan, runner.PoolParams{Workers: workers, MaxPendingItems: maxPending})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPool checks the results, the chunking and that ApplyEvents does not
// wait for the node to read the output.
func TestPool(t *testing.T) {
	s := &squares{minChunk: 10}
	p := newPool(t, s.plan, 3, 1<<20)
	if p.Workers() != 3 {
		t.Fatalf("%d workers", p.Workers())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sizes := []int{0, 1, 9, 10, 25, 31, 300, 1000}
	// Many lists, nobody reading: ApplyEvents must still return at once.
	const rounds = 50
	for r := range rounds {
		evs := stdtypes.EmptyList()
		for i, n := range sizes {
			evs.PushBack(newRequest(r*len(sizes)+i, n))
		}
		done := make(chan error, 1)
		go func() { done <- p.ApplyEvents(ctx, evs) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("ApplyEvents blocked while nobody read the output")
		}
	}
	got := collect(t, p, rounds*len(sizes))
	// The counters settle once the emitter has accounted for the last list.
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Responses != uint64(rounds*len(sizes)) || p.Stats().PendingItems != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stats after all responses: %+v", p.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if st, ok := p.ReportStats().(runner.PoolStats); !ok || st.Workers != 3 || st.QueuedChunks != 0 {
		t.Fatalf("ReportStats: %+v", p.ReportStats())
	}
	for id, ev := range got {
		n := sizes[id%len(sizes)]
		checkResult(t, ev, id, n)
		ranges := s.ranges[id]
		slices.SortFunc(ranges, func(a, b [2]int) int { return a[0] - b[0] })
		next := 0
		for _, r := range ranges {
			if r[0] != next || r[1] <= r[0] {
				t.Fatalf("request of %d items: ranges %v", n, ranges)
			}
			if r[1]-r[0] < 10 && r[1] != n {
				t.Fatalf("request of %d items: chunk %v below MinChunk", n, r)
			}
			next = r[1]
		}
		if next != n || len(ranges) > 3 {
			t.Fatalf("request of %d items: ranges %v", n, ranges)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	for _, kind := range []string{"fail", "panic"} {
		t.Run(kind, func(t *testing.T) {
			s := &squares{}
			p := newPool(t, s.plan, 2, 1<<20)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			bad := newRequest(1, 10)
			if kind == "fail" {
				bad.Fail = 7
			} else {
				bad.Panic = 7
			}
			// The error comes with the first call after the worker met
			// it, which may be this one if the worker is quick.
			err := p.ApplyEvents(ctx, stdtypes.ListOf(bad))
			deadline := time.Now().Add(30 * time.Second)
			for err == nil {
				if time.Now().After(deadline) {
					t.Fatal("no error reported")
				}
				time.Sleep(time.Millisecond)
				err = p.ApplyEvents(ctx, stdtypes.ListOf(newRequest(2, 1)))
			}
			if !strings.Contains(err.Error(), "on purpose") {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}

// outCapacityForTest bounds how many lists the pool's output channel holds
// without a reader; each accepted request can free at most one slot's worth.
const outCapacityForTest = 16

func TestPoolOverload(t *testing.T) {
	s := &squares{}
	p := newPool(t, s.plan, 1, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Nobody reads, so the items stay pending, except for the few
	// responses the emitter may hand to the output channel's buffer in the
	// meantime: the pool must refuse more within a bounded number of
	// requests, and never hold more than its limit.
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(newRequest(1, 60), newRequest(2, 0))); err != nil {
		t.Fatal(err)
	}
	accepted := 2
	var err error
	for id := 3; err == nil; id++ {
		if id > 3+2*outCapacityForTest {
			t.Fatal("the pool never refused a request")
		}
		if err = p.ApplyEvents(ctx, stdtypes.ListOf(newRequest(id, 40))); err == nil {
			accepted++
		}
		if held := p.Stats().PendingItems; held > 100 {
			t.Fatalf("the pool holds %d items, over its limit of 100", held)
		}
	}
	if !strings.Contains(err.Error(), "overloaded") {
		t.Fatalf("error %v, want overload", err)
	}
	// Once the responses are read, there is room again.
	collect(t, p, accepted)
	deadline := time.Now().Add(30 * time.Second)
	for p.ApplyEvents(ctx, stdtypes.ListOf(newRequest(1000, 90))) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the pool never made room")
		}
		time.Sleep(time.Millisecond)
	}
	checkResult(t, collect(t, p, 1)[1000], 1000, 90)
}

func TestPoolLifecycle(t *testing.T) {
	s := &squares{}
	p := newPool(t, s.plan, 2, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewInit("squares"))); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The same, ended context: the node is stopping; events are dropped.
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(newRequest(1, 1))); err != nil {
		t.Fatalf("after the end: %v", err)
	}
	// A new context: the pool does not serve a second run.
	if err := p.ApplyEvents(context.Background(), stdtypes.ListOf(newRequest(1, 1))); !errors.Is(err, runner.ErrPoolStopped) {
		t.Fatalf("second run: %v", err)
	}
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewGarbageCollect("x", 1))); err != nil {
		t.Fatal(err)
	}
}

func TestPoolPlanErrors(t *testing.T) {
	s := &squares{}
	p := newPool(t, s.plan, 1, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewGarbageCollect("x", 1))); err == nil {
		t.Error("unexpected event accepted")
	}
}

func TestPoolParams(t *testing.T) {
	if err := runner.DefaultPoolParams().Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []runner.PoolParams{{Workers: -1, MaxPendingItems: 1}, {MaxPendingItems: 0}} {
		if _, err := runner.NewPool(nil, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	p, err := runner.NewPool(nil, runner.DefaultPoolParams())
	if err != nil || p.Workers() < 1 {
		t.Errorf("default workers: %v, %v", p, err)
	}
}

// TestPoolMaxChunk checks that no chunk exceeds MaxChunk, whether the
// workers are idle or busy.
func TestPoolMaxChunk(t *testing.T) {
	s := &squares{minChunk: 3, maxChunk: 7}
	p := newPool(t, s.plan, 2, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := stdtypes.EmptyList()
	for id := range 10 {
		evs.PushBack(newRequest(id, 100))
	}
	if err := p.ApplyEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for id, ev := range collect(t, p, 10) {
		checkResult(t, ev, id, 100)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ranges := range s.ranges {
		for _, r := range ranges {
			if r[1]-r[0] > 7 || r[1]-r[0] < 3 && r[1] != 100 {
				t.Fatalf("request %d: chunk %v", id, r)
			}
		}
	}
}

// TestDropsMessages: both runtimes drop and count a message from another
// node (a crypto module takes none), never plan it, and serve the rest of
// the batch.
func TestDropsMessages(t *testing.T) {
	msg := stdevents.NewMessageReceived("squares", "peer", nil)
	s := runner.NewSync((&squares{}).plan)
	out, err := s.ApplyEvents(stdtypes.ListOf(msg, newRequest(1, 3)))
	if err != nil || out.Len() != 1 || s.DroppedMessages() != 1 {
		t.Fatalf("sync: output %v, error %v, dropped %d; want one response and one drop", out, err, s.DroppedMessages())
	}
	checkResult(t, out.Get(0), 1, 3)

	p := newPool(t, (&squares{}).plan, 1, 1<<10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.ApplyEvents(ctx, stdtypes.ListOf(msg, newRequest(2, 3))); err != nil || p.DroppedMessages() != 1 {
		t.Fatalf("pool: error %v, dropped %d; want one drop", err, p.DroppedMessages())
	}
	checkResult(t, collect(t, p, 1)[2], 2, 3)
}
