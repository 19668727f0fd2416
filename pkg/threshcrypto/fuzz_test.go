package threshcrypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// fuzzSystem is a 3-of-4 system and shares and a signature of "m".
func fuzzSystem(f *testing.F) ([]*threshcrypto.BLS, [][]byte, []byte) {
	nodes := system(f, 3, 4, "fuzz")
	shares := signShares(f, nodes, []byte("m"))
	sig, err := nodes[0].Recover([]byte("m"), shares)
	if err != nil {
		f.Fatal(err)
	}
	return nodes, shares, sig
}

// FuzzVerifyShare checks that verifying arbitrary shares does not panic.
func FuzzVerifyShare(f *testing.F) {
	nodes, shares, sig := fuzzSystem(f)
	for i, s := range shares {
		f.Add([]byte("m"), s, uint8(i))
	}
	f.Add([]byte("m"), append([]byte{0, 1}, sig...), uint8(0))
	f.Add([]byte("m"), append([]byte{0, 2}, offCurveG1()...), uint8(1))
	f.Add([]byte("m"), append([]byte{0, 2}, notInSubgroupG1()...), uint8(1))
	f.Add([]byte(""), []byte{}, uint8(9))
	c := nodes[0]
	f.Fuzz(func(t *testing.T, msg, share []byte, signer uint8) {
		err := c.VerifyShare(msg, share, stdtypes.NewNodeIDFromInt(int(signer)))
		if err != nil {
			return
		}
		// Anything else accepted would be a forgery, which the fuzzer
		// cannot find: only the known shares of "m" verify.
		if !bytes.Equal(msg, []byte("m")) || int(signer) >= len(shares) || !bytes.Equal(share, shares[signer]) {
			t.Fatalf("accepted share %x of %q by %d", share, msg, signer)
		}
	})
}

// FuzzVerifyFull checks that verifying arbitrary signatures does not panic
// and accepts only the known one for "m".
func FuzzVerifyFull(f *testing.F) {
	nodes, shares, sig := fuzzSystem(f)
	f.Add([]byte("m"), sig)
	f.Add([]byte("m"), shares[0][2:])
	f.Add([]byte("m"), offCurveG1())
	f.Add([]byte("m"), notInSubgroupG1())
	f.Add([]byte("m"), append([]byte{0xc0}, make([]byte, 47)...))
	f.Add([]byte{}, []byte{})
	c := nodes[1]
	f.Fuzz(func(t *testing.T, msg, s []byte) {
		err := c.VerifyFull(msg, s)
		if err == nil && !(bytes.Equal(msg, []byte("m")) && bytes.Equal(s, sig)) {
			t.Fatalf("accepted %x for %q", s, msg)
		}
	})
}

// FuzzRecover checks that recovering from arbitrary shares (cut from the
// fuzzer's bytes: each share is a length byte and that many bytes) does
// not panic, and that whatever it returns verifies.
func FuzzRecover(f *testing.F) {
	nodes, shares, _ := fuzzSystem(f)
	pack := func(ss ...[]byte) []byte {
		var out []byte
		for _, s := range ss {
			out = append(out, byte(len(s)))
			out = append(out, s...)
		}
		return out
	}
	f.Add([]byte("m"), pack(shares...))
	f.Add([]byte("m"), pack(shares[1], shares[3], shares[0]))
	f.Add([]byte("m"), pack(shares[1], shares[1], shares[0]))
	f.Add([]byte("m"), pack(shares[0], append([]byte{0, 2}, notInSubgroupG1()...), shares[2], shares[3]))
	f.Add([]byte("x"), pack(shares[:3]...))
	c := nodes[2]
	f.Fuzz(func(t *testing.T, msg, packed []byte) {
		var ss [][]byte
		for len(packed) > 0 && len(ss) < 8 {
			n := min(int(packed[0]), len(packed)-1)
			ss = append(ss, packed[1:1+n])
			packed = packed[1+n:]
		}
		sig, err := c.Recover(msg, ss)
		if err != nil {
			if sig != nil {
				t.Fatal("a signature with an error")
			}
			return
		}
		if err := c.VerifyFull(msg, sig); err != nil {
			t.Fatalf("recovered an invalid signature: %v", err)
		}
	})
}

// FuzzParsePublicKey checks that parsing arbitrary bytes does not panic
// and that what parses has one encoding.
func FuzzParsePublicKey(f *testing.F) {
	pub, _, _ := threshcrypto.DealFromSeed(2, 3, []byte("fuzz"))
	data, _ := pub.MarshalBinary()
	f.Add(data)
	f.Add(data[:5])
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := threshcrypto.ParsePublicKey(data)
		if err != nil {
			if !errors.Is(err, threshcrypto.ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		again, _ := k.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatalf("%x re-encoded as %x", data, again)
		}
	})
}

// FuzzParseKeyShare is FuzzParsePublicKey for key shares.
func FuzzParseKeyShare(f *testing.F) {
	_, shares, _ := threshcrypto.DealFromSeed(2, 3, []byte("fuzz"))
	data, _ := shares[0].MarshalBinary()
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := threshcrypto.ParseKeyShare(data)
		if err != nil {
			return
		}
		again, _ := s.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatalf("%x re-encoded as %x", data, again)
		}
	})
}
