package threshcrypto_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

func TestKeyEncodings(t *testing.T) {
	pub, shares, err := threshcrypto.DealFromSeed(3, 4, []byte("enc"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := pub.MarshalBinary()
	if want := 5 + 5*96; len(data) != want {
		t.Errorf("public key of %d bytes, want %d", len(data), want)
	}
	pub2, err := threshcrypto.ParsePublicKey(data)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := pub2.MarshalBinary()
	if !bytes.Equal(data, data2) || pub2.Threshold() != 3 || pub2.N() != 4 {
		t.Error("public key changed in the round trip")
	}
	for _, s := range shares {
		sd, _ := s.MarshalBinary()
		s2, err := threshcrypto.ParseKeyShare(sd)
		if err != nil {
			t.Fatal(err)
		}
		// The parsed share still matches the public key.
		if _, err := threshcrypto.New(pub2, s2, stdtypes.NumberedNodeIDs(4)); err != nil {
			t.Errorf("share %d: %v", s.Index(), err)
		}
	}
}

func TestMalformedKeys(t *testing.T) {
	pub, shares, _ := threshcrypto.DealFromSeed(3, 4, []byte("enc"))
	data, _ := pub.MarshalBinary()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(data)) }
	pubCases := map[string][]byte{
		"empty":          nil,
		"header only":    data[:5],
		"version":        mod(func(b []byte) []byte { b[0] = 2; return b }),
		"t zero":         mod(func(b []byte) []byte { b[1], b[2] = 0, 0; return b }),
		"t above n":      mod(func(b []byte) []byte { b[2] = 5; return b }),
		"n above max":    mod(func(b []byte) []byte { b[3], b[4] = 0xff, 0xff; return b }),
		"n mismatch":     mod(func(b []byte) []byte { b[4] = 3; return b }),
		"truncated":      data[:len(data)-1],
		"trailing":       append(bytes.Clone(data), 0),
		"bad group key":  mod(func(b []byte) []byte { b[5+10] ^= 0xff; return b }),
		"bad share key":  mod(func(b []byte) []byte { b[5+96*2+10] ^= 0xff; return b }),
		"identity group": mod(func(b []byte) []byte { copy(b[5:], append([]byte{0xc0}, make([]byte, 95)...)); return b }),
		"uncompressed":   mod(func(b []byte) []byte { b[5] &^= 0x80; return b }),
	}
	for name, d := range pubCases {
		if _, err := threshcrypto.ParsePublicKey(d); !errors.Is(err, threshcrypto.ErrMalformed) {
			t.Errorf("public key, %s: %v", name, err)
		}
	}
	sd, _ := shares[0].MarshalBinary()
	smod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(sd)) }
	shareCases := map[string][]byte{
		"empty":       nil,
		"short":       sd[:20],
		"version":     smod(func(b []byte) []byte { b[0] = 9; return b }),
		"index zero":  smod(func(b []byte) []byte { b[1], b[2] = 0, 0; return b }),
		"index large": smod(func(b []byte) []byte { b[1], b[2] = 0xff, 0xff; return b }),
		"zero secret": smod(func(b []byte) []byte { clear(b[3:]); return b }),
		"not reduced": smod(func(b []byte) []byte {
			for i := 3; i < len(b); i++ {
				b[i] = 0xff
			}
			return b
		}),
		"group order": smod(func(b []byte) []byte { fr.Modulus().FillBytes(b[3:]); return b }),
	}
	for name, d := range shareCases {
		if _, err := threshcrypto.ParseKeyShare(d); !errors.Is(err, threshcrypto.ErrMalformed) {
			t.Errorf("key share, %s: %v", name, err)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, shares, _ := threshcrypto.DealFromSeed(2, 3, []byte("files"))
	pubPath := filepath.Join(dir, "group.pub")
	if err := threshcrypto.SavePublicKey(pubPath, pub); err != nil {
		t.Fatal(err)
	}
	if err := threshcrypto.SavePublicKey(pubPath, pub); err == nil {
		t.Error("overwrote a file")
	}
	pub2, err := threshcrypto.LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shares {
		p := filepath.Join(dir, "share"+string(rune('0'+s.Index())))
		if err := threshcrypto.SaveKeyShare(p, s); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("share file mode %v", fi.Mode())
		}
		s2, err := threshcrypto.LoadKeyShare(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := threshcrypto.New(pub2, s2, stdtypes.NumberedNodeIDs(3)); err != nil {
			t.Error(err)
		}
	}
	if _, err := threshcrypto.LoadKeyShare(pubPath); !errors.Is(err, threshcrypto.ErrMalformed) {
		t.Errorf("public key loaded as share: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a key"), 0o600)
	if _, err := threshcrypto.LoadPublicKey(junk); !errors.Is(err, threshcrypto.ErrMalformed) {
		t.Errorf("junk: %v", err)
	}
	data, _ := os.ReadFile(pubPath)
	trailing := filepath.Join(dir, "trailing")
	os.WriteFile(trailing, append(data, "x"...), 0o600)
	if _, err := threshcrypto.LoadPublicKey(trailing); !errors.Is(err, threshcrypto.ErrMalformed) {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := threshcrypto.LoadPublicKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file loaded")
	}
}
