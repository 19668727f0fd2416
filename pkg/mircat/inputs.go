package mircat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
)

// logKind is the format of a log file, told by its first bytes.
type logKind int

const (
	kindUnknown logKind = iota
	kindStream
	kindSQLite
)

// sqliteMagic starts every SQLite database file (sqlitelog.IsLog checks
// it too, on a path; openLog has the bytes already).
const sqliteMagic = "SQLite format 3\x00"

// sniffBytes is how many bytes tell the formats apart.
const sniffBytes = len(sqliteMagic)

// logFile is one log file that openLogs opened.
type logFile struct {
	// Path is the file's path as found (a directory's files are joined to
	// the directory as given).
	Path string
	// Kind is the file's format.
	Kind logKind
	// Header is a stream file's header (nil for other formats): the node,
	// and the Meta that the recording's user attached, such as how to
	// rebuild the node for replay.
	Header *eventlog.StreamHeader
	// Runs are a SQLite log's runs (nil for other formats): one per
	// recorder that wrote to the file, each with its node and Meta.
	Runs []sqlitelog.Run
}

// logSet is the Source that openLogs returns: the logs merged by time. A
// log that turns out damaged in its middle ends early, with an error kept
// in Errors, rather than ending the others too: mircat shows what it can.
type logSet struct {
	eventlog.Source
	files []logFile
	// errs are the inputs that could not be opened and the logs that ended
	// early on damage.
	errs []error
	// read counts the bytes read from stream files so far, for progress.
	read *int64
	// total is the size of the stream files, for progress.
	total int64
}

// Files returns the log files opened, in the order given (a directory's in
// name order).
func (s *logSet) Files() []logFile { return s.files }

// Errors returns why inputs could not be opened and why logs ended early.
// Warnings (Source.Warnings) are the lesser problems, such as a log cut off
// by a crash, which still reads to its last whole record.
func (s *logSet) Errors() []error { return s.errs }

// openLogs opens the event logs at paths and returns them as one Source
// merged by time. A path is a stream log (*.mirlog), a SQLite log, or a
// directory, whose stream and SQLite logs are all taken (not recursively).
// Files are recognized by their content, not their names.
//
// An input that cannot be opened (missing, empty, not a log) is skipped
// and its error kept (logSet.Errors) as long as another one opens; if none
// opens, openLogs returns their errors, one line each, each naming its
// file. Close the set when done.
func openLogs(paths []string) (*logSet, error) {
	set := &logSet{read: new(int64)}
	var sources []eventlog.Source
	for _, p := range paths {
		files, err := expandPath(p)
		if err != nil {
			set.errs = append(set.errs, err)
			continue
		}
		for _, f := range files {
			src, lf, size, err := openLog(f, set.read)
			if err != nil {
				set.errs = append(set.errs, err)
				continue
			}
			set.files = append(set.files, lf)
			set.total += size
			sources = append(sources, &tolerant{src: src, errs: &set.errs})
		}
	}
	switch len(sources) {
	case 0:
		if len(set.errs) == 0 {
			return nil, errors.New("no log files given")
		}
		return nil, errors.Join(set.errs...)
	case 1:
		set.Source = sources[0]
	default:
		set.Source = eventlog.Merge(sources...)
	}
	return set, nil
}

// expandPath returns path if it is a file, and the log files in it if it
// is a directory.
func expandPath(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fileError(err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fileError(err)
	}
	var files []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f := filepath.Join(path, e.Name())
		// Stream files are taken by name, so that a damaged one is
		// reported rather than silently left out; other files only if they
		// are SQLite databases (a directory may hold anything else).
		if strings.HasSuffix(e.Name(), eventlog.StreamExt) || sqlitelog.IsLog(f) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no event logs in this directory (*%s files or SQLite logs)", path, eventlog.StreamExt)
	}
	slices.Sort(files)
	return files, nil
}

// sniff tells a log's format from its first bytes. Anything that is not
// SQLite is taken for a stream log, whose reader then says what is wrong.
func sniff(prefix []byte) logKind {
	if bytes.HasPrefix(prefix, []byte(sqliteMagic)) {
		return kindSQLite
	}
	return kindStream
}

// openLog opens one log file. For a stream log, the bytes read are added
// to *read as it is read. It returns the file's size for progress (0 where
// progress is not counted in bytes).
func openLog(path string, read *int64) (eventlog.Source, logFile, int64, error) {
	lf := logFile{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, lf, 0, fileError(err)
	}
	prefix := make([]byte, sniffBytes)
	n, err := io.ReadFull(f, prefix)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		f.Close()
		return nil, lf, 0, fileError(err)
	}
	prefix = prefix[:n]
	lf.Kind = sniff(prefix)
	if lf.Kind == kindSQLite {
		f.Close()
		src, runs, err := openSQLite(path)
		if err != nil {
			return nil, lf, 0, err
		}
		lf.Runs = runs
		return src, lf, 0, nil
	}
	var size int64
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	*read += int64(n)
	// The prefix is handed back in front of the rest, so that files that
	// cannot seek (a pipe given as /dev/fd/N) read as well.
	in := io.MultiReader(bytes.NewReader(prefix), &countingReader{r: f, n: read})
	r, err := eventlog.NewStreamReader(path, in)
	if err != nil {
		f.Close()
		return nil, lf, 0, err
	}
	h := r.Header()
	lf.Header = &h
	return &fileSource{StreamReader: r, file: f}, lf, size, nil
}

// fileError turns "open x: no such file or directory" into the shorter
// "x: no such file or directory".
func fileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// fileSource is a StreamReader that closes its file too.
type fileSource struct {
	*eventlog.StreamReader
	file *os.File
}

func (s *fileSource) Close() error {
	return errors.Join(s.StreamReader.Close(), s.file.Close())
}

// countingReader adds the bytes read through it to *n.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// tolerant ends a log at its first error instead of returning it: merged
// with others, a log damaged in its middle would otherwise end them all.
// The error is kept in *errs.
type tolerant struct {
	src  eventlog.Source
	errs *[]error
	done bool
}

func (t *tolerant) Next() (*eventlog.Record, error) {
	if t.done {
		return nil, io.EOF
	}
	rec, err := t.src.Next()
	if err != nil {
		t.done = true
		if err != io.EOF {
			*t.errs = append(*t.errs, fmt.Errorf("%w (the events before the damage were read)", err))
		}
		return nil, io.EOF
	}
	return rec, nil
}

func (t *tolerant) Warnings() []string { return t.src.Warnings() }
func (t *tolerant) Close() error       { return t.src.Close() }

// scan reads set, updating p, until its end or until visit returns false,
// and then finishes p. A damaged log does not end the scan (the set keeps
// its error and goes on): any error that does is a failure.
func scan(set *logSet, p *progress, visit func(*eventlog.Record) bool) error {
	defer p.finish()
	for {
		rec, err := set.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return failure(err)
		}
		p.update()
		if !visit(rec) {
			return nil
		}
	}
}

// finish prints what went wrong with the logs of set to stderr, warnings
// first, and returns the error that sets the exit code: nil if the logs
// were read whole, an exitPartial error if not.
func (e *env) finish(set *logSet) error {
	for _, w := range set.Warnings() {
		e.warn("%s", w)
	}
	for _, err := range set.Errors() {
		fmt.Fprintf(e.stderr, "mircat: %v\n", err)
	}
	if len(set.Errors()) > 0 {
		return &exitError{code: exitPartial}
	}
	return nil
}
