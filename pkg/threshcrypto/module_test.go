package threshcrypto_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func origin(id uint64) crypto.Origin { return crypto.Origin{Module: "app", ID: id} }

func TestModule(t *testing.T) {
	nodes := system(t, 2, 3, "module")
	m, err := threshcrypto.NewModule(nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("m")
	shares := signShares(t, nodes, msg)
	out, err := m.ApplyEvents(stdtypes.ListOf(
		stdevents.NewInit("tc"),
		threshcrypto.NewSignShareRequest("tc", origin(1), msg),
		threshcrypto.NewVerifyShareRequest("tc", origin(2),
			threshcrypto.ShareItem{Msg: msg, Share: shares[1], Signer: "1"},
			threshcrypto.ShareItem{Msg: msg, Share: shares[1], Signer: "2"}),
		threshcrypto.NewRecoverRequest("tc", origin(3),
			threshcrypto.RecoverItem{Msg: msg, Shares: shares[1:]},
			threshcrypto.RecoverItem{Msg: msg, Shares: shares[:1]}),
	))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 3 {
		t.Fatalf("%d results", out.Len())
	}
	if res := out.Get(0).(*threshcrypto.SignShareResult); res.Dest() != "app" || !bytes.Equal(res.Shares[0], shares[0]) {
		t.Errorf("sign share result %+v", res)
	}
	if got, want := out.Get(1), threshcrypto.NewVerifyShareResult(origin(2), []bool{true, false}); !reflect.DeepEqual(got, want) {
		t.Errorf("verify share result %+v, want %+v", got, want)
	}
	rec := out.Get(2).(*threshcrypto.RecoverResult)
	if !reflect.DeepEqual(rec.OK, []bool{true, false}) || rec.Sigs[1] != nil || len(rec.Sigs[0]) != threshcrypto.SignatureSize {
		t.Fatalf("recover result %+v", rec)
	}
	out, err = m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewVerifyFullRequest("tc", origin(4),
		threshcrypto.FullItem{Msg: msg, Sig: rec.Sigs[0]},
		threshcrypto.FullItem{Msg: []byte("other"), Sig: rec.Sigs[0]},
		threshcrypto.FullItem{Msg: msg, Sig: nil})))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Get(0), threshcrypto.NewVerifyFullResult(origin(4), []bool{true, false, false}); !reflect.DeepEqual(got, want) {
		t.Errorf("verify full result %+v, want %+v", got, want)
	}
}

func TestModuleErrors(t *testing.T) {
	nodes := system(t, 2, 3, "errors")
	m, _ := threshcrypto.NewModule(nodes[0])
	cases := []struct {
		ev   stdtypes.Event
		want string
	}{
		{threshcrypto.NewSignShareRequest("tc", crypto.Origin{}), "invalid SignShareRequest"},
		{threshcrypto.NewVerifyShareRequest("tc", crypto.Origin{}), "invalid VerifyShareRequest"},
		{threshcrypto.NewRecoverRequest("tc", crypto.Origin{}), "invalid RecoverRequest"},
		{threshcrypto.NewVerifyFullRequest("tc", crypto.Origin{}), "invalid VerifyFullRequest"},
		{crypto.NewSignRequest("tc", origin(1)), "unexpected event"},
	}
	for _, tc := range cases {
		if _, err := m.ApplyEvents(stdtypes.ListOf(tc.ev)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", stdtypes.TypeName(tc.ev), err, tc.want)
		}
	}
	pub, _, _ := threshcrypto.DealFromSeed(2, 3, []byte("errors"))
	verifier, _ := threshcrypto.New(pub, nil, stdtypes.NumberedNodeIDs(3))
	vm, _ := threshcrypto.NewModule(verifier)
	if _, err := vm.ApplyEvents(stdtypes.ListOf(threshcrypto.NewSignShareRequest("tc", origin(1), []byte("m")))); err == nil {
		t.Error("signing without a key share succeeded")
	}
	if _, err := threshcrypto.NewModule(nil); err == nil {
		t.Error("NewModule(nil) accepted")
	}
	if _, err := threshcrypto.NewPool(nil, runner.DefaultPoolParams()); err == nil {
		t.Error("NewPool(nil) accepted")
	}
}

// testRequests returns a seeded mix of requests to node 0 of nodes, some
// items invalid, with IDs 1, 2, ...
func testRequests(t *testing.T, nodes []*threshcrypto.BLS, seed uint64, n int) []stdtypes.Event {
	rng := rand.New(rand.NewPCG(seed, 2))
	msgs := make([][]byte, 4)
	shares := make([][][]byte, len(msgs))
	sigs := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "message %d", i)
		shares[i] = signShares(t, nodes, msgs[i])
		var err error
		if sigs[i], err = nodes[0].Recover(msgs[i], shares[i]); err != nil {
			t.Fatal(err)
		}
	}
	var reqs []stdtypes.Event
	for id := uint64(1); id <= uint64(n); id++ {
		size := rng.IntN(6)
		m := rng.IntN(len(msgs))
		other := (m + 1) % len(msgs)
		switch rng.IntN(4) {
		case 0:
			items := make([][]byte, size)
			for i := range items {
				items[i] = msgs[rng.IntN(len(msgs))]
			}
			reqs = append(reqs, threshcrypto.NewSignShareRequest("tc", origin(id), items...))
		case 1:
			items := make([]threshcrypto.ShareItem, size)
			for i := range items {
				s := rng.IntN(len(nodes))
				items[i] = threshcrypto.ShareItem{Msg: msgs[m], Share: shares[m][s], Signer: stdtypes.NewNodeIDFromInt(s)}
				if rng.IntN(3) == 0 {
					items[i].Msg = msgs[other]
				}
			}
			reqs = append(reqs, threshcrypto.NewVerifyShareRequest("tc", origin(id), items...))
		case 2:
			items := make([]threshcrypto.RecoverItem, size)
			for i := range items {
				perm := rng.Perm(len(nodes))[:rng.IntN(len(nodes)+1)]
				for _, s := range perm {
					sh := shares[m][s]
					if rng.IntN(4) == 0 {
						sh = shares[other][s]
					}
					items[i].Shares = append(items[i].Shares, sh)
				}
				items[i].Msg = msgs[m]
			}
			reqs = append(reqs, threshcrypto.NewRecoverRequest("tc", origin(id), items...))
		case 3:
			items := make([]threshcrypto.FullItem, size)
			for i := range items {
				items[i] = threshcrypto.FullItem{Msg: msgs[m], Sig: sigs[m]}
				if rng.IntN(3) == 0 {
					items[i].Sig = sigs[other]
				}
			}
			reqs = append(reqs, threshcrypto.NewVerifyFullRequest("tc", origin(id), items...))
		}
	}
	return reqs
}

func resultID(ev stdtypes.Event) uint64 {
	switch ev := ev.(type) {
	case *threshcrypto.SignShareResult:
		return ev.Origin.ID
	case *threshcrypto.VerifyShareResult:
		return ev.Origin.ID
	case *threshcrypto.RecoverResult:
		return ev.Origin.ID
	case *threshcrypto.VerifyFullResult:
		return ev.Origin.ID
	}
	panic(fmt.Sprintf("unexpected %T", ev))
}

// TestPoolMatchesSync checks that the pool gives the results of the
// synchronous module, each module starting with an empty memory of
// verified shares.
func TestPoolMatchesSync(t *testing.T) {
	const seed = 3
	nodes := system(t, 3, 4, "pool")
	reqs := testRequests(t, nodes, seed, 40)

	fresh := func() *threshcrypto.BLS { return system(t, 3, 4, "pool")[0] }
	syncMod, _ := threshcrypto.NewModule(fresh())
	out, err := syncMod.ApplyEvents(stdtypes.ListOf(reqs...))
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[uint64]stdtypes.Event)
	for _, ev := range out.Slice() {
		want[resultID(ev)] = ev
	}

	pool, err := threshcrypto.NewPool(fresh(), runner.PoolParams{Workers: 3, MaxPendingItems: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for lo := 0; lo < len(reqs); lo += 5 {
		if err := pool.ApplyEvents(ctx, stdtypes.ListOf(reqs[lo:min(lo+5, len(reqs))]...)); err != nil {
			t.Fatal(err)
		}
	}
	got := make(map[uint64]stdtypes.Event)
	timeout := time.After(time.Minute)
	for len(got) < len(reqs) {
		select {
		case list := <-pool.EventsOut():
			for _, ev := range list.Slice() {
				got[resultID(ev)] = ev
			}
		case <-timeout:
			t.Fatalf("%d of %d results", len(got), len(reqs))
		}
	}
	for id, w := range want {
		if !reflect.DeepEqual(got[id], w) {
			t.Errorf("seed %d: request %d: pool %+v, sync %+v", seed, id, got[id], w)
		}
	}
}
