package mtail

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LoadDir compiles every *.mtail file in dir (dotfiles skipped), or the
// one file when dir is a file, in name order. Every compile error is
// returned, joined, so one run shows them all.
func LoadDir(dir string, opts Options) ([]*Program, error) {
	files, err := ProgramFiles(dir)
	if err != nil {
		return nil, err
	}
	var progs []*Program
	var errs []error
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading program: %w", err))
			continue
		}
		p, err := Compile(filepath.Base(path), string(src), opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		progs = append(progs, p)
	}
	return progs, errors.Join(errs...)
}

// ProgramFiles lists the program files of dir, as LoadDir reads them.
func ProgramFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading programs: %w", err)
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading programs: %w", err)
	}
	var files []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".mtail") {
			files = append(files, filepath.Join(dir, n))
		}
	}
	sort.Strings(files)
	return files, nil
}
