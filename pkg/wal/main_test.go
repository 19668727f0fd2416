package wal

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs a helper process when the test binary is started as one
// (see helperMain), else the tests, checking that no goroutine outlives
// them: a Log's committer ends with Close.
func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(helperMain(role))
	}
	goleak.VerifyTestMain(m)
}
