package e2e

import (
	"encoding/json"
	"os"
	"strconv"
)

func mkdir(p string) error { return os.MkdirAll(p, 0o755) }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func readFile(t interface{ Fatal(...any) }, p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func itoa(n int) string { return strconv.Itoa(n) }
