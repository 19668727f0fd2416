package mir

import "time"

// Stopwatch measures the total time spent between Start and Stop calls,
// across any number of them. The zero value is a stopped stopwatch at zero.
type Stopwatch struct {
	started time.Time
	running bool
	total   time.Duration
}

// Start starts measuring. Starting a running stopwatch does nothing.
func (s *Stopwatch) Start() {
	if !s.running {
		s.started = time.Now()
		s.running = true
	}
}

// Stop stops measuring and returns the time since the matching Start.
// Stopping a stopped stopwatch returns 0.
func (s *Stopwatch) Stop() time.Duration {
	if !s.running {
		return 0
	}
	d := time.Since(s.started)
	s.total += d
	s.running = false
	return d
}

// Read returns the total time measured, including the current measurement
// if the stopwatch is running.
func (s *Stopwatch) Read() time.Duration {
	if s.running {
		return s.total + time.Since(s.started)
	}
	return s.total
}

// Reset stops the stopwatch and sets it to zero.
func (s *Stopwatch) Reset() { *s = Stopwatch{} }
