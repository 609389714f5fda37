package parse

import (
	"errors"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
	"github.com/sluice-log/sluice/internal/syslog"
)

var errNotSyslog = errors.New("not an RFC 5424 or RFC 3164 syslog message")

// syslogFormat parses a syslog line (for example one read from a file that
// a syslog daemon wrote with its protocol format) into the fields the
// syslog source sets; host, stream (the app-name) and message become the
// event's own, and the timestamp is the sender's.
func syslogFormat(*Config) (parseFunc, int, error) {
	return func(dst event.Fields, in []byte) (event.Fields, time.Time, error) {
		var m syslog.Message
		if !syslog.Parse(in, &m, time.UTC, time.Now()) {
			return dst, time.Time{}, errNotSyslog
		}
		str := func(key string, b []byte) {
			if b != nil {
				dst = append(dst, event.Field{Key: key, Value: event.String(parser.View(b))})
			}
		}
		dst = append(dst,
			event.Field{Key: syslog.FieldFacility, Value: event.String(syslog.FacilityName(m.Facility()))},
			event.Field{Key: syslog.FieldSeverity, Value: event.String(syslog.SeverityName(m.Severity()))})
		str(syslog.FieldAppName, m.AppName)
		str(syslog.FieldProcID, m.ProcID)
		str(syslog.FieldMsgID, m.MsgID)
		if m.StructuredData != nil {
			dst = append(dst, event.Field{Key: syslog.FieldSD, Value: event.Object(syslog.StructuredDataFields(m.StructuredData))})
		}
		dst = append(dst, event.Field{Key: syslog.FieldFormat, Value: event.String(m.Format.String())})
		str(event.KeyHost, m.Hostname)
		str(event.KeyStream, m.AppName)
		str(event.KeyMessage, m.Msg)
		return dst, m.Timestamp, nil
	}, 10, nil
}
