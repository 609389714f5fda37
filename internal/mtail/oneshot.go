package mtail

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ExpandLogs turns --logs values (each comma-separated, each a glob) into
// the files they name, in order, without duplicates. A pattern without
// glob characters names its file even when it does not exist yet.
func ExpandLogs(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range patterns {
		for _, pat := range strings.Split(v, ",") {
			if pat = strings.TrimSpace(pat); pat == "" {
				continue
			}
			matches := []string{pat}
			if strings.ContainsAny(pat, "*?[") {
				var err error
				if matches, err = filepath.Glob(pat); err != nil {
					return nil, fmt.Errorf("expanding log pattern %q: %w", pat, err)
				}
			}
			for _, m := range matches {
				if !seen[m] {
					seen[m] = true
					out = append(out, m)
				}
			}
		}
	}
	return out, nil
}

// OneShot reads each log from its first byte to its end through every
// program, in order, then returns; "-" is standard input. getfilename() is the path as given
// (see docs/mtail.md: mtail makes it absolute).
func OneShot(progs []*Program, logs []string) error {
	fd := NewFeeder(progs)
	defer fd.Close()
	for _, path := range logs {
		if err := oneFile(fd, path); err != nil {
			return err
		}
	}
	return nil
}

func oneFile(fd *Feeder, path string) error {
	if path == "-" { // mtail's name for standard input
		if err := fd.Lines(os.Stdin, path); err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading log: %w", err)
	}
	defer f.Close()
	if err := fd.Lines(f, path); err != nil {
		return fmt.Errorf("reading log %s: %w", path, err)
	}
	return nil
}

// WriteFormat writes progs' metrics as json (mtail's one-shot dump) or
// prometheus (text exposition).
func WriteFormat(w io.Writer, format string, progs []*Program, emitProgLabel, emitTimestamp bool) error {
	switch format {
	case "json", "":
		return WriteJSON(w, progs)
	case "prometheus":
		return WritePrometheus(w, progs, emitProgLabel, emitTimestamp)
	}
	return fmt.Errorf("unknown one-shot format %q (json or prometheus)", format)
}
