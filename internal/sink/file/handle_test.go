package file

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTornLastLineIsEnded: a file left ending in half a line (a writer
// killed mid-write) gets a newline before new records are appended.
func TestTornLastLineIsEnded(t *testing.T) {
	for _, tc := range []struct{ name, before, want string }{
		{"torn", "complete\ntor", "complete\ntor\nnext\n"},
		{"clean", "complete\n", "complete\nnext\n"},
		{"empty", "", "next\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.log")
			if err := os.WriteFile(p, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			h, err := openHandle(p, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.f.Write([]byte("next\n")); err != nil {
				t.Fatal(err)
			}
			h.f.Close()
			got, _ := os.ReadFile(p)
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
