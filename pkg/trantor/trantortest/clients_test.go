package trantortest_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/stdtypes"
)

// echoApp returns each transaction's payload, prefixed with the number of
// transactions applied before it: a result is the same on every node only
// if they applied the same transactions in the same order.
type echoApp struct{ n uint64 }

func (a *echoApp) Apply(txs []mempool.Tx) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = fmt.Appendf(nil, "%d:%s", a.n, tx.Data)
		a.n++
	}
	return out, nil
}

func (a *echoApp) Snapshot() ([]byte, membership.Voters, error) {
	return fmt.Appendf(nil, "%d", a.n), nil, nil
}

func (a *echoApp) Restore(s []byte) error {
	_, err := fmt.Sscanf(string(s), "%d", &a.n)
	return err
}

func newSystem(t *testing.T, cfg trantortest.Config) *trantortest.System {
	t.Helper()
	cfg.NewApp = func(stdtypes.NodeID) trantor.App { return &echoApp{} }
	s, err := trantortest.NewSystem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// TestClientsClosedLoop: closed-loop clients over lossy links and a liar
// get every operation answered, with the honest nodes' result, and a
// history whose calls come before their returns and whose operations of
// one client do not overlap.
func TestClientsClosedLoop(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		s := newSystem(t, trantortest.Config{N: 4, Seed: seed, Network: sim.Options{Link: isstest.LossyLinks()}})
		c, err := s.NewClients(trantortest.ClientOptions{Liars: []stdtypes.NodeID{"2"}, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		next := func(client, i int, _ *rand.Rand) []byte { return fmt.Appendf(nil, "c%d-%d", client, i) }
		if err := c.Loop(trantortest.ClientLoad{Clients: 3, Ops: 10, Start: time.Millisecond, Think: time.Millisecond, Next: next}); err != nil {
			t.Fatal(err)
		}
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
		h := c.History()
		if len(h) != 30 {
			t.Fatalf("%d operations, want 30", len(h))
		}
		last := map[string]time.Duration{}
		for _, op := range h {
			if !op.Done || op.Return < op.Call || op.Call < last[op.ClientID] {
				t.Errorf("operation %+v: not done, or out of order (client's last return %v)", op, last[op.ClientID])
			}
			last[op.ClientID] = op.Return
			if strings.HasPrefix(string(op.Result), "forged") || !strings.HasSuffix(string(op.Result), ":"+string(op.Data)) {
				t.Errorf("operation %s/%d: result %q", op.ClientID, op.TxNo, op.Result)
			}
		}
		if err := c.Settle(); err != nil {
			t.Error(err)
		}
	})
}

// TestClientsNeedFPlusOne: with f+1 = 2 results needed, a transaction is
// answered with the nodes up; with only one node up, it is not (one
// result, however often, is not f+1).
func TestClientsNeedFPlusOne(t *testing.T) {
	s := newSystem(t, trantortest.Config{N: 4, Seed: 1})
	c, err := s.NewClients(trantortest.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op := c.Submit("c0", []byte("x"), nil)
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if string(op.Result) != "0:x" {
		t.Errorf("result %q", op.Result)
	}
	// Only node 0 up: it cannot order alone, and one result is not f+1.
	for _, id := range []stdtypes.NodeID{"1", "2", "3"} {
		s.Node(id).Crash()
	}
	op = c.Submit("c0", []byte("y"), nil)
	if err := s.WaitFor(func() bool { return op.Done }, 2*time.Second); err == nil {
		t.Errorf("answered with three nodes of four down: %+v", op)
	}
}

// TestClientsRefuseTooManyLiars: more liars than f are refused.
func TestClientsRefuseTooManyLiars(t *testing.T) {
	s := newSystem(t, trantortest.Config{N: 4, Seed: 1})
	if _, err := s.NewClients(trantortest.ClientOptions{Liars: []stdtypes.NodeID{"1", "2"}}); err == nil {
		t.Error("two liars of four nodes accepted")
	}
}

// TestSettleFindsWhatIsMissing: Settle fails when a node it waits for
// did not execute every operation (here, one that crashed for good), and
// Run when a transaction was executed nowhere (here, submitted to a node
// that is down, with no retry).
func TestSettleFindsWhatIsMissing(t *testing.T) {
	s := newSystem(t, trantortest.Config{N: 4, Seed: 1, Limit: 2 * time.Second})
	s.Node("3").Crash()
	c, err := s.NewClients(trantortest.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Submit("alice", []byte("x"), nil)
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Settle("0", "1", "2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Settle("3"); err == nil {
		t.Error("Settle passed for a node that is down")
	}
	l := trantortest.Load{Clients: 1, Txs: 1, PayloadBytes: 8, Rate: 100, Start: time.Millisecond, To: []stdtypes.NodeID{"3"}}
	if err := s.Run(l, 1, "0"); err == nil || !strings.Contains(err.Error(), "not executed anywhere: [") {
		t.Errorf("Run of a transaction no live node got: %v", err)
	}
}
