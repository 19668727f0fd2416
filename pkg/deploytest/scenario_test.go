package deploytest_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/deploytest/internal/rbc"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
)

// TestScenarios plays the broadcast's stored scenarios,
// testdata/scenarios/*.txt: Byzantine nodes, faults, and the bugs the
// simulation found. After a deliberate change of behaviour, -sim.rewrite
// writes the new outcomes into the files, to be reviewed in the diff:
//
//	go test ./pkg/deploytest -run TestScenarios -sim.rewrite
func TestScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/scenarios", rbc.Scenarios())
}
