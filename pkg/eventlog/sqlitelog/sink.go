package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// Options configure a Sink. The zero value is valid.
type Options struct {
	// Meta is stored in the meta table for the sink's run (like
	// eventlog.StreamHeader.Meta), for example the name under which the
	// node's modules are registered for replay.
	Meta map[string]string
	// BusyTimeout bounds how long a write waits while another connection
	// (another node's sink, a reader checkpointing) holds the database's
	// write lock (default 30 s).
	BusyTimeout time.Duration
	// TxEvents is how many events the sink buffers before it writes them in
	// one transaction without waiting for the recorder's Flush (default
	// 16384). Larger transactions cost less per event but hold the write
	// lock, which other nodes recording into the same file wait for,
	// longer.
	TxEvents int
}

const (
	defaultTxEvents = 16 << 10
	// rowsPerInsert is how many rows one multi-row INSERT writes: a
	// statement per row costs about a third more (BenchmarkSink), and
	// rowsPerInsert*numEventColumns stays far below SQLite's limit of
	// 32766 parameters.
	rowsPerInsert = 32
)

// Sink writes a node's events to a SQLite database, one row per event
// (see the package documentation for the schema). It implements
// eventlog.Sink and eventlog.GapWriter. Each sink registers a run of its
// own in the runs table, so a restarted node's events are told apart from
// those of its earlier runs, and several sinks, in one process or several,
// may write to the same file at once.
//
// Events are kept (as the events themselves: they are immutable) until
// Flush or until TxEvents are buffered, then encoded and inserted in one
// transaction, so the database's write lock is held only while rows are
// inserted, never while the node is between batches.
type Sink struct {
	path string
	node stdtypes.NodeID
	run  int64
	opts Options

	db         *sql.DB
	conn       *sql.Conn
	insertOne  *sql.Stmt
	insertMany *sql.Stmt
	insertGap  *sql.Stmt

	pending []pendingEvent
	gaps    []pendingGap
	// lastSeq is the sequence number of the last event handed to the sink,
	// -1 before the first.
	lastSeq int64
	// written and dropped count events, for the runs table.
	written, dropped uint64

	// args, data and spans are reused between statements.
	args  []any
	data  []byte
	spans []int
	// nodeArg and runArg are boxed once, not once per row.
	nodeArg, runArg any

	lastType reflect.Type
	lastName string

	closed bool
	// err is the first error; a failed sink refuses further writes.
	err error
}

type pendingEvent struct {
	seq, batch uint64
	nanos      int64
	input      bool
	ev         stdtypes.Event
}

type pendingGap struct {
	afterSeq int64 // -1: before the first event
	dropped  uint64
}

// NewRecorder returns an eventlog.Recorder of node's events writing to the
// SQLite database at path (see NewSink).
func NewRecorder(path string, node stdtypes.NodeID, opts Options, ropts eventlog.RecorderOptions) (*eventlog.Recorder, error) {
	sink, err := NewSink(path, node, opts)
	if err != nil {
		return nil, err
	}
	r, err := eventlog.NewRecorder(node, sink, ropts)
	if err != nil {
		_ = sink.Close()
		return nil, err
	}
	return r, nil
}

// NewSink opens the database at path, creating it and its tables if
// needed, and registers a new run of node in it.
func NewSink(path string, node stdtypes.NodeID, opts Options) (*Sink, error) {
	if node == "" {
		return nil, errors.New("sqlitelog: sink needs a node ID")
	}
	if opts.BusyTimeout < 0 || opts.TxEvents < 0 {
		return nil, fmt.Errorf("sqlitelog: negative option (BusyTimeout %v, TxEvents %d)", opts.BusyTimeout, opts.TxEvents)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = defaultBusyTimeout
	}
	if opts.TxEvents == 0 {
		opts.TxEvents = defaultTxEvents
	}
	opts.Meta = maps.Clone(opts.Meta)
	s := &Sink{path: path, node: node, opts: opts, lastSeq: -1}
	if err := s.open(); err != nil {
		s.release()
		return nil, fmt.Errorf("sqlitelog: %s: %w", path, classify(err))
	}
	return s, nil
}

// open connects, creates the schema, registers the run and prepares the
// statements.
func (s *Sink) open() error {
	db, err := sql.Open("sqlite", writerDSN(s.path, s.opts.BusyTimeout))
	if err != nil {
		return err
	}
	s.db = db
	// One connection, kept for the sink's life: the statements are
	// prepared on it, and SQLite has one writer per file anyway.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	ctx := context.Background()
	if s.conn, err = connectWaiting(ctx, db, s.opts.BusyTimeout); err != nil {
		return err
	}
	if err := s.register(ctx); err != nil {
		return err
	}
	s.nodeArg, s.runArg = string(s.node), s.run
	if s.insertOne, err = s.conn.PrepareContext(ctx, insertSQL(1)); err != nil {
		return err
	}
	if s.insertMany, err = s.conn.PrepareContext(ctx, insertSQL(rowsPerInsert)); err != nil {
		return err
	}
	s.insertGap, err = s.conn.PrepareContext(ctx, `INSERT INTO gaps (node, run, after_seq, dropped) VALUES (?, ?, ?, ?)`)
	return err
}

// register creates the schema if needed and adds the run and its meta, in
// one transaction.
func (s *Sink) register(ctx context.Context) error {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
	}
	start := time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (node, format, start, start_text) VALUES (?, ?, ?, ?)`,
		string(s.node), FormatVersion, start.UnixNano(), start.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return err
	}
	if s.run, err = res.LastInsertId(); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(s.opts.Meta)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (run, key, value) VALUES (?, ?, ?)`, s.run, k, s.opts.Meta[k]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// insertSQL returns an INSERT of n events rows.
func insertSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", numEventColumns), ", ") + ")"
	rows := make([]string, n)
	for i := range rows {
		rows[i] = row
	}
	return "INSERT INTO events (" + eventColumns + ") VALUES " + strings.Join(rows, ", ")
}

// Path returns the database's path.
func (s *Sink) Path() string { return s.path }

// Run returns the number of the sink's run (runs.run, events.run).
func (s *Sink) Run() int64 { return s.run }

// usable returns an error if the sink cannot be written to.
func (s *Sink) usable() error {
	switch {
	case s.err != nil:
		return s.err
	case s.closed:
		return errors.New("sqlitelog: sink is closed")
	}
	return nil
}

// WriteBatch buffers the batch's events; they are written at the next
// Flush, or once TxEvents are buffered.
func (s *Sink) WriteBatch(b *eventlog.Batch) error {
	if err := s.usable(); err != nil {
		return err
	}
	nanos := b.Time.UnixNano()
	for _, e := range b.Entries {
		s.pending = append(s.pending, pendingEvent{seq: e.Seq, batch: b.Number, nanos: nanos, input: e.Input, ev: e.Event})
	}
	if n := len(b.Entries); n > 0 {
		s.lastSeq = int64(b.Entries[n-1].Seq)
	}
	if len(s.pending) >= s.opts.TxEvents {
		return s.write()
	}
	return nil
}

// WriteGap records that dropped events are missing after the last event
// written.
func (s *Sink) WriteGap(dropped uint64) error {
	if err := s.usable(); err != nil {
		return err
	}
	s.gaps = append(s.gaps, pendingGap{afterSeq: s.lastSeq, dropped: dropped})
	s.dropped += dropped
	return nil
}

// Flush writes the buffered events in one transaction and commits it: once
// it returns, they survive the process being killed.
func (s *Sink) Flush() error {
	if err := s.usable(); err != nil {
		return err
	}
	return s.write()
}

// write inserts what is buffered in one transaction; an error fails the
// sink.
func (s *Sink) write() error {
	if len(s.pending) == 0 && len(s.gaps) == 0 {
		return nil
	}
	if err := s.writeTx(); err != nil {
		s.err = fmt.Errorf("sqlitelog: %s: writing node %s's events: %w", s.path, s.node, classify(err))
		return s.err
	}
	s.written += uint64(len(s.pending))
	clear(s.pending) // drop the references to the events
	s.pending = s.pending[:0]
	s.gaps = s.gaps[:0]
	return nil
}

func (s *Sink) writeTx() error {
	ctx := context.Background()
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	many := tx.StmtContext(ctx, s.insertMany)
	rows := s.pending
	for len(rows) >= rowsPerInsert {
		if err := s.insert(ctx, many, rows[:rowsPerInsert]); err != nil {
			return err
		}
		rows = rows[rowsPerInsert:]
	}
	if len(rows) > 0 {
		one := tx.StmtContext(ctx, s.insertOne)
		for i := range rows {
			if err := s.insert(ctx, one, rows[i:i+1]); err != nil {
				return err
			}
		}
	}
	if len(s.gaps) > 0 {
		gap := tx.StmtContext(ctx, s.insertGap)
		for _, g := range s.gaps {
			var after any
			if g.afterSeq >= 0 {
				after = g.afterSeq
			}
			if _, err := gap.ExecContext(ctx, s.nodeArg, s.runArg, after, int64(g.dropped)); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// insert executes stmt, an INSERT of len(rows) rows, for rows.
func (s *Sink) insert(ctx context.Context, stmt *sql.Stmt, rows []pendingEvent) error {
	// The events' encodings go into one buffer, sliced once it is
	// complete (appending may move it).
	s.data = s.data[:0]
	s.spans = s.spans[:0]
	args := s.args[:0]
	for _, r := range rows {
		s.spans = append(s.spans, len(s.data))
		name, unencodable := s.encode(r.ev)
		args = append(args, s.nodeArg, s.runArg, int64(r.seq), int64(r.batch), r.nanos,
			string(r.ev.Dest()), name, r.input, unencodable, string(eventlog.EventJSON(r.ev)), nil)
	}
	for i := range rows {
		end := len(s.data)
		if i+1 < len(rows) {
			end = s.spans[i+1]
		}
		args[i*numEventColumns+numEventColumns-1] = s.data[s.spans[i]:end:end]
	}
	s.args = args
	_, err := stmt.ExecContext(ctx, args...)
	clear(args) // drop the references to the encodings
	return err
}

// encode appends ev's encoding to s.data, or the encoding error's text if
// its type is not registered, and returns its type name.
func (s *Sink) encode(ev stdtypes.Event) (name string, unencodable bool) {
	start := len(s.data)
	var err error
	s.data, err = codec.AppendEvent(s.data, ev)
	if err != nil {
		s.data = append(s.data[:start], err.Error()...)
		unencodable = true
	}
	if t := reflect.TypeOf(ev); t != s.lastType {
		var ok bool
		if s.lastName, ok = codec.Name(ev); !ok {
			s.lastName = stdtypes.TypeName(ev)
		}
		s.lastType = t
	}
	return s.lastName, unencodable
}

// Close writes what is buffered, records the run's end (runs.stop, events,
// dropped) and closes the database. Calling it again does nothing.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	var err error
	if s.err == nil {
		err = s.write()
		if err == nil {
			err = s.finish()
		}
	}
	s.closed = true
	if cerr := s.release(); err == nil && cerr != nil {
		err = fmt.Errorf("sqlitelog: %s: %w", s.path, cerr)
	}
	return err
}

// finish records the run's end.
func (s *Sink) finish() error {
	_, err := s.conn.ExecContext(context.Background(), `UPDATE runs SET stop = ?, events = ?, dropped = ? WHERE run = ?`,
		time.Now().UnixNano(), int64(s.written), int64(s.dropped), s.run)
	if err != nil {
		s.err = fmt.Errorf("sqlitelog: %s: recording the end of the run: %w", s.path, classify(err))
		return s.err
	}
	return nil
}

// release closes the statements, the connection and the database.
func (s *Sink) release() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insertOne, s.insertMany, s.insertGap} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	s.insertOne, s.insertMany, s.insertGap, s.conn, s.db = nil, nil, nil, nil, nil
	return errors.Join(errs...)
}

// connectWaiting opens db's connection, waiting up to busy for other
// connections. Opening runs the DSN's pragmas, and switching a new file to
// WAL while another sink does the same can fail with SQLITE_BUSY at once,
// without SQLite's busy handler: the wait the busy timeout promises is done
// here for that step.
func connectWaiting(ctx context.Context, db *sql.DB, busy time.Duration) (*sql.Conn, error) {
	deadline := time.Now().Add(busy)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		conn, err := db.Conn(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return conn, err
		}
		time.Sleep(wait)
	}
}
