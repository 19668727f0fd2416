package deploytest_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/samples/bracha"
)

// TestScenarios plays the stored scenarios that keep bugs of the
// deployments and of the scenario runner, testdata/scenarios/*.txt, with
// the Bracha broadcast of samples/bracha (whose own scenarios are there).
// After a deliberate change of behaviour, -sim.rewrite writes the new
// outcomes into the files, to be reviewed in the diff:
//
//	go test ./pkg/deploytest -run TestScenarios -sim.rewrite
func TestScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/scenarios", bracha.Scenarios())
}
