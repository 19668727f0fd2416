package threshcrypto

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// The curve arithmetic of the scheme: encoding and decoding points,
// pairing checks with precomputed lines, and Lagrange interpolation in the
// exponent. Hashing to G1 is in hash.go, multiplications by secrets (in
// constant time) in ctcurve.go, and by public scalars known in advance
// (in variable time) in scalarmul.go.

// Sizes of encodings, in bytes.
const (
	// SignatureSize is the size of a full signature: a compressed G1 point.
	SignatureSize = bls.SizeOfG1AffineCompressed
	// ShareSize is the size of a signature share: the signer's index (2
	// bytes, big-endian) followed by a compressed G1 point.
	ShareSize = 2 + SignatureSize
	// g2Size is the size of a compressed G2 point, a public key.
	g2Size = bls.SizeOfG2AffineCompressed
)

// MaxNodes is the largest n of a t-of-n key. It bounds the size of a public
// key (96 bytes per node) and of the work a public key file can ask for.
const MaxNodes = 1024

// Errors. Functions that decode input wrap ErrMalformed; the checks of
// signatures wrap ErrInvalidSignature.
var (
	ErrMalformed        = errors.New("malformed encoding")
	ErrInvalidSignature = errors.New("invalid signature")
	ErrUnknownSigner    = errors.New("unknown signer")
	ErrUnknownIndex     = errors.New("share index of no node")
	ErrDuplicateIndex   = errors.New("two shares with the same index")
	ErrNotEnoughShares  = errors.New("not enough valid shares")
	ErrNoKeyShare       = errors.New("no key share")
)

// lines are the precomputed line evaluations of the Miller loop for a
// fixed G2 point, which save about a third of a pairing.
type lines = [2][len(bls.LoopCounter) - 1]bls.LineEvaluationAff

// g2Gen is the generator of G2; g2GenLines its lines.
var (
	g2Gen      bls.G2Affine
	g2GenLines lines
)

func init() {
	_, _, _, g2Gen = bls.Generators()
	g2GenLines = bls.PrecomputeLines(g2Gen)
}

// decodeG1 decodes a compressed G1 point from untrusted bytes: exactly
// SignatureSize bytes, the canonical encoding of a point of the prime-order
// subgroup other than the identity.
func decodeG1(b []byte) (bls.G1Affine, error) {
	var p bls.G1Affine
	if len(b) != SignatureSize {
		return p, fmt.Errorf("%w: G1 point of %d bytes, want %d", ErrMalformed, len(b), SignatureSize)
	}
	// The library checks the encoding, that the point is on the curve and
	// in the subgroup.
	if _, err := p.SetBytes(b); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p.IsInfinity() {
		return p, fmt.Errorf("%w: the identity of G1", ErrMalformed)
	}
	// One encoding per point: an uncompressed encoding could not have
	// this length, but a compressed one with stray flag bits could pass.
	if enc := p.Bytes(); string(enc[:]) != string(b) {
		return p, fmt.Errorf("%w: non-canonical G1 encoding", ErrMalformed)
	}
	return p, nil
}

// decodeG2 decodes a compressed G2 point, like decodeG1.
func decodeG2(b []byte) (bls.G2Affine, error) {
	var p bls.G2Affine
	if len(b) != g2Size {
		return p, fmt.Errorf("%w: G2 point of %d bytes, want %d", ErrMalformed, len(b), g2Size)
	}
	if _, err := p.SetBytes(b); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p.IsInfinity() {
		return p, fmt.Errorf("%w: the identity of G2", ErrMalformed)
	}
	if enc := p.Bytes(); string(enc[:]) != string(b) {
		return p, fmt.Errorf("%w: non-canonical G2 encoding", ErrMalformed)
	}
	return p, nil
}

// pairingCheck reports whether e(sig, g2) = e(h, pk), that is whether
// e(-sig, g2) · e(h, pk) = 1, where pkLines are pk's precomputed lines.
// The points must be in their subgroups.
func pairingCheck(sig, h *bls.G1Affine, pkLines *lines) bool {
	var negSig bls.G1Affine
	negSig.Neg(sig)
	// The library writes into the lines it is given, so each check works
	// on its own copy; that also makes concurrent checks safe.
	ls := make([]lines, 2)
	ls[0] = g2GenLines
	ls[1] = *pkLines
	ok, err := bls.PairingCheckFixedQ([]bls.G1Affine{negSig, *h}, ls)
	return err == nil && ok
}

// smallRecoverMax is the largest threshold for which recovery looks for
// small Lagrange coefficients; beyond it, they are full-size anyway.
const smallRecoverMax = 16

// interpolate returns the value at 0 of the polynomial in the exponent
// whose values at indices idx are pts: sum of lambda_i * pts[i] with the
// Lagrange coefficients lambda_i for 0. Indices must be distinct and
// positive.
//
// For the small sets of small indices of most deployments, lambda_i = N_i /
// D_i with small integers, so the sum is computed as (1/D) * sum of
// (N_i * D / D_i) * pts[i] for a common denominator D: scalar
// multiplications by numbers of a few bits, plus one by 1/D (none when
// D = 1; about half a full one for some D, see mulInverse). That is
// several times cheaper than one full scalar multiplication per point.
func interpolate(idx []int, pts []bls.G1Affine) bls.G1Affine {
	if len(idx) <= smallRecoverMax {
		if coeffs, den, ok := smallLagrange(idx); ok {
			return combineSmall(coeffs, den, pts)
		}
	}
	return combineFull(idx, pts)
}

// smallLagrange returns integers c_i and d > 0 such that the Lagrange
// coefficient for 0 at idx[i] is c_i / d, if they all fit in 63 bits.
// Each coefficient is prod over j != i of x_j / (x_j - x_i), kept as a
// reduced fraction while it is built, so that it overflows only if the
// result would.
func smallLagrange(idx []int) (coeffs []int64, den int64, ok bool) {
	nums := make([]int64, len(idx))
	dens := make([]int64, len(idx)) // Positive.
	den = 1
	for i, xi := range idx {
		num, d := int64(1), int64(1)
		for j, xj := range idx {
			if i == j {
				continue
			}
			a, b := int64(xj), int64(xj-xi)
			g := gcd(a, b)
			a, b = a/g, b/g
			// num/d and a/b are reduced fractions, so dividing out
			// gcd(num, b) and gcd(a, d) leaves their product reduced.
			g = gcd(num, b)
			num, b = num/g, b/g
			g = gcd(a, d)
			a, d = a/g, d/g
			if num, ok = mul63(num, a); !ok {
				return nil, 0, false
			}
			if d, ok = mul63(d, b); !ok {
				return nil, 0, false
			}
		}
		if d < 0 {
			num, d = -num, -d
		}
		nums[i], dens[i] = num, d
		if den, ok = mul63(den, d/gcd(den, d)); !ok { // lcm(den, d)
			return nil, 0, false
		}
	}
	coeffs = make([]int64, len(idx))
	for i := range idx {
		if coeffs[i], ok = mul63(nums[i], den/dens[i]); !ok {
			return nil, 0, false
		}
	}
	return coeffs, den, true
}

// gcd returns the greatest common divisor of |a| and |b|, not both zero.
func gcd(a, b int64) int64 {
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mul63 returns x*y and whether it fits in an int64 without its minimum
// (so that it can be negated).
func mul63(x, y int64) (int64, bool) {
	neg := (x < 0) != (y < 0)
	ax, ay := uint64(x), uint64(y)
	if x < 0 {
		ax = uint64(-x)
	}
	if y < 0 {
		ay = uint64(-y)
	}
	hi, lo := bits.Mul64(ax, ay)
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}

// combineSmall returns (1/den) * sum of coeffs[i] * pts[i]. The sum is
// one double-and-add over the bits of all the coefficients at once
// (Straus): as many doublings as the largest coefficient has bits, not
// as all of them together.
func combineSmall(coeffs []int64, den int64, pts []bls.G1Affine) bls.G1Affine {
	signed := make([]bls.G1Affine, len(pts))
	mags := make([]uint64, len(coeffs))
	top := 0
	for i, c := range coeffs {
		signed[i] = pts[i]
		if c < 0 {
			signed[i].Neg(&signed[i])
			c = -c
		}
		mags[i] = uint64(c)
		top = max(top, bits.Len64(mags[i]))
	}
	var acc bls.G1Jac
	acc.X.SetOne()
	acc.Y.SetOne() // The identity in Jacobian coordinates: (1, 1, 0).
	for bit := top - 1; bit >= 0; bit-- {
		if bit < top-1 {
			acc.DoubleAssign()
		}
		for i, m := range mags {
			if m>>uint(bit)&1 == 1 {
				acc.AddMixed(&signed[i])
			}
		}
	}
	if den != 1 {
		mulInverse(&acc, &acc, den)
	}
	var out bls.G1Affine
	out.FromJacobian(&acc)
	return out
}

// combineFull returns sum of lambda_i * pts[i] with the Lagrange
// coefficients computed in the scalar field.
func combineFull(idx []int, pts []bls.G1Affine) bls.G1Affine {
	var acc bls.G1Jac
	acc.X.SetOne()
	acc.Y.SetOne()
	for i, xi := range idx {
		var num, den fr.Element
		num.SetOne()
		den.SetOne()
		for j, xj := range idx {
			if i == j {
				continue
			}
			var a, b fr.Element
			a.SetUint64(uint64(xj))
			b.SetInt64(int64(xj - xi))
			num.Mul(&num, &a)
			den.Mul(&den, &b)
		}
		den.Inverse(&den)
		num.Mul(&num, &den)
		var s big.Int
		num.BigInt(&s)
		var term bls.G1Jac
		term.FromAffine(&pts[i])
		term.ScalarMultiplication(&term, &s)
		acc.AddAssign(&term)
	}
	var out bls.G1Affine
	out.FromJacobian(&acc)
	return out
}
