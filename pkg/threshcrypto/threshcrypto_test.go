package threshcrypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// system returns the BLS of each of n nodes of a t-of-n key dealt from
// seed.
func system(tb testing.TB, t, n int, seed string) []*threshcrypto.BLS {
	tb.Helper()
	pub, shares, err := threshcrypto.DealFromSeed(t, n, []byte(seed))
	if err != nil {
		tb.Fatal(err)
	}
	nodes := make([]*threshcrypto.BLS, n)
	for i := range nodes {
		if nodes[i], err = threshcrypto.New(pub, shares[i], stdtypes.NumberedNodeIDs(n)); err != nil {
			tb.Fatal(err)
		}
	}
	return nodes
}

func signShares(tb testing.TB, nodes []*threshcrypto.BLS, msg []byte) [][]byte {
	tb.Helper()
	shares := make([][]byte, len(nodes))
	for i, c := range nodes {
		s, err := c.SignShare(msg)
		if err != nil {
			tb.Fatal(err)
		}
		shares[i] = s
	}
	return shares
}

// TestThreshold runs the whole scheme for several t and n: every node's
// share verifies, any t shares recover the same full signature, which
// verifies, and fewer do not.
func TestThreshold(t *testing.T) {
	for _, tn := range [][2]int{{1, 1}, {1, 3}, {2, 3}, {3, 4}, {5, 7}, {7, 10}, {17, 25}, {4, 4}} {
		th, n := tn[0], tn[1]
		t.Run(fmt.Sprintf("%d-of-%d", th, n), func(t *testing.T) {
			nodes := system(t, th, n, "threshold")
			msg := []byte("the message")
			shares := signShares(t, nodes, msg)
			for i, s := range shares {
				if len(s) != threshcrypto.ShareSize {
					t.Fatalf("share of %d bytes", len(s))
				}
				for _, v := range nodes[:min(2, n)] {
					if err := v.VerifyShare(msg, s, stdtypes.NewNodeIDFromInt(i)); err != nil {
						t.Fatalf("share %d: %v", i, err)
					}
					if err := v.VerifyShare([]byte("other"), s, stdtypes.NewNodeIDFromInt(i)); !errors.Is(err, threshcrypto.ErrInvalidSignature) {
						t.Fatalf("share %d of another message: %v", i, err)
					}
				}
			}
			rng := rand.New(rand.NewPCG(uint64(th), uint64(n)))
			var first []byte
			for range 5 {
				perm := rng.Perm(n)[:th]
				subset := make([][]byte, th)
				for i, j := range perm {
					subset[i] = shares[j]
				}
				// A node that verified no share and one that verified all.
				for _, c := range []*threshcrypto.BLS{nodes[n-1], nodes[0]} {
					sig, err := c.Recover(msg, subset)
					if err != nil {
						t.Fatalf("recover from %v: %v", perm, err)
					}
					if first == nil {
						first = sig
					} else if !bytes.Equal(sig, first) {
						t.Fatalf("shares %v gave another signature", perm)
					}
					if err := c.VerifyFull(msg, sig); err != nil {
						t.Fatalf("recovered signature: %v", err)
					}
					if err := c.VerifyFull([]byte("other"), sig); !errors.Is(err, threshcrypto.ErrInvalidSignature) {
						t.Fatalf("signature of another message: %v", err)
					}
				}
				if _, err := nodes[0].Recover(msg, subset[:th-1]); !errors.Is(err, threshcrypto.ErrNotEnoughShares) {
					t.Fatalf("recover from %d shares: %v", th-1, err)
				}
			}
		})
	}
}

// TestRecoverSkipsInvalidShares checks that Recover finds t valid shares
// among invalid ones, verifying those it has not seen, and fails when
// fewer than t are valid.
func TestRecoverSkipsInvalidShares(t *testing.T) {
	nodes := system(t, 3, 5, "skip")
	msg := []byte("m")
	shares := signShares(t, nodes, msg)
	wrong := signShares(t, nodes, []byte("not m"))
	want, err := nodes[0].Recover(msg, shares[:3])
	if err != nil {
		t.Fatal(err)
	}
	// Shares 0 and 2 replaced by shares of another message: valid
	// encodings, invalid signatures.
	mixed := [][]byte{wrong[0], shares[1], wrong[2], shares[3], shares[4]}
	fresh := system(t, 3, 5, "skip")[1] // Has verified nothing.
	got, err := fresh.Recover(msg, mixed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("recovered another signature")
	}
	if _, err := fresh.Recover(msg, [][]byte{wrong[0], shares[1], wrong[2], shares[3]}); !errors.Is(err, threshcrypto.ErrNotEnoughShares) {
		t.Errorf("two valid shares of three: %v", err)
	}
}

func TestBadShares(t *testing.T) {
	nodes := system(t, 2, 3, "bad")
	c := nodes[0]
	msg := []byte("m")
	shares := signShares(t, nodes, msg)
	withIndex := func(s []byte, idx uint16) []byte {
		s = bytes.Clone(s)
		s[0], s[1] = byte(idx>>8), byte(idx)
		return s
	}
	flipped := bytes.Clone(shares[1])
	flipped[10] ^= 1
	infinity := append([]byte{0, 2, 0xc0}, make([]byte, threshcrypto.SignatureSize-1)...)
	cases := []struct {
		name   string
		share  []byte
		signer stdtypes.NodeID
		want   error
	}{
		{"unknown signer", shares[1], "9", threshcrypto.ErrUnknownSigner},
		{"another node's share", shares[2], "1", threshcrypto.ErrInvalidSignature},
		{"index of another node", withIndex(shares[1], 3), "1", threshcrypto.ErrInvalidSignature},
		{"index zero", withIndex(shares[1], 0), "1", threshcrypto.ErrUnknownIndex},
		{"index too high", withIndex(shares[1], 4), "1", threshcrypto.ErrUnknownIndex},
		{"short", shares[1][:40], "1", threshcrypto.ErrMalformed},
		{"long", append(bytes.Clone(shares[1]), 0), "1", threshcrypto.ErrMalformed},
		{"empty", nil, "1", threshcrypto.ErrMalformed},
		{"flipped bit", flipped, "1", nil}, // Malformed or invalid.
		{"identity", infinity, "1", threshcrypto.ErrMalformed},
		{"off the curve", append([]byte{0, 2}, offCurveG1()...), "1", threshcrypto.ErrMalformed},
		{"outside the subgroup", append([]byte{0, 2}, notInSubgroupG1()...), "1", threshcrypto.ErrMalformed},
	}
	for _, tc := range cases {
		err := c.VerifyShare(msg, tc.share, tc.signer)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	// Recover: structure errors are errors, whatever the other shares.
	recoverCases := []struct {
		name   string
		shares [][]byte
		want   error
	}{
		{"duplicate index", [][]byte{shares[0], shares[1], shares[1]}, threshcrypto.ErrDuplicateIndex},
		{"unknown index", [][]byte{shares[0], withIndex(shares[1], 7)}, threshcrypto.ErrUnknownIndex},
		{"short share", [][]byte{shares[0], shares[1][:3]}, threshcrypto.ErrMalformed},
		{"no shares", nil, threshcrypto.ErrNotEnoughShares},
		{"one share", shares[:1], threshcrypto.ErrNotEnoughShares},
		{"off the curve", [][]byte{shares[0], append([]byte{0, 2}, offCurveG1()...)}, threshcrypto.ErrNotEnoughShares},
		{"outside the subgroup", [][]byte{append([]byte{0, 2}, notInSubgroupG1()...), shares[0]}, threshcrypto.ErrNotEnoughShares},
	}
	for _, tc := range recoverCases {
		if _, err := c.Recover(msg, tc.shares); !errors.Is(err, tc.want) {
			t.Errorf("recover, %s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	// VerifyFull.
	sig, err := c.Recover(msg, shares[:2])
	if err != nil {
		t.Fatal(err)
	}
	fullCases := map[string][]byte{
		"empty":                nil,
		"share":                shares[0],
		"short":                sig[:47],
		"identity":             infinity[2:],
		"off the curve":        offCurveG1(),
		"outside the subgroup": notInSubgroupG1(),
		"a share's point":      shares[0][2:],
		"uncompressed flag":    append([]byte{sig[0] &^ 0x80}, sig[1:]...),
	}
	for name, s := range fullCases {
		if err := c.VerifyFull(msg, s); err == nil {
			t.Errorf("VerifyFull, %s: accepted", name)
		}
	}
}

func TestNoKeyShare(t *testing.T) {
	pub, shares, err := threshcrypto.DealFromSeed(2, 3, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := threshcrypto.New(pub, nil, stdtypes.NumberedNodeIDs(3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.SignShare([]byte("m")); !errors.Is(err, threshcrypto.ErrNoKeyShare) {
		t.Errorf("SignShare without a share: %v", err)
	}
	signer, _ := threshcrypto.New(pub, shares[2], stdtypes.NumberedNodeIDs(3))
	s, _ := signer.SignShare([]byte("m"))
	if err := v.VerifyShare([]byte("m"), s, "2"); err != nil {
		t.Error(err)
	}
	if v.PublicKey() != pub {
		t.Error("PublicKey")
	}
}

func TestNewChecks(t *testing.T) {
	pub, shares, _ := threshcrypto.DealFromSeed(2, 3, []byte("n"))
	other, otherShares, _ := threshcrypto.DealFromSeed(2, 3, []byte("other"))
	cases := map[string]func() error{
		"nil key":            func() error { _, err := threshcrypto.New(nil, nil, stdtypes.NumberedNodeIDs(3)); return err },
		"too few members":    func() error { _, err := threshcrypto.New(pub, shares[0], stdtypes.NumberedNodeIDs(2)); return err },
		"duplicate member":   func() error { _, err := threshcrypto.New(pub, shares[0], []stdtypes.NodeID{"a", "b", "a"}); return err },
		"share of other key": func() error { _, err := threshcrypto.New(pub, otherShares[0], stdtypes.NumberedNodeIDs(3)); return err },
		"key of other share": func() error { _, err := threshcrypto.New(other, shares[1], stdtypes.NumberedNodeIDs(3)); return err },
	}
	for name, f := range cases {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, big, _ := threshcrypto.DealFromSeed(2, 5, []byte("n"))
	if _, err := threshcrypto.New(pub, big[4], stdtypes.NumberedNodeIDs(3)); err == nil {
		t.Error("share index beyond n accepted")
	}
}

func TestDeal(t *testing.T) {
	for _, tn := range [][2]int{{0, 3}, {4, 3}, {1, 0}, {1, threshcrypto.MaxNodes + 1}, {-1, 2}} {
		if _, _, err := threshcrypto.Deal(tn[0], tn[1], nil); err == nil {
			t.Errorf("%d-of-%d accepted", tn[0], tn[1])
		}
	}
	pub, shares, err := threshcrypto.Deal(2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Threshold() != 2 || pub.N() != 3 || len(shares) != 3 {
		t.Fatalf("t %d, n %d, %d shares", pub.Threshold(), pub.N(), len(shares))
	}
	for i, s := range shares {
		if s.Index() != i+1 {
			t.Errorf("share %d has index %d", i, s.Index())
		}
	}
	if _, _, err := threshcrypto.Deal(2, 3, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("short random source accepted")
	}
	// Determinism from a seed, and different seeds give different keys.
	a, _, _ := threshcrypto.DealFromSeed(2, 3, []byte("s"))
	b, _, _ := threshcrypto.DealFromSeed(2, 3, []byte("s"))
	c, _, _ := threshcrypto.DealFromSeed(2, 3, []byte("s2"))
	ea, _ := a.MarshalBinary()
	eb, _ := b.MarshalBinary()
	ec, _ := c.MarshalBinary()
	if !bytes.Equal(ea, eb) || bytes.Equal(ea, ec) {
		t.Error("DealFromSeed is not a function of its seed")
	}
}

// TestRecoverDeterministic checks that the signature is the same whatever
// the order and the choice of shares, and for small and large thresholds
// (the two ways of computing Lagrange coefficients).
func TestRecoverDeterministic(t *testing.T) {
	nodes := system(t, 20, 22, "det")
	msg := []byte("m")
	shares := signShares(t, nodes, msg)
	want, err := nodes[0].Recover(msg, shares[:20])
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(shares[2:])
	slices.Reverse(rev)
	got, err := nodes[1].Recover(msg, rev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("different shares gave different signatures")
	}
}
