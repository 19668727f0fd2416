package threshcrypto

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Scalar multiplications in G1 by public scalars, in variable time: by
// 1/D for the common denominator D of Lagrange coefficients when
// recovering (see mulInverse). Multiplications by secrets are in
// ctcurve.go, in constant time; these must never get a secret: their
// time, and the table entries they read, follow the bits of the scalar.
//
// Both kinds use the endomorphism phi(x, y) = (omega*x, y) of the curve,
// for omega a cube root of unity in Fp: on G1 it is the multiplication by
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
	// splitScalar divides by lambda, and relies on r = lambda^2 + lambda
	// + 1 (the polynomials of BLS12 curves: r = x0^4 - x0^2 + 1).
	var r big.Int
	r.Mul(&lambda, &lambda).Add(&r, &lambda).Add(&r, big.NewInt(1))
	if r.Cmp(fr.Modulus()) != 0 {
		panic("threshcrypto: r is not lambda^2 + lambda + 1")
	}
	lambdaLimbs = [2]uint64(limbs(&lambda, 2))
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

// Multiplication by a scalar in width-w NAF.

// nafWindow is the width of the NAFs: digits are odd, up to
// 2^(nafWindow-1) - 1 in absolute value, and about one digit in
// nafWindow+1 is not zero. Five is the best trade-off between the table (8
// odd multiples) and the additions (about 128 / 6 per 128-bit scalar).
const nafWindow = 5

// table holds the odd multiples p, 3p, ..., 15p of a point, in affine
// coordinates so that adding one is a cheaper mixed addition.
type table [1 << (nafWindow - 2)]bls.G1Affine

// naf returns the width-nafWindow NAF of k >= 0, least significant digit
// first.
func naf(k *big.Int) []int8 {
	// A NAF has at most one digit more than the number has bits.
	digits := make([]int8, k.BitLen()+1)
	return digits[:ecc.WnafDecomposition(k, nafWindow, digits)]
}

// mulNAF returns sum of k_i * p_i, for tables[i] the odd multiples of p_i
// and nafs[i] the NAF of k_i: the terms share their doublings. Its time
// and the entries it reads follow the digits: for public scalars only.
func mulNAF(tables []table, nafs [][]int8) bls.G1Jac {
	var acc bls.G1Jac
	acc.X.SetOne()
	acc.Y.SetOne() // The identity: Z = 0.
	top := 0
	for _, n := range nafs {
		top = max(top, len(n))
	}
	for bit := top - 1; bit >= 0; bit-- {
		acc.DoubleAssign()
		for i := range tables {
			if bit >= len(nafs[i]) {
				continue
			}
			switch d := nafs[i][bit]; {
			case d > 0:
				acc.AddMixed(&tables[i][(d-1)/2])
			case d < 0:
				var neg bls.G1Affine
				neg.Neg(&tables[i][(-d-1)/2])
				acc.AddMixed(&neg)
			}
		}
	}
	return acc
}

// maxBatch is the most points batchToAffine takes: a table's.
const maxBatch = max(len(table{}), len(ctTable[fe1]{}))

// oddMultiples sets t[i] to (2i+1)*p, in affine coordinates with one field
// inversion for all of them.
func oddMultiples(t *table, p *bls.G1Jac) {
	var jac [len(t)]bls.G1Jac
	var twice bls.G1Jac
	jac[0] = *p
	twice.Double(p)
	for i := 1; i < len(jac); i++ {
		jac[i].Set(&jac[i-1]).AddAssign(&twice)
	}
	// None is the identity, as no odd multiple of a point of prime order
	// r > 15 is, unless p is the identity; then all are (see
	// batchToAffine).
	batchToAffine(t[:], jac[:])
}

// batchToAffine sets out[i] to jac[i] in affine coordinates, with one
// field inversion for all (Montgomery's trick). If one point is the
// identity, all come out as the identity: the product of the Z
// coordinates is zero, and so is the library's inverse of zero. The
// points must be public: the inversion is not constant-time. It takes at
// most maxBatch points, as many as the tables hold.
func batchToAffine(out []bls.G1Affine, jac []bls.G1Jac) {
	// prefix[i] is the product of the Z coordinates before i.
	var buf [maxBatch]fp.Element
	prefix := buf[:len(jac)]
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
		out[i].X.Mul(&jac[i].X, &zInv2)
		out[i].Y.Mul(&jac[i].Y, &zInv2).Mul(&out[i].Y, &zInv)
	}
}

// Multiplication by a public scalar.

// publicScalar is a public scalar prepared for multiplication: its split
// k = k1 + k2*lambda (mod r), with k1 and k2 of about 128 bits, in NAF.
type publicScalar struct {
	// naf[0] and naf[1] are the NAFs of |k1| and |k2|; neg[i] tells
	// whether k_i is negative.
	naf [2][]int8
	neg [2]bool
}

// newPublicScalar prepares k, 0 <= k < r.
func newPublicScalar(k *big.Int) *publicScalar {
	split := ecc.SplitScalar(k, &glvLattice)
	s := &publicScalar{}
	for i := range split {
		if split[i].Sign() < 0 {
			s.neg[i] = true
			split[i].Neg(&split[i])
		}
		s.naf[i] = naf(&split[i])
	}
	return s
}

// mulPublic returns k*p for the prepared k and p in G1, as k1*p +
// k2*phi(p): half the doublings of a plain multiplication, and the odd
// multiples of phi(p) are those of p through phi, one field multiplication
// each. Its time depends on k.
func (s *publicScalar) mulPublic(p *bls.G1Jac) bls.G1Jac {
	var tables [2]table
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
	return mulNAF(tables[:], s.naf[:])
}

// Multiplication by the inverse of a small integer.

// mulInverse sets p to (1/d)*q (mod r) for a public integer d >= 2 and q
// in G1.
//
// For a general d, 1/d is a full-size scalar. But when d divides lambda
// or lambda+1 = x0^2, which holds for the small primes 2, 3, 11 and 19 and
// several of their products, the identity lambda^2 + lambda + 1 = 0 (mod
// r) gives a scalar of 128 bits less those of d:
//
//	d | lambda:   1/d = -(lambda/d) * (1 + lambda), so p = -(lambda/d) * (q + phi(q));
//	d | lambda+1: 1/d = -((lambda+1)/d) * lambda, so p = -((lambda+1)/d) * phi(q).
//
// That costs as many doublings as a GLV multiplication, whose halves have
// 128 bits too, but half the additions. Recovering 3 of 4 from shares 1, 2
// and 4 (d = 3) is the common case that gains.
func mulInverse(p, q *bls.G1Jac, d int64) {
	var bd, c, rem, lambda1 big.Int
	bd.SetInt64(d)
	lambda1.Add(&lambda, big.NewInt(1))
	divides := func(n *big.Int) bool {
		c.QuoRem(n, &bd, &rem)
		return rem.Sign() == 0
	}
	var t bls.G1Jac
	switch {
	case divides(&lambda):
		phi(&t, q)
		t.AddAssign(q)
	case divides(&lambda1):
		phi(&t, q)
	default:
		var inv fr.Element
		inv.SetInt64(d).Inverse(&inv)
		*p = newPublicScalar(inv.BigInt(&c)).mulPublic(q)
		return
	}
	t.Neg(&t)
	var tab [1]table
	oddMultiples(&tab[0], &t)
	*p = mulNAF(tab[:], [][]int8{naf(&c)})
}
