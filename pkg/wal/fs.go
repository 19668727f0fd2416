package wal

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file system a log works on: OSFS by default, or one of a
// test's own that injects faults (failed syncs, full disks, torn writes)
// or keeps files in memory. Paths are joined with filepath.Join.
type FS interface {
	// Create creates the file name, failing if it exists, and opens it
	// for reading and writing.
	Create(name string) (File, error)
	// OpenFile opens an existing file, for reading and writing if
	// writable is set, else for reading only.
	OpenFile(name string, writable bool) (File, error)
	// ReadDir returns the names of the entries of dir, sorted.
	ReadDir(dir string) ([]string, error)
	// MkdirAll creates dir and its missing parents, and reports whether
	// it created dir.
	MkdirAll(dir string) (created bool, err error)
	// Rename renames a file, replacing newName atomically if it exists.
	Rename(oldName, newName string) error
	// Remove removes a file.
	Remove(name string) error
	// SyncDir makes the entries of dir durable: the files created,
	// renamed and removed in it.
	SyncDir(dir string) error
	// Lock takes an exclusive lock on the file name, creating it if need
	// be, and fails with an error wrapping ErrLocked if another holder,
	// in this process or another one, has it. Closing the result releases
	// the lock, as does the end of the process.
	Lock(name string) (io.Closer, error)
}

// File is an open file of an FS.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Size returns the file's current size in bytes.
	Size() (int64, error)
	// Sync makes the file's data durable, and the metadata needed to read
	// it back (its size, its allocated blocks).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Preallocate reserves disk space for the file up to size bytes,
	// which then read as zeros, so that later writes cannot fail for lack
	// of space and syncs need not update the file's size. A file system
	// that cannot preallocate returns nil and leaves the file as it is.
	Preallocate(size int64) error
}

// OSFS returns the operating system's file system.
func OSFS() FS { return osFS{} }

type osFS struct{}

type osFile struct{ *os.File }

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenFile(name string, writable bool) (File, error) {
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(name, flag, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) MkdirAll(dir string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, os.MkdirAll(dir, 0o755)
}

func (osFS) Rename(oldName, newName string) error { return os.Rename(oldName, newName) }

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func (f osFile) Size() (int64, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

func (f osFile) Sync() error { return syncData(f.File) }

func (f osFile) Preallocate(size int64) error { return preallocate(f.File, size) }

// syncParent makes the entry of dir in its parent durable, after dir was
// created.
func syncParent(fsys FS, dir string) error {
	return fsys.SyncDir(filepath.Dir(filepath.Clean(dir)))
}
