package all

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

var (
	fencedCode = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	mdLink     = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6}\s+(.*?)\s*#*\s*$`)
	// outside names what a self-contained doc must not point at: a SPEC
	// the repository does not have, or the directories around it.
	outside = regexp.MustCompile(`\bSPEC\b|\.\./shared|/work/`)
)

// markdownDocs returns README.md, the other top-level .md files and every
// .md file under docs/, relative to repoRoot.
func markdownDocs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDocLinksResolve: every relative link in README.md and docs/ names a
// file or directory of the repository, and an anchor (#...) names a
// heading of the file it points into. The docs are self-contained: none
// refers to a SPEC or a path outside the repository.
func TestDocLinksResolve(t *testing.T) {
	t.Parallel()
	n := 0
	for _, f := range markdownDocs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(repoRoot, f)
		for _, m := range outside.FindAllString(string(data), -1) {
			t.Errorf("%s refers to %q, which is not in the repository", name, m)
		}
		text := inlineCode.ReplaceAllString(fencedCode.ReplaceAllString(string(data), ""), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			n++
			if err := checkLink(f, m[1]); err != nil {
				t.Errorf("%s: link %s: %v", name, m[1], err)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d links found: is the scan broken?", n)
	}
}

// checkLink checks one link target found in the file from.
func checkLink(from, target string) error {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return nil
	}
	path, anchor, _ := strings.Cut(target, "#")
	dest := from
	if path != "" {
		if filepath.IsAbs(path) {
			return fmt.Errorf("absolute path; link relative to the file")
		}
		dest = filepath.Join(filepath.Dir(from), filepath.FromSlash(path))
		rel, err := filepath.Rel(repoRoot, dest)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("outside the repository")
		}
		if _, err := os.Stat(dest); err != nil {
			return fmt.Errorf("no such file in the repository")
		}
	}
	if anchor == "" {
		return nil
	}
	if !strings.HasSuffix(dest, ".md") {
		return fmt.Errorf("an anchor into a file that is not markdown")
	}
	data, err := os.ReadFile(dest)
	if err != nil {
		return err
	}
	for _, a := range headingAnchors(string(data)) {
		if a == anchor {
			return nil
		}
	}
	return fmt.Errorf("no heading with anchor #%s in %s", anchor, filepath.Base(dest))
}

// headingAnchors returns the anchors GitHub gives a markdown file's
// headings: lower case, punctuation removed, spaces as hyphens, and -1, -2
// after repeats.
func headingAnchors(md string) []string {
	seen := map[string]int{}
	var anchors []string
	for _, m := range mdHeading.FindAllStringSubmatch(fencedCode.ReplaceAllString(md, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if k := seen[a]; k > 0 {
			anchors = append(anchors, fmt.Sprintf("%s-%d", a, k))
		} else {
			anchors = append(anchors, a)
		}
		seen[a]++
	}
	return anchors
}
