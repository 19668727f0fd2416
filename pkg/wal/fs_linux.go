package wal

import (
	"errors"
	"os"
	"syscall"
)

// syncData is fdatasync: it writes the data and the metadata needed to
// read it back, but not the modification time, which saves a journal
// commit when the file's size does not change (segments are preallocated).
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// preallocate allocates the file's blocks up to size with fallocate, which
// extends the file with zeros. File systems without fallocate leave the
// file to grow as it is written.
func preallocate(f *os.File, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return nil
		}
		return err
	}
}
