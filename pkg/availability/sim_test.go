package availability_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// simMempool answers every RequestBatch at once with one new transaction,
// named by the node, its incarnation and a counter: the part of the
// mempool availability relies on, for a simulation.
type simMempool struct {
	client string
	next   uint64
}

func (p *simMempool) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		if rb, ok := ev.(*mempool.RequestBatch); ok {
			tx := mempool.Tx{TxID: mempool.TxID{ClientID: p.client, TxNo: p.next}, Data: []byte("payload")}
			p.next++
			out.PushBack(&mempool.NewBatch{Header: stdtypes.NewHeader(rb.ReplyTo), Ref: rb.Ref, Txs: []mempool.Tx{tx}})
		}
	}
	return out, nil
}

// simConfig is a deployment of availability on four nodes with WALs on
// simulated disks, reliablenet, and synchronous crypto.
func simConfig(t testing.TB) deploytest.Config {
	return deploytest.Config{
		Nodes: four.IDs(),
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			amc := availability.ModuleConfig{
				Self: mc.Self, ReliableNet: "rnet", Net: info.Transport, Crypto: "crypto",
				WAL: info.WAL, Timer: info.Timer, Mempool: "mempool",
			}
			params := availability.DefaultModuleParams(four)
			params.FetchTimeout = 50 * time.Millisecond
			m, err := availability.NewModule(info.ID, amc, params, nil)
			if err != nil {
				return nil, err
			}
			rp := reliablenet.DefaultModuleParams(uint64(info.Incarnation))
			rp.TickPeriod = 10 * time.Millisecond
			rn, err := reliablenet.NewModule(info.ID,
				reliablenet.ModuleConfig{Self: "rnet", Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{mc.Self}}, rp, nil)
			if err != nil {
				return nil, err
			}
			cm, err := crypto.NewModule(nodeCrypto(t, four.IDs(), slices.Index(four.IDs(), info.ID)))
			if err != nil {
				return nil, err
			}
			client := string(info.ID) + "/" + strconv.Itoa(info.Incarnation)
			return modules.Modules{
				mc.Self: m, "rnet": rn, "crypto": cm, "mempool": &simMempool{client: client},
				"ordering": modules.NullPassive{}, "bf": modules.NullPassive{},
			}, nil
		},
	}
}

// TestCertifiedBatchesSurvivePowerCuts: node 0 proposes a batch every
// 20 ms while every node loses power at once, at random moments, and
// comes back with what its disk kept (the simulated disk loses, tears or
// flips what was not synced). Every certificate node 0 made must resolve,
// at every node, to its batch: its signers persisted the batch before
// they signed it, so a restart does not lose it.
func TestCertifiedBatchesSurvivePowerCuts(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		// A slow disk (5 to 15 ms a sync, more than a message takes): a
		// node that signed before its sync completed would be caught by
		// the power cuts right after the certificates.
		d, err := deploytest.NewSimulated(simConfig(t), deploytest.SimOptions{Seed: seed, WAL: &wal.SimOptions{
			SyncLatency: testsim.Uniform(5*time.Millisecond, 15*time.Millisecond),
			Faults:      wal.SimFaults(),
		}})
		if err != nil {
			t.Fatal(err)
		}
		proposals := deploytest.Collect[*iss.Proposal](d)
		provided := deploytest.Collect[*availability.ProvideTxs](d)
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		s, r := d.Sim(), d.Sim().Rand()
		leader := d.Node("0")
		const slots = 30
		for k := range slots {
			rp := iss.NewRequestProposal(mc.Self, iss.OrdererID("ordering", 0, k), 0, stdtypes.SeqNr(k), slices.Clone(buckets))
			rp.Voters = four
			s.At(time.Duration(k)*20*time.Millisecond, func() {
				if leader.Up() {
					if err := leader.Inject(rp); err != nil {
						t.Error(err)
					}
				}
			})
		}
		at := time.Duration(0)
		for range 1 + r.IntN(3) {
			// Some milliseconds after a proposal is asked for: around when
			// its certificate is made.
			at += time.Duration(1+r.IntN(8))*20*time.Millisecond + time.Duration(3000+r.IntN(10000))*time.Microsecond
			for _, id := range d.Nodes() {
				d.Node(id).CrashAt(at)
				d.Node(id).RestartAt(at + time.Duration(1+r.IntN(20))*time.Millisecond)
			}
			at += 25 * time.Millisecond
		}
		if err := s.Run(slots*20*time.Millisecond + 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		certs := proposals.Of("0")
		if len(certs) == 0 {
			t.Fatal("no certificate")
		}
		for _, id := range d.Nodes() {
			for i, p := range certs {
				if err := d.Node(id).Inject(&availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Ref: uint64(i), Cert: p.Value}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.RunFor(time.Second); err != nil {
			t.Fatal(err)
		}
		for _, id := range d.Nodes() {
			got := provided.Of(id)
			if len(got) != len(certs) {
				t.Fatalf("node %s resolved %d of %d certificates", id, len(got), len(certs))
			}
			for _, pt := range got {
				c, err := availability.DecodeCertificate(certs[pt.Ref].Value, 64)
				if err != nil {
					t.Fatal(err)
				}
				if d := availability.BatchDigest(c.Epoch, c.Leader, c.Buckets, pt.Txs); string(d) != string(c.Digest) {
					t.Fatalf("node %s resolved certificate %d to another batch", id, pt.Ref)
				}
			}
		}
	})
}
