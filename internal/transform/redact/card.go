package redact

// Credit card numbers are found by a scanner, not a regex: a regex cannot
// check Luhn, and scanning digits is the cheap part anyway.
//
// A candidate is a maximal run of digits in which single separators (all
// spaces or all dashes, the first one fixes which) may stand between two
// digits, bounded on both sides by something that is neither a letter nor
// a digit (or the start or end of the text). It is a card number, and is
// redacted whole including its separators, when it holds 13 to 19 digits
// and passes the Luhn check. Anything else, a shorter or longer run or one
// failing Luhn, is never touched.

// findCards appends the spans of the card numbers in s to dst.
func findCards(s string, pat int, dst []span) []span {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		end, digits := cardRun(s, i)
		if digits >= 13 && digits <= 19 && (i == 0 || !isAlnum(s[i-1])) &&
			(end == len(s) || !isAlnum(s[end])) && luhn(s[i:end]) {
			dst = append(dst, span{start: i, end: end, pat: pat})
		}
		i = end
	}
	return dst
}

// cardRun returns the end of the run starting at the digit s[i] and the
// number of digits in it.
func cardRun(s string, i int) (end, digits int) {
	var sep byte
	end = i
	for end < len(s) {
		c := s[end]
		switch {
		case isDigit(c):
			digits++
			end++
			continue
		case (c == ' ' || c == '-') && (sep == 0 || sep == c) &&
			end+1 < len(s) && isDigit(s[end+1]) && end > i:
			sep = c
			end++
			continue
		}
		break
	}
	return end, digits
}

// luhn checks the Luhn digit of the digits in s, skipping separators.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '_'
}

// hasDigitRun reports whether s has at least n consecutive digits or
// separators: the prefilter for cards.
func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			run++
			if run >= n {
				return true
			}
		case (c == ' ' || c == '-') && run > 0:
		default:
			run = 0
		}
	}
	return false
}
