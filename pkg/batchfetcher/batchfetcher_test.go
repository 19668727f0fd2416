package batchfetcher_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// Slots are handed on in the order of the log, whatever the order in which
// availability answers, and ⊥ and empty slots neither wait nor block.
func TestOrderOfTheLog(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m,
		deliver(0, "cert0", allBuckets),
		aborted(1),
		deliver(2, "", allBuckets),
		deliver(3, "cert3", allBuckets),
		deliver(4, "cert4", allBuckets),
	),
		"availability RequestTxs ref=0 cert=cert0 replyTo=batchfetcher",
		"availability RequestTxs ref=3 cert=cert3 replyTo=batchfetcher",
		"availability RequestTxs ref=4 cert=cert4 replyTo=batchfetcher",
	)
	// Slots 4 and 3 answer first: they wait for slot 0.
	expect(t, apply(t, m, provide(4, tx("c", 2)), provide(3, tx("c", 1))))
	if s := m.Stats(); s.PendingSlots != 5 || s.Executed != 0 {
		t.Fatalf("stats %+v, want 5 pending slots and nothing executed", s)
	}
	expect(t, apply(t, m, provide(0, tx("c", 0))),
		"app Execute 0.0 [c.0]",
		"mempool Executed [c.0]",
		"app Execute 0.3 [c.1]",
		"mempool Executed [c.1]",
		"app Execute 0.4 [c.2]",
		"mempool Executed [c.2]",
	)
	if s := m.Stats(); s.PendingSlots != 0 || s.Executed != 3 || s.Slots != 5 || s.EmptySlots != 2 {
		t.Fatalf("stats %+v, want 5 slots, 2 empty, 3 executed, none pending", s)
	}
}

// A slot ⊥ at its head hands on the slots behind it at once.
func TestBottomSlotDoesNotWait(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m, aborted(0), deliver(1, "cert1", allBuckets), provide(1, tx("c", 0))),
		"availability RequestTxs ref=1 cert=cert1 replyTo=batchfetcher",
		"app Execute 0.1 [c.0]",
		"mempool Executed [c.0]",
	)
}

// A transaction in two slots (proposed by two leaders across epochs) or
// twice in one executes once.
func TestDuplicatesAcrossSlots(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m,
		deliver(0, "a", allBuckets), deliver(1, "b", allBuckets),
		provide(1, tx("c", 1), tx("d", 0)),
		provide(0, tx("c", 0), tx("c", 1), tx("c", 0)),
	),
		"availability RequestTxs ref=0 cert=a replyTo=batchfetcher",
		"availability RequestTxs ref=1 cert=b replyTo=batchfetcher",
		"app Execute 0.0 [c.0 c.1]",
		"mempool Executed [c.0 c.1]",
		"app Execute 0.1 [d.0]",
		"mempool Executed [d.0]",
	)
	if got := m.Stats().Dropped[batchfetcher.DropExecuted]; got != 2 {
		t.Fatalf("%d dropped as executed, want 2", got)
	}
}

// A client's retried transaction executes once, whether it executed below
// the client's low watermark or above it (out of order).
func TestRetriedTransactionExecutesOnce(t *testing.T) {
	m := newFetcher(t, testParams())
	steps := []struct {
		txs  []mempool.Tx
		want string // the executed transactions
	}{
		{[]mempool.Tx{tx("c", 3)}, "[c.3]"}, // above the watermark 0
		{[]mempool.Tx{tx("c", 3), tx("c", 0)}, "[c.0]"},
		{[]mempool.Tx{tx("c", 1), tx("c", 2)}, "[c.1 c.2]"}, // the watermark moves past 3
		{[]mempool.Tx{tx("c", 0), tx("c", 3), tx("c", 2), tx("c", 4)}, "[c.4]"},
	}
	for i, s := range steps {
		sn := stdtypes.SeqNr(i)
		got := apply(t, m, deliver(sn, "v", allBuckets), provide(uint64(sn), s.txs...))
		if len(got) != 3 || !strings.HasSuffix(got[1], s.want) {
			t.Fatalf("slot %d: output %q, want the execution of %s", i, got, s.want)
		}
	}
	if got := m.Stats().Dropped[batchfetcher.DropExecuted]; got != 4 {
		t.Fatalf("%d dropped as executed, want 4", got)
	}
}

// A transaction outside the buckets of its slot's leader is dropped, at
// every node alike.
func TestOutsideBucketsDropped(t *testing.T) {
	m := newFetcher(t, testParams())
	in := txInBucket(t, "c", 0, 0)
	out := txInBucket(t, "d", 0, 1)
	expect(t, apply(t, m, deliver(0, "v", []int{0}), provide(0, out, in)),
		"availability RequestTxs ref=0 cert=v replyTo=batchfetcher",
		"app Execute 0.0 ["+string(in.Data)+"]",
		"mempool Executed [c."+strings.TrimPrefix(string(in.Data), "c.")+"]",
	)
	if got := m.Stats().Dropped[batchfetcher.DropBucket]; got != 1 {
		t.Fatalf("%d dropped for their bucket, want 1", got)
	}
	// The transaction dropped executes in a slot of its bucket's leader.
	expect(t, apply(t, m, deliver(1, "w", []int{1}), provide(1, out))[1:],
		"app Execute 0.1 ["+string(out.Data)+"]",
		"mempool Executed [d."+strings.TrimPrefix(string(out.Data), "d.")+"]",
	)
}

// A transaction beyond its client's window, of a client beyond
// MaxClients, or with a client ID beyond MaxClientIDBytes is dropped; a
// slot with nothing left to execute gives no Execute.
func TestLimitsDrop(t *testing.T) {
	p := testParams()
	m := newFetcher(t, p)
	long := strings.Repeat("x", p.MaxClientIDBytes+1)
	expect(t, apply(t, m, deliver(0, "v", allBuckets),
		provide(0, tx("a", p.ClientWindow), tx("a", batchfetcher.MaxTxNo+1), tx(long, 0),
			tx("a", p.ClientWindow-1), tx("b", 0), tx("c", 0), tx("d", 0), tx("e", 0)))[1:],
		"app Execute 0.0 [a.7 b.0 c.0 d.0]",
		"mempool Executed [a.7 b.0 c.0 d.0]",
	)
	s := m.Stats()
	if s.Dropped[batchfetcher.DropWindow] != 2 || s.Dropped[batchfetcher.DropTooManyClients] != 1 ||
		s.Dropped[batchfetcher.DropClientID] != 1 || s.Clients != 4 {
		t.Fatalf("stats %+v, want 2 beyond the window, 1 of too many clients, 1 client ID, 4 clients", s)
	}
	expect(t, apply(t, m, deliver(1, "w", allBuckets), provide(1, tx("e", 0), tx("a", 7)))[1:])
}

// ISS's snapshot request waits for the slots before it; the snapshot holds
// the clients as they were then, although later slots are handed on
// before the application answers; and it restores on another node, where
// a retried transaction does not execute again.
func TestSnapshotRestoreRoundTrip(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m,
		deliver(0, "v", allBuckets),
		snapshotRequest(0, 1),
		deliver(1, "w", allBuckets),
	),
		"availability RequestTxs ref=0 cert=v replyTo=batchfetcher",
		"availability RequestTxs ref=1 cert=w replyTo=batchfetcher",
	)
	expect(t, apply(t, m, provide(1, tx("c", 1)), provide(0, tx("c", 0))),
		"app Execute 0.0 [c.0]",
		"mempool Executed [c.0]",
		"mempool EpochExecuted 0",
		"app SnapshotRequest 0.1 replyTo=batchfetcher",
		"app Execute 0.1 [c.1]",
		"mempool Executed [c.1]",
	)
	out, err := m.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "app state")))
	if err != nil || out.Len() != 1 {
		t.Fatalf("AppSnapshot: %v, %d events", err, out.Len())
	}
	snap, ok := out.Get(0).(*iss.Snapshot)
	if !ok || snap.Dest() != "iss" || snap.Epoch != 0 {
		t.Fatalf("AppSnapshot gave %s, want a Snapshot of epoch 0 to iss", render(out.Get(0)))
	}

	// Another node restores the snapshot: c.0 executed, c.1 not. Its
	// mempool learns it, and takes c.0 no more.
	n := newFetcher(t, testParams())
	expect(t, apply(t, n, restore(0, 1, snap.Data)), `app RestoreApp 0.1 "app state"`, "mempool Watermarks [c<1[]]",
		"mempool EpochExecuted 0")
	expect(t, apply(t, n, deliver(1, "w", allBuckets), provide(1, tx("c", 0), tx("c", 1)))[1:],
		"app Execute 0.1 [c.1]",
		"mempool Executed [c.1]",
	)
	// A snapshot of the restored state, taken at once, is the state.
	again := newFetcher(t, testParams())
	apply(t, again, restore(0, 1, snap.Data), snapshotRequest(0, 1))
	out, err = again.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "app state")))
	if err != nil || string(out.Get(0).(*iss.Snapshot).Data) != string(snap.Data) {
		t.Fatalf("the snapshot of a restored state differs from it (%v)", err)
	}
}

// A restore of data that is not a state is refused, and changes nothing.
func TestRestoreGarbageRefused(t *testing.T) {
	m := newFetcher(t, testParams())
	apply(t, m, deliver(0, "v", allBuckets), provide(0, tx("c", 0)))
	for _, data := range [][]byte{nil, {}, []byte("garbage"), {1}, {2, 1, 0, 0}, {1, 1, 0, 0, 0}} {
		if err := applyErr(m, restore(0, 1, data)); !errors.Is(err, batchfetcher.ErrInvalidState) {
			t.Errorf("RestoreState of %q: error %v, want ErrInvalidState", data, err)
		}
	}
	// A valid state for another slot than the event's is refused too.
	if err := applyErr(m, restore(0, 2, []byte{1, 1, 0, 0})); err == nil {
		t.Error("RestoreState of a state of slot 1 for slot 2 accepted")
	}
	expect(t, apply(t, m, deliver(1, "w", allBuckets), provide(1, tx("c", 0), tx("c", 1)))[1:],
		"app Execute 0.1 [c.1]",
		"mempool Executed [c.1]",
	)
}

// A restore drops the slots not handed on (the state holds them): their
// late answers are counted, and the log goes on from the state's slot.
func TestRestoreSkipsPendingSlots(t *testing.T) {
	m := newFetcher(t, testParams())
	apply(t, m, deliver(0, "v", allBuckets), deliver(1, "w", allBuckets))
	expect(t, apply(t, m, restore(3, 5, []byte{1, 5, 0, 2, 'a', 'b'})), `app RestoreApp 3.5 "ab"`, "mempool EpochExecuted 3")
	expect(t, apply(t, m, provide(1, tx("c", 0)), provide(0, tx("c", 1))))
	if s := m.Stats(); s.Stale != 2 || s.SkippedSlots != 2 || s.PendingSlots != 0 || s.Restores != 1 {
		t.Fatalf("stats %+v, want 2 stale answers, 2 skipped slots, 1 restore", s)
	}
	if err := applyErr(m, deliver(2, "x", allBuckets)); err == nil {
		t.Fatal("a slot below the restored state accepted")
	}
	expect(t, apply(t, m, deliver(5, "x", allBuckets), provide(5, tx("c", 0)))[1:],
		"app Execute 0.5 [c.0]",
		"mempool Executed [c.0]",
	)
	// A state behind the slots delivered would execute slots twice.
	if err := applyErr(m, restore(0, 1, []byte{1, 1, 0, 0})); err == nil {
		t.Fatal("a restore behind the delivered slots accepted")
	}
}

// A stable checkpoint goes to availability once the slots below it are
// handed on: availability deletes their batches.
func TestStableCheckpointForwarded(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m, stable(0, 0)), "availability StableCheckpoint 0.0")
	apply(t, m, deliver(0, "v", allBuckets), deliver(1, "", allBuckets), deliver(2, "w", allBuckets))
	expect(t, apply(t, m, stable(0, 1), stable(1, 2)))
	expect(t, apply(t, m, provide(0)), "availability StableCheckpoint 1.2")
	expect(t, apply(t, m, stable(2, 3), deliver(3, "", allBuckets))) // slot 2 still waits
	// A restore past the checkpoint releases it.
	expect(t, apply(t, m, restore(2, 4, []byte{1, 4, 0, 0})),
		`app RestoreApp 2.4 ""`,
		"mempool EpochExecuted 2",
		"availability StableCheckpoint 2.3",
	)
	if s := m.Stats(); s.StableCheckpoints != 4 {
		t.Fatalf("%d stable checkpoints counted, want 4", s.StableCheckpoints)
	}
}

// What only a local bug can cause stops the node, naming the event.
func TestLocalMisuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before []stdtypes.Event
		ev     stdtypes.Event
		want   string
	}{
		{"gap", nil, deliver(1, "v", allBuckets), "iss.Deliver"},
		{"twice", []stdtypes.Event{deliver(0, "", nil)}, deliver(0, "", nil), "iss.Deliver"},
		{"bottom with a value", nil, &iss.Deliver{SeqNr: 0, Aborted: true, Value: []byte("v")}, "⊥"},
		{"unknown ref", nil, provide(0), "availability.ProvideTxs"},
		{"answered twice", []stdtypes.Event{deliver(0, "v", nil), deliver(1, "w", nil), provide(1)}, provide(1), "Ref 1"},
		{"snapshot at another slot", []stdtypes.Event{deliver(0, "", nil)}, snapshotRequest(0, 0), "next slot is 1"},
		{"snapshot not asked", nil, appSnapshot(0, ""), "none was asked"},
		{"snapshot of another epoch", []stdtypes.Event{snapshotRequest(0, 0)}, appSnapshot(1, ""), "oldest asked"},
		{"snapshot too large", []stdtypes.Event{snapshotRequest(0, 0)}, appSnapshot(0, strings.Repeat("x", 1025)), "MaxAppStateBytes"},
		{"unknown event", nil, &mempool.NewTxs{}, "unexpected event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFetcher(t, testParams())
			apply(t, m, tc.before...)
			err := applyErr(m, tc.ev)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one that says %q", err, tc.want)
			}
		})
	}
}

// ISS's snapshot requests not answered are bounded, queued or asked.
func TestSnapshotsBounded(t *testing.T) {
	m := newFetcher(t, testParams())
	apply(t, m, deliver(0, "v", allBuckets))
	n := 0
	for ; n < 1000; n++ {
		if err := applyErr(m, snapshotRequest(stdtypes.EpochNr(n), 1)); err != nil {
			if !strings.Contains(err.Error(), "not answered") {
				t.Fatal(err)
			}
			break
		}
	}
	if n != 2*(iss.MaxConfigOffset+1) {
		t.Fatalf("%d snapshot requests accepted, want 2(MaxConfigOffset+1)", n)
	}
	// Answered by the application, they make room again.
	apply(t, m, provide(0), appSnapshot(0, ""), snapshotRequest(1000, 1))
}

// The slots waiting are bounded: ISS delivering beyond MaxPendingSlots
// means the parameters disagree with ISS's, an error.
func TestPendingSlotsBounded(t *testing.T) {
	p := testParams()
	m := newFetcher(t, p)
	for sn := range p.MaxPendingSlots {
		apply(t, m, deliver(stdtypes.SeqNr(sn), "v", allBuckets))
	}
	if err := applyErr(m, deliver(stdtypes.SeqNr(p.MaxPendingSlots), "", nil)); err == nil || !strings.Contains(err.Error(), "MaxPendingSlots") {
		t.Fatalf("slot beyond MaxPendingSlots: error %v", err)
	}
	// Once the head is handed on, there is room again.
	apply(t, m, provide(0))
	apply(t, m, deliver(stdtypes.SeqNr(p.MaxPendingSlots), "", nil))
}

// A node that restarts from a snapshot taken mid-run, and gets the slots
// after it again, hands its application what the node that never stopped
// handed on: the same transactions of the same slots.
func TestRestartFromSnapshotReplaysAlike(t *testing.T) {
	slots := [][]mempool.Tx{
		{tx("a", 1), tx("b", 0)}, {tx("a", 0)}, nil, {tx("a", 1), tx("c", 3)},
		{tx("a", 2), tx("b", 0), tx("c", 0)}, {tx("c", 3), tx("c", 1)}, {tx("c", 2), tx("a", 3)},
	}
	const at = 4 // the snapshot is taken before slot 4
	run := func(m *batchfetcher.Module, from int) (executed []string, snap []byte) {
		for i := from; i < len(slots); i++ {
			sn := stdtypes.SeqNr(i)
			if i == at && from < at {
				apply(t, m, snapshotRequest(0, sn))
				out, err := m.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "app")))
				if err != nil {
					t.Fatal(err)
				}
				snap = out.Get(0).(*iss.Snapshot).Data
			}
			for _, line := range apply(t, m, deliver(sn, "v", allBuckets), provide(uint64(sn), slots[i]...)) {
				if strings.HasPrefix(line, "app ") {
					executed = append(executed, line)
				}
			}
		}
		return executed, snap
	}
	all, snap := run(newFetcher(t, testParams()), 0)
	restarted := newFetcher(t, testParams())
	expect(t, apply(t, restarted, restore(0, at, snap)), `app RestoreApp 0.4 "app"`, "mempool Watermarks [a<2[] b<1[] c<0[3]]",
		"mempool EpochExecuted 0")
	replayed, _ := run(restarted, at)
	expect(t, replayed, all[len(all)-len(replayed):]...)
	if len(replayed) != 3 {
		t.Fatalf("%d slots executed after the snapshot, want 3: %q", len(replayed), replayed)
	}
}

// A restore tells the mempool each client's watermark and the numbers
// executed above it, in the order of the client IDs, before it forwards a
// stable checkpoint it held (availability then hands back to the mempool
// what was not delivered, which may include what the state executed).
func TestRestoreTellsTheMempool(t *testing.T) {
	m := newFetcher(t, testParams())
	apply(t, m, deliver(0, "v", allBuckets),
		provide(0, tx("b", 0), tx("a", 3), tx("a", 0), tx("a", 1), tx("a", 5)),
		snapshotRequest(0, 1))
	out, err := m.ApplyEvents(stdtypes.ListOf(appSnapshot(0, "s")))
	if err != nil {
		t.Fatal(err)
	}
	data := out.Get(0).(*iss.Snapshot).Data
	n := newFetcher(t, testParams())
	apply(t, n, deliver(0, "v", allBuckets), stable(0, 1))
	expect(t, apply(t, n, restore(0, 1, data)),
		`app RestoreApp 0.1 "s"`,
		"mempool Watermarks [a<2[3 5] b<1[]]",
		"mempool EpochExecuted 0",
		"availability StableCheckpoint 0.1",
	)
}

// The mempool learns that an epoch is executed only once its last slot is
// handed on, after that slot's Executed: while a batch of the epoch is
// still being fetched, the mempool holds its transactions waiting, and a
// request of the next epoch, whose buckets have other leaders, must not
// take them.
func TestEpochExecutedAfterItsSlots(t *testing.T) {
	m := newFetcher(t, testParams())
	expect(t, apply(t, m, deliver(0, "v", allBuckets), deliver(1, "w", allBuckets), snapshotRequest(0, 2)),
		"availability RequestTxs ref=0 cert=v replyTo=batchfetcher",
		"availability RequestTxs ref=1 cert=w replyTo=batchfetcher",
	)
	expect(t, apply(t, m, provide(0, tx("c", 0))),
		"app Execute 0.0 [c.0]",
		"mempool Executed [c.0]",
	)
	expect(t, apply(t, m, provide(1, tx("c", 1))),
		"app Execute 0.1 [c.1]",
		"mempool Executed [c.1]",
		"mempool EpochExecuted 0",
		"app SnapshotRequest 0.2 replyTo=batchfetcher",
	)
}
