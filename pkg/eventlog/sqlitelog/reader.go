package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// maxNameCache bounds each reader's cache of destination and type strings,
// so that a log with very many distinct ones cannot grow it without limit.
const maxNameCache = 4096

// maxWarnings bounds the warnings a reader keeps (as eventlog's stream
// reader does): a file with very many gaps or runs not closed must not make
// the reader's memory grow with its size.
const maxWarnings = 100

// Run describes one sink's run: the events one node recorded from the
// start of its recorder to its Close.
type Run struct {
	// ID is the run's number (runs.run), unique in the file.
	ID int64
	// Node is the node whose events the run holds.
	Node stdtypes.NodeID
	// Format is the schema version the run was written with.
	Format int
	// Start is when the sink was created.
	Start time.Time
	// Closed tells whether the sink was closed; if not, it is still
	// recording or its process was killed, and Stop, Events and Dropped
	// are zero.
	Closed bool
	// Stop is when the sink was closed.
	Stop time.Time
	// Events counts the events written, Dropped those the recorder
	// dropped (OnFull Drop).
	Events, Dropped uint64
	// Meta is what the recording's user attached (Options.Meta).
	Meta map[string]string
}

// Runs returns the runs recorded in the log at path, in the order they
// started.
func Runs(path string) ([]Run, error) {
	db, conn, err := openReader(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	runs, err := readRuns(context.Background(), conn)
	if err != nil {
		return nil, fmt.Errorf("sqlitelog: %s: %w", path, err)
	}
	return runs, nil
}

// Open returns the events of all runs in the log at path as one Source,
// ordered by time, then node, then sequence number. Rows are read as they
// are needed, never all at once. A file that is empty, is not a SQLite
// database, or holds no event log is an error wrapping eventlog.ErrNotLog;
// a damaged one, eventlog.ErrCorrupt.
func Open(path string) (eventlog.Source, error) {
	return OpenQuery(path, eventlog.Query{})
}

// OpenQuery is Open for the records q selects; the selection is made by
// SQLite, so the rows that are left out are not read.
func OpenQuery(path string, q eventlog.Query) (eventlog.Source, error) {
	db, conn, err := openReader(path)
	if err != nil {
		return nil, err
	}
	r := &reader{path: path, db: db, conn: conn}
	if err := r.start(context.Background(), q); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("sqlitelog: %s: %w", path, err)
	}
	return r, nil
}

// openReader opens path read-only after checking that it is a SQLite
// database holding the log's tables.
func openReader(path string) (*sql.DB, *sql.Conn, error) {
	if err := checkFile(path); err != nil {
		return nil, nil, fmt.Errorf("sqlitelog: %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", readerDSN(path))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitelog: %s: %w", path, err)
	}
	// One connection: the per-run queries are read on it at once, in one
	// read transaction, so they see one state of a file being written.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err == nil {
		err = checkTables(context.Background(), conn)
		if err != nil {
			_ = conn.Close()
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("sqlitelog: %s: %w", path, classify(err))
	}
	return db, conn, nil
}

// checkFile checks the file's first bytes, so that an empty or foreign file
// is told apart from a damaged database.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkMagic(f)
}

// checkTables returns an error wrapping ErrNotLog unless the database has
// the tables a reader needs.
func checkTables(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'events', 'meta', 'gaps')`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		found = append(found, name)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(found) < 4 {
		return fmt.Errorf("%w: a SQLite database without the event log's tables (has %d of runs, events, meta, gaps)", eventlog.ErrNotLog, len(found))
	}
	return nil
}

// readRuns reads the runs table and the meta table.
func readRuns(ctx context.Context, conn *sql.Conn) ([]Run, error) {
	rows, err := conn.QueryContext(ctx, `SELECT run, node, format, start, stop, events, dropped FROM runs ORDER BY run`)
	if err != nil {
		return nil, notLogIfSchema(err)
	}
	defer rows.Close()
	var runs []Run
	byID := make(map[int64]*Run)
	for rows.Next() {
		var run Run
		var start int64
		var stop, events, dropped sql.NullInt64
		if err := rows.Scan(&run.ID, &run.Node, &run.Format, &start, &stop, &events, &dropped); err != nil {
			return nil, fmt.Errorf("runs table: %w: %w", eventlog.ErrCorrupt, err)
		}
		if run.Format > FormatVersion || run.Format < 1 {
			return nil, fmt.Errorf("run %d is of format %d, this build reads %d: %w", run.ID, run.Format, FormatVersion, eventlog.ErrNotLog)
		}
		if run.Node == "" || events.Int64 < 0 || dropped.Int64 < 0 {
			return nil, fmt.Errorf("runs table: run %d: bad node, events or dropped: %w", run.ID, eventlog.ErrCorrupt)
		}
		run.Start = time.Unix(0, start)
		if stop.Valid {
			run.Closed = true
			run.Stop = time.Unix(0, stop.Int64)
			run.Events, run.Dropped = uint64(events.Int64), uint64(dropped.Int64)
		}
		runs = append(runs, run)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
	}
	if err := readMeta(ctx, conn, byID); err != nil {
		return nil, err
	}
	return runs, nil
}

func readMeta(ctx context.Context, conn *sql.Conn, byID map[int64]*Run) error {
	rows, err := conn.QueryContext(ctx, `SELECT run, key, value FROM meta ORDER BY run, key`)
	if err != nil {
		return notLogIfSchema(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("meta table: %w: %w", eventlog.ErrCorrupt, err)
		}
		if run, ok := byID[id]; ok {
			if run.Meta == nil {
				run.Meta = make(map[string]string)
			}
			run.Meta[k] = v
		}
	}
	return classify(rows.Err())
}

// notLogIfSchema reports a query that fails because a table lacks a column
// as a file that is not (this version's) event log.
func notLogIfSchema(err error) error {
	if strings.Contains(err.Error(), "no such column") {
		return fmt.Errorf("%w: %w", eventlog.ErrNotLog, err)
	}
	return classify(err)
}

// reader is the Source Open returns: the runs' sources merged.
type reader struct {
	path     string
	db       *sql.DB
	conn     *sql.Conn
	runs     []*runSource
	src      eventlog.Source
	warnings []string
	closed   bool
}

// start reads the runs, opens a query per selected run, and warns about
// runs not closed and events dropped.
func (r *reader) start(ctx context.Context, q eventlog.Query) error {
	runs, err := readRuns(ctx, r.conn)
	if err != nil {
		return err
	}
	where, args := queryConditions(q)
	selected := make(map[int64]bool)
	var sources []eventlog.Source
	for _, run := range runs {
		if len(q.Nodes) > 0 && !slices.Contains(q.Nodes, run.Node) ||
			len(q.Runs) > 0 && !slices.Contains(q.Runs, run.ID) {
			continue
		}
		selected[run.ID] = true
		if !run.Closed {
			r.warn("node %s, run %d: the recorder was not closed (still recording, or its process was killed): events written after its last flush are missing", run.Node, run.ID)
		}
		rs, err := r.openRun(ctx, run, where, args)
		if err != nil {
			return err
		}
		r.runs = append(r.runs, rs)
		sources = append(sources, rs)
	}
	if err := r.gapWarnings(ctx, selected); err != nil {
		return err
	}
	switch len(sources) {
	case 0:
		r.src = emptySource{}
	case 1:
		r.src = sources[0]
	default:
		r.src = eventlog.Merge(sources...)
	}
	return nil
}

// queryConditions returns the SQL conditions (each starting with " AND ")
// and their arguments for what q selects besides nodes.
func queryConditions(q eventlog.Query) (string, []any) {
	var b strings.Builder
	var args []any
	if q.FromSeq > 0 {
		b.WriteString(" AND seq >= ?")
		args = append(args, clampInt64(q.FromSeq))
	}
	if q.ToSeq != 0 {
		b.WriteString(" AND seq <= ?")
		args = append(args, clampInt64(q.ToSeq))
	}
	if !q.From.IsZero() {
		b.WriteString(" AND time >= ?")
		args = append(args, q.From.UnixNano())
	}
	if !q.To.IsZero() {
		b.WriteString(" AND time <= ?")
		args = append(args, q.To.UnixNano())
	}
	if len(q.Types) > 0 {
		b.WriteString(" AND type IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(q.Types)), ", ") + ")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if len(q.Modules) > 0 && !slices.Contains(q.Modules, "") {
		// A module or its submodules: dest is m, or starts with "m/",
		// which in SQLite's byte order is the range ["m/", "m0").
		var alts []string
		for _, m := range q.Modules {
			alts = append(alts, "dest = ? OR (dest >= ? AND dest < ?)")
			args = append(args, string(m), string(m)+"/", string(m)+"0")
		}
		b.WriteString(" AND (" + strings.Join(alts, " OR ") + ")")
	}
	return b.String(), args
}

func clampInt64(v uint64) int64 {
	return int64(min(v, uint64(1<<63-1)))
}

func (r *reader) openRun(ctx context.Context, run Run, where string, args []any) (*runSource, error) {
	query := `SELECT seq, batch, time, dest, type, input, unencodable, data FROM events
		WHERE node = ? AND run = ?` + where + ` ORDER BY seq`
	rows, err := r.conn.QueryContext(ctx, query, append([]any{string(run.Node), run.ID}, args...)...)
	if err != nil {
		return nil, notLogIfSchema(err)
	}
	return &runSource{
		r: r, rows: rows, run: run,
		dests: make(map[string]stdtypes.ModuleID),
		types: make(map[string]string),
		rec:   eventlog.Record{Node: run.Node, Run: run.ID, File: r.path},
	}, nil
}

func (r *reader) gapWarnings(ctx context.Context, selected map[int64]bool) error {
	rows, err := r.conn.QueryContext(ctx, `SELECT node, run, after_seq, dropped FROM gaps ORDER BY run, rowid`)
	if err != nil {
		return notLogIfSchema(err)
	}
	defer rows.Close()
	for rows.Next() {
		var node string
		var run, dropped int64
		var after sql.NullInt64
		if err := rows.Scan(&node, &run, &after, &dropped); err != nil {
			return fmt.Errorf("gaps table: %w: %w", eventlog.ErrCorrupt, err)
		}
		if !selected[run] {
			continue
		}
		where := "before its first event"
		if after.Valid {
			where = fmt.Sprintf("after event %d", after.Int64)
		}
		r.warn("node %s, run %d: the recorder dropped %d events %s (its buffer was full)", node, run, dropped, where)
	}
	return classify(rows.Err())
}

func (r *reader) warn(format string, args ...any) {
	switch {
	case len(r.warnings) < maxWarnings:
		r.warnings = append(r.warnings, r.path+": "+fmt.Sprintf(format, args...))
	case len(r.warnings) == maxWarnings:
		r.warnings = append(r.warnings, r.path+": more warnings not shown")
	}
}

// Next returns the next record, or io.EOF after the last.
func (r *reader) Next() (*eventlog.Record, error) {
	if r.closed {
		return nil, errors.New("sqlitelog: reader is closed")
	}
	return r.src.Next()
}

// Warnings returns the runs not closed, the events dropped, and anything
// found wrong while reading.
func (r *reader) Warnings() []string {
	w := slices.Clone(r.warnings)
	if r.src != nil {
		w = append(w, r.src.Warnings()...)
	}
	return w
}

// Close releases the queries and the database. Calling it again does
// nothing.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for _, rs := range r.runs {
		errs = append(errs, rs.Close())
	}
	errs = append(errs, r.conn.Close(), r.db.Close())
	return errors.Join(errs...)
}

// runSource reads one run's rows, ordered by sequence number and so by
// time.
type runSource struct {
	r    *reader
	rows *sql.Rows
	run  Run
	rec  eventlog.Record
	// dests and types cache the strings of rows read, so that a row
	// allocates nothing for them.
	dests map[string]stdtypes.ModuleID
	types map[string]string
	// lastNanos is the previous row's time, to tell rows out of order.
	lastNanos  int64
	outOfOrder bool
	done       bool
	err        error
}

// Next returns the run's next row as a record valid until the next call.
func (s *runSource) Next() (*eventlog.Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.done {
		return nil, io.EOF
	}
	if !s.rows.Next() {
		s.done = true
		if err := s.rows.Err(); err != nil {
			s.err = fmt.Errorf("sqlitelog: %s: node %s, run %d: %w", s.r.path, s.run.Node, s.run.ID, classify(err))
			return nil, s.err
		}
		return nil, io.EOF
	}
	if err := s.scan(); err != nil {
		s.err = fmt.Errorf("sqlitelog: %s: node %s, run %d, after seq %d: %w: %w", s.r.path, s.run.Node, s.run.ID, s.rec.Seq, eventlog.ErrCorrupt, err)
		return nil, s.err
	}
	return &s.rec, nil
}

// scan fills s.rec from the current row and checks it.
func (s *runSource) scan() error {
	var seq, batch, nanos, input, unencodable int64
	var dest, typ, data sql.RawBytes
	if err := s.rows.Scan(&seq, &batch, &nanos, &dest, &typ, &input, &unencodable, &data); err != nil {
		return err
	}
	switch {
	case seq < 0 || batch < 0:
		return fmt.Errorf("row with seq %d, batch %d", seq, batch)
	case input&^1 != 0 || unencodable&^1 != 0:
		return fmt.Errorf("seq %d: input %d and unencodable %d are not 0 or 1", seq, input, unencodable)
	case len(dest) == 0 || len(typ) == 0:
		return fmt.Errorf("seq %d: no destination or type", seq)
	}
	// A row's data are handed out as the event's encoding; the database
	// keeps no checksum of them, but damage that leaves them malformed is
	// caught here rather than shown later as an event that cannot be
	// decoded. (An unencodable event's data are the error's text.)
	if unencodable == 0 {
		if err := cborCheck.Wellformed(data); err != nil {
			return fmt.Errorf("seq %d: its data are not an encoded event: %w", seq, err)
		}
	}
	if nanos < s.lastNanos && !s.outOfOrder {
		s.outOfOrder = true
		s.r.warn("node %s, run %d: event %d is dated before the one before it: the log's order by time is broken", s.run.Node, s.run.ID, seq)
	}
	s.lastNanos = nanos
	rec := &s.rec
	rec.Seq = uint64(seq)
	rec.Batch = uint64(batch)
	rec.Time = time.Unix(0, nanos)
	rec.Dest = cached(s.dests, dest, func(b []byte) stdtypes.ModuleID { return stdtypes.ModuleID(b) })
	rec.Type = cached(s.types, typ, func(b []byte) string { return string(b) })
	rec.Input = input == 1
	rec.Unencodable = unencodable == 1
	rec.Data = data
	return nil
}

// cborCheck checks that a row's data are well-formed CBOR, as package
// codec encodes events. Its limits are the library's widest: the codec
// enforces its own when it decodes, and this check must refuse nothing
// that the codec wrote.
var cborCheck = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxNestedLevels: 65535, MaxArrayElements: math.MaxInt32, MaxMapPairs: math.MaxInt32}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("sqlitelog: CBOR options: %v", err)) // constant options: a bug here
	}
	return dm
}()

// cached returns b converted by conv, from cache when it was seen before.
func cached[T ~string](cache map[string]T, b []byte, conv func([]byte) T) T {
	if v, ok := cache[string(b)]; ok {
		return v
	}
	v := conv(b)
	if len(cache) < maxNameCache {
		cache[string(v)] = v
	}
	return v
}

// Warnings returns nothing: the reader keeps the warnings of all runs.
func (s *runSource) Warnings() []string { return nil }

// Close closes the run's query.
func (s *runSource) Close() error {
	s.done = true
	return s.rows.Close()
}

// emptySource is the Source of a log with no runs selected.
type emptySource struct{}

func (emptySource) Next() (*eventlog.Record, error) { return nil, io.EOF }
func (emptySource) Warnings() []string              { return nil }
func (emptySource) Close() error                    { return nil }
