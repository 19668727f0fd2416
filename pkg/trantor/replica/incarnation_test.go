package replica

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNextIncarnation: 1, 2, 3 across starts; a damaged file is an error,
// not a reason to start from 1 again; a leftover temporary file is
// harmless.
func TestNextIncarnation(t *testing.T) {
	dir := t.TempDir()
	for want := uint64(1); want <= 3; want++ {
		got, err := nextIncarnation(dir)
		if err != nil || got != want {
			t.Fatalf("incarnation %d (%v), want %d", got, err, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, incarnationFile+".tmp"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := nextIncarnation(dir); err != nil || got != 4 {
		t.Fatalf("with a leftover temporary file: %d (%v), want 4", got, err)
	}
	for _, bad := range [][]byte{nil, []byte("short"), make([]byte, 9), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if err := os.WriteFile(filepath.Join(dir, incarnationFile), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := nextIncarnation(dir); err == nil {
			t.Errorf("file %x: incarnation %d", bad, got)
		}
	}
}
