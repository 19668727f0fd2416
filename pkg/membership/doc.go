// Package membership describes who takes part in a Mir deployment: for each
// node its ID, the address it listens on, its public key and its voting
// weight. A network
// transport (package net/tcp) dials the addresses and accepts only the keys
// of a membership; tools (cmd/mir) generate keys and memberships.
//
// # File format
//
// A membership is a JSON file:
//
//	{
//	  "version": 1,
//	  "nodes": [
//	    {"id": "0", "addr": "127.0.0.1:7000", "key": "ed25519:6Jz...="},
//	    {"id": "1", "addr": "127.0.0.1:7001", "key": "ed25519:q3V...=", "weight": 2}
//	  ]
//	}
//
// "key" is the node's public key: the name of its scheme in package crypto
// ("ed25519" or "ecdsa-p256"), a colon, and the raw key in standard base64
// (32 bytes for Ed25519). "weight", optional, is the node's voting weight
// in quorums (1 when absent; see Voters). IDs, addresses and keys are unique; unknown
// fields are refused, so that a misspelt field is an error rather than a
// silently missing value.
//
// # Key files
//
// A node's private key lives in a file of its own, written and read by
// package crypto (crypto.SavePrivateKey, crypto.LoadPrivateKey): PEM
// "PRIVATE KEY" (PKCS #8), the format of crypto/tls and openssl, readable
// by its owner only.
//
//	m, keys, err := membership.Local(4, "127.0.0.1", 7000) // 4 nodes, ports 7000-7003
//	err = m.Save("membership.json")
//	err = crypto.SavePrivateKey("node-0.key", keys[0])
package membership
