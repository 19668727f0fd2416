package client_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: Stop and
// Close must end every goroutine a server or client started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
