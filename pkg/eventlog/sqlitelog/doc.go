// Package sqlitelog records a node's events into a SQLite database and
// reads them back, so that runs can be queried with plain SQL as well as
// read with mircat. It uses modernc.org/sqlite, which needs no cgo.
//
// A Sink (an eventlog.Sink) writes one row per event; NewRecorder wraps
// one in an eventlog.Recorder, which is what a node is given. Several nodes
// may record into the same file at once, each with its own sink, in one
// process or several: the file is in WAL mode, each sink buffers its events
// and inserts them in one transaction per flush, and a sink that finds the
// file locked by another waits (Options.BusyTimeout). Open reads all
// nodes' events back, merged by time, as an eventlog.Source.
//
// # Schema
//
// Every sink adds a row to runs, so that the events of a node that was
// restarted are told apart by run:
//
//	runs    (run INTEGER PRIMARY KEY AUTOINCREMENT, -- one per sink
//	         node TEXT, format INTEGER,              -- format: FormatVersion
//	         start INTEGER, start_text TEXT,         -- Unix ns; RFC 3339
//	         stop INTEGER,                           -- Unix ns; NULL until closed
//	         events INTEGER, dropped INTEGER)        -- counted at close
//	meta    (run INTEGER, key TEXT, value TEXT)      -- Options.Meta
//	events  (node TEXT, run INTEGER, seq INTEGER,    -- primary key
//	         batch INTEGER,         -- events of a batch reached their module together
//	         time INTEGER,          -- dispatch time, Unix ns
//	         dest TEXT,             -- destination module
//	         type TEXT,             -- codec name ("mir.SendMessage"), or Go name if unregistered
//	         input INTEGER,         -- 1: input of the passive modules (see eventlog.InputInterceptor)
//	         unencodable INTEGER,   -- 1: type not registered; data holds the error
//	         event TEXT,            -- the event as JSON (eventlog.EventJSON)
//	         data BLOB)             -- the event's codec encoding
//	gaps    (node TEXT, run INTEGER,
//	         after_seq INTEGER,     -- last event written before the gap; NULL: none
//	         dropped INTEGER)       -- events dropped there (OnFull Drop)
//	events_view                     -- events with time_text (RFC 3339, ns), without data
//
// events is indexed by type and by dest besides its primary key. Sequence
// numbers count every event the node dispatched, so events left out by the
// recorder's filter leave holes in them; dropped events are listed in gaps.
// A run whose stop is NULL was not closed: it is still being recorded, or
// its process was killed and what it wrote after its last flush is lost.
//
// # Queries
//
// With the sqlite3 shell, or any SQLite client:
//
//	-- events per node and type
//	SELECT node, type, count(*) FROM events GROUP BY node, type ORDER BY 3 DESC;
//
//	-- what node 1 sent, with the destinations, in order
//	SELECT seq, time_text, json_extract(event, '$.Destinations') FROM events_view
//	WHERE node = '1' AND type = 'mir.SendMessage' ORDER BY run, seq;
//
//	-- the pongs node 1 sent (a message's type is its "$type")
//	SELECT seq, json_extract(event, '$.Msg.Seq') FROM events
//	WHERE node = '1' AND json_extract(event, '$.Msg."$type"') = 'pingpong.Pong';
//
//	-- everything for the iss module and its submodules, of all nodes, by time
//	SELECT node, seq, dest, type, event FROM events
//	WHERE dest = 'iss' OR dest LIKE 'iss/%' ORDER BY time, node, seq;
//
//	-- the runs of each node, and whether they were closed
//	SELECT node, run, start_text, stop IS NOT NULL AS closed, events, dropped FROM runs;
//
//	-- the value a recording attached for replay
//	SELECT value FROM meta JOIN runs USING (run) WHERE node = '1' AND key = 'replay.builder';
package sqlitelog
