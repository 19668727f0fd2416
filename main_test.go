package mir

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// test stops its node, and a stopped node must have ended all it started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
