package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// memFS is an FS in memory for tests: fast enough to open a log thousands
// of times, and with hooks that inject faults. It keeps no "unsynced"
// state: a crash here is a process crash, which loses nothing written.
type memFS struct {
	mu    sync.Mutex
	files map[string]*memData
	dirs  map[string]bool
	locks map[string]bool

	// Fault hooks; a non-nil error fails the call. syncHook (for files
	// and directories) is called without mu held, so it may block;
	// writeHook is called with mu held and may shorten the write.
	syncHook  func(name string) error
	writeHook func(name string, off int64, n int) (int, error)
	// maxBytes, if positive, is the disk's size: writes and
	// preallocations beyond it fail with ENOSPC.
	maxBytes int64
}

type memData struct{ data []byte }

func newMemFS() *memFS {
	return &memFS{files: map[string]*memData{}, dirs: map[string]bool{}, locks: map[string]bool{}}
}

// used returns the bytes all files take.
func (m *memFS) used() int64 {
	var n int64
	for _, f := range m.files {
		n += int64(len(f.data))
	}
	return n
}

// grow extends d to size bytes, if the disk has room.
func (m *memFS) grow(d *memData, size int64) error {
	if size <= int64(len(d.data)) {
		return nil
	}
	if m.maxBytes > 0 && m.used()+size-int64(len(d.data)) > m.maxBytes {
		return syscall.ENOSPC
	}
	d.data = append(d.data, make([]byte, size-int64(len(d.data)))...)
	return nil
}

func (m *memFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(name)] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrNotExist}
	}
	if _, ok := m.files[name]; ok {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	d := &memData{}
	m.files[name] = d
	return &memFile{fs: m, d: d, name: name, writable: true}, nil
}

func (m *memFS) OpenFile(name string, writable bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{fs: m, d: d, name: name, writable: writable}, nil
}

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == dir {
			names = append(names, filepath.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

func (m *memFS) MkdirAll(dir string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[dir] {
		return false, nil
	}
	m.dirs[dir] = true
	return true, nil
}

func (m *memFS) Rename(oldName, newName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.files[oldName]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldName, Err: fs.ErrNotExist}
	}
	delete(m.files, oldName)
	m.files[newName] = d
	return nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) SyncDir(dir string) error {
	return m.callSyncHook(dir)
}

// callSyncHook calls syncHook without holding mu, so that a hook may
// block (a test's gate) while the rest of the file system works.
func (m *memFS) callSyncHook(name string) error {
	m.mu.Lock()
	hook := m.syncHook
	m.mu.Unlock()
	if hook != nil {
		return hook(name)
	}
	return nil
}

func (m *memFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, fmt.Errorf("%w: %s", ErrLocked, name)
	}
	m.locks[name] = true
	if _, ok := m.files[name]; !ok {
		m.files[name] = &memData{}
	}
	return memLock{m, name}, nil
}

type memLock struct {
	fs   *memFS
	name string
}

func (l memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	delete(l.fs.locks, l.name)
	return nil
}

// file returns a copy of a file's bytes.
func (m *memFS) file(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.files[name].data)
}

// setFile replaces a file's bytes, creating it if need be.
func (m *memFS) setFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirs[filepath.Dir(name)] = true
	m.files[name] = &memData{data: slices.Clone(data)}
}

// clone returns a copy of the file system: its files and directories, no
// locks and no hooks.
func (m *memFS) clone() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemFS()
	for name, d := range m.files {
		if !strings.HasSuffix(name, lockName) {
			c.files[name] = &memData{data: slices.Clone(d.data)}
		}
	}
	for dir := range m.dirs {
		c.dirs[dir] = true
	}
	return c
}

// memFile is an open file: like a file descriptor, it keeps the file's
// data (its inode) through renames and removals.
type memFile struct {
	fs       *memFS
	d        *memData
	name     string // the name it was opened by, for errors
	writable bool
	closed   bool
}

var errFileClosed = errors.New("file closed")

// data returns the file's bytes; m.fs.mu must be held.
func (f *memFile) data() (*memData, error) {
	if f.closed {
		return nil, errFileClosed
	}
	return f.d, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return 0, err
	}
	if off >= int64(len(d.data)) {
		return 0, io.EOF
	}
	n := copy(p, d.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return 0, err
	}
	if !f.writable {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	n := len(p)
	var hookErr error
	if f.fs.writeHook != nil {
		n, hookErr = f.fs.writeHook(f.name, off, len(p))
	}
	if err := f.fs.grow(d, off+int64(n)); err != nil {
		return 0, err
	}
	copy(d.data[off:], p[:n])
	if hookErr != nil {
		return n, hookErr
	}
	return n, nil
}

func (f *memFile) Close() error {
	if f.closed {
		return errFileClosed
	}
	f.closed = true
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return 0, err
	}
	return int64(len(d.data)), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	_, err := f.data()
	f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	return f.fs.callSyncHook(f.name)
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return err
	}
	if size < int64(len(d.data)) {
		d.data = d.data[:size]
		return nil
	}
	return f.fs.grow(d, size)
}

func (f *memFile) Preallocate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return err
	}
	return f.fs.grow(d, size)
}
