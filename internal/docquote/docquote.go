// Package docquote keeps the pages of docs/ true to the code they quote:
// it reads the fenced code blocks of a Markdown page, and checks, in a
// test of the package a page walks through, that every quote is still in
// one of its files. A page cannot drift from the code unnoticed.
package docquote

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Block is a fenced code block of a Markdown page.
type Block struct {
	// Lang is what follows the opening fence: go, txt, sh, text.
	Lang string
	// Text is the block's content, each line ended by a newline.
	Text string
	// Line is the line number of the opening fence.
	Line int
}

// Blocks returns the fenced code blocks of the Markdown file at path.
func Blocks(t testing.TB, path string) []Block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []Block
	var cur *Block
	var text strings.Builder
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := lines.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &Block{Lang: strings.TrimPrefix(line, "```"), Line: n}
			text.Reset()
		case cur != nil && line == "```":
			cur.Text = text.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			text.WriteString(line)
			text.WriteByte('\n')
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: a code block is not closed", path, cur.Line)
	}
	return blocks
}

// Check checks that the quotes of the page at path are in the files under
// the directories dirs, and returns how many it found. A quote is a code block of language
// go (code) or txt (a scenario file); a line "..." (indented or not)
// elides lines, and the parts it separates must appear in that order in
// one file (*.go or *.txt). Blocks of other languages (outputs,
// pseudocode, commands) are not quotes.
func Check(t testing.TB, page string, dirs ...string) int {
	t.Helper()
	sources := make(map[string]string)
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".txt")) {
				return err
			}
			data, err := os.ReadFile(path)
			sources[path] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	quotes := 0
	for _, b := range Blocks(t, page) {
		if b.Lang != "go" && b.Lang != "txt" {
			continue
		}
		quotes++
		if file := quotedIn(sources, elisions(b.Text)); file == "" {
			t.Errorf("%s:%d: the quote is in no file of %s:\n%s", page, b.Line, strings.Join(dirs, ", "), b.Text)
		}
	}
	return quotes
}

// elisions splits a quote at its lines "...".
func elisions(quote string) []string {
	var parts []string
	var cur strings.Builder
	for line := range strings.SplitSeq(strings.TrimSuffix(quote, "\n"), "\n") {
		if strings.TrimSpace(line) == "..." {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(parts, cur.String())
}

// quotedIn returns the name of a source in which the parts appear in
// order, or "".
func quotedIn(sources map[string]string, parts []string) string {
	for name, src := range sources {
		rest, ok := src, true
		for _, part := range parts {
			i := strings.Index(rest, part)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(part):]
		}
		if ok {
			return name
		}
	}
	return ""
}
