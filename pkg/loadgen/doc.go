// Package loadgen loads a Trantor system through its client library
// (pkg/trantor/client) and measures what it gets back: throughput, and
// latency percentiles recorded in an HDR histogram
// (github.com/HdrHistogram/hdrhistogram-go). cmd/bench is its command
// line; `mir cluster` (cmd/mir) loads its cluster with it and shows the
// figures live.
//
//	g, err := loadgen.Dial(loadgen.Target{Addrs: addrs, F: 1, Clients: 64})
//	defer g.Close()
//	w, err := loadgen.NewKVPuts(512)
//	err = g.Ready(ctx, w) // every client connected and answered once
//	res, err := g.Run(ctx, loadgen.Load{
//		Mode: loadgen.OpenLoop, Rate: 10_000, Duration: 10 * time.Second, Warmup: 2 * time.Second,
//		Workload: w,
//	})
//	fmt.Println(res.Throughput, res.Latency.P50Ms)
//
// A run may also go on until it is stopped, its figures polled as it
// goes (what a live view does, once a second):
//
//	r, err := g.Start(ctx, loadgen.Load{Mode: loadgen.OpenLoop, Rate: 1000, Workload: w})
//	p := r.Progress() // since the last call: tx/s, p50, p99, errors; and totals
//	res, err := r.Stop()
//
// # Open and closed loops
//
// In an open loop (OpenLoop) transactions arrive at a fixed rate,
// whatever the system does: evenly spaced, or as a Poisson process
// (exponential gaps). A timer wakes the generator at the next arrival,
// and it releases every arrival whose time has come, at most every
// minWake, so it never spins. Latency is measured from a transaction's
// arrival time, not from when a client found room to send it, so the
// queueing of a saturated system counts (no coordinated omission). The
// arrivals that wait for a client are bounded (maxQueued); those beyond,
// and those still waiting when the run ends, are counted as Shed.
//
// In a closed loop (ClosedLoop) each of the Clients keeps Outstanding
// transactions in flight: one more is submitted as soon as one is
// answered, and latency is from submission to answer.
//
// Either way, a transaction is answered once f+1 nodes returned the
// same result (what the client library waits for); one not answered
// within Load.Timeout counts as a timeout, one whose result the
// workload refuses (Workload.Check) or the client failed as an error.
// Transactions submitted during the warm-up are left out of the Result;
// Progress (the callback, or Running.Progress) sees them.
//
// # Clients
//
// A Generator dials its clients once and keeps them for every Run, so
// that a sweep of rates does not make the nodes learn new clients at
// every step (they know a bounded number at once:
// batchfetcher.ModuleParams.MaxClients). Client IDs start with a prefix
// unique to the Generator (Target.ClientIDPrefix, by default one made of
// the time), because the nodes execute each (client, transaction
// number) once: a second run with the same IDs against the same cluster
// would have its transactions dropped as executed.
//
// StartLocal runs a cluster of kvstore replicas (samples/kvstore) in the
// process, over TCP on 127.0.0.1, for the generator to load.
package loadgen
