// Package mempool is Trantor's mempool (docs/trantor.md, section 1, hop 2):
// the transactions a node received from clients, kept until they are
// executed, deduplicated, bounded per client and in all, and cut into
// batches of ISS's buckets when availability asks for one. It is a
// deterministic passive module (NewModule) that handles the events of
// events.go and its own timer events (TxsWaited, RequestWaited).
//
// # Clients and watermarks
//
// A client numbers its transactions from 0 (TxID) and each is executed at
// most once. For each client the mempool keeps a low watermark, the lowest
// number not known to be executed, the numbers executed above it (a bitmap
// of ClientWindow bits), and the client's transactions it holds. From a
// NewTxs, which is untrusted input, it drops and counts (Stats) a
// transaction
//
//   - whose client ID is longer than MaxClientIDBytes, or payload longer
//     than MaxTxBytes;
//   - executed already (below the watermark, or executed above it): a
//     replay;
//   - numbered ClientWindow or more above the watermark;
//   - it holds already, waiting or out in a batch: a duplicate;
//   - of a client that holds MaxTxsPerClient transactions;
//   - that would make it hold more than MaxTxs transactions or MaxBytes
//     bytes (payloads and client IDs);
//   - of a new client when it keeps MaxClients clients and each of them
//     has transactions in it.
//
// Executed moves the watermarks, and frees the memory of the transactions
// it names, wherever they are; Watermarks does the same for what a state
// the node restored executed (each client's watermark and the numbers
// executed above it). These checks save work, not safety: the
// batch fetcher, which keeps the clients' watermarks in the application's
// snapshots, drops what was executed already.
//
// # Forgetting clients
//
// When the mempool keeps MaxClients clients and a new one comes (in a NewTxs
// or an Executed), it forgets the client that has held nothing for the
// longest: the one whose last transaction here was executed the longest
// ago. That costs a replay: a transaction of the forgotten client below its
// forgotten watermark is accepted again and given out in a batch; the batch
// fetcher drops it, so it costs bandwidth and a place in a batch, never a
// second execution. Refusing new clients instead would let anyone who
// makes up MaxClients client IDs once lock every later client out, until
// the node restarts. A client that has transactions here is never
// forgotten, so that its transactions keep their bounds: if every client
// kept has some, the new client's transactions are dropped
// (Stats.TooManyClients) until one of them is executed.
//
// # Batches
//
// Each transaction belongs to a bucket (BucketOf, among ISS's NumBuckets);
// the mempool keeps a queue of waiting transactions per bucket, in arrival
// order. A RequestBatch names buckets; its NewBatch holds the oldest waiting
// transactions of those buckets, merged by arrival order, at most
// MaxBatchTxs and MaxBatchBytes (stopping at the first that does not fit, so
// that the order is kept). It is sent:
//
//   - at once, if the buckets hold a full batch (MaxBatchTxs transactions or
//     MaxBatchBytes bytes);
//   - else when the oldest waiting transaction of the buckets has waited
//     BatchTimeout: each batch of events that brings transactions sets a
//     timer (stdevents.TimerDelay to ModuleConfig.Timer, answered by
//     TxsWaited);
//   - else, if the request has waited BatchTimeout (RequestWaited), as soon
//     as a transaction of its buckets comes.
//
// A request is for a proposal of an epoch (RequestBatch.Epoch), and is
// answered only once the slots of the epochs before it are executed
// (EpochExecuted, from the batch fetcher), whatever the mempool holds: a
// bucket has another leader in each epoch, every node's mempool holds the
// transactions clients sent to all, and until this node has executed the
// earlier epochs its mempool still holds, waiting, what their leaders
// ordered. Stats.EpochWaits counts the requests that waited.
//
// A batch is never empty. Several requests may be held, one per orderer, by
// distinct Refs; they are answered in the order they came. A CancelBatch
// takes one back. The transactions of a batch are out: they are not given
// out again until a ReturnTxs hands them back (they wait again, in their
// old places, as the oldest) or an Executed retires them. A RequestBatch
// that names a bucket out of range or twice, or reuses the Ref of a request
// held, or comes when MaxRequests are held, is a local module's bug: an
// error (ErrBadRequest) that stops the node. One that names no bucket (an
// orderer without buckets) is held, never answered, until cancelled.
//
// # Memory
//
// The mempool holds at most MaxTxs transactions of MaxBytes bytes, state for
// MaxClients clients (each a map of at most MaxTxsPerClient entries and a
// bitmap of ClientWindow bits, allocated once a transaction is executed out
// of order) and MaxRequests requests. It has at most one timer running per
// request, and one per batch of events (ApplyEvents) that brought
// transactions in the last BatchTimeout. It keeps the payload slices of the
// NewTxs it is handed, and hands the same slices out in NewBatch: an event
// passes to its destination, and no module changes a payload after it sent
// it.
//
// # Stable checkpoints and restarts
//
// The mempool needs no iss.StableCheckpoint, and takes none (an event it
// has no handler for is an error): Executed retires transactions as they
// are executed, and everything it holds is bounded without it. It keeps
// nothing on disk: after a restart it holds nothing and knows no client.
// The batch fetcher, which restores the clients' state from a checkpoint
// at a restart or a state transfer, tells it their watermarks
// (Watermarks): it retires what it holds below them (waiting or out in a
// batch; a ReturnTxs of those later brings nothing back) and drops
// clients' retries of what the state executed, and then that the state's
// epoch is executed (EpochExecuted: until then, it answers requests of
// epoch 0 only). What it had given out
// before a crash is lost with it: a batch certified then is still ordered
// or not (its signers keep it), and a client resends what it has no
// answer for when it reconnects.
package mempool
