package mir

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/logging"
)

// NodeConfig configures a Node.
type NodeConfig struct {
	// Logger receives the node's own log messages. Nil logs nothing.
	Logger *logging.Logger

	// MaxEventBatchSize is the largest number of events handed to a module
	// in one ApplyEvents call. Larger batches amortize the cost of a call;
	// smaller ones interleave modules more finely.
	MaxEventBatchSize int

	// PauseInputThreshold: once more events than this wait in the node's
	// buffer, the node stops reading events from active modules, so that a
	// fast network or client cannot make the buffer grow without bound.
	// Output of passive modules is never dropped, so the buffer can still
	// exceed the threshold.
	PauseInputThreshold int

	// ResumeInputThreshold: once fewer events than this wait in the buffer,
	// the node reads from active modules again. It must be at least 1 (the
	// buffer is never below 0) and at most PauseInputThreshold; a gap
	// between the two avoids flapping.
	ResumeInputThreshold int

	// Stats configures periodic logging of the node's statistics.
	Stats StatsConfig
}

// StatsConfig configures periodic logging of a node's statistics (see
// Node.Stats). The counters are kept whatever this says.
type StatsConfig struct {
	// Logger receives the statistics; nil means the node's Logger.
	Logger *logging.Logger
	// LogLevel is the level the statistics are logged at.
	LogLevel logging.Level
	// Period is the time between two log lines; 0 disables them.
	Period time.Duration
}

// DefaultNodeConfig returns the configuration most nodes should start from:
// info-level logs to standard error, batches of up to 512 events, input
// paused above 8192 buffered events and resumed below 6144, no periodic
// statistics.
func DefaultNodeConfig() *NodeConfig {
	return &NodeConfig{
		Logger:               logging.ConsoleLogger(logging.LevelInfo),
		MaxEventBatchSize:    512,
		PauseInputThreshold:  8192,
		ResumeInputThreshold: 6144,
		Stats:                StatsConfig{LogLevel: logging.LevelInfo},
	}
}

// WithLogger returns a copy of c that logs to logger.
func (c *NodeConfig) WithLogger(logger *logging.Logger) *NodeConfig {
	cp := *c
	cp.Logger = logger
	return &cp
}

// Validate checks that the configuration is usable.
func (c *NodeConfig) Validate() error {
	var errs []error
	if c.MaxEventBatchSize < 1 {
		errs = append(errs, fmt.Errorf("MaxEventBatchSize is %d; it must be at least 1", c.MaxEventBatchSize))
	}
	if c.PauseInputThreshold < 1 {
		errs = append(errs, fmt.Errorf("PauseInputThreshold is %d; it must be at least 1", c.PauseInputThreshold))
	}
	if c.ResumeInputThreshold < 1 || c.ResumeInputThreshold > c.PauseInputThreshold {
		errs = append(errs, fmt.Errorf("ResumeInputThreshold is %d; it must be between 1 and PauseInputThreshold (%d)",
			c.ResumeInputThreshold, c.PauseInputThreshold))
	}
	if c.Stats.Period < 0 {
		errs = append(errs, fmt.Errorf("Stats.Period is %v; it must not be negative", c.Stats.Period))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid node config: %w", err)
	}
	return nil
}
