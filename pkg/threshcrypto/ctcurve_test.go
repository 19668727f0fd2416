package threshcrypto

import (
	"math/big"
	"math/rand/v2"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// The constant-time arithmetic of ctfield.go and ctcurve.go must agree
// with the library's variable-time arithmetic, on random values and on
// those at the edges: zero, one, the largest values, the boundaries of
// the split by lambda, and scalars whose digits are all at an end of
// their range.

// edgeScalars returns scalars at the edges of the split and of the
// digits, reduced modulo r.
func edgeScalars() []*big.Int {
	r := fr.Modulus()
	one := big.NewInt(1)
	var out []*big.Int
	add := func(v *big.Int) { out = append(out, new(big.Int).Mod(v, r)) }
	for _, v := range []int64{0, 1, 2, 7, 8, 9, 15, 16, 17} {
		add(big.NewInt(v))
	}
	add(new(big.Int).Sub(r, one)) // r-1 = lambda^2 + lambda: k1 = 0, k2 = lambda + 1.
	add(new(big.Int).Sub(r, big.NewInt(2)))
	// Around multiples of lambda: k1 at 0 or lambda-1.
	for _, m := range []*big.Int{one, big.NewInt(2), new(big.Int).Sub(&lambda, one), &lambda, new(big.Int).Add(&lambda, one)} {
		ml := new(big.Int).Mul(m, &lambda)
		add(new(big.Int).Sub(ml, one))
		add(ml)
		add(new(big.Int).Add(ml, one))
	}
	// All ones, and digit patterns: 0x88... (every digit 8), 0x99...
	// (every digit -7, carrying), 0xff... (every digit -1, carrying).
	for _, bitLen := range []uint{127, 128, 129, 254, 255, 256} {
		add(new(big.Int).Sub(new(big.Int).Lsh(one, bitLen), one))
	}
	for _, pattern := range []string{"88", "99", "ff", "80", "08", "f7"} {
		v, _ := new(big.Int).SetString(repeat(pattern, 32), 16)
		add(v)
		w, _ := new(big.Int).SetString(repeat(pattern, 16), 16) // 128 bits.
		add(w)
		add(new(big.Int).Add(w, new(big.Int).Mul(w, &lambda))) // Both halves.
	}
	return out
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// randomScalars returns n random scalars from rng.
func randomScalars(rng *rand.Rand, n int) []*big.Int {
	out := make([]*big.Int, n)
	for i := range out {
		var b [64]byte
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		out[i] = new(big.Int).Mod(new(big.Int).SetBytes(b[:]), fr.Modulus())
	}
	return out
}

func TestSplitScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	lambda1 := new(big.Int).Add(&lambda, big.NewInt(1))
	for _, k := range append(edgeScalars(), randomScalars(rng, 200)...) {
		var e fr.Element
		e.SetBigInt(k)
		kl := e.Bits()
		k1, k2 := splitScalar(&kl)
		b1, b2 := limbsToBig(k1[:]), limbsToBig(k2[:])
		if b1.Cmp(&lambda) >= 0 || b2.Cmp(lambda1) > 0 {
			t.Fatalf("split of %v: k1 = %v, k2 = %v out of range", k, b1, b2)
		}
		sum := new(big.Int).Mul(b2, &lambda)
		if sum.Add(sum, b1).Cmp(k) != 0 {
			t.Fatalf("split of %v: k1 + k2*lambda = %v", k, sum)
		}
	}
}

func limbsToBig(l []uint64) *big.Int {
	v := new(big.Int)
	for i := len(l) - 1; i >= 0; i-- {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(l[i]))
	}
	return v
}

func TestRecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(k []uint64, digits []int8) {
		t.Helper()
		recode(k, digits)
		v := new(big.Int)
		for i := len(digits) - 1; i >= 0; i-- {
			d := digits[i]
			if d < -7 || d > 8 || (i == len(digits)-1 && d != 0 && d != 1) {
				t.Fatalf("digit %d of %x is %d", i, k, d)
			}
			v.Lsh(v, windowBits).Add(v, big.NewInt(int64(d)))
		}
		if want := limbsToBig(k); v.Cmp(want) != 0 {
			t.Fatalf("digits of %v make %v", want, v)
		}
	}
	for _, k := range append(edgeScalars(), randomScalars(rng, 100)...) {
		var e fr.Element
		e.SetBigInt(k)
		kl := e.Bits()
		var d2 [g2Digits]int8
		check(kl[:], d2[:])
		k1, k2 := splitScalar(&kl)
		var d1 [g1Digits]int8
		check(k1[:], d1[:])
		check(k2[:], d1[:])
	}
	// The largest 256- and 128-bit values carry out of the last window.
	check([]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, make([]int8, g2Digits))
	check([]uint64{^uint64(0), ^uint64(0)}, make([]int8, g1Digits))
}

// TestMulSecret compares the constant-time multiplication in G1 with the
// library's, on edge and random scalars and random points, and the
// identity.
func TestMulSecret(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	_, _, g1, _ := bls.Generators()
	scalars := append(edgeScalars(), randomScalars(rng, 40)...)
	for i, k := range scalars {
		p := g1
		if i%2 == 1 {
			p = randomG1(t, rng)
		}
		checkMulSecret(t, k, &p)
	}
	var inf bls.G1Affine
	checkMulSecret(t, big.NewInt(5), &inf)
}

func checkMulSecret(t *testing.T, k *big.Int, p *bls.G1Affine) {
	t.Helper()
	var want bls.G1Affine
	want.ScalarMultiplication(p, k)
	var e fr.Element
	e.SetBigInt(k)
	if got := newSecretScalar(&e).mulSecret(p); !got.Equal(&want) {
		t.Fatalf("%v * %v: constant-time multiplication differs from the library's", k, p.String())
	}
}

// TestMulSecretG2Base compares the constant-time multiplication of the
// generator of G2 with the library's.
func TestMulSecretG2Base(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, k := range append(edgeScalars(), randomScalars(rng, 10)...) {
		var want bls.G2Affine
		want.ScalarMultiplicationBase(k)
		var e fr.Element
		e.SetBigInt(k)
		if got := mulSecretG2Base(&e); !got.Equal(&want) {
			t.Fatalf("%v * g2: constant-time multiplication differs from the library's", k)
		}
	}
}

// TestCompleteFormulas checks the additions and doublings on the cases
// that incomplete formulas get wrong: adding a point to itself, to its
// opposite, to the identity, and doubling the identity.
func TestCompleteFormulas(t *testing.T) {
	_, _, g1, _ := bls.Generators()
	var g2x bls.G1Affine
	g2x.Double(&g1)
	q := affine[fe1]{x: fe1(g1.X), y: fe1(g1.Y)}
	fromAffine := func(a *bls.G1Affine) projective[fe1] {
		p := projective[fe1]{x: fe1(a.X), y: fe1(a.Y)}
		p.z.setOne()
		return p
	}
	toLib := func(p projective[fe1]) bls.G1Affine {
		x, y := toAffine[fe1](p)
		return bls.G1Affine{X: fp.Element(x), Y: fp.Element(y)}
	}
	w := new(work[fe1])
	var negG1 bls.G1Affine
	negG1.Neg(&g1)
	var inf bls.G1Affine
	tests := []struct {
		name string
		p    projective[fe1]
		want bls.G1Affine
	}{
		{"p + p", fromAffine(&g1), g2x},
		{"-p + p", fromAffine(&negG1), inf},
		{"identity + p", identityFe1(), g1},
	}
	for _, tt := range tests {
		p := tt.p
		addAffine[fe1](w, &p, &q)
		if got := toLib(p); !got.Equal(&tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, got.String(), tt.want.String())
		}
	}
	// The same point in other coordinates (X:Y:Z) = (cX : cY : c).
	var c fe1
	c.el().SetUint64(12345)
	p := fromAffine(&g1)
	p.x.mul(&p.x, &c)
	p.y.mul(&p.y, &c)
	p.z.mul(&p.z, &c)
	addAffine[fe1](w, &p, &q)
	if got := toLib(p); !got.Equal(&g2x) {
		t.Errorf("p + p in scaled coordinates = %v", got.String())
	}
	id := identityFe1()
	double[fe1](w, &id)
	if got := toLib(id); !got.IsInfinity() {
		t.Errorf("2 * identity = %v", got.String())
	}
	p = fromAffine(&g1)
	double[fe1](w, &p)
	if got := toLib(p); !got.Equal(&g2x) {
		t.Errorf("2 * p = %v", got.String())
	}
}

func identityFe1() projective[fe1] {
	var p projective[fe1]
	p.y.setOne()
	return p
}

// TestFieldArithmetic compares the constant-time field operations with
// the library's.
func TestFieldArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var pMinus1, pMinus2 fp.Element
	pMinus1.SetOne()
	pMinus1.Neg(&pMinus1)
	pMinus2.Double(&pMinus1).Add(&pMinus2, new(fp.Element).SetOne())
	values := []fp.Element{{}, fp.One(), pMinus1, pMinus2}
	for range 100 {
		var v fp.Element
		v.SetUint64(rng.Uint64())
		v.Square(&v).Square(&v).Square(&v)
		values = append(values, v)
	}
	for _, x := range values {
		for _, y := range values[:8] {
			var want fp.Element
			var got fe1
			xe, ye := fe1(x), fe1(y)
			if got.add(&xe, &ye); fp.Element(got) != *want.Add(&x, &y) {
				t.Fatalf("%v + %v", x.String(), y.String())
			}
			if got.sub(&xe, &ye); fp.Element(got) != *want.Sub(&x, &y) {
				t.Fatalf("%v - %v", x.String(), y.String())
			}
		}
		xe := fe1(x)
		var got fe1
		var want fp.Element
		if got.neg(&xe); fp.Element(got) != *want.Neg(&x) {
			t.Fatalf("-%v", x.String())
		}
		var twelve fp.Element
		twelve.SetUint64(12)
		if got.mulBy3b(&xe); fp.Element(got) != *want.Mul(&x, &twelve) {
			t.Fatalf("12 * %v", x.String())
		}
		if got.inverse(&xe); fp.Element(got) != *want.Inverse(&x) {
			t.Fatalf("1 / %v", x.String())
		}
		// Fp2, with x and x^2 as the two halves.
		var a, b, wantE2 bls.E2
		a.A0, a.A1 = x, values[len(values)-1]
		b.A0.Square(&x)
		b.A1 = values[4]
		ae, be := fe2(a), fe2(b)
		var gotE2 fe2
		if gotE2.mul(&ae, &be); bls.E2(gotE2) != *wantE2.Mul(&a, &b) {
			t.Fatalf("Fp2: (%v) * (%v)", a.String(), b.String())
		}
		if gotE2.square(&ae); bls.E2(gotE2) != *wantE2.Square(&a) {
			t.Fatalf("Fp2: (%v)^2", a.String())
		}
		if gotE2.inverse(&ae); bls.E2(gotE2) != *wantE2.Inverse(&a) {
			t.Fatalf("Fp2: 1 / (%v)", a.String())
		}
		var b3 bls.E2
		b3.A0.SetUint64(12)
		b3.A1.SetUint64(12)
		if gotE2.mulBy3b(&ae); bls.E2(gotE2) != *wantE2.Mul(&a, &b3) {
			t.Fatalf("Fp2: 3b * (%v)", a.String())
		}
	}
}

// TestScalarArithmetic compares the constant-time reduction and addition
// of scalars with big.Int's.
func TestScalarArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	r := fr.Modulus()
	inputs := [][]byte{nil, make([]byte, 8), make([]byte, 48), make([]byte, 64)}
	for _, n := range []int{8, 32, 48, 64} {
		ones := make([]byte, n)
		for i := range ones {
			ones[i] = 0xff
		}
		inputs = append(inputs, ones, r.FillBytes(make([]byte, max(n, 32))))
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			inputs = append(inputs, b)
		}
	}
	for _, b := range inputs {
		want := new(big.Int).Mod(new(big.Int).SetBytes(b), r)
		got := scalarFromBytes(b)
		if got.BigInt(new(big.Int)).Cmp(want) != 0 {
			t.Fatalf("scalarFromBytes(%x) = %v, want %v", b, got.String(), want)
		}
		var sum, want2 fr.Element
		var rMinus1 fr.Element
		rMinus1.SetOne()
		rMinus1.Neg(&rMinus1)
		for _, y := range []fr.Element{{}, rMinus1, got} {
			addScalar(&sum, &got, &y)
			if sum != *want2.Add(&got, &y) {
				t.Fatalf("%v + %v", got.String(), y.String())
			}
		}
	}
}

func TestScalarFromBytesCanonical(t *testing.T) {
	r := fr.Modulus()
	one := big.NewInt(1)
	for _, tt := range []struct {
		v    *big.Int
		want bool
	}{
		{big.NewInt(0), true},
		{one, true},
		{new(big.Int).Sub(r, one), true},
		{r, false},
		{new(big.Int).Add(r, one), false},
		{new(big.Int).Sub(new(big.Int).Lsh(one, 256), one), false},
		{new(big.Int).Lsh(one, 254), true},
	} {
		got, ok := scalarFromBytesCanonical(tt.v.FillBytes(make([]byte, fr.Bytes)))
		if ok != tt.want {
			t.Errorf("%v: canonical = %v, want %v", tt.v, ok, tt.want)
		}
		if ok && got.BigInt(new(big.Int)).Cmp(tt.v) != 0 {
			t.Errorf("%v: read %v", tt.v, got.String())
		}
	}
}

// FuzzMulSecret compares the constant-time multiplications with the
// library's on any scalar (the bytes modulo r) and a point hashed from
// the input.
func FuzzMulSecret(f *testing.F) {
	f.Add([]byte{}, []byte("p"))
	f.Add([]byte{1}, []byte("p"))
	f.Add(fr.Modulus().Bytes(), []byte("q"))
	f.Add(new(big.Int).Sub(fr.Modulus(), big.NewInt(1)).Bytes(), []byte("q"))
	f.Add(lambda.Bytes(), []byte{})
	f.Fuzz(func(t *testing.T, kb, msg []byte) {
		if len(kb) > 64 {
			return
		}
		k := new(big.Int).Mod(new(big.Int).SetBytes(kb), fr.Modulus())
		p, err := hashToG1(msg)
		if err != nil {
			t.Fatal(err)
		}
		checkMulSecret(t, k, &p)
		padded := make([]byte, (len(kb)+7)/8*8)
		copy(padded[len(padded)-len(kb):], kb)
		if got := scalarFromBytes(padded); got.BigInt(new(big.Int)).Cmp(k) != 0 {
			t.Fatalf("scalarFromBytes(%x) = %v, want %v", kb, got.String(), k)
		}
	})
}
