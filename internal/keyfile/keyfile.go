// Package keyfile writes and reads the small files that hold keys, for the
// packages that keep keys in files (crypto, threshcrypto).
package keyfile

import (
	"fmt"
	"io"
	"os"
)

// WriteNew writes data to a new file at path with permissions perm. It
// refuses to replace an existing file: a key overwritten by mistake is lost.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save key to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save key to %s: %w", path, err)
	}
	return nil
}

// ReadSmall reads the file at path, which must hold at most max bytes: a
// key file is small, and a path to something else must not make the
// reader allocate without limit.
func ReadSmall(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("load key from %s: %w", path, err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("load key: %s is larger than %d bytes", path, max)
	}
	return data, nil
}
