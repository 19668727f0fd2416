// Package kvstore is a replicated key-value store on Trantor: the sample
// to start from when writing a Trantor application (docs/trantor.md,
// section 2).
//
// Store is the application (a trantor.App): a map from keys to values
// with three operations, Put, Get and CAS (compare and swap), and
// SetVoters, which decides the membership of a later epoch
// (reconfiguration). Each transaction is one operation in a compact,
// strictly decoded binary encoding (Op.Encode, DecodeOp: one encoding per
// operation, every length bounded); each result is a Status and a value
// (Result). The Store is deterministic: its results, snapshots and
// memberships are a function of the operations applied, in order, so
// every replica computes the same. Its snapshot lists the keys in order
// and is bounded (New's maxStateBytes): a write that would take it over
// the bound is refused (Full), and a transaction that is no operation
// gets Invalid, never an error, which would stop the replica.
//
// Client is the typed client: Put, Get, CAS and SetVoters over a
// pkg/trantor/client Client, which sends each operation to every node and
// accepts a result that f+1 of them returned.
//
// The store is linearizable: the package's tests run it in Mir's
// simulator (pkg/trantor/trantortest) on 4 and 7 nodes under message
// loss, partitions, crashes and restarts, and with a Byzantine replica,
// and check the clients' histories with Porcupine
// (github.com/anishathalye/porcupine), as Jepsen checks databases; they
// also add and remove nodes while the clients run.
//
//	store, err := kvstore.New(0) // one per start of the node
//	mods, err := trantor.New(id, params, trantor.Deps{App: store, ...})
//
//	c, err := kvstore.Dial([]string{"n0:7000", "n1:7000", "n2:7000", "n3:7000"}, 1, client.Options{ClientID: "alice"})
//	err = c.Put(ctx, []byte("x"), []byte("1"))
//	swapped, current, err := c.CAS(ctx, []byte("x"), []byte("1"), []byte("2"))
package kvstore
