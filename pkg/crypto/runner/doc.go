// Package runner runs the request events of cryptographic modules in one of
// two runtimes with the same events and the same results: Sync, a passive
// module that computes every result on the node's goroutine (simulation,
// tests, replay), and Pool, an active module that spreads the work of each
// request over a pool of worker goroutines (production).
//
// A module is described by a Planner, which turns a request event into a
// Job: a number of independent items, a function that computes a range of
// them into the response event, and that response. Packages crypto and
// threshcrypto build their modules this way; most users need only their
// constructors.
//
// # Writing a module
//
// A planner is a switch over the request types. For each request it
// allocates the response with room for every item's result, and returns a
// Run function that fills in a range of them:
//
//	func plan(ev stdtypes.Event) (runner.Job, error) {
//		req, ok := ev.(*SquareRequest)
//		if !ok {
//			return runner.Job{}, fmt.Errorf("unexpected %T", ev)
//		}
//		res := &SquareResult{Header: stdtypes.NewHeader(req.From), Squares: make([]int, len(req.Numbers))}
//		return runner.Job{Items: len(req.Numbers), Response: res, Run: func(lo, hi int) error {
//			for i := lo; i < hi; i++ {
//				res.Squares[i] = req.Numbers[i] * req.Numbers[i]
//			}
//			return nil
//		}}, nil
//	}
//
// runner.NewSync(plan) is then the passive module and runner.NewPool(plan,
// params) the active one. Because each item's result depends on that item
// only, however the pool splits a request, both give the same responses.
package runner
