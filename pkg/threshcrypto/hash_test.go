package threshcrypto

import (
	"bytes"
	"fmt"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// TestHashToG1 checks that hashToG1 gives the library's bls.HashToG1, on
// messages of many lengths and contents.
func TestHashToG1(t *testing.T) {
	msgs := [][]byte{nil, {}, {0}, []byte("abc"), bytes.Repeat([]byte{0xff}, 1000)}
	for i := range 2000 {
		msgs = append(msgs, fmt.Appendf(nil, "message %d", i))
	}
	for _, msg := range msgs {
		want, err := bls.HashToG1(msg, dst)
		if err != nil {
			t.Fatal(err)
		}
		got, err := hashToG1(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(&want) {
			t.Fatalf("hashToG1(%q) differs from the library's", msg)
		}
	}
}

// TestHashToG1Vector checks one hash against the test vector of RFC 9380
// (appendix J.9.1, msg "abc"), with the RFC's tag.
func TestHashToG1Vector(t *testing.T) {
	saved := dst
	defer func() { dst = saved }()
	dst = []byte("QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")
	got, err := hashToG1([]byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	var want bls.G1Affine
	want.X.SetString("0x03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903")
	want.Y.SetString("0x0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d")
	if !got.Equal(&want) {
		t.Fatalf("hashToG1(abc) = %v, want %v", got, want)
	}
}

// TestAddOnIsoCurveRefusesSameX: equal and opposite points are left to
// the library.
func TestAddOnIsoCurveRefusesSameX(t *testing.T) {
	var u fp.Element
	u.SetUint64(7)
	p := sswu(&u)
	q := p
	if addOnIsoCurve(&q, &p) {
		t.Fatal("added a point to itself")
	}
	q.Neg(&p)
	if addOnIsoCurve(&q, &p) {
		t.Fatal("added a point to its opposite")
	}
	// The same point with another Z, as the map would not give it.
	var two fp.Element
	two.SetUint64(2)
	q = p
	q.X.Mul(&q.X, &two).Mul(&q.X, &two)
	q.Y.Mul(&q.Y, &two).Mul(&q.Y, &two).Mul(&q.Y, &two)
	q.Z.Mul(&q.Z, &two)
	if addOnIsoCurve(&q, &p) {
		t.Fatal("added a point to itself, in other coordinates")
	}
}

// TestSSWU compares sswu with the library's map to E', including the
// exceptional inputs where Z^2 u^4 + Z u^2 = 0.
func TestSSWU(t *testing.T) {
	us := make([]fp.Element, 0, 104)
	var zero, one, minusOneOverZ, root fp.Element
	one.SetOne()
	minusOneOverZ.Inverse(&isoZ).Neg(&minusOneOverZ)
	us = append(us, zero, one)
	if root.Sqrt(&minusOneOverZ) != nil {
		us = append(us, root)
	}
	for i := range 100 {
		var u fp.Element
		u.SetUint64(uint64(i)*0x9e3779b97f4a7c15 + 3).Square(&u).Square(&u)
		us = append(us, u)
	}
	for _, u := range us {
		want := bls.MapToCurve1(&u)
		p := sswu(&u)
		var zInv, zInv2, x, y fp.Element
		zInv.Inverse(&p.Z)
		zInv2.Square(&zInv)
		x.Mul(&p.X, &zInv2)
		y.Mul(&p.Y, &zInv2).Mul(&y, &zInv)
		if !x.Equal(&want.X) || !y.Equal(&want.Y) {
			t.Fatalf("sswu(%v) = (%v, %v), want (%v, %v)", u.String(), x.String(), y.String(), want.X.String(), want.Y.String())
		}
	}
}
