// Package metrics exports what a running Mir node knows about itself as
// Prometheus metrics (github.com/prometheus/client_golang), for operators
// who watch their nodes with the tools they already use.
//
// A Collector reads, at every scrape, the node's statistics
// (mir.Node.Stats) and nothing else: the node's counters per module, and
// what each module that implements modules.StatsReporter reports. The
// protocol modules stay as they are, deterministic and free of any
// metrics library; they keep their counters in atomics (or publish a
// snapshot after each batch) so that a scrape may read them from another
// goroutine, and the Collector turns them into metrics:
//
//   - the node: mir_node_buffered_events, mir_node_input_paused,
//     mir_node_input_pauses_total (backpressure), and per module
//     mir_module_events_in_total, mir_module_events_out_total,
//     mir_module_batches_total, mir_module_busy_seconds_total,
//     mir_module_dropped_events_total;
//   - a transport (net.TransportStats, and tcp.Metrics for the TCP
//     transport): mir_transport_* per peer (messages, bytes, drops,
//     queues, connections, reconnections);
//   - a Trantor client server wrapped in a ClientServer: its counters
//     (mir_client_server_*_total) and the time from a transaction's
//     arrival at the node to its result there
//     (mir_client_server_latency_seconds, a histogram);
//   - ISS: the current epoch's leaders (mir_iss_leader{leader}), besides
//     its fields;
//   - every other report, field by field: a report is a struct, and each
//     exported field that is a number, a boolean or a time.Duration
//     becomes a family named mir_<package>_<field in snake case>, with
//     "_seconds" for durations and "_total" for counters. Unsigned
//     integers and durations are counters; other numbers and booleans
//     gauges; Gauges marks unsigned fields that go down (a queue length,
//     an epoch number). Nested structs add their field name to the
//     family's; slices, maps, strings and pointers are left out.
//
// A user's module joins in by implementing modules.StatsReporter with a
// struct of numbers, safe to read from any goroutine: its families are
// named after its package (see ExampleNewCollector). Gauges and Omit
// adjust the export of a type's fields. Anything else (a histogram, a
// value with labels of its own) is a prometheus.Collector of the user's,
// served next to the node's by Serve or NewRegistry.
//
// Every family has the labels node and module (the module's ID in the
// node); per-peer families add peer, and drops by cause add reason. All
// their values are bounded: module IDs are fixed when the node is built
// (a factory's submodules, such as an orderer per segment, report through
// their parent), peers are members.
//
// docs/metrics.md lists the families and what they mean.
//
// Serve answers scrapes on an address until its context ends; a runner
// of a node starts it next to the node's Run:
//
//	go func() { errc <- metrics.Serve(ctx, addr, metrics.NewCollector(node.ID, node)) }()
//
// A program with an HTTP server of its own mounts Handler on a registry
// from NewRegistry instead.
package metrics
