package crypto_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func origin(id uint64) crypto.Origin { return crypto.Origin{Module: "app", ID: id} }

func TestModule(t *testing.T) {
	nodes := testMembers(t, 3, mixed)
	m, err := crypto.NewModule(nodes[2])
	if err != nil {
		t.Fatal(err)
	}
	msgs := [][]byte{[]byte("a"), []byte("b")}
	out, err := m.ApplyEvents(stdtypes.ListOf(
		stdevents.NewInit("crypto"),
		crypto.NewSignRequest("crypto", origin(1), msgs...),
		crypto.NewSignRequest("crypto", origin(2)),
	))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 2 {
		t.Fatalf("%d events out, want 2", out.Len())
	}
	res := out.Get(0).(*crypto.SignResult)
	if res.Dest() != "app" || res.Origin != origin(1) || len(res.Sigs) != 2 {
		t.Fatalf("unexpected result %+v", res)
	}
	empty := out.Get(1).(*crypto.SignResult)
	if empty.Origin != origin(2) || len(empty.Sigs) != 0 {
		t.Fatalf("unexpected result %+v", empty)
	}

	items := []crypto.SigItem{
		{Msg: msgs[0], Sig: res.Sigs[0], Signer: "2"},
		{Msg: msgs[1], Sig: res.Sigs[1], Signer: "2"},
		{Msg: msgs[1], Sig: res.Sigs[1], Signer: "1"},
	}
	out, err = m.ApplyEvents(stdtypes.ListOf(
		crypto.NewVerifyRequest("crypto", origin(3), items...),
		crypto.NewVerifyRequest("crypto", origin(4), items[:2]...),
		crypto.NewVerifyRequest("crypto", origin(5)),
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []*crypto.VerifyResult{
		crypto.NewVerifyResult(origin(3), []bool{true, true, false}),
		crypto.NewVerifyResult(origin(4), []bool{true, true}),
		crypto.NewVerifyResult(origin(5), []bool{}),
	}
	for i, w := range want {
		if got := out.Get(i); !reflect.DeepEqual(got, w) {
			t.Errorf("result %d: %+v, want %+v", i, got, w)
		}
	}
	if want[0].AllValid || !want[1].AllValid || !want[2].AllValid {
		t.Error("AllValid is wrong")
	}
}

func TestHasher(t *testing.T) {
	h, err := crypto.NewHasher(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][][]byte{{[]byte("ab"), []byte("c")}, {}, {[]byte("x")}}
	out, err := h.ApplyEvents(stdtypes.ListOf(crypto.NewHashRequest("hasher", origin(9), inputs...)))
	if err != nil {
		t.Fatal(err)
	}
	res := out.Get(0).(*crypto.HashResult)
	if res.Origin != origin(9) || len(res.Digests) != 3 {
		t.Fatalf("unexpected result %+v", res)
	}
	for i, in := range inputs {
		if want := crypto.Digest(crypto.SHA256, in...); string(res.Digests[i]) != string(want) {
			t.Errorf("digest %d: %x, want %x", i, res.Digests[i], want)
		}
	}
	if _, err := crypto.NewHasher(0); err == nil {
		t.Error("NewHasher(0) accepted")
	}
	if _, err := crypto.NewHashPool(0, runner.DefaultPoolParams()); err == nil {
		t.Error("NewHashPool(0) accepted")
	}
}

// TestModuleErrors checks that the events only a local bug produces stop
// the node with an error naming what is wrong.
func TestModuleErrors(t *testing.T) {
	c := testMembers(t, 1, allEd25519)[0]
	m, _ := crypto.NewModule(c)
	h, _ := crypto.NewHasher(crypto.SHA256)
	cases := []struct {
		name string
		mod  modules.PassiveModule
		ev   stdtypes.Event
		want string
	}{
		{"sign without origin", m, crypto.NewSignRequest("crypto", crypto.Origin{}, nil), "invalid SignRequest"},
		{"verify bad origin", m, crypto.NewVerifyRequest("crypto", crypto.Origin{Module: "a//b"}), "invalid VerifyRequest"},
		{"hash without origin", h, crypto.NewHashRequest("hasher", crypto.Origin{}), "invalid HashRequest"},
		{"hash request to crypto", m, crypto.NewHashRequest("crypto", origin(1)), "unexpected event"},
		{"sign request to hasher", h, crypto.NewSignRequest("hasher", origin(1)), "unexpected event"},
		{"other event", m, stdevents.NewGarbageCollect("crypto", 1), "unexpected event"},
	}
	for _, tc := range cases {
		_, err := tc.mod.ApplyEvents(stdtypes.ListOf(tc.ev))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	verifier, _ := crypto.New(crypto.PrivateKey{}, nil)
	vm, _ := crypto.NewModule(verifier)
	if _, err := vm.ApplyEvents(stdtypes.ListOf(crypto.NewSignRequest("crypto", origin(1), []byte("m")))); err == nil ||
		!strings.Contains(err.Error(), crypto.ErrNoPrivateKey.Error()) {
		t.Errorf("sign without private key: %v", err)
	}
	if _, err := crypto.NewModule(nil); err == nil {
		t.Error("NewModule(nil) accepted")
	}
	if _, err := crypto.NewPool(nil, runner.DefaultPoolParams()); err == nil {
		t.Error("NewPool(nil) accepted")
	}
}

// testRequests returns a seeded mix of sign, verify and hash requests, with
// IDs 1, 2, ...: requests of 0 to 100 items, some signatures invalid.
func testRequests(t testing.TB, nodes []*crypto.NodeCrypto, seed uint64, n int) (signing, hashing []stdtypes.Event) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for id := uint64(1); id <= uint64(n); id++ {
		size := rng.IntN(101)
		switch rng.IntN(3) {
		case 0:
			msgs := make([][]byte, size)
			for i := range msgs {
				msgs[i] = fmt.Appendf(nil, "msg %d", rng.Uint64())
			}
			signing = append(signing, crypto.NewSignRequest("crypto", origin(id), msgs...))
		case 1:
			items, _ := testItems(t, nodes, size, rng)
			signing = append(signing, crypto.NewVerifyRequest("crypto", origin(id), items...))
		case 2:
			inputs := make([][][]byte, size)
			for i := range inputs {
				inputs[i] = [][]byte{fmt.Appendf(nil, "%d", rng.Uint64()), make([]byte, rng.IntN(300))}
			}
			hashing = append(hashing, crypto.NewHashRequest("hasher", origin(id), inputs...))
		}
	}
	return signing, hashing
}

// runPool hands requests to pool in batches of up to batch events and
// returns the responses by origin ID, failing if any is missing.
func runPool(t testing.TB, pool *runner.Pool, requests []stdtypes.Event, batch int) map[uint64]stdtypes.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for lo := 0; lo < len(requests); lo += batch {
		hi := min(lo+batch, len(requests))
		if err := pool.ApplyEvents(ctx, stdtypes.ListOf(requests[lo:hi]...)); err != nil {
			t.Fatal(err)
		}
	}
	got := make(map[uint64]stdtypes.Event, len(requests))
	timeout := time.After(time.Minute)
	for len(got) < len(requests) {
		select {
		case list := <-pool.EventsOut():
			for _, ev := range list.Slice() {
				id := resultOrigin(t, ev).ID
				if _, dup := got[id]; dup {
					t.Fatalf("two results for request %d", id)
				}
				got[id] = ev
			}
		case <-timeout:
			t.Fatalf("%d of %d results after a minute", len(got), len(requests))
		}
	}
	return got
}

func resultOrigin(t testing.TB, ev stdtypes.Event) crypto.Origin {
	switch ev := ev.(type) {
	case *crypto.SignResult:
		return ev.Origin
	case *crypto.VerifyResult:
		return ev.Origin
	case *crypto.HashResult:
		return ev.Origin
	}
	t.Fatalf("unexpected event %s", stdtypes.TypeName(ev))
	return crypto.Origin{}
}

// TestPoolMatchesSync checks that the pool gives the same results as the
// synchronous module, for every request, whatever the number of workers
// and the batching of requests.
func TestPoolMatchesSync(t *testing.T) {
	nodes := testMembers(t, 4, mixed)
	const seed = 7
	signing, hashing := testRequests(t, nodes, seed, 60)

	syncMod, _ := crypto.NewModule(nodes[1])
	syncHash, _ := crypto.NewHasher(crypto.SHA256)
	want := make(map[uint64]stdtypes.Event)
	for _, set := range []struct {
		m    modules.PassiveModule
		reqs []stdtypes.Event
	}{{syncMod, signing}, {syncHash, hashing}} {
		out, err := set.m.ApplyEvents(stdtypes.ListOf(set.reqs...))
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() != len(set.reqs) {
			t.Fatalf("%d results for %d requests", out.Len(), len(set.reqs))
		}
		for i, ev := range out.Slice() {
			if resultOrigin(t, ev) != resultOrigin(t, resultFor(set.reqs[i])) {
				t.Fatal("the synchronous module changed the order")
			}
			want[resultOrigin(t, ev).ID] = ev
		}
	}

	for _, workers := range []int{1, 2, 5} {
		for _, batch := range []int{1, 7, 100} {
			params := runner.PoolParams{Workers: workers, MaxPendingItems: 1 << 20}
			pool, err := crypto.NewPool(nodes[1], params)
			if err != nil {
				t.Fatal(err)
			}
			hashPool, err := crypto.NewHashPool(crypto.SHA256, params)
			if err != nil {
				t.Fatal(err)
			}
			got := runPool(t, pool, signing, batch)
			for id, ev := range runPool(t, hashPool, hashing, batch) {
				got[id] = ev
			}
			for id, w := range want {
				if !reflect.DeepEqual(got[id], w) {
					t.Fatalf("seed %d, %d workers, batches of %d: request %d: pool gave %+v, sync %+v",
						seed, workers, batch, id, got[id], w)
				}
			}
		}
	}
}

// resultFor returns a result carrying the origin of request req.
func resultFor(req stdtypes.Event) stdtypes.Event {
	switch req := req.(type) {
	case *crypto.SignRequest:
		return crypto.NewSignResult(req.Origin, nil)
	case *crypto.VerifyRequest:
		return crypto.NewVerifyResult(req.Origin, nil)
	case *crypto.HashRequest:
		return crypto.NewHashResult(req.Origin, nil)
	}
	return nil
}

// client is a passive module standing for a protocol: on Init it sends its
// requests, and it records the results it gets, closing done when it has
// one per request.
type client struct {
	requests []stdtypes.Event
	results  map[uint64]stdtypes.Event
	done     chan struct{}
}

func (c *client) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			out.PushBackSlice(c.requests)
		case *crypto.SignResult, *crypto.VerifyResult, *crypto.HashResult:
			id := resultOrigin(nil, ev).ID
			if _, dup := c.results[id]; dup {
				return nil, fmt.Errorf("two results for %d", id)
			}
			c.results[id] = ev
			if len(c.results) == len(c.requests) {
				close(c.done)
			}
		default:
			return nil, fmt.Errorf("client: unexpected %s", stdtypes.TypeName(ev))
		}
	}
	return out, nil
}

// runNode runs a node with the given crypto and hasher modules and a
// client sending requests, and returns the client's results. The node's
// thresholds are low, so that backpressure pauses the pools' output.
func runNode(t *testing.T, cryptoMod, hasher modules.Module, requests []stdtypes.Event) map[uint64]stdtypes.Event {
	t.Helper()
	cl := &client{requests: requests, results: make(map[uint64]stdtypes.Event), done: make(chan struct{})}
	cfg := mir.DefaultNodeConfig().WithLogger(logging.NilLogger)
	cfg.MaxEventBatchSize = 4
	cfg.PauseInputThreshold = 8
	cfg.ResumeInputThreshold = 2
	node, err := mir.NewNode("0", cfg, modules.Modules{"app": cl, "crypto": cryptoMod, "hasher": hasher}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- node.Run(context.Background()) }()
	select {
	case <-cl.done:
	case err := <-errCh:
		t.Fatalf("node stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatalf("%d of %d results after a minute", len(cl.results), len(requests))
	}
	node.Stop()
	if err := <-errCh; err != mir.ErrStopped {
		t.Fatalf("node: %v", err)
	}
	return cl.results
}

// TestPoolInNode runs the pools and the synchronous modules in a node and
// checks that the client gets the same results from both.
func TestPoolInNode(t *testing.T) {
	nodes := testMembers(t, 4, mixed)
	signing, hashing := testRequests(t, nodes, 11, 80)
	requests := append(signing, hashing...)

	syncMod, _ := crypto.NewModule(nodes[0])
	syncHash, _ := crypto.NewHasher(crypto.SHA256)
	want := runNode(t, syncMod, syncHash, requests)

	pool, _ := crypto.NewPool(nodes[0], runner.PoolParams{Workers: 3, MaxPendingItems: 1 << 20})
	hashPool, _ := crypto.NewHashPool(crypto.SHA256, runner.PoolParams{Workers: 2, MaxPendingItems: 1 << 20})
	got := runNode(t, pool, hashPool, requests)
	if !reflect.DeepEqual(got, want) {
		t.Error("the pools and the synchronous modules gave different results")
	}
}
