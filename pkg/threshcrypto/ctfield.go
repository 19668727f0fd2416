package threshcrypto

import (
	"math/big"
	"math/bits"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Constant-time field arithmetic, for computations on secrets: no branch
// and no memory index depends on a value, only on sizes.
//
// The library's Montgomery multiplication is constant-time where it is
// assembly (amd64 with the ADX extension, arm64: it reduces with
// conditional moves), and is used as it is. Its addition, subtraction and
// negation are not (they branch on whether to reduce), and neither is its
// inversion (a binary GCD): those are written here.

// The modulus p of Fp, as little-endian 64-bit limbs: constants, which
// the compiler folds into the instructions.
const (
	p0 = 0xb9feffffffffaaab
	p1 = 0x1eabfffeb153ffff
	p2 = 0x6730d2a0f6b0f624
	p3 = 0x64774b84f38512bf
	p4 = 0x4b1ba7b6434bacd7
	p5 = 0x1a0111ea397fe69a
)

// fpModulus is p as an element, for subtracting it.
var fpModulus = fe1{p0, p1, p2, p3, p4, p5}

// frModulus is the modulus r of the scalar field, as little-endian 64-bit
// limbs.
var frModulus = limbs(fr.Modulus(), fr.Limbs)

func init() {
	if [fp.Limbs]uint64(limbs(fp.Modulus(), fp.Limbs)) != [fp.Limbs]uint64{p0, p1, p2, p3, p4, p5} {
		panic("threshcrypto: the constants p0 to p5 are not the modulus of Fp")
	}
}

// limbs returns n, which must fit, as count little-endian 64-bit limbs.
func limbs(n *big.Int, count int) []uint64 {
	b := n.FillBytes(make([]byte, 8*count))
	out := make([]uint64, count)
	for i := range out {
		for _, c := range b[len(b)-8*(i+1) : len(b)-8*i] {
			out[i] = out[i]<<8 | uint64(c)
		}
	}
	return out
}

// addMod sets z to x + y mod q, for x, y < q and q < 2^(64 len(q) - 1), so
// that x + y does not overflow: it subtracts q, and keeps the difference
// unless that borrowed. len(q) is at most fr.Limbs: it serves the scalar
// field; Fp has the unrolled fe1.add.
func addMod(z, x, y, q []uint64) {
	var sum, diff [fr.Limbs]uint64
	var carry, borrow uint64
	for i := range q {
		sum[i], carry = bits.Add64(x[i], y[i], carry)
	}
	for i := range q {
		diff[i], borrow = bits.Sub64(sum[i], q[i], borrow)
	}
	keep := -borrow // All ones if x + y < q: keep the sum.
	for i := range q {
		z[i] = diff[i] ^ (keep & (diff[i] ^ sum[i]))
	}
}

// fe1 is an element of Fp, the field of the coordinates of G1, in the
// library's Montgomery form, with constant-time arithmetic.
type fe1 fp.Element

func (z *fe1) el() *fp.Element { return (*fp.Element)(z) }

func (z *fe1) mul(x, y *fe1) { z.el().Mul(x.el(), y.el()) }
func (z *fe1) square(x *fe1) { z.el().Square(x.el()) }
func (z *fe1) neg(x *fe1) {
	var zero fe1
	z.sub(&zero, x)
}
func (z *fe1) setOne()            { z.el().SetOne() }
func (z *fe1) cmov(x *fe1, c int) { z.el().Select(c, z.el(), x.el()) }

// add sets z to x + y as (x + y) - p, which subFrom puts back into range
// by adding p if it is negative: the sum does not overflow, p < 2^381.
func (z *fe1) add(x, y *fe1) {
	s0, c := bits.Add64(x[0], y[0], 0)
	s1, c := bits.Add64(x[1], y[1], c)
	s2, c := bits.Add64(x[2], y[2], c)
	s3, c := bits.Add64(x[3], y[3], c)
	s4, c := bits.Add64(x[4], y[4], c)
	s5, _ := bits.Add64(x[5], y[5], c)
	z.subFrom(s0, s1, s2, s3, s4, s5, &fpModulus)
}

// sub sets z to x - y.
func (z *fe1) sub(x, y *fe1) { z.subFrom(x[0], x[1], x[2], x[3], x[4], x[5], y) }

// subFrom sets z to x - y, for x given by its limbs, plus p under a mask
// if that borrowed: x - y mod p, for x - y between -p and p. The limbs
// come in registers, not through memory.
func (z *fe1) subFrom(x0, x1, x2, x3, x4, x5 uint64, y *fe1) {
	d0, b := bits.Sub64(x0, y[0], 0)
	d1, b := bits.Sub64(x1, y[1], b)
	d2, b := bits.Sub64(x2, y[2], b)
	d3, b := bits.Sub64(x3, y[3], b)
	d4, b := bits.Sub64(x4, y[4], b)
	d5, b := bits.Sub64(x5, y[5], b)
	mask := -b
	var c uint64
	z[0], c = bits.Add64(d0, p0&mask, 0)
	z[1], c = bits.Add64(d1, p1&mask, c)
	z[2], c = bits.Add64(d2, p2&mask, c)
	z[3], c = bits.Add64(d3, p3&mask, c)
	z[4], c = bits.Add64(d4, p4&mask, c)
	z[5], _ = bits.Add64(d5, p5&mask, c)
}

// mulBy3b sets z to 3b x = 12 x, for b = 4 of G1's curve y^2 = x^3 + 4.
func (z *fe1) mulBy3b(x *fe1) {
	var t fe1
	t.add(x, x)   // 2x
	t.add(&t, &t) // 4x
	z.add(&t, &t) // 8x
	z.add(z, &t)  // 12x
}

// inverse sets z to 1/x, or 0 if x is 0, as x^(p-2) =
// (x^((p-3)/4))^4 x: the library's fixed addition chain for (p-3)/4,
// only multiplications.
func (z *fe1) inverse(x *fe1) {
	var t fe1
	t.el().ExpBySqrtPm3o4(*x.el())
	t.square(&t)
	t.square(&t)
	z.mul(&t, x)
}

// fe2 is an element of Fp2 = Fp[u]/(u^2 + 1), the field of the coordinates
// of G2, with constant-time arithmetic.
type fe2 bls.E2

func (z *fe2) a0() *fe1 { return (*fe1)(&z.A0) }
func (z *fe2) a1() *fe1 { return (*fe1)(&z.A1) }

// mul sets z to x y by Karatsuba: (a + bu)(c + du) = ac - bd + ((a + b)(c
// + d) - ac - bd) u.
func (z *fe2) mul(x, y *fe2) {
	var ac, bd, s, t fe1
	ac.mul(x.a0(), y.a0())
	bd.mul(x.a1(), y.a1())
	s.add(x.a0(), x.a1())
	t.add(y.a0(), y.a1())
	s.mul(&s, &t)
	s.sub(&s, &ac)
	s.sub(&s, &bd)
	z.a0().sub(&ac, &bd)
	*z.a1() = s
}

// square sets z to x^2 = (a + b)(a - b) + 2ab u.
func (z *fe2) square(x *fe2) {
	var s, d, ab fe1
	s.add(x.a0(), x.a1())
	d.sub(x.a0(), x.a1())
	ab.mul(x.a0(), x.a1())
	z.a0().mul(&s, &d)
	z.a1().add(&ab, &ab)
}

func (z *fe2) add(x, y *fe2) { z.a0().add(x.a0(), y.a0()); z.a1().add(x.a1(), y.a1()) }
func (z *fe2) sub(x, y *fe2) { z.a0().sub(x.a0(), y.a0()); z.a1().sub(x.a1(), y.a1()) }
func (z *fe2) neg(x *fe2)    { z.a0().neg(x.a0()); z.a1().neg(x.a1()) }
func (z *fe2) setOne()       { z.a0().setOne(); *z.a1() = fe1{} }
func (z *fe2) cmov(x *fe2, c int) {
	z.a0().cmov(x.a0(), c)
	z.a1().cmov(x.a1(), c)
}

// mulBy3b sets z to 3b' x for b' = 4(1 + u) of G2's curve: 12 (1 + u) (a
// + bu) = 12 (a - b) + 12 (a + b) u.
func (z *fe2) mulBy3b(x *fe2) {
	var s, d fe1
	d.sub(x.a0(), x.a1())
	s.add(x.a0(), x.a1())
	z.a0().mulBy3b(&d)
	z.a1().mulBy3b(&s)
}

// inverse sets z to 1/x = (a - bu) / (a^2 + b^2), or 0 if x is 0.
func (z *fe2) inverse(x *fe2) {
	var n, t fe1
	n.square(x.a0())
	t.square(x.a1())
	n.add(&n, &t)
	n.inverse(&n)
	z.a0().mul(x.a0(), &n)
	t.neg(x.a1())
	z.a1().mul(&t, &n)
}

// field is the constant-time arithmetic the curve formulas need: fe1 for
// G1, fe2 for G2. The results may alias the arguments.
type field[E any] interface {
	*E
	mul(x, y *E)
	square(x *E)
	add(x, y *E)
	sub(x, y *E)
	neg(x *E)
	mulBy3b(x *E)
	inverse(x *E)
	setOne()
	// cmov sets z to x if c is 1 and leaves it if c is 0.
	cmov(x *E, c int)
}

// Scalars.

// addScalar sets z to x + y in the scalar field, in constant time; the
// library's addition branches on whether to reduce. Montgomery form
// does not matter to an addition.
func addScalar(z, x, y *fr.Element) { addMod(z[:], x[:], y[:], frModulus) }

// scalarFromBytes returns b, big-endian and of any length, modulo r, in
// constant time: one multiplication and one addition per 64-bit word
// (Horner's rule in base 2^64). b's length must be a multiple of 8.
func scalarFromBytes(b []byte) fr.Element {
	var base, acc fr.Element
	base.SetUint64(1 << 32)
	base.Square(&base) // 2^64 mod r
	for i := 0; i < len(b); i += 8 {
		var w uint64
		for _, c := range b[i : i+8] {
			w = w<<8 | uint64(c)
		}
		var word fr.Element
		word.SetUint64(w) // A multiplication by R^2: constant time.
		acc.Mul(&acc, &base)
		addScalar(&acc, &acc, &word)
	}
	return acc
}

// scalarFromBytesCanonical returns b, fr.Bytes big-endian bytes, as a
// scalar, and whether it is below r, in constant time; the library's
// check compares limb by limb and stops at the first that differs.
func scalarFromBytesCanonical(b []byte) (fr.Element, bool) {
	var borrow uint64
	for i := range fr.Limbs {
		var limb uint64
		for _, c := range b[len(b)-8*(i+1) : len(b)-8*i] {
			limb = limb<<8 | uint64(c)
		}
		_, borrow = bits.Sub64(limb, frModulus[i], borrow)
	}
	return scalarFromBytes(b), borrow == 1
}
