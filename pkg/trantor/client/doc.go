// Package client connects Trantor's clients to its nodes: a server module
// that each node runs to take clients' transactions over TCP, and the
// client library that submits them and waits for their results.
//
//	// On each node, the module "clients" (DefaultModuleID):
//	srv, err := client.NewServer(":7000", client.ServerOptions{})
//	err = srv.Start()
//	// On a client, of nodes of which at most f are faulty:
//	c, err := client.Dial([]string{"n0:7000", "n1:7000", "n2:7000", "n3:7000"}, 1, client.Options{ClientID: "alice"})
//	result, err := c.Submit(ctx, []byte("put x 1"))
//
// # The server
//
// Server is an active module. It accepts TCP connections from clients,
// reads their transactions and hands them to the mempool
// (mempool.NewTxs, ServerOptions.Mempool): what it read since the last
// list it emitted, in one list, as soon as the node takes it. The module
// that executes transactions tells the server their results, a slot's at
// once (Executed, which Trantor's application module emits) or one
// (Reply); the server writes each result to the connection that last
// submitted a transaction of its client: a
// client that reconnects gets its replies on the new connection.
//
// Everything a stranger can make it hold is bounded: the connections
// (MaxConns: one more is closed at once), a transaction (MaxTxBytes), the
// frames read from a connection per second (FramesPerSecond: a faster
// client is slowed down, and TCP pushes back, rather than cut off), the
// transactions read and not yet taken by the node (MaxBufferedBytes,
// during which readers wait), the replies queued to a connection
// (MaxReplyQueue per client, MaxReplyQueueBytes in all). A connection
// that sends nothing for IdleTimeout, or that takes longer than
// FrameTimeout to send a frame it began
// (slowloris), is closed. A bad frame closes its connection. Each of these
// is counted (Server.Metrics); those an operator must see are logged at
// Warn at most once a minute per cause, with the count of those
// suppressed, and at Debug otherwise.
//
// The server also remembers the latest replies (MaxCachedReplies,
// MaxCachedReplyBytes, the oldest forgotten first) and answers a
// transaction submitted again from them without handing it on: the
// mempool drops a transaction it knows executed, so a client whose
// connection dropped before a node's reply came would otherwise never get
// that node's reply.
//
// A connection speaks for the clients whose IDs its frames name (a Pool's
// clients share one connection to each node), at most MaxClientsPerConn
// of them, and all connections for at most MaxClients: a frame naming one
// more closes its connection. That bounds the table replies are routed
// by. FramesPerSecond counts per client of a connection, as if each had
// its own. The replies of one executed slot go to a connection together,
// in one write when its writer is idle.
//
// # Clients are not authenticated
//
// Nothing proves that a connection speaks for the client it names: any
// one who reaches the port can submit transactions under any client ID,
// and by doing so take that client's replies to its own connection (until
// the client submits again). The mempool and the batch fetcher execute
// each (client, number) at most once, so an impostor can use a client's
// numbers up, not replay its transactions. Authenticating clients
// (signed transactions, or TLS with client keys) is left for later;
// deploy the port where only trusted clients reach it meanwhile.
//
// # The client
//
// A Client numbers its transactions from Options.FirstTxNo (0 by
// default; a client that restarts passes the NextTxNo of its previous
// life), sends each to every node, and completes it once f+1 nodes sent
// the same result: at most f are faulty, so at least one correct node
// vouches for it. A node's first reply for a transaction counts, and only
// once. A client made by Dial has a connection of its own to each node;
// the clients of a Pool (NewPool, Pool.NewClient) share the pool's, so
// that a process with many clients (a load generator, an application
// server) writes many clients' transactions to a node in one system call
// and reads many replies in one. Each client keeps its own numbers,
// window and votes either way. A connection is redialed with exponential
// backoff and jitter (ReconnectMin to ReconnectMax) when it drops; on
// every new connection each client resends what that node has not
// answered. SubmitAsync returns a Call at once, so that a client can keep
// up to MaxOutstanding transactions outstanding, numbered less than Window
// above the oldest of them (the nodes drop a transaction further ahead,
// and the client would not send it again); Submit waits for the result. A result is at most MaxResultBytes: a node that sends a larger
// reply, or a reply that does not decode, is disconnected (and redialed).
// A Client holds at most MaxOutstanding transactions, each with at most
// one result per node.
//
// # Wire format
//
// Version 1. Both directions use the same frames: a 4-byte big-endian
// length n, then n bytes of body:
//
//	body = version (1 byte, = 1) | kind (1 byte) | uvarint(len(clientID)) | clientID | uvarint(txNo) | payload
//
// where uvarint is the unsigned LEB128 varint of encoding/binary, minimally
// encoded; clientID is 1 to MaxClientIDBytes bytes of UTF-8; and payload
// runs to the end of the body. Kind 1 (submit, client to node) carries a
// transaction: payload is its data, at most ServerOptions.MaxTxBytes.
// Kind 2 (reply, node to client) carries a result: payload is the
// application's result for (clientID, txNo). Each frame has exactly one
// encoding. A receiver reads the length and refuses a body longer than
// its limit before reading it, and allocates only as the body's bytes
// arrive. A frame of another version or kind, or that does not decode,
// closes the connection; a later version will be a new version byte.
//
// The format is not package codec's: it is small enough to implement in
// any language in a page, which is what a client library needs, and a
// node decodes it without reflection.
package client
