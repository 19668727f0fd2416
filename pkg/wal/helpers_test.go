package wal

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// testDir is the log directory in tests on a memFS.
const testDir = "/log"

// smallOptions gives segments of 4 KiB, so that a few dozen records fill
// several of them.
func smallOptions(fsys FS) Options {
	return Options{SegmentBytes: 4 << 10, MaxRecordBytes: 1 << 10, FS: fsys}
}

// payload returns the data of record i in tests: its length varies from 0
// to 300 bytes and its bytes depend on i, so that a record moved, cut or
// changed is seen.
func payload(i uint64) []byte {
	n := int(i*37) % 301
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*131 + uint64(j)*7)
	}
	return b
}

// setSyncHook sets the memFS's sync hook.
func (m *memFS) setSyncHook(hook func(name string) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncHook = hook
}

// writeRecords opens the log, appends records first..last with payload(i),
// syncs and closes it.
func writeRecords(t testing.TB, opts Options, first, last uint64) {
	t.Helper()
	r, err := OpenRaw(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := first; i <= last; i++ {
		index, err := r.Append(payload(i))
		if err != nil {
			t.Fatal(err)
		}
		if index != i {
			t.Fatalf("Append gave index %d, want %d", index, i)
		}
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// collect reads every record of records, stopping at the first error.
func collect(records func(func(Record, error) bool)) ([]Record, error) {
	var out []Record
	for rec, err := range records {
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// checkRecords checks that recs are the records first..last with
// payload(i).
func checkRecords(recs []Record, first, last uint64) error {
	if want := int(last + 1 - first); len(recs) != want {
		return fmt.Errorf("got %d records, want %d (%d to %d)", len(recs), want, first, last)
	}
	for k, rec := range recs {
		i := first + uint64(k)
		if rec.Index != i {
			return fmt.Errorf("record %d has index %d, want %d", k, rec.Index, i)
		}
		if !bytes.Equal(rec.Data, payload(i)) {
			return fmt.Errorf("record %d: data differs", i)
		}
	}
	return nil
}

// reopen opens the log in testDir with opts and returns its records.
func reopen(opts Options) (*RawLog, []Record, error) {
	r, err := OpenRaw(testDir, opts)
	if err != nil {
		return nil, nil, err
	}
	recs, err := collect(r.Records(0))
	if err != nil {
		_ = r.Close()
		return nil, nil, err
	}
	return r, recs, nil
}

// mustRecover opens the log in testDir, checks that it holds the records
// first..last with payload(i), closes it and returns what Open found.
func mustRecover(t testing.TB, opts Options, first, last uint64) Recovery {
	t.Helper()
	r := mustReopen(t, opts, first, last)
	mustClose(t, r)
	return r.Recovery()
}

// mustReopen opens the log in testDir and checks that it holds the
// records first..last with payload(i); the caller closes it.
func mustReopen(t testing.TB, opts Options, first, last uint64) *RawLog {
	t.Helper()
	r, recs, err := reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(recs, first, last); err != nil {
		_ = r.Close()
		t.Fatal(err)
	}
	return r
}

// appendDurable appends the records first..last with payload(i) to l,
// each waiting until durable.
func appendDurable(t testing.TB, l *Log, first, last uint64) {
	t.Helper()
	for i := first; i <= last; i++ {
		index, err := l.Append(payload(i))
		if err != nil {
			t.Fatal(err)
		}
		if index != i {
			t.Fatalf("record %d got index %d", i, index)
		}
	}
}

// segmentPaths returns the paths of the segment files of the memFS's log.
func segmentPaths(t testing.TB, m *memFS) []string {
	t.Helper()
	names, err := m.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, name := range names {
		if _, ok := parseSegmentName(name); ok {
			paths = append(paths, filepath.Join(testDir, name))
		}
	}
	return paths
}

// mustClose closes c and fails the test on an error.
func mustClose(t testing.TB, c interface{ Close() error }) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}
