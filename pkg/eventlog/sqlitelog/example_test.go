package sqlitelog_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/stdtypes"
)

// Example records a node's events into a SQLite file, queries them with
// SQL, and reads them back as records.
func Example() {
	dir, err := os.MkdirTemp("", "sqlitelog")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.db")

	// A node would be given the recorder: mir.NewNode("1", cfg, mods, rec).
	rec, err := sqlitelog.NewRecorder(path, "1", sqlitelog.Options{Meta: map[string]string{"replay": "demo"}}, eventlog.RecorderOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 3 {
		_ = rec.Intercept(stdtypes.ListOf(newPing("app", uint64(i))))
	}
	if err := rec.Close(); err != nil {
		fmt.Println(err)
		return
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	var count int
	var maxN int64
	_ = db.QueryRow(`SELECT count(*), max(json_extract(event, '$.N')) FROM events WHERE type = 'sqlitelog_test.Ping'`).Scan(&count, &maxN)
	fmt.Println("pings:", count, "largest N:", maxN)

	src, err := sqlitelog.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for {
		r, err := src.Next()
		if err != nil {
			break
		}
		fmt.Println(r.Node, r.Seq, r.Dest, r.Type)
	}
	// Output:
	// pings: 3 largest N: 2
	// 1 0 app sqlitelog_test.Ping
	// 1 1 app sqlitelog_test.Ping
	// 1 2 app sqlitelog_test.Ping
}
