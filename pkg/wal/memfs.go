package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
)

// MemFS is an FS in memory: a simulated disk, for simulations and tests.
// It keeps apart what was written and what was synced, so that Crash can
// do to the writes not yet synced what a power cut does: lose them, keep
// them, or keep a part, tear a record and damage its last bytes. The
// simulated twin of the WAL module (SimDisk) runs a log on one, so that a
// simulated node recovers with the same code as a real one.
//
// Directory operations (creating, renaming and removing files) and the
// size of files (Truncate, Preallocate) are durable at once, as on a file
// system that journals its metadata synchronously: the model loses file
// data only. Space that is preallocated, or written with zeros past the
// data, takes no memory. MemFS is safe for concurrent use.
type MemFS struct {
	mu    sync.Mutex
	files map[string]*memData
	dirs  map[string]bool
	locks map[string]bool
	// boot counts crashes: a file opened before the last one is dead.
	boot uint64
	// maxBytes, if positive, is the disk's size: writes and
	// preallocations beyond it fail with ENOSPC.
	maxBytes int64

	// Fault hooks of this package's tests; a non-nil error fails the
	// call. syncHook (for files and directories) is called without mu
	// held, so it may block; writeHook is called with mu held and may
	// shorten the write.
	syncHook  func(name string) error
	writeHook func(name string, off int64, n int) (int, error)
}

// memData is a file's content: data, then zeros up to size, and what the
// writes since the last sync overwrote.
type memData struct {
	data []byte
	size int64
	// undo holds, oldest first, the writes not yet synced, with what each
	// overwrote: Crash undoes those it loses.
	undo []undoEntry
}

// undoEntry is a write not yet synced: n bytes at off, over old (the n
// bytes before; nil if they were zeros past the file's data).
type undoEntry struct {
	off int64
	n   int
	old []byte
}

// NewMemFS returns an empty MemFS of unbounded size.
func NewMemFS() *MemFS {
	return &MemFS{files: map[string]*memData{}, dirs: map[string]bool{}, locks: map[string]bool{}}
}

// SetMaxBytes sets the disk's size: writes and preallocations that would
// make its files take more fail with ENOSPC. 0 means unbounded.
func (m *MemFS) SetMaxBytes(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxBytes = n
}

// used returns the bytes all files take; m.mu must be held.
func (m *MemFS) used() int64 {
	var n int64
	for _, f := range m.files {
		n += f.size
	}
	return n
}

// grow extends d to size bytes of zeros, if the disk has room; m.mu must
// be held.
func (m *MemFS) grow(d *memData, size int64) error {
	if size <= d.size {
		return nil
	}
	if m.maxBytes > 0 && m.used()+size-d.size > m.maxBytes {
		return syscall.ENOSPC
	}
	d.size = size
	return nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
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
	return &memFile{fs: m, d: d, name: name, writable: true, boot: m.boot}, nil
}

// OpenFile implements FS.
func (m *MemFS) OpenFile(name string, writable bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{fs: m, d: d, name: name, writable: writable, boot: m.boot}, nil
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
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

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[dir] {
		return false, nil
	}
	if _, ok := m.files[dir]; ok {
		return false, &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	m.dirs[dir] = true
	return true, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldName, newName string) error {
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

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

// SyncDir implements FS. Directory operations are durable at once.
func (m *MemFS) SyncDir(dir string) error {
	return m.callSyncHook(dir)
}

// callSyncHook calls syncHook without holding mu, so that a hook may
// block (a test's gate) while the rest of the file system works.
func (m *MemFS) callSyncHook(name string) error {
	m.mu.Lock()
	hook := m.syncHook
	m.mu.Unlock()
	if hook != nil {
		return hook(name)
	}
	return nil
}

// Lock implements FS. Crash releases every lock, as the end of a process
// does.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, fmt.Errorf("%w: %s", ErrLocked, name)
	}
	m.locks[name] = true
	if _, ok := m.files[name]; !ok {
		m.files[name] = &memData{}
	}
	return &memLock{fs: m, name: name, boot: m.boot}, nil
}

type memLock struct {
	fs   *MemFS
	name string
	boot uint64
}

func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if l.boot == l.fs.boot {
		delete(l.fs.locks, l.name)
	}
	return nil
}

// Unsynced returns the number of bytes written to files and not yet
// synced: what a crash may lose.
func (m *MemFS) Unsynced() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, d := range m.files {
		for _, u := range d.undo {
			n += int64(u.n)
		}
	}
	return n
}

// CrashFaults is what a crash does to the writes not yet synced.
type CrashFaults struct {
	// Keep is which of them survive; the zero value, KeepRandom, draws
	// it for each file.
	Keep KeepPolicy
	// FlipProbability is the probability that a crash that keeps some of
	// a file's unsynced bytes flips one bit among the last 16 it keeps,
	// as a write torn inside a sector leaves them damaged where it
	// stopped. The log's checksum catches it, and recovery cuts the
	// record off with what follows. (Only the last bytes: a record damaged
	// with whole records after it is what a bit flip in the middle of
	// the log looks like, which recovery refuses to guess about; 16 bytes,
	// a frame header, hold no whole record.) 0: never.
	FlipProbability float64
}

// KeepPolicy says which unsynced writes of a file a crash keeps.
type KeepPolicy uint8

const (
	// KeepRandom draws, for each file, one of the other three.
	KeepRandom KeepPolicy = iota
	// KeepNone loses every write since the file's last sync.
	KeepNone
	// KeepAll keeps them all, as a crash of the process (not of the
	// machine) does.
	KeepAll
	// KeepPrefix keeps the writes in the order they were made up to a
	// byte drawn at random, tearing the write it falls in, and loses the
	// rest.
	KeepPrefix
)

// String names the policy.
func (k KeepPolicy) String() string {
	switch k {
	case KeepRandom:
		return "random"
	case KeepNone:
		return "none"
	case KeepAll:
		return "all"
	case KeepPrefix:
		return "prefix"
	}
	return fmt.Sprintf("KeepPolicy(%d)", uint8(k))
}

// CrashReport says what a crash did to one file's unsynced writes.
type CrashReport struct {
	// File is the file's name.
	File string
	// Unsynced is the number of bytes written since its last sync.
	Unsynced int64
	// Kept is how many of them the crash kept (in the order they were
	// written), and Fate how it chose.
	Kept int64
	Fate KeepPolicy
	// FlippedBit is the bit the crash flipped, counted from the start of
	// the file (offset*8 + bit), or -1.
	FlippedBit int64
}

// Crash does to the disk what a power cut does: each file's writes since
// its last sync are kept or lost as faults says, drawing from r (nil
// means KeepAll and no flips, a crash of the process); locks are released
// and files open before are closed. It returns what it did to each file
// that had unsynced writes, in the order of the files' names, so that a
// test can show the faults of a seed.
func (m *MemFS) Crash(r *rand.Rand, faults CrashFaults) []CrashReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boot++
	clear(m.locks)
	var reports []CrashReport
	for _, name := range slices.Sorted(mapKeys(m.files)) {
		d := m.files[name]
		if len(d.undo) == 0 {
			continue
		}
		reports = append(reports, d.crash(name, r, faults))
	}
	return reports
}

// mapKeys returns the keys of a map, for slices.Sorted.
func mapKeys[K comparable, V any](mp map[K]V) func(yield func(K) bool) {
	return func(yield func(K) bool) {
		for k := range mp {
			if !yield(k) {
				return
			}
		}
	}
}

// crash applies a crash to the file's unsynced writes.
func (d *memData) crash(name string, r *rand.Rand, faults CrashFaults) CrashReport {
	var total int64
	for _, u := range d.undo {
		total += int64(u.n)
	}
	rep := CrashReport{File: name, Unsynced: total, Fate: faults.Keep, FlippedBit: -1}
	if r == nil {
		rep.Fate = KeepAll
	}
	if rep.Fate == KeepRandom {
		rep.Fate = KeepPolicy(1 + r.IntN(3))
	}
	switch rep.Fate {
	case KeepAll:
		rep.Kept = total
	case KeepPrefix:
		rep.Kept = r.Int64N(total + 1)
	}
	// Undo, newest first, what lies beyond the kept bytes.
	kept, last := rep.Kept, undoEntry{off: -1}
	var before int64 // bytes of the writes older than undo[i]
	for _, u := range d.undo {
		before += int64(u.n)
	}
	for i := len(d.undo) - 1; i >= 0; i-- {
		u := d.undo[i]
		before -= int64(u.n)
		keep := min(max(kept-before, 0), int64(u.n))
		d.restore(u, keep)
		if keep > 0 && last.off < 0 {
			last = undoEntry{off: u.off, n: int(keep)}
		}
	}
	d.undo = nil
	if r != nil && last.off >= 0 && faults.FlipProbability > 0 && r.Float64() < faults.FlipProbability {
		span := min(int64(last.n), 16)
		at := last.off + int64(last.n) - 1 - r.Int64N(span)
		bit := r.IntN(8)
		if at < int64(len(d.data)) {
			d.data[at] ^= 1 << bit
			rep.FlippedBit = at*8 + int64(bit)
		}
	}
	return rep
}

// restore undoes the write u but for its first keep bytes.
func (d *memData) restore(u undoEntry, keep int64) {
	from, to := u.off+keep, min(u.off+int64(u.n), int64(len(d.data)))
	if from >= to {
		return // nothing to undo, or cut off by a Truncate
	}
	if u.old == nil {
		clear(d.data[from:to])
		return
	}
	copy(d.data[from:to], u.old[keep:])
}

// memFile is an open file: like a file descriptor, it keeps the file's
// data (its inode) through renames and removals, until a crash.
type memFile struct {
	fs       *MemFS
	d        *memData
	name     string // the name it was opened by, for errors
	writable bool
	closed   bool
	boot     uint64
}

var errFileClosed = errors.New("file closed")

// data returns the file's content; f.fs.mu must be held.
func (f *memFile) data() (*memData, error) {
	if f.closed || f.boot != f.fs.boot {
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
	if off >= d.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), d.size-off))
	copied := 0
	if off < int64(len(d.data)) {
		copied = copy(p[:n], d.data[off:])
	}
	clear(p[copied:n])
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
	end := off + int64(n)
	if err := f.fs.grow(d, end); err != nil {
		return 0, err
	}
	if off >= int64(len(d.data)) && allZero(p[:n]) {
		// Zeros past the data: the file reads so already.
		return n, hookErr
	}
	var old []byte // nil: zeros past the data
	if off < int64(len(d.data)) {
		old = slices.Clone(d.data[off:min(end, int64(len(d.data)))])
		old = append(old, make([]byte, n-len(old))...)
	}
	if end > int64(len(d.data)) {
		d.data = append(d.data, make([]byte, end-int64(len(d.data)))...)
	}
	d.undo = append(d.undo, undoEntry{off: off, n: n, old: old})
	copy(d.data[off:], p[:n])
	return n, hookErr
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
	return d.size, nil
}

// Sync makes the file's writes durable: a later Crash keeps them.
func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	d, err := f.data()
	var written int // what the sync covers: the writes made before it
	if err == nil {
		written = len(d.undo)
	}
	f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.fs.callSyncHook(f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.boot == f.fs.boot {
		d.undo = slices.Delete(d.undo, 0, min(written, len(d.undo)))
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	d, err := f.data()
	if err != nil {
		return err
	}
	if size < d.size {
		d.size = size
		if size < int64(len(d.data)) {
			d.data = d.data[:size]
		}
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
