package wal

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
)

// crashRun writes records 1..synced to a log on a new MemFS and syncs
// them, writes records up to written without syncing, crashes the disk
// with faults drawn from seed, and reopens the log. It returns what the
// crash did, what recovery found, the records, and the index of the last
// record durable before the crash (a new segment syncs the one before).
func crashRun(t testing.TB, seed uint64, faults CrashFaults, synced, written uint64) ([]CrashReport, Recovery, []Record, uint64) {
	t.Helper()
	m := NewMemFS()
	opts := smallOptions(m)
	r, err := OpenRaw(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= written; i++ {
		if _, err := r.Append(payload(i)); err != nil {
			t.Fatal(err)
		}
		if i == synced {
			if err := r.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	durable := r.DurableIndex()
	// The log is not closed: the machine stops.
	reports := m.Crash(rand.New(rand.NewPCG(seed, 0)), faults)
	r2, recs, err := reopen(opts)
	if err != nil {
		t.Fatalf("seed %d: %+v: reopen: %v", seed, reports, err)
	}
	mustClose(t, r2)
	return reports, r2.Recovery(), recs, durable
}

// TestCrashKeeps: each fate of the unsynced writes, forced, leaves what
// it says; the synced records are always there.
func TestCrashKeeps(t *testing.T) {
	const synced, written = 10, 25
	tests := []struct {
		keep KeepPolicy
		all  bool // all are kept
		some bool // some may be kept
	}{
		{KeepNone, false, false},
		{KeepAll, true, true},
		{KeepPrefix, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.keep.String(), func(t *testing.T) {
			for seed := range uint64(20) {
				reports, _, recs, durable := crashRun(t, seed, CrashFaults{Keep: tc.keep}, synced, written)
				lo, hi := uint64(durable), uint64(durable)
				if tc.all {
					lo = written
				}
				if tc.some {
					hi = written
				}
				n := uint64(len(recs))
				if n < lo || n > hi || durable < synced {
					t.Fatalf("seed %d: %d records recovered, want %d to %d, %d durable (%+v)", seed, n, lo, hi, durable, reports)
				}
				if err := checkRecords(recs, 1, n); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				for _, rep := range reports {
					if rep.Fate != tc.keep || rep.FlippedBit != -1 {
						t.Fatalf("seed %d: %+v", seed, rep)
					}
				}
			}
		})
	}
}

// TestCrashFaults: whatever a crash does to the unsynced writes (all,
// none or a prefix kept, a record torn, a bit flipped in the last bytes
// kept), the log reopens with every synced record, and every record it
// returns is one that was written, whole: the checksum catches the flips.
// Over the seeds, every fault happens.
func TestCrashFaults(t *testing.T) {
	faults := CrashFaults{FlipProbability: 0.5}
	fates := map[KeepPolicy]int{}
	torn, flips := 0, 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		synced := uint64(r.IntN(40))
		written := synced + 1 + uint64(r.IntN(40))
		reports, rec, recs, durable := crashRun(t, seed, faults, synced, written)
		n := uint64(len(recs))
		if n < durable || n > written {
			t.Fatalf("seed %d: %d records recovered, %d synced, %d written (%+v)", seed, n, synced, written, reports)
		}
		if err := checkRecords(recs, 1, n); err != nil {
			t.Fatalf("seed %d: %v (%+v)", seed, err, reports)
		}
		for _, rep := range reports {
			fates[rep.Fate]++
			if rep.FlippedBit >= 0 {
				flips++
			}
		}
		if rec.TornTail != nil {
			torn++
		}
	}
	if fates[KeepNone] == 0 || fates[KeepAll] == 0 || fates[KeepPrefix] == 0 || torn == 0 || flips == 0 {
		t.Errorf("some fault never happened: fates %v, %d torn tails, %d flips", fates, torn, flips)
	}
}

// TestCrashSameSeedSameFaults: a seed makes the same faults every time.
func TestCrashSameSeedSameFaults(t *testing.T) {
	faults := CrashFaults{FlipProbability: 0.5}
	differ := false
	for seed := range uint64(20) {
		rep1, rec1, recs1, _ := crashRun(t, seed, faults, 5, 40)
		rep2, rec2, recs2, _ := crashRun(t, seed, faults, 5, 40)
		if !reflect.DeepEqual(rep1, rep2) || !reflect.DeepEqual(rec1, rec2) || len(recs1) != len(recs2) {
			t.Fatalf("seed %d: %+v, %+v then %+v, %+v", seed, rep1, rec1, rep2, rec2)
		}
		rep3, _, _, _ := crashRun(t, seed+100, faults, 5, 40)
		differ = differ || !reflect.DeepEqual(rep1, rep3)
	}
	if !differ {
		t.Error("every seed made the same faults")
	}
}

// TestCrashClosesFiles: a crash releases the log's lock and closes its
// files, as the end of a process does: the old log can write no more.
func TestCrashClosesFiles(t *testing.T) {
	m := NewMemFS()
	opts := smallOptions(m)
	r, err := OpenRaw(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRaw(testDir, opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	m.Crash(nil, CrashFaults{})
	if _, err := r.Append(payload(1)); err != nil {
		t.Fatal(err) // in memory only
	}
	if err := r.Sync(); !errors.Is(err, errFileClosed) {
		t.Fatalf("a write after the crash: %v", err)
	}
	mustRecover(t, opts, 1, 0)
}
