package isstest_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/mempool"
)

var testLimits = isstest.Limits{MaxRequests: 3, MaxBytes: 100, MaxClientBytes: 4, MaxPayloadBytes: 8}

// TestDecodeBatch: what EncodeBatch writes decodes to the same requests;
// everything else, and everything beyond the limits, is refused.
func TestDecodeBatch(t *testing.T) {
	reqs := []isstest.Request{req("a", 1), {RequestID: isstest.RequestID{Client: "bb", Seq: 300}, Payload: []byte{}}}
	reqs[0].Payload = []byte("12345678")
	data := isstest.EncodeBatch(reqs)
	got, err := isstest.DecodeBatch(data, testLimits)
	if err != nil || len(got) != 2 || got[1].Seq != 300 || string(got[0].Payload) != "12345678" {
		t.Fatalf("decoded %v, %v", got, err)
	}
	enc := func(parts ...any) []byte { return isstest.EncodeParts(1, parts...) }
	if _, err := isstest.DecodeBatch(enc(1, "a", 0, "p"), testLimits); err != nil {
		t.Fatalf("a batch of one refused: %v", err)
	}
	for name, bad := range map[string][]byte{
		"empty":           {},
		"version":         append([]byte{2}, data[1:]...),
		"no requests":     enc(0),
		"too many":        enc(4, "a", 0, "", "a", 1, "", "a", 2, "", "a", 3, ""),
		"count beyond":    enc(3, "a", 0, ""),
		"trailing":        append(slices.Clone(data), 0),
		"truncated":       data[:len(data)-1],
		"empty client":    enc(1, "", 0, ""),
		"long client":     enc(1, "abcde", 0, ""),
		"long payload":    enc(1, "a", 0, "123456789"),
		"seq too high":    enc(1, "a", uint64(isstest.MaxSeq+1), ""),
		"long varint":     enc(1, "a", []byte{0x80, 0x00}, ""),
		"overflowing":     enc(1, "a", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, ""),
		"too many bytes":  enc(1, "a", 0, string(make([]byte, 120))),
		"huge count":      enc(1 << 40),
		"string past end": enc(1, []byte{10}, "a"),
	} {
		if reqs, err := isstest.DecodeBatch(bad, testLimits); err == nil {
			t.Errorf("%s: %x decoded to %v", name, bad, reqs)
		}
	}
}

// TestBucketOf: buckets are in range, stable, and spread a client's
// requests.
func TestBucketOf(t *testing.T) {
	count := make([]int, 8)
	for seq := range uint64(800) {
		b := isstest.BucketOf(isstest.RequestID{Client: "c", Seq: seq}, 8)
		if b < 0 || b >= 8 {
			t.Fatalf("bucket %d", b)
		}
		count[b]++
	}
	for b, n := range count {
		if n < 60 || n > 140 {
			t.Errorf("bucket %d got %d of 800 requests: %v", b, n, count)
		}
	}
	// Trantor's function: the buckets are part of what all nodes, and the
	// tests' drivers, must agree on.
	for _, id := range []isstest.RequestID{{Client: "alice", Seq: 7}, {Client: "b", Seq: 1 << 40}} {
		if want := mempool.BucketOf(mempool.TxID{ClientID: id.Client, TxNo: id.Seq}, 64); isstest.BucketOf(id, 64) != want {
			t.Errorf("bucket of %s is %d, want %d", id, isstest.BucketOf(id, 64), want)
		}
	}
}
