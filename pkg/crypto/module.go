package crypto

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/stdtypes"
)

// Chunk sizes: the fewest and the most items a Pool hands a worker at once
// (see runner.Job). A signature takes tens of microseconds and the digest
// of a small input one, so a chunk is a fraction of a millisecond to a few
// milliseconds of work; for verification the chunk is also the unit of
// batch verification, which gains little past a few dozen signatures (see
// BenchmarkVerifyBatchSize).
const (
	signChunkMin, signChunkMax     = 4, 16
	verifyChunkMin, verifyChunkMax = 16, 64
	hashChunkMin, hashChunkMax     = 32, 256
)

// NewModule returns the synchronous crypto module: a passive module that
// answers SignRequest and VerifyRequest events using c, on the node's
// goroutine, in order. It is deterministic (see the package documentation
// for the one caveat) and meant for simulation, tests and replay.
func NewModule(c Crypto) (*runner.Sync, error) {
	if c == nil {
		return nil, errors.New("crypto: nil Crypto")
	}
	return runner.NewSync(signPlanner(c)), nil
}

// NewPool returns the parallel crypto module: an active module that answers
// the same events as NewModule, with the same results, computed by a pool
// of workers; responses are emitted in the order they complete. It is
// meant for production.
func NewPool(c Crypto, params runner.PoolParams) (*runner.Pool, error) {
	if c == nil {
		return nil, errors.New("crypto: nil Crypto")
	}
	return runner.NewPool(signPlanner(c), params)
}

// NewHasher returns the synchronous hasher: a passive module that answers
// HashRequest events with digests by alg, on the node's goroutine, in
// order.
func NewHasher(alg HashAlg) (*runner.Sync, error) {
	if err := alg.Validate(); err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	return runner.NewSync(hashPlanner(alg)), nil
}

// NewHashPool returns the parallel hasher: an active module that answers
// the same events as NewHasher, with the same results, computed by a pool
// of workers.
func NewHashPool(alg HashAlg, params runner.PoolParams) (*runner.Pool, error) {
	if err := alg.Validate(); err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	return runner.NewPool(hashPlanner(alg), params)
}

// signPlanner plans the jobs of SignRequest and VerifyRequest events.
func signPlanner(c Crypto) runner.Planner {
	return func(ev stdtypes.Event) (runner.Job, error) {
		switch ev := ev.(type) {
		case *SignRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("crypto: invalid SignRequest: %w", err)
			}
			sigs := make([][]byte, len(ev.Msgs))
			return runner.Job{
				Items:    len(ev.Msgs),
				MinChunk: signChunkMin,
				MaxChunk: signChunkMax,
				Response: NewSignResult(ev.Origin, sigs),
				Run: func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						sig, err := c.Sign(ev.Msgs[i])
						if err != nil {
							return err
						}
						sigs[i] = sig
					}
					return nil
				},
			}, nil
		case *VerifyRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("crypto: invalid VerifyRequest: %w", err)
			}
			valid := make([]bool, len(ev.Items))
			res := &VerifyResult{Header: stdtypes.NewHeader(ev.Origin.Module), Origin: ev.Origin, Valid: valid}
			return runner.Job{
				Items:    len(ev.Items),
				MinChunk: verifyChunkMin,
				MaxChunk: verifyChunkMax,
				Response: res,
				Run: func(lo, hi int) error {
					c.VerifyMany(ev.Items[lo:hi], valid[lo:hi])
					return nil
				},
				Finish: func() { res.AllValid = allTrue(valid) },
			}, nil
		}
		return runner.Job{}, fmt.Errorf("crypto: unexpected event %s", stdtypes.TypeName(ev))
	}
}

// hashPlanner plans the jobs of HashRequest events.
func hashPlanner(alg HashAlg) runner.Planner {
	return func(ev stdtypes.Event) (runner.Job, error) {
		req, ok := ev.(*HashRequest)
		if !ok {
			return runner.Job{}, fmt.Errorf("crypto: hasher: unexpected event %s", stdtypes.TypeName(ev))
		}
		if err := req.Origin.Validate(); err != nil {
			return runner.Job{}, fmt.Errorf("crypto: invalid HashRequest: %w", err)
		}
		digests := make([][]byte, len(req.Inputs))
		return runner.Job{
			Items:    len(req.Inputs),
			MinChunk: hashChunkMin,
			MaxChunk: hashChunkMax,
			Response: NewHashResult(req.Origin, digests),
			Run: func(lo, hi int) error {
				h := alg.New()
				// One allocation for the chunk's digests.
				buf := make([]byte, 0, (hi-lo)*alg.Size())
				for i := lo; i < hi; i++ {
					buf = appendDigest(h, buf, req.Inputs[i])
					digests[i] = buf[len(buf)-alg.Size() : len(buf) : len(buf)]
				}
				return nil
			},
		}, nil
	}
}

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}
