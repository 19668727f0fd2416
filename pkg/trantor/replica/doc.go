// Package replica runs a Trantor node (package trantor) as a replica of a
// deployment: one process per node, over TCP, with its state on disk. It
// adds to trantor.New's modules what a real node needs: the TCP
// transport (pkg/net/tcp) with the deployment's membership and the node's
// key, the WAL (pkg/wal, in the data directory, synced at every write),
// the signing pool (pkg/crypto), the timer, and the client server
// (pkg/trantor/client) on its own address; and it optionally records
// every event the node processes (pkg/eventlog's stream recorder).
//
//	members, key, _ := ... // membership.Load, crypto.LoadPrivateKey
//	r, err := replica.New(replica.Config{
//		ID: "0", Members: members, Key: key, DataDir: "data/0", ClientAddr: ":7000",
//		Params: trantor.DefaultParams(members.Voters()),
//		NewApp: func() trantor.App { return &myApp{} },
//	})
//	err = r.Run(ctx) // until ctx ends; then everything is closed
//
// The membership is the file `mir membership generate` writes
// (membership.Load), with each node's key file next to it: the nodes the
// replica may talk to, with their addresses and public keys. It lists
// every node that may ever vote, also those a reconfiguration adds later:
// the transport and the signing module know no others. Params.ISS.Voters
// are the voters of the first epochs; the App decides the later ones
// (trantor.App.Snapshot).
//
// # Starting together
//
// Run starts the transport and waits, up to Config.PeerWait (5 s by
// default), until it is connected to the other voters of the first epochs
// before it starts the node (Started tells when). Replicas started one
// after the other, by hand or by a script, then start their protocol
// together: without the wait, the first ones would time out waiting for
// the late ones' proposals and end the first segments empty in view
// changes. A replica whose peer is down starts without it once PeerWait
// has passed, and logs which peers it did not wait for.
//
// # Restarts
//
// A replica keeps in its data directory the WAL and the incarnation of
// its last start. Started again from the same directory (after a crash,
// kill -9 included), it takes the next incarnation (persisted before the
// node runs, so that no two starts share one whatever the clock does),
// replays its WAL (what it promised and stored before the crash), and
// catches up with the others: from the log where they still have it,
// by state transfer otherwise. The App starts empty at each start
// (Config.NewApp) and is restored from a checkpoint. The WAL locks the
// directory: a second replica on it fails to start.
//
// Run stops the replica when its context ends: the node, the transport,
// the client server (its listener and connections), the recorder and the
// WAL, in that order.
package replica
