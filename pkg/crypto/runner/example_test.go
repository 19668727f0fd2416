package runner_test

import (
	"context"
	"fmt"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/stdtypes"
)

// SquareRequest asks for the squares of Numbers, to be sent to From.
type SquareRequest struct {
	stdtypes.Header
	From    stdtypes.ModuleID
	Numbers []int
}

// SquareResult answers a SquareRequest.
type SquareResult struct {
	stdtypes.Header
	Squares []int
}

func planSquares(ev stdtypes.Event) (runner.Job, error) {
	req, ok := ev.(*SquareRequest)
	if !ok {
		return runner.Job{}, fmt.Errorf("unexpected %T", ev)
	}
	res := &SquareResult{Header: stdtypes.NewHeader(req.From), Squares: make([]int, len(req.Numbers))}
	return runner.Job{
		Items:    len(req.Numbers),
		MinChunk: 2,
		Response: res,
		Run: func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				res.Squares[i] = req.Numbers[i] * req.Numbers[i]
			}
			return nil
		},
	}, nil
}

// Example runs the same request through both runtimes.
func Example() {
	req := &SquareRequest{Header: stdtypes.NewHeader("squares"), From: "app", Numbers: []int{1, 2, 3, 4, 5}}

	out, err := runner.NewSync(planSquares).ApplyEvents(stdtypes.ListOf(req))
	if err != nil {
		panic(err)
	}
	fmt.Println("sync:", out.Get(0).(*SquareResult).Squares)

	pool, err := runner.NewPool(planSquares, runner.PoolParams{Workers: 2, MaxPendingItems: 100})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // Ends the pool's goroutines.
	if err := pool.ApplyEvents(ctx, stdtypes.ListOf(req)); err != nil {
		panic(err)
	}
	list := <-pool.EventsOut()
	fmt.Println("pool:", list.Get(0).(*SquareResult).Squares)
	// Output:
	// sync: [1 4 9 16 25]
	// pool: [1 4 9 16 25]
}
