package logging

import "time"

// timeNow stamps log records. Logging is an edge of the system, like the
// network: deterministic modules never read the clock, but their log lines
// may carry the wall time at which they were written.
var timeNow = time.Now
