package crypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC8032 checks Ed25519 against test vectors 1 to 3 of RFC 8032,
// section 7.1: the public key derived from the secret key, the signature,
// and its verification, through the raw key encoding, the Crypto and the
// NodeCrypto paths.
func TestRFC8032(t *testing.T) {
	vectors := []struct{ secret, public, msg, sig string }{
		{ // TEST 1
			secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
			msg:    "",
			sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555" +
				"fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
		},
		{ // TEST 2
			secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
			msg:    "72",
			sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
				"085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
		},
		{ // TEST 3
			secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
			msg:    "af82",
			sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
				"18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
		},
	}
	for i, v := range vectors {
		sk, err := crypto.ParsePrivateKey(append([]byte{byte(crypto.Ed25519)}, unhex(t, v.secret)...))
		if err != nil {
			t.Fatalf("vector %d: %v", i+1, err)
		}
		pub, err := sk.Public().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pub[1:], unhex(t, v.public)) {
			t.Errorf("vector %d: public key %x, want %s", i+1, pub[1:], v.public)
		}
		msg := unhex(t, v.msg)
		sig, err := sk.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sig, unhex(t, v.sig)) {
			t.Errorf("vector %d: signature %x, want %s", i+1, sig, v.sig)
		}
		if err := sk.Public().Verify(msg, unhex(t, v.sig)); err != nil {
			t.Errorf("vector %d: %v", i+1, err)
		}
		nc, err := crypto.New(sk, map[stdtypes.NodeID]crypto.PublicKey{"a": sk.Public()})
		if err != nil {
			t.Fatal(err)
		}
		valid := make([]bool, 5)
		items := make([]crypto.SigItem, 5) // Enough for a batch.
		for j := range items {
			items[j] = crypto.SigItem{Msg: msg, Sig: unhex(t, v.sig), Signer: "a"}
		}
		nc.VerifyMany(items, valid)
		for j, ok := range valid {
			if !ok {
				t.Errorf("vector %d: batch item %d invalid", i+1, j)
			}
		}
		// The standard library agrees.
		if !ed25519.Verify(unhex(t, v.public), msg, unhex(t, v.sig)) {
			t.Errorf("vector %d: crypto/ed25519 rejects it", i+1)
		}
	}
}

// TestRFC6979P256 checks deterministic ECDSA against RFC 6979, appendix
// A.2.5: P-256 with SHA-256, message "sample".
func TestRFC6979P256(t *testing.T) {
	x := unhex(t, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
	ux := unhex(t, "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6")
	uy := unhex(t, "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")
	r := unhex(t, "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716")
	s := unhex(t, "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")

	sk, err := crypto.ParsePrivateKey(append([]byte{byte(crypto.ECDSAP256)}, x...))
	if err != nil {
		t.Fatal(err)
	}
	pub := sk.Public().StdKey().(*ecdsa.PublicKey)
	if raw, _ := pub.Bytes(); !bytes.Equal(raw, append(append([]byte{4}, ux...), uy...)) {
		t.Errorf("public key %x", raw)
	}
	sig, err := sk.Sign([]byte("sample"))
	if err != nil {
		t.Fatal(err)
	}
	gotR, gotS := parseDER(t, sig)
	if !bytes.Equal(gotR, r) || !bytes.Equal(gotS, s) {
		t.Errorf("signature r=%x s=%x, want r=%x s=%x", gotR, gotS, r, s)
	}
	if err := sk.Public().Verify([]byte("sample"), sig); err != nil {
		t.Error(err)
	}
}

// parseDER returns r and s of an ASN.1 DER ECDSA signature, as 32 bytes
// each. It handles only the short forms P-256 signatures use.
func parseDER(t *testing.T, sig []byte) (r, s []byte) {
	t.Helper()
	if len(sig) < 8 || sig[0] != 0x30 || int(sig[1]) != len(sig)-2 {
		t.Fatalf("not a DER sequence: %x", sig)
	}
	rest := sig[2:]
	read := func() []byte {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			t.Fatalf("not a DER integer: %x", rest)
		}
		v := rest[2 : 2+int(rest[1])]
		rest = rest[2+int(rest[1]):]
		v = bytes.TrimLeft(v, "\x00")
		return append(make([]byte, 32-len(v)), v...)
	}
	return read(), read()
}
