package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// incarnationFile is the file in the data directory that holds the
// incarnation of the replica's last start.
const incarnationFile = "incarnation"

// nextIncarnation returns the incarnation of this start of the replica
// whose data directory is dir: one more than the last start's, durable on
// disk before it is returned, so that no two starts share one, whatever
// the clock does. The file holds 8 bytes, big-endian; anything else is an
// error, not a reason to start from 1 again (which could reuse an
// incarnation the other nodes saw).
func nextIncarnation(dir string) (uint64, error) {
	path := filepath.Join(dir, incarnationFile)
	var last uint64
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("incarnation: %w", err)
	case len(data) != 8:
		return 0, fmt.Errorf("incarnation: %s holds %d bytes, want 8", path, len(data))
	default:
		last = binary.BigEndian.Uint64(data)
	}
	if last == ^uint64(0) {
		return 0, fmt.Errorf("incarnation: %s is at its maximum", path)
	}
	next := last + 1
	if err := writeDurably(path, binary.BigEndian.AppendUint64(nil, next)); err != nil {
		return 0, fmt.Errorf("incarnation: %w", err)
	}
	return next, nil
}

// writeDurably replaces the file at path with data: written to a
// temporary file, synced, renamed over path, and the directory synced, so
// that a crash leaves the old content or the new one.
func writeDurably(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
