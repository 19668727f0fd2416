package tcp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: Stop
// must end every goroutine a transport started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
