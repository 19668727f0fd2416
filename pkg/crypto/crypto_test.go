package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// testMembers returns the NodeCrypto of n nodes, node i with id "i" and the
// scheme schemeOf(i), all knowing each other.
func testMembers(t testing.TB, n int, schemeOf func(int) crypto.Scheme) []*crypto.NodeCrypto {
	t.Helper()
	keys := make([]crypto.PrivateKey, n)
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, n)
	for i := range keys {
		keys[i] = mustKey(t, schemeOf(i), i)
		pubs[stdtypes.NewNodeIDFromInt(i)] = keys[i].Public()
	}
	out := make([]*crypto.NodeCrypto, n)
	for i := range out {
		c, err := crypto.New(keys[i], pubs)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func mixed(i int) crypto.Scheme {
	if i%3 == 2 {
		return crypto.ECDSAP256
	}
	return crypto.Ed25519
}

func allEd25519(int) crypto.Scheme { return crypto.Ed25519 }

// testItems returns n signature items signed by the given nodes, about a
// fifth of them broken in one of several ways, with whether each is valid.
func testItems(t testing.TB, nodes []*crypto.NodeCrypto, n int, rng *rand.Rand) ([]crypto.SigItem, []bool) {
	t.Helper()
	items := make([]crypto.SigItem, n)
	want := make([]bool, n)
	for i := range items {
		signer := rng.IntN(len(nodes))
		msg := fmt.Appendf(nil, "message %d %d", i, rng.Uint64())
		sig, err := nodes[signer].Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		items[i] = crypto.SigItem{Msg: msg, Sig: sig, Signer: stdtypes.NewNodeIDFromInt(signer)}
		want[i] = true
		if rng.IntN(5) != 0 {
			continue
		}
		want[i] = false
		switch rng.IntN(6) {
		case 0: // Flipped bit in the signature.
			items[i].Sig = bytes.Clone(sig)
			items[i].Sig[rng.IntN(len(sig))] ^= 1 << rng.IntN(8)
		case 1: // Other message.
			items[i].Msg = append(bytes.Clone(msg), '!')
		case 2: // Unknown signer.
			items[i].Signer = "stranger"
		case 3: // Truncated signature.
			items[i].Sig = sig[:len(sig)-1]
		case 4: // Signed by another node.
			items[i].Signer = stdtypes.NewNodeIDFromInt((signer + 1) % len(nodes))
		case 5: // No signature.
			items[i].Sig = nil
		}
	}
	return items, want
}

func TestSignVerify(t *testing.T) {
	nodes := testMembers(t, 6, mixed)
	for i, c := range nodes {
		msg := []byte("hello")
		sig, err := c.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range nodes {
			if err := v.Verify(msg, sig, stdtypes.NewNodeIDFromInt(i)); err != nil {
				t.Errorf("node %d's signature: %v", i, err)
			}
			other := stdtypes.NewNodeIDFromInt((i + 1) % len(nodes))
			if err := v.Verify(msg, sig, other); !errors.Is(err, crypto.ErrInvalidSignature) {
				t.Errorf("node %d's signature as %s's: %v", i, other, err)
			}
			if err := v.Verify(msg, sig, "stranger"); !errors.Is(err, crypto.ErrUnknownSigner) {
				t.Errorf("unknown signer: %v", err)
			}
		}
		// Both schemes are deterministic.
		sig2, _ := c.Sign(msg)
		if !bytes.Equal(sig, sig2) {
			t.Errorf("node %d (%v) signs nondeterministically", i, mixed(i))
		}
	}
}

func TestVerifyOnlyNode(t *testing.T) {
	k := mustKey(t, crypto.Ed25519, 0)
	c, err := crypto.New(crypto.PrivateKey{}, map[stdtypes.NodeID]crypto.PublicKey{"0": k.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign([]byte("m")); !errors.Is(err, crypto.ErrNoPrivateKey) {
		t.Errorf("Sign without key: %v", err)
	}
	sig, _ := k.Sign([]byte("m"))
	if err := c.Verify([]byte("m"), sig, "0"); err != nil {
		t.Error(err)
	}
	if pk, ok := c.PublicKey("0"); !ok || !pk.Equal(k.Public()) {
		t.Error("PublicKey(0)")
	}
	if _, err := crypto.New(k, map[stdtypes.NodeID]crypto.PublicKey{"x": {}}); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("zero public key in membership: %v", err)
	}
}

// TestVerifyManyAgreesWithVerify checks that VerifyMany, batched or not,
// gives exactly what Verify gives item by item, for any split of the
// items into calls.
func TestVerifyManyAgreesWithVerify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		schemeOf func(int) crypto.Scheme
	}{{"ed25519", allEd25519}, {"mixed", mixed}} {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(42)
			rng := rand.New(rand.NewPCG(seed, 0))
			nodes := testMembers(t, 5, tc.schemeOf)
			items, want := testItems(t, nodes, 200, rng)
			v := nodes[0]
			for i, it := range items {
				if got := v.Verify(it.Msg, it.Sig, it.Signer) == nil; got != want[i] {
					t.Fatalf("seed %d: item %d: Verify %v, want %v", seed, i, got, want[i])
				}
			}
			for _, split := range []int{1, 3, 4, 16, 64, 200} {
				for lo := 0; lo < len(items); lo += split {
					hi := min(lo+split, len(items))
					got := make([]bool, hi-lo)
					v.VerifyMany(items[lo:hi], got)
					for i := range got {
						if got[i] != want[lo+i] {
							t.Fatalf("seed %d: split %d: item %d: %v, want %v", seed, split, lo+i, got[i], want[lo+i])
						}
					}
				}
			}
			// All valid: the batch passes at once.
			var good []crypto.SigItem
			for i, it := range items {
				if want[i] {
					good = append(good, it)
				}
			}
			got := make([]bool, len(good))
			v.VerifyMany(good, got)
			for i, ok := range got {
				if !ok {
					t.Fatalf("valid item %d rejected", i)
				}
			}
		})
	}
}

func TestVerifyManyLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	testMembers(t, 1, allEd25519)[0].VerifyMany(make([]crypto.SigItem, 2), make([]bool, 1))
}

func TestDigest(t *testing.T) {
	// The framing: each piece preceded by its length, 8 bytes big-endian.
	framed := []byte{0, 0, 0, 0, 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 0, 1, 'c'}
	want := crypto.SHA256.New()
	want.Write(framed)
	if got := crypto.Digest(crypto.SHA256, []byte("ab"), []byte("c")); !bytes.Equal(got, want.Sum(nil)) {
		t.Errorf("Digest(ab, c) = %x", got)
	}
	if bytes.Equal(crypto.Digest(crypto.SHA256, []byte("ab"), []byte("c")), crypto.Digest(crypto.SHA256, []byte("a"), []byte("bc"))) {
		t.Error("the split between pieces is not hashed")
	}
	if bytes.Equal(crypto.Digest(crypto.SHA256), crypto.Digest(crypto.SHA256, nil)) {
		t.Error("no piece and one empty piece have the same digest")
	}
	for _, a := range []crypto.HashAlg{crypto.SHA256, crypto.SHA512} {
		if err := a.Validate(); err != nil {
			t.Error(err)
		}
		if got := len(crypto.Digest(a, []byte("x"))); got != a.Size() {
			t.Errorf("%v: digest of %d bytes, want %d", a, got, a.Size())
		}
	}
	bad := crypto.HashAlg(0)
	if bad.Validate() == nil || bad.Size() != 0 || bad.String() != "HashAlg(0)" {
		t.Error("HashAlg(0) is not refused")
	}
}
