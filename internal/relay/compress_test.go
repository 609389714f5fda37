package relay

import (
	"errors"
	"strings"
	"testing"
)

func TestCompressRoundTrip(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("GET /api/v1/users 200 ", 1000))
	block := Compress([]byte("prefix"), payload)
	if !strings.HasPrefix(string(block), "prefix") {
		t.Fatal("dst prefix lost")
	}
	if len(block)-6 >= len(payload)/4 {
		t.Errorf("repetitive payload compressed only to %d of %d bytes", len(block)-6, len(payload))
	}
	got, err := Decompress(block[6:], len(payload))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(payload) {
		t.Fatal("round trip changed the payload")
	}
	if _, err := Decompress(block[6:], len(payload)-1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("over the limit: got %v, want ErrCorrupt", err)
	}
	if _, err := Decompress([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2}, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage: got %v, want ErrCorrupt", err)
	}
}
