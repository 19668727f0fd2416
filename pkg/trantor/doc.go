// Package trantor builds a Trantor node: state machine replication on ISS
// (docs/trantor.md). Clients' transactions enter the mempool
// (pkg/mempool), which cuts them into batches; availability
// (pkg/availability) disseminates each batch and collects an availability
// certificate for it; ISS and its PBFT orderers (pkg/iss,
// pkg/orderers/pbft) order the certificates; the batch fetcher
// (pkg/batchfetcher) turns each back into its transactions, in the order
// of the log, without the ones already executed; and the application
// module runs them on the user's App, telling the client server the
// results (Executed).
//
// A user writes an App (apply a batch, take a snapshot, restore one) and
// calls New for each node with the same Params; the transport, the timer,
// the WAL, the signing module and the client server are the caller's.
// DefaultParams makes the parameters of the parts agree; Params.Validate
// says which disagree when a deployment changes them.
package trantor
