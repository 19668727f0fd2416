package wal

import (
	"path/filepath"
	"slices"
	"strings"
)

// memFS is the name this package's tests knew MemFS by.
type memFS = MemFS

func newMemFS() *memFS { return NewMemFS() }

// file returns a copy of a file's bytes.
func (m *MemFS) file(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.files[name]
	out := make([]byte, d.size)
	copy(out, d.data)
	return out
}

// setFile replaces a file's bytes, synced, creating it if need be.
func (m *MemFS) setFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirs[filepath.Dir(name)] = true
	m.files[name] = &memData{data: slices.Clone(data), size: int64(len(data))}
}

// clone returns a copy of the file system: its files, synced, and
// directories, no locks and no hooks.
func (m *MemFS) clone() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemFS()
	for name, d := range m.files {
		if !strings.HasSuffix(name, lockName) {
			c.files[name] = &memData{data: slices.Clone(d.data), size: d.size}
		}
	}
	for dir := range m.dirs {
		c.dirs[dir] = true
	}
	return c
}
