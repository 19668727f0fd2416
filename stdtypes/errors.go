package stdtypes

import (
	"errors"
	"fmt"
)

var errEmptyModuleID = errors.New("empty module ID")

// InvalidModuleIDError reports a module path with an empty segment.
type InvalidModuleIDError struct {
	ID ModuleID
}

func (e *InvalidModuleIDError) Error() string {
	return fmt.Sprintf("invalid module ID %q: empty path segment", string(e.ID))
}
