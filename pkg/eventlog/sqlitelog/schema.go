package sqlitelog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mirframework/mir/pkg/eventlog"
)

// FormatVersion is the version of the schema this package writes, stored in
// each run's row (runs.format). Readers refuse runs of a newer format.
const FormatVersion = 1

// applicationID is stored in the database header (PRAGMA application_id), so
// that file(1) and tools can tell a Mir log from other SQLite files: "MIRL".
const applicationID = 0x4d49524c

// magic starts every SQLite 3 database file.
const magic = "SQLite format 3\x00"

// schema creates the tables; it runs in the transaction that registers a
// run, so that sinks starting at once on a new file create it only once.
// The doc comment of the package describes it.
var schema = []string{
	`PRAGMA application_id = ` + strconv.Itoa(applicationID),
	`CREATE TABLE IF NOT EXISTS runs (
		run     INTEGER PRIMARY KEY AUTOINCREMENT,
		node    TEXT NOT NULL,
		format  INTEGER NOT NULL,
		start   INTEGER NOT NULL,
		start_text TEXT NOT NULL,
		stop    INTEGER,
		events  INTEGER,
		dropped INTEGER
	)`,
	`CREATE INDEX IF NOT EXISTS runs_node ON runs (node)`,
	`CREATE TABLE IF NOT EXISTS meta (
		run   INTEGER NOT NULL,
		key   TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (run, key)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS events (
		node  TEXT NOT NULL,
		run   INTEGER NOT NULL,
		seq   INTEGER NOT NULL,
		batch INTEGER NOT NULL,
		time  INTEGER NOT NULL,
		dest  TEXT NOT NULL,
		type  TEXT NOT NULL,
		input INTEGER NOT NULL,
		unencodable INTEGER NOT NULL,
		event TEXT NOT NULL,
		data  BLOB NOT NULL,
		PRIMARY KEY (node, run, seq)
	)`,
	`CREATE INDEX IF NOT EXISTS events_type ON events (type)`,
	`CREATE INDEX IF NOT EXISTS events_dest ON events (dest)`,
	`CREATE TABLE IF NOT EXISTS gaps (
		node      TEXT NOT NULL,
		run       INTEGER NOT NULL,
		after_seq INTEGER,
		dropped   INTEGER NOT NULL
	)`,
	// SQLite's own date functions keep milliseconds at most; the
	// nanoseconds are appended by hand.
	`CREATE VIEW IF NOT EXISTS events_view AS
		SELECT node, run, seq, batch,
			strftime('%Y-%m-%dT%H:%M:%S', time / 1000000000, 'unixepoch') ||
				printf('.%09dZ', time % 1000000000) AS time_text,
			time, dest, type, input, unencodable, event
		FROM events`,
}

// eventColumns are the columns of an events row, in the order the sink
// binds them.
const eventColumns = "node, run, seq, batch, time, dest, type, input, unencodable, event, data"

// numEventColumns is the number of eventColumns.
const numEventColumns = 11

// defaultBusyTimeout is how long a statement waits for another connection's
// lock on the file before failing. Writers hold the lock only while they
// insert what they buffered since their last flush (milliseconds), so
// waiting long means something is wrong, but a loaded machine with several
// nodes recording can take seconds.
const defaultBusyTimeout = 30 * time.Second

// writerDSN returns the data source name a sink opens path with.
//
// WAL lets readers (mircat, a user's sqlite3 shell) read while nodes
// write, and makes a commit one append to the WAL file. synchronous=NORMAL
// syncs only at checkpoints: a commit survives the process being killed,
// which is what Sink.Flush promises, though not a power cut. BEGIN
// IMMEDIATE takes the write lock at the start of a transaction, so a
// writer waiting for another one is handled by the busy timeout instead of
// failing with SQLITE_BUSY on a lock upgrade.
func writerDSN(path string, busy time.Duration) string {
	return "file:" + escapePath(path) +
		"?_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_txlock=immediate"
}

// readerDSN returns the data source name a reader opens path with:
// read-only, so that opening a file that is not a log does not change it.
func readerDSN(path string) string {
	return "file:" + escapePath(path) + "?mode=ro" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(defaultBusyTimeout.Milliseconds(), 10) + ")"
}

// escapePath escapes what a SQLite URI filename gives a meaning to, so that
// any path can be opened.
func escapePath(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsLog tells whether path is a SQLite database file, by its first bytes,
// so that a tool can pick the reader for a file: Open then tells whether
// the database holds an event log. It reads 16 bytes and never changes the
// file.
func IsLog(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return checkMagic(f) == nil
}

// checkMagic reads the start of a file and returns an error wrapping
// eventlog.ErrNotLog unless it is a SQLite database.
func checkMagic(f io.Reader) error {
	head := make([]byte, len(magic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return fmt.Errorf("empty file: %w", eventlog.ErrNotLog)
	case err != nil && err != io.ErrUnexpectedEOF:
		return err
	case !bytes.Equal(head[:n], []byte(magic)):
		return fmt.Errorf("%w (not a SQLite database)", eventlog.ErrNotLog)
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (another connection
// holds a lock).
func isBusy(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// classify adds eventlog's sentinel errors to SQLite's: a damaged database
// is ErrCorrupt, a file that is no database at all is ErrNotLog.
func classify(err error) error {
	var serr *sqlite.Error
	if !errors.As(err, &serr) {
		return err
	}
	switch serr.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w: %w", eventlog.ErrCorrupt, err)
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %w", eventlog.ErrNotLog, err)
	}
	return err
}
