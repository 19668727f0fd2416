package threshcrypto

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/stdtypes"
)

// NewModule returns the synchronous threshold crypto module: a passive
// module that answers SignShareRequest, VerifyShareRequest, RecoverRequest
// and VerifyFullRequest events using c, on the node's goroutine, in order.
// It is deterministic and meant for simulation, tests and replay.
func NewModule(c ThreshCrypto) (*runner.Sync, error) {
	if c == nil {
		return nil, errors.New("threshcrypto: nil ThreshCrypto")
	}
	return runner.NewSync(planner(c)), nil
}

// NewPool returns the parallel threshold crypto module: an active module
// that answers the same events as NewModule, with the same results,
// computed by a pool of workers; results are emitted in the order they
// complete. It is meant for production.
func NewPool(c ThreshCrypto, params runner.PoolParams) (*runner.Pool, error) {
	if c == nil {
		return nil, errors.New("threshcrypto: nil ThreshCrypto")
	}
	return runner.NewPool(planner(c), params)
}

// Every operation takes a tenth of a millisecond or more, so each item is
// worth a worker of its own, and is handed out alone.
const minChunk = 1

// planner plans the jobs of the module's requests.
func planner(c ThreshCrypto) runner.Planner {
	return func(ev stdtypes.Event) (runner.Job, error) {
		switch ev := ev.(type) {
		case *SignShareRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("threshcrypto: invalid SignShareRequest: %w", err)
			}
			shares := make([][]byte, len(ev.Msgs))
			return runner.Job{
				Items:    len(ev.Msgs),
				MinChunk: minChunk,
				MaxChunk: minChunk,
				Response: NewSignShareResult(ev.Origin, shares),
				Run: func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						s, err := c.SignShare(ev.Msgs[i])
						if err != nil {
							return err
						}
						shares[i] = s
					}
					return nil
				},
			}, nil
		case *VerifyShareRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("threshcrypto: invalid VerifyShareRequest: %w", err)
			}
			valid := make([]bool, len(ev.Items))
			res := &VerifyShareResult{Header: stdtypes.NewHeader(ev.Origin.Module), Origin: ev.Origin, Valid: valid}
			return runner.Job{
				Items:    len(ev.Items),
				MinChunk: minChunk,
				MaxChunk: minChunk,
				Response: res,
				Run: func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						it := ev.Items[i]
						valid[i] = c.VerifyShare(it.Msg, it.Share, it.Signer) == nil
					}
					return nil
				},
				Finish: func() { res.AllValid = !slices.Contains(valid, false) },
			}, nil
		case *RecoverRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("threshcrypto: invalid RecoverRequest: %w", err)
			}
			sigs := make([][]byte, len(ev.Items))
			ok := make([]bool, len(ev.Items))
			return runner.Job{
				Items:    len(ev.Items),
				MinChunk: minChunk,
				MaxChunk: minChunk,
				Response: NewRecoverResult(ev.Origin, sigs, ok),
				Run: func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						sig, err := c.Recover(ev.Items[i].Msg, ev.Items[i].Shares)
						sigs[i], ok[i] = sig, err == nil
					}
					return nil
				},
			}, nil
		case *VerifyFullRequest:
			if err := ev.Origin.Validate(); err != nil {
				return runner.Job{}, fmt.Errorf("threshcrypto: invalid VerifyFullRequest: %w", err)
			}
			valid := make([]bool, len(ev.Items))
			res := &VerifyFullResult{Header: stdtypes.NewHeader(ev.Origin.Module), Origin: ev.Origin, Valid: valid}
			return runner.Job{
				Items:    len(ev.Items),
				MinChunk: minChunk,
				MaxChunk: minChunk,
				Response: res,
				Run: func(lo, hi int) error {
					for i := lo; i < hi; i++ {
						valid[i] = c.VerifyFull(ev.Items[i].Msg, ev.Items[i].Sig) == nil
					}
					return nil
				},
				Finish: func() { res.AllValid = !slices.Contains(valid, false) },
			}, nil
		}
		return runner.Job{}, fmt.Errorf("threshcrypto: unexpected event %s", stdtypes.TypeName(ev))
	}
}
