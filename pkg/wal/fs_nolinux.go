//go:build !linux

package wal

import "os"

// syncData is File.Sync, which on macOS is F_FULLFSYNC (a plain fsync
// there does not flush the disk's cache).
func syncData(f *os.File) error { return f.Sync() }

// preallocate does nothing where fallocate is missing: the file grows as
// it is written, and its end of data is its size.
func preallocate(*os.File, int64) error { return nil }
