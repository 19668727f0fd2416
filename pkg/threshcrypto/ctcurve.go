package threshcrypto

import (
	"crypto/subtle"
	"math/bits"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Scalar multiplication by secrets, in constant time: signing (a key share
// times the hash of a message, in G1) and making public keys (a secret
// times the generator of G2). Its time and the memory it reads depend on
// the point, which is public, and never on the scalar:
//
//   - the scalar is cut into signed 4-bit digits from -7 to 8 by
//     arithmetic, not by branches (recode);
//   - each digit's multiple of the point is read from a table of 8 by
//     reading every entry and keeping one with masks, then negated or not
//     with masks (lookup);
//   - additions use complete formulas (Renes, Costello and Batina,
//     "Complete addition formulas for prime order elliptic curves", 2016),
//     which need no branch for the identity or for adding a point to
//     itself; a zero digit still adds, and a mask drops the sum;
//   - the result leaves projective coordinates through an inversion by
//     exponentiation, since the binary GCD of the library would leak the
//     Z coordinate, which depends on the scalar.
//
// In G1, the scalar k is first split as k1 + k2*lambda with k1, k2 < 2^128
// (see splitScalar), so that k*P = k1*P + k2*phi(P) takes half the
// doublings of a plain multiplication.

// windowBits is the width of the digits.
const windowBits = 4

// ctTable holds the multiples P, 2P, ..., 8P of a point, in affine
// coordinates.
type ctTable[E any] [1 << (windowBits - 1)]affine[E]

// Digits: two halves of 128 bits in G1, a whole scalar of 256 bits in G2;
// one digit more for the last carry.
const (
	g1Digits = 128/windowBits + 1
	g2Digits = 256/windowBits + 1
)

// projective is a point in homogeneous projective coordinates (X : Y :
// Z): the affine point (X/Z, Y/Z), or the identity (0 : 1 : 0) for Z = 0.
type projective[E any] struct{ x, y, z E }

// affine is a point in affine coordinates, never the identity.
type affine[E any] struct{ x, y E }

// work holds the points and temporaries of a multiplication. Arguments
// of calls through a type parameter's methods escape to the heap: the
// formulas take their temporaries from one work, allocated once per
// multiplication, rather than from the stack.
type work[E any] struct {
	acc, sum projective[E]
	q        affine[E]
	t        [8]E
}

// temps returns pointers to the temporaries of w.
func (w *work[E]) temps() (t0, t1, t2, t3, t4, t5, t6, t7 *E) {
	return &w.t[0], &w.t[1], &w.t[2], &w.t[3], &w.t[4], &w.t[5], &w.t[6], &w.t[7]
}

// addAffine sets p to p + q: algorithm 8 of Renes, Costello and Batina
// (mixed addition, a = 0), right for every p, the identity and q
// included, and every q but the identity. p and q must not be in w.t.
func addAffine[E any, F field[E]](w *work[E], p *projective[E], q *affine[E]) {
	t0, t1, t2, t3, t4, x3, y3, z3 := w.temps()
	F(t0).mul(&p.x, &q.x) // t0 = X1 X2
	F(t1).mul(&p.y, &q.y) // t1 = Y1 Y2
	F(t3).add(&q.x, &q.y) // t3 = X2 + Y2
	F(t4).add(&p.x, &p.y) // t4 = X1 + Y1
	F(t3).mul(t3, t4)     // t3 = t3 t4
	F(t4).add(t0, t1)     // t4 = t0 + t1
	F(t3).sub(t3, t4)     // t3 = t3 - t4
	F(t4).mul(&q.y, &p.z) // t4 = Y2 Z1
	F(t4).add(t4, &p.y)   // t4 = t4 + Y1
	F(y3).mul(&q.x, &p.z) // Y3 = X2 Z1
	F(y3).add(y3, &p.x)   // Y3 = Y3 + X1
	F(x3).add(t0, t0)     // X3 = t0 + t0
	F(t0).add(x3, t0)     // t0 = X3 + t0
	F(t2).mulBy3b(&p.z)   // t2 = b3 Z1
	F(z3).add(t1, t2)     // Z3 = t1 + t2
	F(t1).sub(t1, t2)     // t1 = t1 - t2
	F(y3).mulBy3b(y3)     // Y3 = b3 Y3
	F(x3).mul(t4, y3)     // X3 = t4 Y3
	F(t2).mul(t3, t1)     // t2 = t3 t1
	F(x3).sub(t2, x3)     // X3 = t2 - X3
	F(y3).mul(y3, t0)     // Y3 = Y3 t0
	F(t1).mul(t1, z3)     // t1 = t1 Z3
	F(y3).add(t1, y3)     // Y3 = t1 + Y3
	F(t0).mul(t0, t3)     // t0 = t0 t3
	F(z3).mul(z3, t4)     // Z3 = Z3 t4
	F(z3).add(z3, t0)     // Z3 = Z3 + t0
	p.x, p.y, p.z = *x3, *y3, *z3
}

// double sets p to 2p: algorithm 9 of Renes, Costello and Batina
// (doubling, a = 0), right for every p, the identity included. p must
// not be in w.t.
func double[E any, F field[E]](w *work[E], p *projective[E]) {
	t0, t1, t2, x3, y3, z3, _, _ := w.temps()
	F(t0).square(&p.y)    // t0 = Y^2
	F(z3).add(t0, t0)     // Z3 = 2 t0
	F(z3).add(z3, z3)     // Z3 = 4 t0
	F(z3).add(z3, z3)     // Z3 = 8 t0
	F(t1).mul(&p.y, &p.z) // t1 = Y Z
	F(t2).square(&p.z)    // t2 = Z^2
	F(t2).mulBy3b(t2)     // t2 = b3 t2
	F(x3).mul(t2, z3)     // X3 = t2 Z3
	F(y3).add(t0, t2)     // Y3 = t0 + t2
	F(z3).mul(t1, z3)     // Z3 = t1 Z3
	F(t1).add(t2, t2)     // t1 = t2 + t2
	F(t2).add(t1, t2)     // t2 = t1 + t2
	F(t0).sub(t0, t2)     // t0 = t0 - t2
	F(y3).mul(t0, y3)     // Y3 = t0 Y3
	F(y3).add(x3, y3)     // Y3 = X3 + Y3
	F(t1).mul(&p.x, &p.y) // t1 = X Y
	F(x3).mul(t0, t1)     // X3 = t0 t1
	F(x3).add(x3, x3)     // X3 = X3 + X3
	p.x, p.y, p.z = *x3, *y3, *z3
}

// lookup sets w.q to d times the point whose multiples t holds, for d
// from -8 to 8, reading every entry of t, and returns 1. For d = 0 it
// returns 0, and w.q is the point itself, which the caller must not add.
func lookup[E any, F field[E]](w *work[E], t *ctTable[E], d int8) int {
	sign := int(d >> 7) // -1 if d < 0, else 0.
	abs := (int(d) ^ sign) - sign
	q := &w.q
	*q = t[0]
	for i := 1; i < len(t); i++ {
		c := subtle.ConstantTimeEq(int32(abs), int32(i+1))
		F(&q.x).cmov(&t[i].x, c)
		F(&q.y).cmov(&t[i].y, c)
	}
	negY := &w.t[0]
	F(negY).neg(&q.y)
	F(&q.y).cmov(negY, sign&1)
	return 1 ^ subtle.ConstantTimeEq(int32(abs), 0)
}

// mulWindows returns the sum of the k_j P_j, for tables[j] the multiples
// of P_j and digits[j] the digits of k_j (see recode), all of the same
// length: the terms share their doublings.
func mulWindows[E any, F field[E]](tables []ctTable[E], digits [][]int8) projective[E] {
	w := new(work[E])
	acc, sum := &w.acc, &w.sum
	F(&acc.y).setOne() // The identity (0 : 1 : 0).
	top := len(digits[0]) - 1
	for i := top; i >= 0; i-- {
		if i < top {
			for range windowBits {
				double[E, F](w, acc)
			}
		}
		for j := range tables {
			nonZero := lookup[E, F](w, &tables[j], digits[j][i])
			*sum = *acc
			addAffine[E, F](w, sum, &w.q)
			F(&acc.x).cmov(&sum.x, nonZero)
			F(&acc.y).cmov(&sum.y, nonZero)
			F(&acc.z).cmov(&sum.z, nonZero)
		}
	}
	return *acc
}

// toAffine returns the affine coordinates of p, (0, 0) for the identity
// (as the library writes it), with a constant-time inversion.
func toAffine[E any, F field[E]](p projective[E]) (x, y E) {
	F(&p.z).inverse(&p.z)
	F(&x).mul(&p.x, &p.z)
	F(&y).mul(&p.y, &p.z)
	return x, y
}

// recode writes k (little-endian 64-bit limbs) as sum of digits[i]
// 2^(windowBits i), with digits from -2^(windowBits-1)+1 to
// 2^(windowBits-1): each window's value plus the carry from below, minus
// 2^windowBits (carrying one up) when it is over 2^(windowBits-1). The
// last digit, the last carry, is 0 or 1. len(digits)-1 windows must cover
// k.
func recode(k []uint64, digits []int8) {
	const perLimb = 64 / windowBits
	carry := 0
	for i := range len(digits) - 1 {
		w := int(k[i/perLimb]>>(windowBits*(i%perLimb))&(1<<windowBits-1)) + carry
		carry = (w + 1<<(windowBits-1) - 1) >> windowBits
		digits[i] = int8(w - carry<<windowBits)
	}
	digits[len(digits)-1] = int8(carry)
}

// lambdaLimbs is lambda as two little-endian limbs, set with lambda.
var lambdaLimbs [2]uint64

// splitScalar returns k1 and k2 < 2^128 with k = k1 + k2*lambda, for k < r
// in little-endian limbs: the remainder and the quotient of k by lambda.
// As r = lambda^2 + lambda + 1, the quotient is at most lambda + 1 < 2^128.
// It divides bit by bit, subtracting lambda from the remainder with masks.
func splitScalar(k *[fr.Limbs]uint64) (k1, k2 [2]uint64) {
	var rem [3]uint64 // < 2 lambda < 2^129 before each subtraction.
	var quo [fr.Limbs]uint64
	for i := fr.Bits - 1; i >= 0; i-- {
		rem[2] = rem[2]<<1 | rem[1]>>63
		rem[1] = rem[1]<<1 | rem[0]>>63
		rem[0] = rem[0]<<1 | k[i/64]>>(i%64)&1
		var diff [3]uint64
		var borrow uint64
		diff[0], borrow = bits.Sub64(rem[0], lambdaLimbs[0], 0)
		diff[1], borrow = bits.Sub64(rem[1], lambdaLimbs[1], borrow)
		diff[2], borrow = bits.Sub64(rem[2], 0, borrow)
		keep := -borrow // All ones if rem < lambda.
		for j := range rem {
			rem[j] = diff[j] ^ (keep & (diff[j] ^ rem[j]))
		}
		quo[i/64] |= (borrow ^ 1) << (i % 64)
	}
	return [2]uint64{rem[0], rem[1]}, [2]uint64{quo[0], quo[1]}
}

// secretScalar is a secret scalar prepared for multiplications in G1: the
// digits of k1 and k2 (see splitScalar). Preparing it is constant-time
// too.
type secretScalar struct {
	digits [2][g1Digits]int8
}

// newSecretScalar prepares k.
func newSecretScalar(k *fr.Element) *secretScalar {
	kl := k.Bits() // Out of Montgomery form: a multiplication.
	k1, k2 := splitScalar(&kl)
	s := &secretScalar{}
	recode(k1[:], s.digits[0][:])
	recode(k2[:], s.digits[1][:])
	return s
}

// mulSecret returns k*p for the prepared k and p in G1, in time that does
// not depend on k.
func (s *secretScalar) mulSecret(p *bls.G1Affine) bls.G1Affine {
	if p.IsInfinity() { // p is public.
		return *p
	}
	var tables [2]ctTable[fe1]
	g1Multiples(&tables[0], p)
	for i := range tables[1] {
		tables[1][i] = tables[0][i]
		tables[1][i].x.mul(&tables[1][i].x, (*fe1)(&omega))
	}
	acc := mulWindows[fe1](tables[:], [][]int8{s.digits[0][:], s.digits[1][:]})
	x, y := toAffine[fe1](acc)
	var out bls.G1Affine
	out.X, out.Y = *x.el(), *y.el()
	return out
}

// g1Multiples sets t to the multiples of p, not the identity. p is
// public: the library's variable-time arithmetic will do.
func g1Multiples(t *ctTable[fe1], p *bls.G1Affine) {
	var jac [len(t)]bls.G1Jac
	jac[0].FromAffine(p)
	for i := 1; i < len(jac); i++ {
		jac[i].Set(&jac[i-1]).AddMixed(p)
	}
	var aff [len(t)]bls.G1Affine
	batchToAffine(aff[:], jac[:])
	for i := range t {
		t[i] = affine[fe1]{x: fe1(aff[i].X), y: fe1(aff[i].Y)}
	}
}

// g2GenMultiples are the multiples of the generator of G2.
var g2GenMultiples = func() ctTable[fe2] {
	var t ctTable[fe2]
	_, g2, _, _ := bls.Generators()
	acc := g2
	for i := range t {
		var a bls.G2Affine
		a.FromJacobian(&acc)
		t[i] = affine[fe2]{x: fe2(a.X), y: fe2(a.Y)}
		acc.AddAssign(&g2)
	}
	return t
}()

// mulSecretG2Base returns k*g2 for the generator g2 of G2, in time that
// does not depend on k.
func mulSecretG2Base(k *fr.Element) bls.G2Affine {
	kl := k.Bits()
	var digits [g2Digits]int8
	recode(kl[:], digits[:])
	tables := []ctTable[fe2]{g2GenMultiples}
	acc := mulWindows[fe2](tables, [][]int8{digits[:]})
	x, y := toAffine[fe2](acc)
	var out bls.G2Affine
	out.X, out.Y = bls.E2(x), bls.E2(y)
	return out
}
