package eventlog

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A Source yields records in order: one log file, several merged, or a
// filtered view.
type Source interface {
	// Next returns the next record, or io.EOF after the last. The record is
	// valid until the next call; Record.Clone keeps it longer.
	Next() (*Record, error)
	// Warnings returns what was found wrong so far without stopping the
	// reading, such as a file cut off by a crash.
	Warnings() []string
	// Close releases the source.
	Close() error
}

// StreamFiles returns the stream log files among paths: files are taken as
// they are, directories are searched (not recursively) for files ending in
// StreamExt. The result is sorted within each directory.
func StreamFiles(paths ...string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), StreamExt) {
				found = append(found, filepath.Join(p, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no %s files in this directory", p, StreamExt)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// Open opens the stream logs among paths (see StreamFiles) and returns them
// merged into one Source ordered by time. If any cannot be opened, Open
// closes the others and returns the error.
func Open(paths ...string) (Source, error) {
	files, err := StreamFiles(paths...)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("eventlog: no log files given")
	}
	sources := make([]Source, 0, len(files))
	for _, f := range files {
		r, err := OpenStream(f)
		if err != nil {
			for _, s := range sources {
				_ = s.Close()
			}
			return nil, err
		}
		sources = append(sources, r)
	}
	if len(sources) == 1 {
		return sources[0], nil
	}
	return Merge(sources...), nil
}

// Merge returns a Source yielding the records of sources ordered by time;
// records of the same time come by node, then run, then sequence number,
// then source.
// Each source must be ordered by time itself, as logs are. Closing it
// closes the sources.
func Merge(sources ...Source) Source {
	return &merged{sources: sources}
}

type merged struct {
	sources []Source
	h       mergeHeap
	started bool
	// last is the source whose record Next returned last; it is advanced
	// on the following call, so that the record stays valid until then.
	last int
	err  error
}

type mergeItem struct {
	rec *Record
	src int
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, b := h[i].rec, h[j].rec
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if a.Node != b.Node {
		return a.Node < b.Node
	}
	if a.Run != b.Run {
		return a.Run < b.Run
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return h[i].src < h[j].src
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (m *merged) advance(src int) error {
	rec, err := m.sources[src].Next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	heap.Push(&m.h, mergeItem{rec: rec, src: src})
	return nil
}

func (m *merged) Next() (*Record, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.started {
		m.started = true
		for i := range m.sources {
			if err := m.advance(i); err != nil {
				m.err = err
				return nil, err
			}
		}
	} else if m.last >= 0 {
		if err := m.advance(m.last); err != nil {
			m.err = err
			return nil, err
		}
	}
	m.last = -1
	if m.h.Len() == 0 {
		return nil, io.EOF
	}
	it := heap.Pop(&m.h).(mergeItem)
	m.last = it.src
	return it.rec, nil
}

func (m *merged) Warnings() []string {
	var w []string
	for _, s := range m.sources {
		w = append(w, s.Warnings()...)
	}
	return w
}

func (m *merged) Close() error {
	var errs []error
	for _, s := range m.sources {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Filtered returns a Source yielding the records of src that q selects.
// Closing it closes src.
func Filtered(src Source, q Query) Source {
	return &filtered{src: src, q: q}
}

type filtered struct {
	src Source
	q   Query
}

func (f *filtered) Next() (*Record, error) {
	for {
		rec, err := f.src.Next()
		if err != nil {
			return nil, err
		}
		if f.q.Match(rec) {
			return rec, nil
		}
	}
}

func (f *filtered) Warnings() []string { return f.src.Warnings() }
func (f *filtered) Close() error       { return f.src.Close() }
