package crypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

var schemes = []crypto.Scheme{crypto.Ed25519, crypto.ECDSAP256}

func mustKey(t testing.TB, s crypto.Scheme, index int) crypto.PrivateKey {
	t.Helper()
	k, err := crypto.KeyPairFromSeed(s, []byte("test seed"), index)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSchemeNames(t *testing.T) {
	for _, s := range schemes {
		got, err := crypto.ParseScheme(s.String())
		if err != nil || got != s {
			t.Errorf("ParseScheme(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := crypto.ParseScheme("rsa"); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("ParseScheme(rsa): %v", err)
	}
	if got := crypto.Scheme(9).String(); got != "Scheme(9)" {
		t.Errorf("String of unknown scheme: %q", got)
	}
}

// TestKeyPairFromSeed checks that derivation is deterministic, that
// indices, seeds and schemes give different keys, and that the keys work.
func TestKeyPairFromSeed(t *testing.T) {
	for _, s := range schemes {
		a1 := mustKey(t, s, 1)
		a2 := mustKey(t, s, 1)
		b := mustKey(t, s, 2)
		c, err := crypto.KeyPairFromSeed(s, []byte("other seed"), 1)
		if err != nil {
			t.Fatal(err)
		}
		if !a1.Public().Equal(a2.Public()) {
			t.Errorf("%v: same seed and index gave different keys", s)
		}
		if a1.Public().Equal(b.Public()) || a1.Public().Equal(c.Public()) {
			t.Errorf("%v: different index or seed gave the same key", s)
		}
		sig, err := a1.Sign([]byte("m"))
		if err != nil {
			t.Fatal(err)
		}
		if err := a2.Public().Verify([]byte("m"), sig); err != nil {
			t.Errorf("%v: %v", s, err)
		}
		if a1.Scheme() != s || a1.Public().Scheme() != s {
			t.Errorf("%v: scheme %v", s, a1.Scheme())
		}
	}
	if _, err := crypto.KeyPairFromSeed(crypto.Ed25519, nil, -1); err == nil {
		t.Error("negative index accepted")
	}
	if _, err := crypto.KeyPairFromSeed(7, nil, 0); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v", err)
	}
	// The seed is framed: moving a byte between seed and index changes the key.
	k1, _ := crypto.KeyPairFromSeed(crypto.Ed25519, []byte{}, 0)
	k2, _ := crypto.KeyPairFromSeed(crypto.Ed25519, []byte{0}, 0)
	if k1.Public().Equal(k2.Public()) {
		t.Error("seeds of different lengths gave the same key")
	}
}

func TestStdKeys(t *testing.T) {
	ed := mustKey(t, crypto.Ed25519, 0)
	if _, ok := ed.Signer().(ed25519.PrivateKey); !ok {
		t.Errorf("Ed25519 Signer is %T", ed.Signer())
	}
	if _, ok := ed.Public().StdKey().(ed25519.PublicKey); !ok {
		t.Errorf("Ed25519 StdKey is %T", ed.Public().StdKey())
	}
	ec := mustKey(t, crypto.ECDSAP256, 0)
	if k, ok := ec.Signer().(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("ECDSA Signer is %T", ec.Signer())
	}
	for _, k := range []crypto.PrivateKey{ed, ec} {
		k2, err := crypto.FromStdPrivateKey(k.Signer())
		if err != nil || !k2.Public().Equal(k.Public()) {
			t.Errorf("%v: FromStdPrivateKey: %v", k.Scheme(), err)
		}
		p2, err := crypto.FromStdPublicKey(k.Public().StdKey())
		if err != nil || !p2.Equal(k.Public()) {
			t.Errorf("%v: FromStdPublicKey: %v", k.Scheme(), err)
		}
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.FromStdPrivateKey(p384); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("P-384 private key: %v", err)
	}
	if _, err := crypto.FromStdPublicKey(&p384.PublicKey); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("P-384 public key: %v", err)
	}
	if _, err := crypto.FromStdPrivateKey(ed25519.PrivateKey{1, 2}); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("short ed25519 key: %v", err)
	}
	if _, err := crypto.FromStdPublicKey(ed25519.PublicKey{1, 2}); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("short ed25519 public key: %v", err)
	}
	if _, err := crypto.FromStdPrivateKey(nil); err == nil {
		t.Error("nil key accepted")
	}
	var zero crypto.PrivateKey
	if zero.Signer() != nil || zero.Public().StdKey() != nil {
		t.Error("the zero key has a standard key")
	}
	if _, err := zero.Sign(nil); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("zero key signs: %v", err)
	}
	if _, err := zero.MarshalPEM(); err == nil {
		t.Error("zero key marshals")
	}
}

func TestRawRoundTrip(t *testing.T) {
	for _, s := range schemes {
		k := mustKey(t, s, 3)
		raw, err := k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := crypto.ParsePrivateKey(raw)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		if !k2.Public().Equal(k.Public()) {
			t.Errorf("%v: private key changed in the round trip", s)
		}
		praw, err := k.Public().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		p2, err := crypto.ParsePublicKey(praw)
		if err != nil || !p2.Equal(k.Public()) {
			t.Errorf("%v: public key round trip: %v", s, err)
		}
		var p3 crypto.PublicKey
		if err := p3.UnmarshalBinary(praw); err != nil || !p3.Equal(k.Public()) {
			t.Errorf("%v: UnmarshalBinary: %v", s, err)
		}
	}
}

// keyHolder is a registered type holding a key, to check that keys go
// through package codec.
type keyHolder struct {
	Key crypto.PublicKey
}

var _ = codec.Register[keyHolder]("crypto_test.keyHolder")

func TestPublicKeyCodec(t *testing.T) {
	for _, s := range schemes {
		k := mustKey(t, s, 1).Public()
		data, err := codec.Marshal(&keyHolder{Key: k})
		if err != nil {
			t.Fatal(err)
		}
		var got keyHolder
		if err := codec.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if !got.Key.Equal(k) {
			t.Errorf("%v: key changed through codec", s)
		}
	}
}

func TestMalformedRawKeys(t *testing.T) {
	edPub, _ := mustKey(t, crypto.Ed25519, 0).Public().MarshalBinary()
	ecPub, _ := mustKey(t, crypto.ECDSAP256, 0).Public().MarshalBinary()
	offCurve := bytes.Clone(ecPub)
	offCurve[len(offCurve)-1] ^= 1
	notUncompressed := bytes.Clone(ecPub)
	notUncompressed[1] = 2
	cases := map[string][]byte{
		"empty":             nil,
		"unknown scheme":    append([]byte{9}, edPub[1:]...),
		"short ed25519":     edPub[:20],
		"long ed25519":      append(bytes.Clone(edPub), 0),
		"short p256":        ecPub[:30],
		"p256 off curve":    offCurve,
		"p256 compressed":   notUncompressed,
		"p256 at infinity":  append([]byte{byte(crypto.ECDSAP256)}, make([]byte, 65)...),
		"scheme byte alone": {byte(crypto.Ed25519)},
	}
	for name, data := range cases {
		if _, err := crypto.ParsePublicKey(data); !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%s: ParsePublicKey: %v", name, err)
		}
	}
	order := []byte{ // the order of P-256: not a valid scalar
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	}
	privCases := map[string][]byte{
		"empty":          nil,
		"unknown scheme": append([]byte{9}, make([]byte, 32)...),
		"short ed25519":  append([]byte{byte(crypto.Ed25519)}, make([]byte, 31)...),
		"zero p256":      append([]byte{byte(crypto.ECDSAP256)}, make([]byte, 32)...),
		"p256 order":     append([]byte{byte(crypto.ECDSAP256)}, order...),
		"long p256":      append([]byte{byte(crypto.ECDSAP256)}, make([]byte, 33)...),
	}
	for name, data := range privCases {
		if _, err := crypto.ParsePrivateKey(data); !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%s: ParsePrivateKey: %v", name, err)
		}
	}
}

func TestPEM(t *testing.T) {
	for _, s := range schemes {
		k := mustKey(t, s, 5)
		data, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		// The standard library reads it as PKCS #8, as crypto/tls does.
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("%v: not a PRIVATE KEY block: %s", s, data)
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			t.Errorf("%v: x509 cannot parse it: %v", s, err)
		}
		k2, err := crypto.ParsePrivateKeyPEM(data)
		if err != nil || !k2.Public().Equal(k.Public()) {
			t.Errorf("%v: private PEM round trip: %v", s, err)
		}
		pdata, err := k.Public().MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		p2, err := crypto.ParsePublicKeyPEM(pdata)
		if err != nil || !p2.Equal(k.Public()) {
			t.Errorf("%v: public PEM round trip: %v", s, err)
		}
		// Each parser refuses the other's block, and trailing data.
		if _, err := crypto.ParsePrivateKeyPEM(pdata); !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%v: public block parsed as private: %v", s, err)
		}
		if _, err := crypto.ParsePublicKeyPEM(data); !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%v: private block parsed as public: %v", s, err)
		}
		if _, err := crypto.ParsePublicKeyPEM(append(bytes.Clone(pdata), "junk"...)); !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%v: trailing data accepted: %v", s, err)
		}
		if _, err := crypto.ParsePublicKeyPEM(append(bytes.Clone(pdata), "\n\n"...)); err != nil {
			t.Errorf("%v: trailing white space refused: %v", s, err)
		}
	}
	// A PEM key of another kind: RSA is not supported.
	bad := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x00}})
	if _, err := crypto.ParsePublicKeyPEM(bad); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("garbage DER: %v", err)
	}
	withHeader := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"a": "b"}, Bytes: []byte{1}})
	if _, err := crypto.ParsePublicKeyPEM(withHeader); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("PEM headers: %v", err)
	}
	if _, err := crypto.ParsePublicKeyPEM([]byte("not pem")); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("not PEM: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	for _, s := range schemes {
		k := mustKey(t, s, 7)
		priv := filepath.Join(dir, s.String()+".key")
		pub := filepath.Join(dir, s.String()+".pub")
		if err := crypto.SavePrivateKey(priv, k); err != nil {
			t.Fatal(err)
		}
		if err := crypto.SavePublicKey(pub, k.Public()); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%v: private key file mode %v, %v", s, fi.Mode(), err)
		}
		k2, err := crypto.LoadPrivateKey(priv)
		if err != nil || !k2.Public().Equal(k.Public()) {
			t.Errorf("%v: LoadPrivateKey: %v", s, err)
		}
		p2, err := crypto.LoadPublicKey(pub)
		if err != nil || !p2.Equal(k.Public()) {
			t.Errorf("%v: LoadPublicKey: %v", s, err)
		}
		if err := crypto.SavePrivateKey(priv, k); err == nil {
			t.Errorf("%v: SavePrivateKey overwrote a file", s)
		}
		if _, err := crypto.LoadPrivateKey(pub); err == nil {
			t.Errorf("%v: public key file loaded as private", s)
		}
	}
	if _, err := crypto.LoadPublicKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file loaded")
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 100<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.LoadPublicKey(big); err == nil {
		t.Error("oversized file loaded")
	}
}

// TestKeySizeErrors: a raw key of the wrong size is reported by the size
// of the key, without the scheme byte, as the documentation counts it.
func TestKeySizeErrors(t *testing.T) {
	short := func(s crypto.Scheme, n int) []byte { return append([]byte{byte(s)}, make([]byte, n)...) }
	if _, err := crypto.ParsePublicKey(short(crypto.Ed25519, 31)); err == nil || !strings.Contains(err.Error(), "ed25519 public key of 31 bytes, want 32") {
		t.Errorf("short Ed25519 public key: %v", err)
	}
	if _, err := crypto.ParsePrivateKey(short(crypto.Ed25519, 31)); err == nil || !strings.Contains(err.Error(), "ed25519 private key of 31 bytes, want 32") {
		t.Errorf("short Ed25519 private key: %v", err)
	}
	if _, err := crypto.ParsePrivateKey(short(crypto.ECDSAP256, 33)); err == nil || !strings.Contains(err.Error(), "ecdsa-p256 private key of 33 bytes, want 32") {
		t.Errorf("long P-256 private key: %v", err)
	}
}

func TestPublicKeyText(t *testing.T) {
	for _, sch := range schemes {
		k := mustKey(t, sch, 7).Public()
		s := k.Text()
		got, err := crypto.ParsePublicKeyText(s)
		if err != nil || !got.Equal(k) {
			t.Errorf("%v: ParsePublicKeyText(Text()) = %v, %v", sch, got, err)
		}
	}
	if s := mustKey(t, crypto.Ed25519, 7).Public().Text(); !strings.HasPrefix(s, "ed25519:") || len(s) != len("ed25519:")+44 {
		t.Errorf("Text() of an Ed25519 key = %q", s)
	}
	if s := (crypto.PublicKey{}).Text(); s != "" {
		t.Errorf("Text() of the zero key = %q, want \"\"", s)
	}
}

// TestKeyTextLengthErrors: a key of the wrong length is reported by the
// length of the key the text holds, as Text's documentation counts it (32
// bytes for Ed25519), not of its raw encoding, which has a scheme byte
// more.
func TestKeyTextLengthErrors(t *testing.T) {
	for _, c := range []struct {
		scheme  string
		n       int
		wantErr string
	}{
		{"ed25519", 31, "of 31 bytes, want 32"},
		{"ed25519", 33, "of 33 bytes, want 32"},
		{"ecdsa-p256", 64, "of 64 bytes, want 65"},
	} {
		s := c.scheme + ":" + base64.StdEncoding.EncodeToString(make([]byte, c.n))
		if _, err := crypto.ParsePublicKeyText(s); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s key of %d bytes: %v, want an error saying %q", c.scheme, c.n, err, c.wantErr)
		}
	}
}

// TestMalformedKeyTextErrors: every error of ParsePublicKeyText says
// "malformed key" once and wraps ErrMalformedKey, whether the text or the
// key it holds is at fault; the cause stays matchable too.
func TestMalformedKeyTextErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       string // the message
		cause      error  // also wrapped, if not nil
	}{
		{"empty", "", `malformed key: "" is not scheme:base64`, nil},
		{"too long", strings.Repeat("a", 300), "malformed key: 300 characters, at most 256", nil},
		{"no scheme", "AAAA", `malformed key: "AAAA" is not scheme:base64`, nil},
		{"unknown scheme", "rsa:AAAA", `malformed key: unknown signature scheme: "rsa"`, crypto.ErrUnknownScheme},
		{"bad base64", "ed25519:A*AA", "malformed key: illegal base64 data at input byte 1", nil},
		{"wrong length", "ed25519:" + base64.StdEncoding.EncodeToString(make([]byte, 31)),
			"malformed key: ed25519 public key of 31 bytes, want 32", nil},
	} {
		_, err := crypto.ParsePublicKeyText(c.text)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %q, want %q", c.name, err, c.want)
		}
		if !errors.Is(err, crypto.ErrMalformedKey) {
			t.Errorf("%s: %v does not match ErrMalformedKey", c.name, err)
		}
		if c.cause != nil && !errors.Is(err, c.cause) {
			t.Errorf("%s: %v does not match %v", c.name, err, c.cause)
		}
	}
	// A key of the right length that is no point of the curve.
	_, err := crypto.ParsePublicKeyText("ecdsa-p256:" + base64.StdEncoding.EncodeToString(make([]byte, 65)))
	if err == nil || strings.Count(err.Error(), "malformed key") != 1 || !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("P-256 key that is no point: %v, want ErrMalformedKey, said once", err)
	}
}

// TestNodeKeysFromSeed: node i gets KeyPairFromSeed(s, seed, i), and pubs
// its public key under its ID.
func TestNodeKeysFromSeed(t *testing.T) {
	nodes := []stdtypes.NodeID{"a", "b", "c"}
	keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, []byte("seed"), nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || len(pubs) != 3 {
		t.Fatalf("%d keys, %d public keys", len(keys), len(pubs))
	}
	for i, id := range nodes {
		want, err := crypto.KeyPairFromSeed(crypto.Ed25519, []byte("seed"), i)
		if err != nil {
			t.Fatal(err)
		}
		if !keys[i].Public().Equal(want.Public()) || !pubs[id].Equal(want.Public()) {
			t.Errorf("node %s: not key %d", id, i)
		}
	}
	if _, _, err := crypto.NodeKeysFromSeed(7, nil, nodes); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v", err)
	}
}
