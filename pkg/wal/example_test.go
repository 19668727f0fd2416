package wal_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mirframework/mir/pkg/wal"
)

func Example() {
	parent, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "log")
	opts := wal.Options{SegmentBytes: 1 << 20}

	// A new log: append, and learn when each record is durable.
	log, err := wal.Open(dir, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	index, err := log.Append([]byte("counter=1"))
	fmt.Println("appended", index, err)
	pending, err := log.AppendAsync([]byte("counter=2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	<-pending.Done() // a select could wait for other things too
	fmt.Println("durable", pending.Index(), pending.Wait())
	if err := log.Close(); err != nil {
		fmt.Println(err)
		return
	}

	// After a restart: read back what is there, then go on appending.
	log, err = wal.Open(dir, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	for rec, err := range log.Records(0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("record %d: %s\n", rec.Index, rec.Data)
	}
	index, err = log.Append([]byte("counter=3"))
	fmt.Println("appended", index, err)

	// Output:
	// appended 1 <nil>
	// durable 2 <nil>
	// record 1: counter=1
	// record 2: counter=2
	// appended 3 <nil>
}
