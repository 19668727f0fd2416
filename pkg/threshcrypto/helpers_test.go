package threshcrypto_test

import (
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// offCurveG1 returns a compressed encoding whose x has no point on the
// curve.
func offCurveG1() []byte {
	for x := uint64(1); ; x++ {
		var fx, y2, y fp.Element
		fx.SetUint64(x)
		y2.Square(&fx).Mul(&y2, &fx)
		var four fp.Element
		four.SetUint64(4)
		y2.Add(&y2, &four)
		if y.Sqrt(&y2) == nil {
			b := fx.Bytes()
			b[0] |= 0x80
			return b[:]
		}
	}
}

// notInSubgroupG1 returns the compressed encoding of a point on the curve
// but outside the prime-order subgroup.
func notInSubgroupG1() []byte {
	for x := uint64(1); ; x++ {
		var fx fp.Element
		fx.SetUint64(x)
		p := bls.GeneratePointNotInG1(fx)
		var a bls.G1Affine
		a.FromJacobian(&p)
		if !a.IsOnCurve() || a.IsInSubGroup() || a.IsInfinity() {
			continue
		}
		// Encode by hand: Bytes works for any point on the curve.
		b := a.Bytes()
		return b[:]
	}
}
