package loadgen

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/samples/kvstore"
)

// A Workload makes the transactions of a run and judges their results.
// Its methods are called from many goroutines at once.
type Workload interface {
	// Tx returns the data of transaction n of the client numbered client.
	// The client keeps it until the transaction is answered: a new slice
	// each time.
	Tx(client int, n uint64) []byte
	// Check returns an error if result is not the result of a transaction
	// that succeeded.
	Check(result []byte) error
}

// kvKeys is the number of keys KVPuts writes: the store's state stays at
// most kvKeys values (512 KiB of 1 KiB values, within the store's
// default bound of 1 MiB, kvstore.DefaultMaxStateBytes), so that a long
// run is not refused as Full.
const kvKeys = 512

// kvKeyBytes is the length of KVPuts' keys ("k" and 7 digits).
const kvKeyBytes = 8

// KVPuts is a workload of kvstore puts (samples/kvstore) of a given
// encoded size, over kvKeys keys.
type KVPuts struct {
	value     []byte
	sizeBytes int
}

// MinKVPutBytes and MaxKVPutBytes bound the size of a KVPuts transaction:
// the encoding of a put of a kvKeyBytes key and the empty value, and of
// the largest value the store takes.
var (
	MinKVPutBytes = kvPutBytes(0)
	MaxKVPutBytes = kvPutBytes(kvstore.MaxValueBytes)
)

func kvPutBytes(valueBytes int) int {
	b, err := (kvstore.Op{Kind: kvstore.Put, Key: make([]byte, kvKeyBytes), Value: make([]byte, valueBytes)}).Encode()
	if err != nil {
		panic(err) // valueBytes is within kvstore.MaxValueBytes: a bug.
	}
	return len(b)
}

// NewKVPuts returns a workload of puts whose encoding (the transaction's
// data) is sizeBytes long, MinKVPutBytes to MaxKVPutBytes.
func NewKVPuts(sizeBytes int) (*KVPuts, error) {
	if sizeBytes < MinKVPutBytes || sizeBytes > MaxKVPutBytes {
		return nil, fmt.Errorf("a kvstore put takes %d to %d bytes, not %d", MinKVPutBytes, MaxKVPutBytes, sizeBytes)
	}
	// The value's length prefix grows with it: the longest value that
	// fits.
	v := min(sizeBytes-MinKVPutBytes, kvstore.MaxValueBytes)
	for kvPutBytes(v) > sizeBytes {
		v--
	}
	if kvPutBytes(v) != sizeBytes {
		// A length prefix growing from one byte to two skips one size.
		return nil, fmt.Errorf("no kvstore put takes exactly %d bytes; take %d or %d", sizeBytes, sizeBytes-1, sizeBytes+1)
	}
	value := make([]byte, v)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	return &KVPuts{value: value, sizeBytes: sizeBytes}, nil
}

// SizeBytes returns the size of a transaction.
func (w *KVPuts) SizeBytes() int { return w.sizeBytes }

// Tx implements Workload: a put of the shared value to one of kvKeys keys.
func (w *KVPuts) Tx(client int, n uint64) []byte {
	key := fmt.Appendf(make([]byte, 0, kvKeyBytes), "k%07d", (uint64(client)*7919+n)%kvKeys)
	b, err := (kvstore.Op{Kind: kvstore.Put, Key: key, Value: w.value}).Encode()
	if err != nil {
		panic(err) // NewKVPuts checked the sizes: a bug.
	}
	return b
}

// ErrRefused is wrapped by Check's error for a result that is not OK.
var ErrRefused = errors.New("the store refused the operation")

// Check implements Workload: the store must have answered OK.
func (w *KVPuts) Check(result []byte) error {
	r, err := kvstore.DecodeResult(result)
	if err != nil {
		return err
	}
	if r.Status != kvstore.OK {
		return fmt.Errorf("%w: %v", ErrRefused, r.Status)
	}
	return nil
}
