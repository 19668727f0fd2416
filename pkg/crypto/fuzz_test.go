package crypto_test

import (
	"bytes"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// fuzzVerify checks, for arbitrary bytes, that verification of one key's
// signatures does not panic, and that verification one by one and in a
// batch (the item among four valid signatures) agree.
func fuzzVerify(f *testing.F, s crypto.Scheme) {
	k := mustKey(f, s, 0)
	c, err := crypto.New(k, map[stdtypes.NodeID]crypto.PublicKey{"0": k.Public()})
	if err != nil {
		f.Fatal(err)
	}
	good := make([]crypto.SigItem, 4)
	for i := range good {
		msg := []byte{byte(i)}
		sig, _ := k.Sign(msg)
		good[i] = crypto.SigItem{Msg: msg, Sig: sig, Signer: "0"}
	}
	sig, _ := k.Sign([]byte("seed"))
	f.Add([]byte("seed"), sig)
	f.Add([]byte("seed"), sig[:len(sig)-1])
	f.Add([]byte{}, []byte{})
	f.Add([]byte("x"), make([]byte, 64))
	f.Add([]byte("x"), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		single := k.Public().Verify(msg, sig) == nil
		if viaNode := c.Verify(msg, sig, "0") == nil; viaNode != single {
			t.Fatalf("Verify %v, NodeCrypto.Verify %v", single, viaNode)
		}
		items := append(append([]crypto.SigItem(nil), good...), crypto.SigItem{Msg: msg, Sig: sig, Signer: "0"})
		valid := make([]bool, len(items))
		c.VerifyMany(items, valid)
		for i, ok := range valid[:len(good)] {
			if !ok {
				t.Fatalf("valid item %d rejected next to %x", i, sig)
			}
		}
		if valid[len(good)] != single {
			t.Fatalf("batch says %v, one by one %v", valid[len(good)], single)
		}
	})
}

func FuzzVerifyEd25519(f *testing.F) { fuzzVerify(f, crypto.Ed25519) }

func FuzzVerifyECDSAP256(f *testing.F) { fuzzVerify(f, crypto.ECDSAP256) }

// FuzzVerifyWithKey checks that a key parsed from arbitrary bytes verifies
// arbitrary signatures without panicking.
func FuzzVerifyWithKey(f *testing.F) {
	for _, s := range schemes {
		k := mustKey(f, s, 1)
		raw, _ := k.Public().MarshalBinary()
		sig, _ := k.Sign([]byte("m"))
		f.Add(raw, []byte("m"), sig)
	}
	f.Fuzz(func(t *testing.T, key, msg, sig []byte) {
		pk, err := crypto.ParsePublicKey(key)
		if err != nil {
			return
		}
		_ = pk.Verify(msg, sig)
		c, err := crypto.New(crypto.PrivateKey{}, map[stdtypes.NodeID]crypto.PublicKey{"a": pk})
		if err != nil {
			t.Fatalf("a parsed key is refused: %v", err)
		}
		items := []crypto.SigItem{{Msg: msg, Sig: sig, Signer: "a"}}
		items = append(items, items[0], items[0], items[0])
		c.VerifyMany(items, make([]bool, len(items)))
	})
}

// FuzzParsePublicKey checks that parsing arbitrary bytes does not panic,
// and that what parses has exactly one encoding.
func FuzzParsePublicKey(f *testing.F) {
	for _, s := range schemes {
		raw, _ := mustKey(f, s, 2).Public().MarshalBinary()
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Add([]byte{byte(crypto.ECDSAP256), 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := crypto.ParsePublicKey(data)
		if err != nil {
			return
		}
		again, err := k.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("%x parsed, re-encoded as %x, %v", data, again, err)
		}
		if _, err := k.MarshalPEM(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParsePublicKeyText checks that parsing arbitrary text does not
// panic, and that what parses has exactly one text form.
func FuzzParsePublicKeyText(f *testing.F) {
	for _, s := range schemes {
		f.Add(mustKey(f, s, 2).Public().Text())
	}
	f.Add("")
	f.Add("ed25519:")
	f.Add("ecdsa-p256:BA==")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := crypto.ParsePublicKeyText(s)
		if err != nil {
			return
		}
		if again := k.Text(); again != s {
			t.Fatalf("%q parsed, formatted as %q", s, again)
		}
	})
}

// FuzzParsePrivateKey is FuzzParsePublicKey for private keys.
func FuzzParsePrivateKey(f *testing.F) {
	for _, s := range schemes {
		raw, _ := mustKey(f, s, 2).MarshalBinary()
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := crypto.ParsePrivateKey(data)
		if err != nil {
			return
		}
		again, err := k.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("%x parsed, re-encoded as %x, %v", data, again, err)
		}
		sig, err := k.Sign(data)
		if err != nil || k.Public().Verify(data, sig) != nil {
			t.Fatalf("a parsed key does not sign: %v", err)
		}
	})
}

// FuzzParsePublicKeyPEM checks that parsing arbitrary text does not panic,
// and that what parses survives a round trip.
func FuzzParsePublicKeyPEM(f *testing.F) {
	for _, s := range schemes {
		data, _ := mustKey(f, s, 3).Public().MarshalPEM()
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := crypto.ParsePublicKeyPEM(data)
		if err != nil {
			return
		}
		again, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := crypto.ParsePublicKeyPEM(again)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParsePrivateKeyPEM is FuzzParsePublicKeyPEM for private keys.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	for _, s := range schemes {
		data, _ := mustKey(f, s, 3).MarshalPEM()
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := crypto.ParsePrivateKeyPEM(data)
		if err != nil {
			return
		}
		again, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := crypto.ParsePrivateKeyPEM(again)
		if err != nil || !k2.Public().Equal(k.Public()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
