package threshcrypto

import (
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/hash_to_curve"
)

// Hashing to G1 as RFC 9380 says (BLS12381G1_XMD:SHA-256_SSWU_RO_), with
// the same result as the library's bls.HashToG1, for about a sixth less
// time. The library maps each of the two field elements to a point of
// the isogenous curve E' in affine coordinates, applies the isogeny to E
// to each and adds them: five field inversions, and two exponentiations
// by a generic square-and-multiply. Here the two points stay in Jacobian
// coordinates, are added on E' (the RFC allows it: the isogeny is a group
// morphism), and the isogeny is applied once, to the sum: one inversion
// in all, at the end. The exponentiations use the library's addition
// chain for (p-3)/4.

// dst is the domain separation tag of hashing to G1: that of the basic
// BLS signature scheme with minimal signature size (signatures in G1,
// public keys in G2) of the IETF BLS signature draft.
var dst = []byte("BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")

// The constants of the map: the coefficients A and B of E', its Z, and
// the four polynomials of the isogeny (x numerator and denominator, y
// numerator and denominator; the denominators are monic, their leading 1
// not listed), lowest degree first.
var (
	isoA, isoB = hash_to_curve.G1SSWUIsogenyCurveCoefficients()
	isoZ       = hash_to_curve.G1SSWUIsogenyZ()
	isoMap     = hash_to_curve.G1IsogenyMap()
)

// isoMaxDegree is the highest degree of the polynomials of the isogeny:
// 15, of the y numerator and denominator.
const isoMaxDegree = 15

func init() {
	// The denominators (1 and 3) are monic: their degree is len, that of
	// the numerators len-1.
	if len(isoMap[0]) > isoMaxDegree+1 || len(isoMap[1]) > isoMaxDegree ||
		len(isoMap[2]) > isoMaxDegree+1 || len(isoMap[3]) > isoMaxDegree {
		panic("threshcrypto: an isogeny polynomial of the library has a higher degree than isoMaxDegree")
	}
}

// hashToG1 hashes msg to a point of G1 (RFC 9380, random oracle variant).
func hashToG1(msg []byte) (bls.G1Affine, error) {
	u, err := fp.Hash(msg, dst, 2)
	if err != nil {
		return bls.G1Affine{}, fmt.Errorf("hash to G1: %w", err)
	}
	q0, q1 := sswu(&u[0]), sswu(&u[1])
	if !addOnIsoCurve(&q0, &q1) {
		// The two points have the same x: they are equal or opposite,
		// which the addition formula does not handle. The chance is
		// about 2^-380; the library handles it.
		return bls.HashToG1(msg, dst)
	}
	p := isogeny(&q0)
	p.ClearCofactor(&p)
	var out bls.G1Affine
	out.FromJacobian(&p)
	return out, nil
}

// sswu returns the simplified SWU map of u to E' (RFC 9380, section 6.6.2,
// in the steps of its appendix F.2) in Jacobian coordinates: the affine
// x is a fraction xn/xd, and (xn*xd, y*xd^3, xd) is the same point
// without the inversion of xd.
func sswu(u *fp.Element) bls.G1Jac {
	var tv1, tv2, tv3, tv4, tv5, tv6, x, y, y1 fp.Element
	tv1.Square(u)
	hash_to_curve.G1MulByZ(&tv1, &tv1) // tv1 = Z * u^2
	tv2.Square(&tv1).Add(&tv2, &tv1)   // tv2 = tv1^2 + tv1
	tv3.SetOne()
	tv3.Add(&tv2, &tv3).Mul(&tv3, &isoB) // tv3 = B * (tv2 + 1)
	// tv4 = A * CMOV(Z, -tv2, tv2 != 0): never zero, the denominator.
	if tv2.IsZero() {
		tv4 = isoZ
	} else {
		tv4.Neg(&tv2)
	}
	tv4.Mul(&tv4, &isoA)
	tv2.Square(&tv3)
	tv6.Square(&tv4)
	tv5.Mul(&tv6, &isoA)
	tv2.Add(&tv2, &tv5).Mul(&tv2, &tv3) // tv2 = (tv3^2 + A * tv4^2) * tv3
	tv6.Mul(&tv6, &tv4)                 // tv6 = tv4^3
	tv5.Mul(&tv6, &isoB)
	tv2.Add(&tv2, &tv5) // tv2 = gx1's numerator; tv6 its denominator.
	x.Mul(&tv1, &tv3)   // x = tv1 * tv3, the numerator if gx1 is no square.
	isSquare := sqrtRatio(&y1, &tv2, &tv6)
	if isSquare {
		x = tv3
		y = y1
	} else {
		y.Mul(&tv1, u).Mul(&y, &y1)
	}
	if sgn0(u) != sgn0(&y) {
		y.Neg(&y)
	}
	// (x/tv4, y) in Jacobian coordinates.
	var p bls.G1Jac
	var tv4Cubed fp.Element
	tv4Cubed.Square(&tv4).Mul(&tv4Cubed, &tv4)
	p.X.Mul(&x, &tv4)
	p.Y.Mul(&y, &tv4Cubed)
	p.Z = tv4
	return p
}

// sqrtRatio sets z to sqrt(u/v) and returns true if u/v is a square, and
// otherwise sets z to sqrt(Z*u/v) and returns false (RFC 9380, appendix
// F.2.1.2, for p = 3 mod 4). v must not be zero.
func sqrtRatio(z, u, v *fp.Element) bool {
	var tv1, tv2, y1, y2, check fp.Element
	tv1.Square(v)
	tv2.Mul(u, v)
	tv1.Mul(&tv1, &tv2)      // tv1 = u * v^3
	y1.ExpBySqrtPm3o4(tv1)   // y1 = tv1^((p-3)/4)
	y1.Mul(&y1, &tv2)        // y1 = sqrt(u/v) if it exists
	y2.Mul(&y1, &sqrtMinusZ) // y2 = sqrt(Z*u/v) otherwise
	check.Square(&y1).Mul(&check, v)
	if check.Equal(u) {
		z.Set(&y1)
		return true
	}
	z.Set(&y2)
	return false
}

// sqrtMinusZ is sqrt(-Z), the constant c2 of sqrt_ratio.
var sqrtMinusZ = func() fp.Element {
	var minusZ, r fp.Element
	minusZ.Neg(&isoZ)
	if r.Sqrt(&minusZ) == nil {
		panic("threshcrypto: -Z of the SSWU map is not a square")
	}
	return r
}()

// sgn0 is the sign of RFC 9380: the parity of the canonical integer.
func sgn0(z *fp.Element) uint64 {
	return z.Bits()[0] & 1
}

// addOnIsoCurve sets p to p + q on E', unless they have the same x
// (equal or opposite points), where it returns false. The Jacobian
// addition formula add-2007-bl does not involve A, so it holds on E' as
// on E; its doubling would not, which is why equal points are refused.
func addOnIsoCurve(p, q *bls.G1Jac) bool {
	var z1z1, z2z2, u1, u2, s1, s2, h, i, j, r, v fp.Element
	z1z1.Square(&p.Z)
	z2z2.Square(&q.Z)
	u1.Mul(&p.X, &z2z2)
	u2.Mul(&q.X, &z1z1)
	if u1.Equal(&u2) {
		return false
	}
	s1.Mul(&p.Y, &q.Z).Mul(&s1, &z2z2)
	s2.Mul(&q.Y, &p.Z).Mul(&s2, &z1z1)
	h.Sub(&u2, &u1)
	i.Double(&h).Square(&i)
	j.Mul(&h, &i)
	r.Sub(&s2, &s1).Double(&r)
	v.Mul(&u1, &i)
	var x3, y3, z3 fp.Element
	x3.Square(&r).Sub(&x3, &j).Sub(&x3, &v).Sub(&x3, &v)
	y3.Sub(&v, &x3).Mul(&y3, &r)
	s1.Mul(&s1, &j).Double(&s1)
	y3.Sub(&y3, &s1)
	z3.Add(&p.Z, &q.Z).Square(&z3).Sub(&z3, &z1z1).Sub(&z3, &z2z2).Mul(&z3, &h)
	p.X, p.Y, p.Z = x3, y3, z3
	return true
}

// isogeny returns the image on E of p on E', both in Jacobian coordinates.
// With x = X/Z^2 and zz = Z^2, each polynomial f of degree n in x is
// F/zz^n for the homogeneous F(X, zz) = sum of f_i X^i zz^(n-i), so
//
//	x' = Nx(x)/Dx(x) = NX / (DX zz),  y' = y Ny(x)/Dy(x) = Y NY / (Z^3 DY),
//
// and with a = DX zz, b = Z^3 DY, the point (NX a b^2, Y NY a^3 b^2, a b)
// is (x', y') without an inversion. p must not be the identity.
func isogeny(p *bls.G1Jac) bls.G1Jac {
	// zzPow[k] = zz^k.
	var zzPow [isoMaxDegree + 1]fp.Element
	zzPow[0].SetOne()
	zzPow[1].Square(&p.Z)
	for k := 2; k < len(zzPow); k++ {
		zzPow[k].Mul(&zzPow[k-1], &zzPow[1])
	}
	nx := homogeneous(isoMap[0], false, &p.X, &zzPow)
	dx := homogeneous(isoMap[1], true, &p.X, &zzPow)
	ny := homogeneous(isoMap[2], false, &p.X, &zzPow)
	dy := homogeneous(isoMap[3], true, &p.X, &zzPow)
	var a, b, a3, b2, z3 fp.Element
	a.Mul(&dx, &zzPow[1])
	z3.Mul(&zzPow[1], &p.Z)
	b.Mul(&z3, &dy)
	a3.Square(&a).Mul(&a3, &a)
	b2.Square(&b)
	var out bls.G1Jac
	out.X.Mul(&nx, &a).Mul(&out.X, &b2)
	out.Y.Mul(&p.Y, &ny).Mul(&out.Y, &a3).Mul(&out.Y, &b2)
	out.Z.Mul(&a, &b)
	return out
}

// homogeneous returns F(x, zz) = sum of c_i x^i zz^(n-i), for the
// polynomial of degree n whose coefficients c_i are coeffs (lowest degree
// first) followed by a leading 1 if monic, by Horner's rule.
func homogeneous(coeffs []fp.Element, monic bool, x *fp.Element, zzPow *[isoMaxDegree + 1]fp.Element) fp.Element {
	n := len(coeffs) - 1
	var acc fp.Element
	if monic {
		n = len(coeffs)
		acc.SetOne()
	} else {
		acc = coeffs[n]
	}
	// acc = sum over i from k to n of c_i x^(i-k) zz^(n-i), for k from n
	// down to 0.
	for k := n - 1; k >= 0; k-- {
		var t fp.Element
		t.Mul(&coeffs[k], &zzPow[n-k])
		acc.Mul(&acc, x).Add(&acc, &t)
	}
	return acc
}
