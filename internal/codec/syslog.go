package codec

import (
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/syslog"
)

// Syslog encodes an event as one RFC 5424 message without framing, the
// inverse of the syslog source: PRI from the facility and severity fields
// (default user.notice), HOSTNAME from host, APP-NAME from the appname field
// or else the stream, PROCID and MSGID from their fields, the sd object as
// STRUCTURED-DATA and the message bytes unchanged as MSG. Other fields are
// not written. See syslog.AppendRFC5424 for the details.
var Syslog Encoder = EncoderFunc(appendSyslog)

func appendSyslog(buf []byte, e *event.Event) []byte {
	return syslog.AppendRFC5424(buf, e, nil)
}

func init() {
	Register("syslog", Syslog)
}
