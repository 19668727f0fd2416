package mircat

import (
	"strings"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
)

// openSQLite opens a SQLite log, with its runs (each with the node and
// the Meta its recording attached).
func openSQLite(path string) (eventlog.Source, []sqlitelog.Run, error) {
	runs, err := sqlitelog.Runs(path)
	if err != nil {
		return nil, nil, unprefixed(err)
	}
	src, err := sqlitelog.Open(path)
	if err != nil {
		return nil, nil, unprefixed(err)
	}
	return src, runs, nil
}

// unprefixed drops the "sqlitelog: " that starts the package's errors,
// so that mircat's messages all start with the file's path; errors.Is and
// errors.As still see the error.
func unprefixed(err error) error {
	msg, ok := strings.CutPrefix(err.Error(), "sqlitelog: ")
	if !ok {
		return err
	}
	return &relabeled{msg: msg, err: err}
}

// relabeled is an error with another message.
type relabeled struct {
	msg string
	err error
}

func (e *relabeled) Error() string { return e.msg }
func (e *relabeled) Unwrap() error { return e.err }
