package bracha_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// real deployment must stop every node, timer and transport it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
