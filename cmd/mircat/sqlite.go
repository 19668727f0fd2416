package main

import (
	"fmt"

	"github.com/mirframework/mir/pkg/eventlog"
)

// openSQLite opens a SQLite log.
func openSQLite(path string) (eventlog.Source, error) {
	return nil, fmt.Errorf("%s: a SQLite log, which this build of mircat cannot read yet", path)
}
