package syslog

import "time"

// ParseRFC5424 parses b as "<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME
// SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]" into m and reports whether
// it is one. It is strict where that tells formats apart (PRI, version,
// timestamp, structured data) and lenient elsewhere: header fields may hold
// any non-space bytes of any length, a missing offset means loc, and text
// where the structured data should be is taken as the start of MSG.
func ParseRFC5424(b []byte, m *Message, loc *time.Location) bool {
	pri, i, ok := parsePRI(b)
	if !ok {
		*m = Message{}
		return false
	}
	j := i
	for j < len(b) && j-i < 3 && isDigit(b[j]) {
		j++
	}
	if j == i || b[i] == '0' || j >= len(b) || b[j] != ' ' {
		*m = Message{}
		return false
	}
	*m = Message{}
	i = j + 1
	if i < len(b) && b[i] == '-' {
		i++
	} else if m.Timestamp, i, ok = parseRFC3339(b, i, loc); !ok {
		return false
	}
	var fields [4][]byte
	for k := range fields {
		if i >= len(b) || b[i] != ' ' {
			return false
		}
		if fields[k], i, ok = headerField(b, i+1); !ok {
			return false
		}
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = fields[0], fields[1], fields[2], fields[3]
	m.Format, m.Priority = FormatRFC5424, pri
	m.Msg = b[len(b):]
	if i < len(b) {
		// b[i] is the space after MSGID.
		m.StructuredData, m.Msg = splitSD(b[i+1:])
	}
	return true
}

// headerField reads one space-free header field at b[i:]; "-" is nil.
func headerField(b []byte, i int) (f []byte, next int, ok bool) {
	j := i
	for j < len(b) && b[j] > ' ' && b[j] != 0x7f {
		j++
	}
	if j == i || (j < len(b) && b[j] != ' ') {
		return nil, 0, false
	}
	if j-i == 1 && b[i] == '-' {
		return nil, j, true
	}
	return b[i:j], j, true
}

// splitSD splits "STRUCTURED-DATA [SP MSG]" into its parts.
func splitSD(b []byte) (sd, msg []byte) {
	switch {
	case len(b) == 0:
		return nil, b
	case b[0] == '-' && (len(b) == 1 || b[1] == ' '):
		return nil, msgAfter(b, 1)
	case b[0] == '[':
		if end := scanSD(b); end > 0 {
			return b[:end], msgAfter(b, end)
		}
	}
	return nil, stripBOM(b)
}

// msgAfter returns the MSG that starts after the separating space at b[i].
func msgAfter(b []byte, i int) []byte { return stripBOM(afterSpace(b, i)) }

// afterSpace returns b[i:] without the one space that may start it.
func afterSpace(b []byte, i int) []byte {
	if i < len(b) && b[i] == ' ' {
		i++
	}
	return b[i:]
}

func isSDName(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"'
}

// scanSD validates one or more SD-ELEMENTs at the start of b and returns the
// index after the last ']', or 0 if b does not start with a valid element.
func scanSD(b []byte) int {
	i := 0
	for i < len(b) && b[i] == '[' {
		end := scanElement(b, i+1)
		if end == 0 {
			return 0
		}
		i = end
	}
	return i
}

// scanElement scans SD-ID *(SP SD-PARAM) "]" at b[i:] and returns the
// index after ']', or 0.
func scanElement(b []byte, i int) int {
	j := scanName(b, i)
	if j == i {
		return 0
	}
	for i = j; i < len(b); {
		switch b[i] {
		case ']':
			return i + 1
		case ' ':
			if i = scanParam(b, i+1); i == 0 {
				return 0
			}
		default:
			return 0
		}
	}
	return 0
}

func scanName(b []byte, i int) int {
	for i < len(b) && isSDName(b[i]) {
		i++
	}
	return i
}

// scanParam scans PARAM-NAME "=" DQUOTE PARAM-VALUE DQUOTE at b[i:] and
// returns the index after the closing quote, or 0.
func scanParam(b []byte, i int) int {
	j := scanName(b, i)
	if j == i || j+1 >= len(b) || b[j] != '=' || b[j+1] != '"' {
		return 0
	}
	for k := j + 2; k < len(b); k++ {
		switch b[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return 0
}

// SDIter walks validated structured data (Message.StructuredData): call
// NextElement, then NextParam until it reports false, and repeat.
type SDIter struct {
	sd []byte
	i  int
}

// NewSDIter returns an iterator over sd, which must come from a parsed
// Message.
func NewSDIter(sd []byte) SDIter { return SDIter{sd: sd} }

// NextElement skips what is left of the current element and returns the
// next SD-ID.
func (it *SDIter) NextElement() (id []byte, ok bool) {
	for it.i < len(it.sd) && it.sd[it.i] != '[' {
		if it.sd[it.i] == ' ' {
			if end := scanParam(it.sd, it.i+1); end > 0 {
				it.i = end
				continue
			}
		}
		it.i++
	}
	if it.i >= len(it.sd) {
		return nil, false
	}
	j := scanName(it.sd, it.i+1)
	id = it.sd[it.i+1 : j]
	it.i = j
	return id, true
}

// NextParam returns the next parameter of the current element. The value
// is raw: pass it to UnescapeSD.
func (it *SDIter) NextParam() (name, value []byte, ok bool) {
	if it.i >= len(it.sd) || it.sd[it.i] != ' ' {
		if it.i < len(it.sd) && it.sd[it.i] == ']' {
			it.i++
		}
		return nil, nil, false
	}
	start := it.i + 1
	eq := scanName(it.sd, start)
	end := scanParam(it.sd, start)
	if end == 0 {
		it.i = len(it.sd)
		return nil, nil, false
	}
	it.i = end
	return it.sd[start:eq], it.sd[eq+2 : end-1], true
}

// UnescapeSD resolves the escapes of a raw PARAM-VALUE: a backslash before
// '"', '\' or ']' is dropped; any other backslash is kept, as RFC 5424
// requires. It returns raw itself when there is nothing to resolve.
func UnescapeSD(raw []byte) []byte {
	k := 0
	for k < len(raw) && raw[k] != '\\' {
		k++
	}
	if k == len(raw) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) && (raw[i+1] == '"' || raw[i+1] == '\\' || raw[i+1] == ']') {
			i++
			c = raw[i]
		}
		out = append(out, c)
	}
	return out
}
