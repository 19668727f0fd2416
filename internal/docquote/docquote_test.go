package docquote

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestElisions(t *testing.T) {
	got := elisions("a\n\t...\nb\n...\nc\n")
	if want := []string{"a\n", "b\n", "c\n"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("elisions = %q, want %q", got, want)
	}
	sources := map[string]string{"x.go": "a\nz\nb\nc\n"}
	if quotedIn(sources, got) != "x.go" || quotedIn(sources, []string{"b\n", "a\n"}) != "" {
		t.Error("quotedIn does not check the parts in order")
	}
}

// TestCheck: a page's quotes are found in the files of a directory, the
// blocks that are no quotes are skipped, and a quote that is in no file
// fails the test.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("a.go", "package a\n\nfunc A() {\n\treturn\n}\n")
	write("s.txt", "nodes 0 1\nrun 1s\n")
	page := write("page.md", "# Page\n\n```go\nfunc A() {\n\t...\n}\n```\n\n```txt\nrun 1s\n```\n\n```sh\nnot quoted\n```\n")
	if n := Check(t, page, dir); n != 2 {
		t.Errorf("%d quotes, want 2", n)
	}
	blocks := Blocks(t, page)
	if len(blocks) != 3 || blocks[2].Lang != "sh" || blocks[2].Line != 13 || blocks[1].Text != "run 1s\n" {
		t.Errorf("blocks %+v", blocks)
	}
	bad := write("bad.md", "```go\nfunc B() {}\n```\n")
	var rec recorder
	Check(&rec, bad, dir)
	if !rec.failed {
		t.Error("a quote in no file passed")
	}
}

// recorder is a testing.TB that records a failure instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
