package threshcrypto

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
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

// rfc9380Vectors are the test vectors of RFC 9380, appendix J.9.1, for
// the suite BLS12381G1_XMD:SHA-256_SSWU_RO_, which hashToG1 implements:
// the message, the two field elements u (hash_to_field), the two points
// Q0 and Q1 they map to (map_to_curve, before they are added), and the
// hash P, as big-endian hexadecimal x and y.
var rfc9380Vectors = []struct {
	msg    string
	u0, u1 string
	q0, q1 [2]string
	p      [2]string
}{
	{
		msg: "",
		u0:  "0ba14bd907ad64a016293ee7c2d276b8eae71f25a4b941eece7b0d89f17f75cb3ae5438a614fb61d6835ad59f29c564f",
		u1:  "019b9bd7979f12657976de2884c7cce192b82c177c80e0ec604436a7f538d231552f0d96d9f7babe5fa3b19b3ff25ac9",
		q0: [2]string{
			"11a3cce7e1d90975990066b2f2643b9540fa40d6137780df4e753a8054d07580db3b7f1f03396333d4a359d1fe3766fe",
			"0eeaf6d794e479e270da10fdaf768db4c96b650a74518fc67b04b03927754bac66f3ac720404f339ecdcc028afa091b7",
		},
		q1: [2]string{
			"160003aaf1632b13396dbad518effa00fff532f604de1a7fc2082ff4cb0afa2d63b2c32da1bef2bf6c5ca62dc6b72f9c",
			"0d8bb2d14e20cf9f6036152ed386d79189415b6d015a20133acb4e019139b94e9c146aaad5817f866c95d609a361735e",
		},
		p: [2]string{
			"052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
			"08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265",
		},
	},
	{
		msg: "abc",
		u0:  "0d921c33f2bad966478a03ca35d05719bdf92d347557ea166e5bba579eea9b83e9afa5c088573c2281410369fbd32951",
		u1:  "003574a00b109ada2f26a37a91f9d1e740dffd8d69ec0c35e1e9f4652c7dba61123e9dd2e76c655d956e2b3462611139",
		q0: [2]string{
			"125435adce8e1cbd1c803e7123f45392dc6e326d292499c2c45c5865985fd74fe8f042ecdeeec5ecac80680d04317d80",
			"0e8828948c989126595ee30e4f7c931cbd6f4570735624fd25aef2fa41d3f79cfb4b4ee7b7e55a8ce013af2a5ba20bf2",
		},
		q1: [2]string{
			"11def93719829ecda3b46aa8c31fc3ac9c34b428982b898369608e4f042babee6c77ab9218aad5c87ba785481eff8ae4",
			"0007c9cef122ccf2efd233d6eb9bfc680aa276652b0661f4f820a653cec1db7ff69899f8e52b8e92b025a12c822a6ce6",
		},
		p: [2]string{
			"03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903",
			"0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d",
		},
	},
	{
		msg: "abcdef0123456789",
		u0:  "062d1865eb80ebfa73dcfc45db1ad4266b9f3a93219976a3790ab8d52d3e5f1e62f3b01795e36834b17b70e7b76246d4",
		u1:  "0cdc3e2f271f29c4ff75020857ce6c5d36008c9b48385ea2f2bf6f96f428a3deb798aa033cd482d1cdc8b30178b08e3a",
		q0: [2]string{
			"08834484878c217682f6d09a4b51444802fdba3d7f2df9903a0ddadb92130ebbfa807fffa0eabf257d7b48272410afff",
			"0b318f7ecf77f45a0f038e62d7098221d2dbbca2a394164e2e3fe953dc714ac2cde412d8f2d7f0c03b259e6795a2508e",
		},
		q1: [2]string{
			"158418ed6b27e2549f05531a8281b5822b31c3bf3144277fbb977f8d6e2694fedceb7011b3c2b192f23e2a44b2bd106e",
			"1879074f344471fac5f839e2b4920789643c075792bec5af4282c73f7941cda5aa77b00085eb10e206171b9787c4169f",
		},
		p: [2]string{
			"11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98",
			"03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709",
		},
	},
	{
		msg: "q128_" + strings.Repeat("q", 128),
		u0:  "010476f6a060453c0b1ad0b628f3e57c23039ee16eea5e71bb87c3b5419b1255dc0e5883322e563b84a29543823c0e86",
		u1:  "0b1a912064fb0554b180e07af7e787f1f883a0470759c03c1b6509eb8ce980d1670305ae7b928226bb58fdc0a419f46e",
		q0: [2]string{
			"0cbd7f84ad2c99643fea7a7ac8f52d63d66cefa06d9a56148e58b984b3dd25e1f41ff47154543343949c64f88d48a710",
			"052c00e4ed52d000d94881a5638ae9274d3efc8bc77bc0e5c650de04a000b2c334a9e80b85282a00f3148dfdface0865",
		},
		q1: [2]string{
			"06493fb68f0d513af08be0372f849436a787e7b701ae31cb964d968021d6ba6bd7d26a38aaa5a68e8c21a6b17dc8b579",
			"02e98f2ccf5802b05ffaac7c20018bc0c0b2fd580216c4aa2275d2909dc0c92d0d0bdc979226adeb57a29933536b6bb4",
		},
		p: [2]string{
			"15f68eaa693b95ccb85215dc65fa81038d69629f70aeee0d0f677cf22285e7bf58d7cb86eefe8f2e9bc3f8cb84fac488",
			"1807a1d50c29f430b8cafc4f8638dfeeadf51211e1602a5f184443076715f91bb90a48ba1e370edce6ae1062f5e6dd38",
		},
	},
	{
		msg: "a512_" + strings.Repeat("a", 512),
		u0:  "0a8ffa7447f6be1c5a2ea4b959c9454b431e29ccc0802bc052413a9c5b4f9aac67a93431bd480d15be1e057c8a08e8c6",
		u1:  "05d487032f602c90fa7625dbafe0f4a49ef4a6b0b33d7bb349ff4cf5410d297fd6241876e3e77b651cfc8191e40a68b7",
		q0: [2]string{
			"0cf97e6dbd0947857f3e578231d07b309c622ade08f2c08b32ff372bd90db19467b2563cc997d4407968d4ac80e154f8",
			"127f0cddf2613058101a5701f4cb9d0861fd6c2a1b8e0afe194fccf586a3201a53874a2761a9ab6d7220c68661a35ab3",
		},
		q1: [2]string{
			"092f1acfa62b05f95884c6791fba989bbe58044ee6355d100973bf9553ade52b47929264e6ae770fb264582d8dce512a",
			"028e6d0169a72cfedb737be45db6c401d3adfb12c58c619c82b93a5dfcccef12290de530b0480575ddc8397cda0bbebf",
		},
		p: [2]string{
			"082aabae8b7dedb0e78aeb619ad3bfd9277a2f77ba7fad20ef6aabdc6c31d19ba5a6d12283553294c1825c4b3ca2dcfe",
			"05b84ae5a942248eea39e1d91030458c40153f3b654ab7872d779ad1e942856a20c438e8d99bc8abfbf74729ce1f7ac8",
		},
	},
}

// TestHashToG1Vectors checks every step of hashToG1 against the test
// vectors of RFC 9380, with the RFC's tag.
func TestHashToG1Vectors(t *testing.T) {
	saved := dst
	defer func() { dst = saved }()
	dst = []byte("QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")
	for _, v := range rfc9380Vectors {
		name := v.msg[:min(len(v.msg), 8)]
		u, err := fp.Hash([]byte(v.msg), dst, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{v.u0, v.u1} {
			if got := hex.EncodeToString(u[i].Marshal()); got != want {
				t.Errorf("%q: u[%d] = %s, want %s", name, i, got, want)
			}
		}
		for i, want := range [][2]string{v.q0, v.q1} {
			q := sswu(&u[i])
			q = isogeny(&q)
			var qa bls.G1Affine
			qa.FromJacobian(&q)
			checkPoint(t, fmt.Sprintf("%q: Q%d", name, i), &qa, want)
		}
		p, err := hashToG1([]byte(v.msg))
		if err != nil {
			t.Fatal(err)
		}
		checkPoint(t, fmt.Sprintf("%q: P", name), &p, v.p)
		// And the library, so that both agree with the RFC.
		lib, err := bls.HashToG1([]byte(v.msg), dst)
		if err != nil {
			t.Fatal(err)
		}
		checkPoint(t, fmt.Sprintf("%q: the library's P", name), &lib, v.p)
	}
}

// checkPoint checks that p has the coordinates want, in hexadecimal.
func checkPoint(t *testing.T, name string, p *bls.G1Affine, want [2]string) {
	t.Helper()
	x, y := hex.EncodeToString(p.X.Marshal()), hex.EncodeToString(p.Y.Marshal())
	if x != want[0] || y != want[1] {
		t.Errorf("%s = (%s, %s), want (%s, %s)", name, x, y, want[0], want[1])
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
