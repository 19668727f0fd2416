package mircat

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
)

type exportOptions struct {
	sqlite string
}

func newExportCmd(e *env) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --sqlite DB LOG...",
		Short: "Copy logs into a SQLite database, for SQL queries",
		Long: `export copies the events of the logs into a new SQLite event log (the schema of
package sqlitelog), one row per event, each run of each node with its metadata,
so that a run recorded to fast stream files can be queried with plain SQL:

  sqlite3 run.db "SELECT type, count(*) FROM events GROUP BY type"

Recording to stream files and exporting afterwards costs the running nodes far
less than recording to SQLite directly. Events whose type this binary does not
know cannot be re-encoded for the database: they are left out and counted.

` + exitCodesHelp,
		Example: `  mircat export --sqlite run.db run/`,
		Args:    needLogs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.sqlite == "" {
				return usageError("export needs --sqlite DB, the database to create")
			}
			return runExport(e, args, o)
		},
	}
	cmd.Flags().StringVar(&o.sqlite, "sqlite", "", "the SQLite database to create (it must not exist)")
	return cmd
}

func runExport(e *env, paths []string, o exportOptions) error {
	if _, err := os.Stat(o.sqlite); err == nil {
		return usageError("%s exists: export creates a new database", o.sqlite)
	}
	runs, err := e.recordedRuns(paths) // An input that could not be opened stops the export.
	if err != nil {
		return err
	}
	var exported, skipped uint64
	// damaged are the runs whose logs are damaged: exported up to the
	// damage, as show shows them.
	var damaged []error
	for _, r := range runs {
		n, s, err := exportRun(e, r, o.sqlite)
		exported += n
		skipped += s
		switch {
		case errors.Is(err, eventlog.ErrCorrupt):
			damaged = append(damaged, fmt.Errorf("node %s: %w", r.node, err))
		case err != nil:
			return failure(fmt.Errorf("node %s: %w", r.node, err))
		}
	}
	fmt.Fprintf(e.stdout, "exported %d events of %d runs to %s\n", exported, len(runs), o.sqlite)
	if skipped > 0 {
		e.warn("%d events left out: their types are not registered in this binary, or were not encodable when recorded", skipped)
	}
	if len(damaged) > 0 {
		return &exitError{code: exitPartial, err: errors.Join(damaged...)}
	}
	return nil
}

// exportRun copies one run into the database at path, batch by batch.
func exportRun(e *env, r *recordedRun, path string) (exported, skipped uint64, err error) {
	set, err := openLogs(r.paths)
	if err != nil {
		return 0, 0, err
	}
	defer set.Close()
	sink, err := sqlitelog.NewSink(path, r.node, sqlitelog.Options{Meta: r.meta})
	if err != nil {
		return 0, 0, err
	}
	src := r.filter(set)
	batch := eventlog.Batch{Node: r.node}
	flush := func() error {
		if len(batch.Entries) == 0 {
			return nil
		}
		err := sink.WriteBatch(&batch)
		exported += uint64(len(batch.Entries))
		clear(batch.Entries)
		batch.Entries = batch.Entries[:0]
		return err
	}
	for err == nil {
		var rec *eventlog.Record
		rec, err = src.Next()
		if err != nil {
			break
		}
		if len(batch.Entries) > 0 && rec.Batch != batch.Number {
			if err = flush(); err != nil {
				break
			}
		}
		ev, derr := rec.Decode()
		if derr != nil {
			skipped++
			continue
		}
		batch.Number, batch.Time = rec.Batch, rec.Time
		batch.Entries = append(batch.Entries, eventlog.Entry{Seq: rec.Seq, Input: rec.Input, Event: ev})
	}
	if errors.Is(err, io.EOF) {
		err = flush()
	}
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	for _, w := range set.Warnings() {
		e.warn("%s", w)
	}
	if err == nil && len(set.Errors()) > 0 {
		err = errors.Join(set.Errors()...)
	}
	return exported, skipped, err
}
