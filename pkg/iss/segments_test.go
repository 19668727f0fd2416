package iss

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

func TestSegmentsExample(t *testing.T) {
	segs := Segments(1, 100, fourVoters, ids("n0", "n2", "n3"), 2, 6)
	want := []struct {
		leader  stdtypes.NodeID
		sns     []stdtypes.SeqNr
		buckets []int
	}{
		// Bucket b goes to leader (b + 1) mod 3.
		{"n0", []stdtypes.SeqNr{100, 103}, []int{2, 5}},
		{"n2", []stdtypes.SeqNr{101, 104}, []int{0, 3}},
		{"n3", []stdtypes.SeqNr{102, 105}, []int{1, 4}},
	}
	for i, s := range segs {
		if s.Epoch != 1 || s.Index != i || s.Leader != want[i].leader || !slices.Equal(s.SeqNrs, want[i].sns) ||
			!slices.Equal(s.Buckets, want[i].buckets) || !slices.Equal(s.Voters, fourVoters) {
			t.Errorf("segment %d = %+v, want %+v", i, s, want[i])
		}
	}
	segs[0].Voters[0].Weight = 7
	if segs[1].Voters[0].Weight != 1 || fourVoters[0].Weight != 1 {
		t.Error("segments share their Voters with each other or the caller")
	}
}

// TestSegmentsCoverTheEpoch checks, for 1 to 7 leaders and several epochs,
// that the segments split the epoch's slots and the buckets exactly, slots
// interleaved, buckets rotating by one leader per epoch.
func TestSegmentsCoverTheEpoch(t *testing.T) {
	const segLen, numBuckets = 5, 20
	for n := 1; n <= 7; n++ {
		var leaders []stdtypes.NodeID
		for i := range n {
			leaders = append(leaders, stdtypes.NodeID(rune('a'+i)))
		}
		for e := range stdtypes.EpochNr(9) {
			first := stdtypes.SeqNr(e) * 1000
			segs := Segments(e, first, fourVoters, leaders, segLen, numBuckets)
			slot := make(map[stdtypes.SeqNr]int)
			bucket := make(map[int]int)
			for i, s := range segs {
				for k, sn := range s.SeqNrs {
					if sn != first+stdtypes.SeqNr(i+k*n) {
						t.Fatalf("%d leaders, epoch %d: segment %d slot %d is %d", n, e, i, k, sn)
					}
					slot[sn]++
				}
				for _, b := range s.Buckets {
					if want := (b + int(e)) % n; want != i {
						t.Fatalf("%d leaders, epoch %d: bucket %d in segment %d, want %d", n, e, b, i, want)
					}
					bucket[b]++
				}
			}
			for sn := first; sn < first+stdtypes.SeqNr(n*segLen); sn++ {
				if slot[sn] != 1 {
					t.Fatalf("%d leaders, epoch %d: slot %d in %d segments", n, e, sn, slot[sn])
				}
			}
			if len(slot) != n*segLen {
				t.Fatalf("%d leaders: %d slots, want %d", n, len(slot), n*segLen)
			}
			for b := range numBuckets {
				if bucket[b] != 1 {
					t.Fatalf("%d leaders, epoch %d: bucket %d in %d segments", n, e, b, bucket[b])
				}
			}
		}
	}
}

func TestBucketLeaderLargeEpoch(t *testing.T) {
	// No overflow for the largest epoch.
	e := ^stdtypes.EpochNr(0)
	if got, want := BucketLeader(3, e, 7), int((3%7+uint64(e)%7)%7); got != want {
		t.Errorf("BucketLeader = %d, want %d", got, want)
	}
}
