// Package syslog parses, frames and encodes syslog messages: RFC 5424, RFC
// 3164 (BSD syslog) with the variants real senders use, and RFC 6587
// framing (octet counting or newlines) for stream transports.
//
// The parsers never allocate: a Message holds sub-slices of its input, valid
// as long as the input is. A Decoder turns one frame into an event.Event,
// copying the frame once; a frame that is neither format is kept whole as
// FormatRaw, so nothing a sender wrote is lost. AppendRFC5424 is the inverse,
// for the syslog sink and encoding.
package syslog

import (
	"bytes"
	"time"
)

// Format is the syslog dialect a frame was recognised as.
type Format uint8

// The formats, as reported in the syslog_format field.
const (
	// FormatRaw means the frame did not parse; the whole frame is the message.
	FormatRaw Format = iota
	// FormatRFC5424 is the IETF syslog protocol.
	FormatRFC5424
	// FormatRFC3164 is BSD syslog and its common variants.
	FormatRFC3164
)

// String returns the name used in the syslog_format field.
func (f Format) String() string {
	switch f {
	case FormatRFC5424:
		return "rfc5424"
	case FormatRFC3164:
		return "rfc3164"
	}
	return "raw"
}

// Message is one parsed syslog message. Its byte slices point into the
// parsed input; absent parts and the NILVALUE "-" are nil.
type Message struct {
	Format Format
	// Priority is facility*8 + severity.
	Priority uint8
	// Timestamp is the sender's time; zero when the message has none.
	Timestamp time.Time
	// Hostname is HOSTNAME; RFC 3164 messages in the local format have none.
	Hostname []byte
	// AppName is APP-NAME, or the RFC 3164 TAG.
	AppName []byte
	// ProcID is PROCID, or the PID in an RFC 3164 "TAG[PID]:".
	ProcID []byte
	// MsgID is MSGID (RFC 5424 only).
	MsgID []byte
	// StructuredData is the raw, validated SD part of an RFC 5424 message;
	// iterate it with an SDIter.
	StructuredData []byte
	// Msg is the free-form message, without a leading UTF-8 BOM. It is an
	// empty (non-nil) slice when the message has none.
	Msg []byte
}

// Facility returns the facility code (0-23).
func (m *Message) Facility() int { return int(m.Priority >> 3) }

// Severity returns the severity code (0-7).
func (m *Message) Severity() int { return int(m.Priority & 7) }

var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// FacilityName returns the conventional name of a facility code ("local7"),
// or "" when the code is out of range.
func FacilityName(code int) string {
	if code < 0 || code >= len(facilityNames) {
		return ""
	}
	return facilityNames[code]
}

// SeverityName returns the conventional name of a severity code ("info"),
// or "" when the code is out of range.
func SeverityName(code int) string {
	if code < 0 || code >= len(severityNames) {
		return ""
	}
	return severityNames[code]
}

var facilityAliases = map[string]int{"auth-priv": 10, "security2": 13, "clock": 15, "cron2": 15}

var severityAliases = map[string]int{
	"emergency": 0, "panic": 0, "critical": 2, "error": 3, "warn": 4, "information": 6, "informational": 6,
}

// FacilityCode returns the code of a facility name or alias; ok is false
// for an unknown name.
func FacilityCode(name string) (code int, ok bool) {
	for i, n := range facilityNames {
		if n == name {
			return i, true
		}
	}
	code, ok = facilityAliases[name]
	return code, ok
}

// SeverityCode returns the code of a severity name or alias ("error",
// "warn"); ok is false for an unknown name.
func SeverityCode(name string) (code int, ok bool) {
	for i, n := range severityNames {
		if n == name {
			return i, true
		}
	}
	code, ok = severityAliases[name]
	return code, ok
}

// parsePRI reads "<N>" at the start of b and returns N and the index after
// '>'. N must be 0-191 with at most three digits.
func parsePRI(b []byte) (pri uint8, next int, ok bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, 0, false
	}
	v := 0
	i := 1
	for ; i < len(b) && i <= 3 && isDigit(b[i]); i++ {
		v = v*10 + int(b[i]-'0')
	}
	if i == 1 || i >= len(b) || b[i] != '>' || v > 191 {
		return 0, 0, false
	}
	return uint8(v), i + 1, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var bom = []byte{0xEF, 0xBB, 0xBF}

// stripBOM removes a leading UTF-8 byte order mark, which RFC 5424 allows
// before an UTF-8 MSG.
func stripBOM(b []byte) []byte {
	if bytes.HasPrefix(b, bom) {
		return b[len(bom):]
	}
	return b
}
