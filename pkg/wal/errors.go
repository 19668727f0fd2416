package wal

import "errors"

// ErrCorrupt is returned (wrapped, with the segment file and the offset)
// when a log's content is damaged anywhere but in a torn tail: a record
// whose checksum does not match followed by valid records, a gap in the
// indices, a segment header that does not check, a segment from another
// log. Open never repairs such a log and never skips the damage.
var ErrCorrupt = errors.New("wal: corrupt log")

// ErrNotLog is returned when Open is given a directory that holds files
// but no segment: something else lives there, and a log is not created on
// top of it.
var ErrNotLog = errors.New("wal: not a log directory")

// ErrLocked is returned when the directory is open already, by this
// process or another one.
var ErrLocked = errors.New("wal: directory is locked by another log")

// ErrClosed is returned by calls on a closed log.
var ErrClosed = errors.New("wal: log is closed")

// ErrTooLarge is returned by Append for a record longer than
// Options.MaxRecordBytes.
var ErrTooLarge = errors.New("wal: record too large")
