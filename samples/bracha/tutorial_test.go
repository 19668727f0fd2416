package bracha_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/tutorial.md walks through this package: it quotes its code and
// runs its commands. The tests in this file keep the page true.

// tutorialPath is the tutorial, from this package's directory.
const tutorialPath = "../../docs/tutorial.md"

// block is a fenced code block of a Markdown page.
type block struct {
	lang string
	text string
	line int // Of the opening fence.
}

// codeBlocks returns the fenced code blocks of the Markdown file at path.
func codeBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var cur *block
	var text strings.Builder
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := lines.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{lang: strings.TrimPrefix(line, "```"), line: n}
			text.Reset()
		case cur != nil && line == "```":
			cur.text = text.String()
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
		t.Fatalf("%s:%d: a code block is not closed", path, cur.line)
	}
	return blocks
}

// TestTutorialQuotes checks that the tutorial's quotes of this package
// are still in its files, so that the page cannot drift from the code
// unnoticed. A quote is a code block of language go (code) or txt (a
// scenario file); a line "..." (indented or not) elides lines, and the
// parts it separates must appear in that order in one file. Blocks of
// language text (outputs, pseudocode) and sh (commands, which
// TestTutorialCommands runs) are not quotes.
func TestTutorialQuotes(t *testing.T) {
	sources := make(map[string]string)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
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
	quotes := 0
	for _, b := range codeBlocks(t, tutorialPath) {
		if b.lang != "go" && b.lang != "txt" {
			continue
		}
		quotes++
		if file := quotedIn(sources, elisions(b.text)); file == "" {
			t.Errorf("%s:%d: the quote is in no file of samples/bracha:\n%s", tutorialPath, b.line, b.text)
		}
	}
	if quotes < 10 {
		t.Errorf("%d quotes found in %s; the parser must be broken", quotes, tutorialPath)
	}
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
