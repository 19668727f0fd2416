package replica_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
)

// countApp is the tests' application: it counts the transactions it
// applied and chains their hash. A transaction's result is its position
// in the log (1, 2, ...), so that a client that gets each result once
// with all results distinct and the last one the number of transactions
// saw each executed exactly once. report, if set, is told the state after
// each Apply and Restore (restored).
type countApp struct {
	n      uint64
	head   [sha256.Size]byte
	report func(n uint64, head [sha256.Size]byte, restored bool)
}

func (a *countApp) Apply(txs []mempool.Tx) ([][]byte, error) {
	results := make([][]byte, len(txs))
	var buf []byte
	for i, tx := range txs {
		// The head chains the previous one, the transaction's ID (its
		// client's length-prefixed) and its payload.
		buf = binary.AppendUvarint(append(buf[:0], a.head[:]...), uint64(len(tx.ClientID)))
		buf = binary.AppendUvarint(append(buf, tx.ClientID...), tx.TxNo)
		buf = append(buf, tx.Data...)
		a.head = sha256.Sum256(buf)
		a.n++
		results[i] = strconv.AppendUint(nil, a.n, 10)
	}
	a.changed(false)
	return results, nil
}

func (a *countApp) Snapshot() ([]byte, membership.Voters, error) {
	return append(binary.BigEndian.AppendUint64(nil, a.n), a.head[:]...), nil, nil
}

func (a *countApp) Restore(state []byte) error {
	if len(state) != 8+sha256.Size {
		return fmt.Errorf("countApp: a state of %d bytes", len(state))
	}
	a.n = binary.BigEndian.Uint64(state)
	copy(a.head[:], state[8:])
	a.changed(true)
	return nil
}

func (a *countApp) changed(restored bool) {
	if a.report != nil {
		a.report(a.n, a.head, restored)
	}
}
