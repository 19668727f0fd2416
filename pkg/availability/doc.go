// Package availability is Trantor's availability layer, the multisig
// collector (docs/trantor.md, section 1, hop 3): it makes a batch of
// transactions available before ISS orders it, so that ISS orders a
// small, fixed-size certificate instead of the batch, and a Byzantine
// leader cannot order a batch that no correct node can provide.
//
// It plays three parts for ISS and the batch fetcher, in one passive,
// deterministic module (Module):
//
//   - ISS's proposer. On an iss.RequestProposal of an orderer of a segment
//     this node leads, it asks the mempool for a batch of the segment's
//     buckets, for the proposal's epoch (mempool.RequestBatch; the mempool
//     answers once the epochs before are executed, so that it gives out
//     nothing an earlier leader of those buckets ordered). On the
//     mempool.NewBatch it computes
//     the batch's digest (BatchDigest: the epoch, the leader, the buckets
//     and the transactions), persists the batch (a BatchRecord in the WAL,
//     retention index: the epoch), and only then sends it to the epoch's
//     other voters (REQUESTSIG, through reliablenet) and signs its digest
//     (SignedBytes, through the crypto module). Signatures of a weak
//     quorum of the epoch's voters (more than a third of the weight, so
//     at least one correct node holds the batch) make a Certificate, whose
//     encoding is the iss.Proposal's value.
//   - Every node's part: on a REQUESTSIG it checks the sender (a voter of
//     the epoch), the sizes, the buckets (and, with ModuleParams.BucketOf,
//     that every transaction lies in them), persists the batch, then signs
//     and answers SIG. A node never signs a batch it has not persisted:
//     the signing is a follow-up of the WAL record.
//   - ISS's validator. On an iss.VerifyProposal it decodes the certificate
//     strictly (DecodeCertificate), checks that it is of the proposal's
//     epoch, leader and buckets, that its signers are distinct voters of
//     the epoch of a weak quorum's weight (VerifyCertificate), and has the
//     crypto module verify the signatures in one batch.
//   - The batch fetcher's source. On a RequestTxs it answers from its store
//     (ProvideTxs), or fetches the batch from the certificate's signers:
//     FETCH to one, and to the next after FetchTimeout, until a
//     FETCHRESPONSE matches the digest.
//
// An orderer that proposes its slot empty (iss.CancelProposal) keeps its
// batch: availability goes on collecting signatures and answers the
// orderer's next RequestProposal with it at once. A RequestProposal of a
// later epoch shows that the orderer asks no more: the batch's
// transactions go back to the mempool (mempool.ReturnTxs), as do those of
// a NewBatch that crossed a cancellation.
//
// A batch whose certificate an orderer took may still not be ordered: a
// view change may end its slot ⊥, in any later view of the epoch.
// Availability tracks each such batch until it learns its fate: delivered
// (the batch fetcher asks for its transactions, RequestTxs), or not (the
// stable checkpoint of its epoch, which the batch fetcher forwards only
// once it asked for every slot below it, came first). Only then do its
// transactions go back to the mempool: a batch delivered would execute
// twice, and one returned before its epoch ends could be delivered yet.
//
// Durability and garbage collection: at a start, the WAL hands back the
// batches before any input, and the node serves and signs them again. At
// an iss.StableCheckpoint of epoch e (which the batch fetcher forwards),
// the node drops the batches of the epochs up to e - RetainedEpochs,
// truncates their WAL records, and persists the new low (a
// CollectedRecord), below which it accepts no batch, even after a restart.
//
// Limits: batches by transactions and bytes, transactions by bytes,
// certificates by signers, signature and ID sizes, and the batches a node
// stores per leader (MaxBatchesPerSender): a Byzantine leader that floods
// REQUESTSIGs fills only its own quota. Every message from the network is
// checked; what fails is dropped and counted by reason (Stats), never an
// error. An invalid local event (from ISS, the mempool, the batch fetcher)
// is an error naming the event, which stops the node.
//
// The design follows the multisig collector of Trantor (Mir's original
// implementation) and of Narwhal's workers (Danezis et al., "Narwhal and
// Tusk", EuroSys 2022): availability certificates of f+1 signatures.
package availability
