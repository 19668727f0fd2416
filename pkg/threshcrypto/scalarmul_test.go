package threshcrypto

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// The scalar multiplications of scalarmul.go must agree with the
// library's general one.

func randomG1(t *testing.T, rng *rand.Rand) bls.G1Affine {
	t.Helper()
	var msg [8]byte
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	p, err := hashToG1(msg[:])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGLVScalarMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r1 big.Int
	r1.Sub(fr.Modulus(), big.NewInt(1))
	scalars := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(15), big.NewInt(16), &lambda, &r1}
	for range 30 {
		var e fr.Element
		e.SetUint64(rng.Uint64())
		for range 3 {
			var f fr.Element
			f.SetUint64(rng.Uint64())
			e.Mul(&e, &f).Add(&e, &f)
		}
		scalars = append(scalars, e.BigInt(new(big.Int)))
	}
	var identity bls.G1Affine
	for i, k := range scalars {
		p := randomG1(t, rng)
		if i == 0 {
			p = identity
		}
		var want bls.G1Affine
		want.ScalarMultiplication(&p, k)
		s := newPublicScalar(k)
		if got := mulAffine(s, &p); !got.Equal(&want) {
			t.Fatalf("scalar %v: GLV multiplication differs from the library's", k)
		}
		// Each sign of each half, whether or not the split gives it:
		// (-1)^neg1 * |k1| + (-1)^neg2 * |k2| * lambda.
		for flip := range 4 {
			f := *s
			f.neg[0] = f.neg[0] != (flip&1 == 1)
			f.neg[1] = f.neg[1] != (flip&2 == 2)
			var k1, k2, kf big.Int
			k1.Set(nafValue(f.naf[0]))
			k2.Set(nafValue(f.naf[1]))
			if f.neg[0] {
				k1.Neg(&k1)
			}
			if f.neg[1] {
				k2.Neg(&k2)
			}
			kf.Mul(&k2, &lambda).Add(&kf, &k1).Mod(&kf, fr.Modulus())
			want.ScalarMultiplication(&p, &kf)
			if got := mulAffine(&f, &p); !got.Equal(&want) {
				t.Fatalf("scalar %v, signs %v: GLV multiplication differs from the library's", k, f.neg)
			}
		}
	}
}

// mulAffine returns s*p in affine coordinates.
func mulAffine(s *publicScalar, p *bls.G1Affine) bls.G1Affine {
	var pj bls.G1Jac
	pj.FromAffine(p)
	r := s.mulPublic(&pj)
	var out bls.G1Affine
	out.FromJacobian(&r)
	return out
}

// nafValue returns the integer whose NAF digits, least significant first,
// are naf.
func nafValue(naf []int8) *big.Int {
	v := new(big.Int)
	for i := len(naf) - 1; i >= 0; i-- {
		v.Lsh(v, 1).Add(v, big.NewInt(int64(naf[i])))
	}
	return v
}

func TestMulInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// 2, 3, 11, 19 and products divide lambda or lambda+1; the others do
	// not and take the general path.
	for _, d := range []int64{2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 19, 33, 57, 209, 1 << 20, 1<<62 - 1} {
		p := randomG1(t, rng)
		var q, got bls.G1Jac
		q.FromAffine(&p)
		mulInverse(&got, &q, d)
		// d * (1/d) * p must be p.
		var back bls.G1Jac
		back.ScalarMultiplication(&got, big.NewInt(d))
		var backAff bls.G1Affine
		backAff.FromJacobian(&back)
		if !backAff.Equal(&p) {
			t.Fatalf("d = %d: d * mulInverse(p, d) != p", d)
		}
	}
}

// TestInterpolate compares the small-coefficient interpolation with the
// plain one in the scalar field, on index sets whose common denominator
// takes each path of mulInverse.
func TestInterpolate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sets := [][]int{
		{1}, {1, 2, 3}, {2, 3, 4}, {1, 2, 4}, {1, 3, 4}, {1, 2, 5}, {3, 5, 7, 9}, {1, 2, 3, 4, 5, 6, 7},
		// Too large for small coefficients: the plain interpolation.
		{1, 1024, 512, 3, 700, 999, 2, 5, 7, 1000, 11, 13, 17, 19, 23, 29},
	}
	for range 20 {
		set := rng.Perm(40)[:1+rng.IntN(12)]
		for i := range set {
			set[i]++
		}
		sets = append(sets, set)
	}
	for _, idx := range sets {
		pts := make([]bls.G1Affine, len(idx))
		for i := range pts {
			pts[i] = randomG1(t, rng)
		}
		want := combineFull(idx, pts)
		if got := interpolate(idx, pts); !got.Equal(&want) {
			t.Fatalf("indices %v: interpolate differs from combineFull", idx)
		}
	}
}

// TestSmallLagrange checks the coefficients and common denominators of a
// few index sets: the denominator must be the least one, which decides
// how cheap the multiplication by its inverse is.
func TestSmallLagrange(t *testing.T) {
	tests := []struct {
		idx    []int
		coeffs []int64
		den    int64
	}{
		{[]int{1}, []int64{1}, 1},
		{[]int{1, 2, 3}, []int64{3, -3, 1}, 1},
		{[]int{2, 3, 4}, []int64{6, -8, 3}, 1},
		{[]int{1, 2, 4}, []int64{8, -6, 1}, 3},
		{[]int{4, 2, 1}, []int64{1, -6, 8}, 3},
		{[]int{1, 3}, []int64{3, -1}, 2},
	}
	for _, tt := range tests {
		coeffs, den, ok := smallLagrange(tt.idx)
		if !ok || den != tt.den || !slices.Equal(coeffs, tt.coeffs) {
			t.Errorf("smallLagrange(%v) = %v / %d, %v; want %v / %d", tt.idx, coeffs, den, ok, tt.coeffs, tt.den)
		}
	}
	if _, _, ok := smallLagrange([]int{1, 1024, 512, 3, 700, 999, 2, 5, 7, 1000, 11, 13, 17, 19, 23, 29}); ok {
		t.Error("smallLagrange of 16 large indices fits in 63 bits")
	}
}
