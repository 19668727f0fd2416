//go:build !unix

package wal

import (
	"fmt"
	"os"
	"runtime"
)

// lockFile fails: without flock, two processes could write one log, and a
// log that cannot promise otherwise does not open.
func lockFile(f *os.File) error {
	return fmt.Errorf("wal: lock %s: file locks are not supported on %s", f.Name(), runtime.GOOS)
}
