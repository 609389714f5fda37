package redact

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// cardDigits draws n digits (13-19) whose Luhn check passes when valid, or
// fails when not.
func cardDigits(t *rapid.T, valid bool) string {
	n := rapid.IntRange(13, 19).Draw(t, "length")
	d := []byte(rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), n-1, n-1, -1).Draw(t, "body"))
	for c := byte('0'); c <= '9'; c++ {
		if luhn(string(append(d, c))) == valid {
			return string(append(d, c))
		}
	}
	panic("unreachable: one check digit of ten passes Luhn")
}

// grouped inserts one kind of separator (none, space or dash) at random
// places between digits, never two in a row.
func grouped(t *rapid.T, digits string) string {
	sep := rapid.SampledFrom([]string{"", " ", "-"}).Draw(t, "separator")
	var b strings.Builder
	for i := range len(digits) {
		if i > 0 && sep != "" && rapid.Bool().Draw(t, "split") {
			b.WriteString(sep)
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// text is random log text around a number: any characters, digits too,
// ended and started next to the number by a delimiter that is not a letter,
// digit or separator, as a number is written in a log line.
func text(t *rapid.T, label string) string {
	return rapid.StringMatching(`[ -~\x{e9}\x{4e2d}]{0,30}`).Draw(t, label)
}

var delims = []string{"=", ":", `"`, "(", ")", ",", ";", "[", "]", "\t", "/"}

func embed(t *rapid.T, number string) string {
	return text(t, "before") + rapid.SampledFrom(delims).Draw(t, "open") + number +
		rapid.SampledFrom(delims).Draw(t, "close") + text(t, "after")
}

// TestCardNeverLeft: a valid card number with any grouping, in any text,
// does not survive redaction, and nothing Luhn-valid is left to find.
func TestCardNeverLeft(t *testing.T) {
	t.Parallel()
	tr := newTransform(t, func(c *Config) { c.Patterns = []string{CreditCard} })
	rapid.Check(t, func(t *rapid.T) {
		number := grouped(t, cardDigits(t, true))
		in := embed(t, number)
		out := tr.Redact(in)
		if strings.Contains(out, number) {
			t.Fatalf("card %q left in %q", number, out)
		}
		if left := findCards(out, 0, nil); len(left) > 0 {
			t.Fatalf("%q still holds card %q", out, out[left[0].start:left[0].end])
		}
	})
}

// TestCardNeverTouched: a 13-19 digit number failing Luhn, and runs too
// short or too long, are left exactly as they are when the text around
// holds no card either.
func TestCardNeverTouched(t *testing.T) {
	t.Parallel()
	tr := newTransform(t, func(c *Config) { c.Patterns = []string{CreditCard} })
	rapid.Check(t, func(t *rapid.T) {
		var digits string
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			digits = cardDigits(t, false)
		case 1:
			digits = rapid.StringMatching(`[0-9]{1,12}`).Draw(t, "short")
		default:
			digits = rapid.StringMatching(`[0-9]{20,40}`).Draw(t, "long")
		}
		in := embed(t, grouped(t, digits))
		if len(findCards(in, 0, nil)) > 0 {
			t.Skip("the random text around holds a card of its own")
		}
		if out := tr.Redact(in); out != in {
			t.Fatalf("changed %q to %q", in, out)
		}
	})
}

func TestLuhn(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"4111111111111111": true, "4111 1111 1111 1111": true, "378282246310005": true,
		"6011111111111117": true, "4111111111111112": false, "79927398713": true, "79927398710": false,
	} {
		if got := luhn(in); got != want {
			t.Errorf("luhn(%q) = %v, want %v", in, got, want)
		}
	}
}
