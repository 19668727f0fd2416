package iss

import (
	"slices"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// SegmentSeqNrs returns the slots of segment index of an epoch whose first
// slot is first and which has numLeaders leaders, segmentLength slots per
// leader: first + index, first + index + numLeaders, ... (docs/iss.md,
// section 1: interleaved, so that all leaders' slots advance together).
func SegmentSeqNrs(first stdtypes.SeqNr, numLeaders, index, segmentLength int) []stdtypes.SeqNr {
	sns := make([]stdtypes.SeqNr, segmentLength)
	for k := range sns {
		sns[k] = first + stdtypes.SeqNr(index+k*numLeaders)
	}
	return sns
}

// BucketLeader returns the index among the leaders of epoch of the leader
// bucket is assigned to: (bucket + epoch) mod numLeaders, so that the
// assignment rotates every epoch and a leader that censors a request
// holds its bucket for one epoch only.
func BucketLeader(bucket int, epoch stdtypes.EpochNr, numLeaders int) int {
	n := uint64(numLeaders)
	return int((uint64(bucket)%n + uint64(epoch)%n) % n)
}

// LeaderBuckets returns the buckets, increasing, that the leader at index
// of the numLeaders leaders of epoch proposes requests from, out of
// numBuckets.
func LeaderBuckets(numBuckets int, epoch stdtypes.EpochNr, numLeaders, index int) []int {
	var buckets []int
	for b := range numBuckets {
		if BucketLeader(b, epoch, numLeaders) == index {
			buckets = append(buckets, b)
		}
	}
	return buckets
}

// Segments returns the segments of epoch epoch, which starts at slot first,
// has membership voters and the leaders given (docs/iss.md, section 1).
func Segments(epoch stdtypes.EpochNr, first stdtypes.SeqNr, voters membership.Voters, leaders []stdtypes.NodeID, segmentLength, numBuckets int) []Segment {
	segs := make([]Segment, len(leaders))
	for i, leader := range leaders {
		segs[i] = Segment{
			Epoch:   epoch,
			Index:   i,
			Leader:  leader,
			Voters:  slices.Clone(voters), // each orderer owns its Params
			SeqNrs:  SegmentSeqNrs(first, len(leaders), i, segmentLength),
			Buckets: LeaderBuckets(numBuckets, epoch, len(leaders), i),
		}
	}
	return segs
}
