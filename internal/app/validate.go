package app

import (
	"fmt"
	"io"
)

// Validate checks the config at path and prints every problem; it returns
// the exit code.
func Validate(path string, stdout, stderr io.Writer) int {
	cfg, err := LoadConfig(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitConfig
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d components)\n", cfg.File, len(cfg.Components))
	return ExitOK
}
