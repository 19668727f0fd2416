// Command bench loads a Trantor cluster with kvstore puts (pkg/loadgen)
// and reports throughput and latency percentiles, as a table and as JSON,
// and, for a sweep of rates, the throughput–latency curve as a plot.
//
//	bench                                        # 4 nodes in this process over TCP, open loop at 1,000 tx/s
//	bench --rates 1k,5k,10k,20k --plot curve.svg --json results.json
//	bench --mode closed --clients 64 --outstanding 16
//	bench --membership deploy/membership.json --client-addrs 127.0.0.1:9000,127.0.0.1:9001,...
//
// Without --membership it starts a cluster of --nodes kvstore replicas in
// its own process, over authenticated TCP on 127.0.0.1, each with its WAL
// and signing pool (loadgen.StartLocal). With --membership it loads a
// running cluster: the membership file has the nodes' peer addresses,
// not their client servers', which --client-addrs gives, in the
// membership's order.
//
// Each run also measures an Ed25519 signature on this machine first, as a
// baseline: the machine's speed varies from hour to hour, and figures
// compare only with their baseline.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		// Cobra has printed the error.
		os.Exit(1)
	}
}
