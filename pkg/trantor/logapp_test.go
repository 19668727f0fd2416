package trantor_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
)

// logApp is the test application: an append-only log kept as its length
// and a hash chain over every transaction applied (client, number,
// payload). A transaction's result is the chain's head after it, so that
// two nodes return the same results only if they applied the same
// transactions in the same order since the start. Its snapshot is its
// state: the length, then the head.
type logApp struct {
	n    uint64
	head [sha256.Size]byte
}

// logAppStateBytes is the size of a logApp snapshot.
const logAppStateBytes = 8 + sha256.Size

func (a *logApp) Apply(txs []mempool.Tx) ([][]byte, error) {
	results := make([][]byte, len(txs))
	for i, tx := range txs {
		h := sha256.New()
		h.Write(a.head[:])
		h.Write(binary.AppendUvarint(nil, uint64(len(tx.ClientID))))
		h.Write([]byte(tx.ClientID))
		h.Write(binary.BigEndian.AppendUint64(nil, tx.TxNo))
		h.Write(tx.Data)
		h.Sum(a.head[:0])
		a.n++
		results[i] = append([]byte(nil), a.head[:]...)
	}
	return results, nil
}

func (a *logApp) Snapshot() ([]byte, membership.Voters, error) {
	return append(binary.BigEndian.AppendUint64(nil, a.n), a.head[:]...), nil, nil
}

func (a *logApp) Restore(state []byte) error {
	if len(state) != logAppStateBytes {
		return fmt.Errorf("logApp: a state of %d bytes, want %d", len(state), logAppStateBytes)
	}
	a.n = binary.BigEndian.Uint64(state)
	copy(a.head[:], state[8:])
	return nil
}
