// Package eventlog records every event a node dispatches and reads the
// recordings back, so that a run can be inspected (cmd/mircat, or a mircat
// of one's own built with package mircat) and replayed (package replay).
//
// # Recording
//
// A node hands each batch it dispatches to its Interceptor (mir.NewNode's
// last argument). A Recorder is one: it keeps the batch's events (events
// are immutable once emitted, so keeping the pointers is enough) and a
// goroutine of its own filters, encodes and writes them to a Sink, so that
// the node's loop spends a few nanoseconds per event on recording. Its
// buffer is bounded: when it is full the node waits (the default: a
// recording that claims to be complete never silently loses events), or,
// with OnFull Drop, the events are dropped, counted and the log marks the
// gap. Close the recorder once the node has stopped; it writes what it
// buffered and closes the sink.
//
//	rec, err := eventlog.NewStreamRecorder("run/", nodeID, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
//	node, err := mir.NewNode(nodeID, config, modules, rec)
//	... node.Run(ctx) ...
//	err = rec.Close()
//
// Every record has the node, the event's sequence number in the node's
// dispatch order, the batch it was dispatched in, the time (the wall
// clock's, or in a simulation the simulated time, which the simulation
// hands the recorder: see TimedInterceptor), the destination, the event's type, the event encoded with package codec, and
// whether the event was an input of the node's passive modules or one of
// their outputs (InputInterceptor), which is what replay needs.
//
// Sinks: StreamSink writes zstd-compressed stream files, one compressor per
// file, rotated by size (StreamOptions.MaxFileSize), NODE.N.mirlog in a
// directory. It writes each byte string of 64 bytes or more in the events'
// encodings (a transaction's payload, a signature) once, and refers to it
// when a later event of the same file carries it again, while it is in the
// file's window (StreamOptions.RefWindowBytes): a transaction is in many
// events, and compressing every copy was most of recording's cost. The
// reader puts the strings back, so every record holds the event's
// encoding as it was. Package sqlitelog writes a SQLite database with
// one row per event and the event as JSON, for SQL queries, at a much
// higher cost per event (see BENCHMARKS.md; `mircat export --sqlite` copies stream files
// into such a database after the run instead).
//
// # Reading
//
// A Source yields Records in order. OpenStream reads one stream file, Open
// reads files and directories merged by time (Merge), Filtered applies a
// Query (node, module, type, sequence numbers, time). A record keeps the
// event encoded; Record.Decode decodes it, for types registered with
// package codec in the reading binary.
//
// Stream files are written in blocks, each with a CRC-32C of its own, and
// no record is handed out before the blocks that hold it have been read
// whole and checked. A file cut off by a crash (it ends inside or between blocks)
// is read up to its last whole block, with a warning (Source.Warnings); a
// whole block that fails its checksum, anywhere, is damage: the records
// before it, then an error wrapping ErrCorrupt that names the file and
// the block's offset, as is a reference to a string the file's window
// does not hold. A file that is empty, not a log, or of a format version
// this package does not read (it reads 2 and 3) is an error wrapping
// ErrNotLog.
package eventlog
