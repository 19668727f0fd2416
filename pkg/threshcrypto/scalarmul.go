package threshcrypto

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Scalar multiplications in G1 whose scalar is known before the point: by
// a node's secret key share when it signs, and by 1/D for the common
// denominator D of Lagrange coefficients when it recovers. Knowing the
// scalar lets both be cheaper than the library's general one.
//
// Both use the endomorphism phi(x, y) = (omega*x, y) of the curve, for
// omega a cube root of unity in Fp: on G1 it is the multiplication by
// lambda = x0^2 - 1 (x0 the seed of BLS12-381), a cube root of unity
// modulo r, for the price of one multiplication in Fp.
var (
	omega  fp.Element
	lambda big.Int
	// glvLattice splits scalars as k = k1 + k2*lambda with k1, k2 of about
	// half the bits of r.
	glvLattice ecc.Lattice
)

func init() {
	if _, err := omega.SetString("4002409555221667392624310435006688643935503118305586438271171395842971157480381377015405980053539358417135540939436"); err != nil {
		panic(err)
	}
	lambda.SetString("228988810152649578064853576960394133503", 10)
	ecc.PrecomputeLattice(fr.Modulus(), &lambda, &glvLattice)
	// The two constants must agree: phi(g1) = lambda*g1. Were they to
	// disagree (a typo, a library that changed its generator), every
	// signature would be wrong: stop at once.
	_, _, g1, _ := bls.Generators()
	var want bls.G1Affine
	want.ScalarMultiplication(&g1, &lambda)
	got := g1
	got.X.Mul(&got.X, &omega)
	if !got.Equal(&want) {
		panic("threshcrypto: phi is not the multiplication by lambda on G1")
	}
}

// phi sets p to phi(q), in Jacobian coordinates (X/Z^2 times omega is
// omega*X/Z^2).
func phi(p, q *bls.G1Jac) {
	p.Set(q)
	p.X.Mul(&p.X, &omega)
}

// Multiplication by a fixed secret.

// glvWindow is the width of the NAF of each half of a scalar: digits are
// odd, up to 2^(glvWindow-1) - 1 in absolute value, and about one digit in
// glvWindow+1 is not zero. Five is the best trade-off between the table
// (8 odd multiples) and the additions (about 2 * 128 / 6) for 128-bit
// halves.
const glvWindow = 5

// glvScalar is a scalar prepared for repeated multiplications: its split
// k = k1 + k2*lambda (mod r) in width-glvWindow NAFs. Preparing costs
// big-integer arithmetic that multiplying again and again need not repeat.
type glvScalar struct {
	// naf[0] and naf[1] are the NAF digits of |k1| and |k2|, least
	// significant first; neg[i] tells whether k_i is negative.
	naf [2][]int8
	neg [2]bool
}

// newGLVScalar prepares k, 0 <= k < r.
func newGLVScalar(k *big.Int) *glvScalar {
	split := ecc.SplitScalar(k, &glvLattice)
	s := &glvScalar{}
	for i := range split {
		if split[i].Sign() < 0 {
			s.neg[i] = true
			split[i].Neg(&split[i])
		}
		// A NAF has at most one digit more than the number has bits.
		naf := make([]int8, split[i].BitLen()+1)
		s.naf[i] = naf[:ecc.WnafDecomposition(&split[i], glvWindow, naf)]
	}
	return s
}

// mul returns k*p for the prepared k and p in G1: the two halves share
// their doublings, and the odd multiples of p and phi(p) are computed
// once, in affine coordinates, so that each addition is a cheaper mixed
// one. It is not constant-time, like the library's multiplication it
// replaces.
func (s *glvScalar) mul(p *bls.G1Affine) bls.G1Affine {
	var tables [2][1 << (glvWindow - 2)]bls.G1Affine
	oddMultiples(&tables[0], p)
	for i := range tables[1] {
		tables[1][i] = tables[0][i]
		tables[1][i].X.Mul(&tables[1][i].X, &omega)
	}
	for i := range tables {
		if s.neg[i] {
			for j := range tables[i] {
				tables[i][j].Y.Neg(&tables[i][j].Y)
			}
		}
	}
	var acc bls.G1Jac
	acc.X.SetOne()
	acc.Y.SetOne() // The identity: Z = 0.
	for bit := max(len(s.naf[0]), len(s.naf[1])) - 1; bit >= 0; bit-- {
		acc.DoubleAssign()
		for i := range tables {
			if bit < len(s.naf[i]) {
				addDigit(&acc, &tables[i], s.naf[i][bit])
			}
		}
	}
	var out bls.G1Affine
	out.FromJacobian(&acc)
	return out
}

// addDigit adds d*p to acc, for a NAF digit d and table the odd multiples
// of p.
func addDigit(acc *bls.G1Jac, table *[1 << (glvWindow - 2)]bls.G1Affine, d int8) {
	switch {
	case d > 0:
		acc.AddMixed(&table[(d-1)/2])
	case d < 0:
		var neg bls.G1Affine
		neg.Neg(&table[(-d-1)/2])
		acc.AddMixed(&neg)
	}
}

// oddMultiples sets table[i] to (2i+1)*p, in affine coordinates with one
// field inversion for all of them (Montgomery's trick).
func oddMultiples(table *[1 << (glvWindow - 2)]bls.G1Affine, p *bls.G1Affine) {
	var jac [len(table)]bls.G1Jac
	var twice bls.G1Jac
	jac[0].FromAffine(p)
	twice.Double(&jac[0])
	for i := 1; i < len(jac); i++ {
		jac[i].Set(&jac[i-1]).AddAssign(&twice)
	}
	// prefix[i] is the product of the Z coordinates before i. None is
	// zero, as no odd multiple of a point of prime order r > 15 is the
	// identity, unless p is the identity; then all are, the library's
	// inverse of zero is zero, and every entry is (0, 0), the identity in
	// affine coordinates: still right.
	var prefix [len(table)]fp.Element
	acc := fp.One()
	for i := range jac {
		prefix[i] = acc
		acc.Mul(&acc, &jac[i].Z)
	}
	var inv fp.Element
	inv.Inverse(&acc)
	for i := len(jac) - 1; i >= 0; i-- {
		var zInv, zInv2 fp.Element
		zInv.Mul(&inv, &prefix[i])
		inv.Mul(&inv, &jac[i].Z)
		zInv2.Square(&zInv)
		table[i].X.Mul(&jac[i].X, &zInv2)
		table[i].Y.Mul(&jac[i].Y, &zInv2).Mul(&table[i].Y, &zInv)
	}
}

// Multiplication by the inverse of a small integer.

// mulInverse sets p to (1/d)*q (mod r) for an integer d >= 2 and q in G1.
//
// For a general d, 1/d is a full-size scalar. But when d divides lambda
// or lambda+1 = x0^2, which holds for the small primes 2, 3, 11 and 19 and
// several of their products, the identity lambda^2 + lambda + 1 = 0 (mod
// r) gives a scalar of 128 bits less those of d:
//
//	d | lambda:   1/d = -(lambda/d) * (1 + lambda), so p = -(lambda/d) * (q + phi(q));
//	d | lambda+1: 1/d = -((lambda+1)/d) * lambda, so p = -((lambda+1)/d) * phi(q).
//
// A multiplication by a 126-bit integer needs no split and about half
// the additions of a full one. Recovering 3 of 4 from shares 1, 2 and 4
// (d = 3) is the common case that gains.
func mulInverse(p, q *bls.G1Jac, d int64) {
	var bd, c, rem big.Int
	bd.SetInt64(d)
	var t bls.G1Jac
	if c.QuoRem(&lambda, &bd, &rem); rem.Sign() == 0 {
		phi(&t, q)
		t.AddAssign(q)
	} else {
		var lambda1 big.Int
		lambda1.Add(&lambda, big.NewInt(1))
		if c.QuoRem(&lambda1, &bd, &rem); rem.Sign() != 0 {
			var inv fr.Element
			inv.SetInt64(d).Inverse(&inv)
			inv.BigInt(&c)
			p.ScalarMultiplication(q, &c)
			return
		}
		phi(&t, q)
	}
	t.Neg(&t)
	p.ScalarMultiplication(&t, &c)
}
