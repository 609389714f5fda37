package codec

import "github.com/sluice-log/sluice/internal/event"

// JSON encodes an event as one flat JSON object: timestamp, host, stream and
// message first, then the fields in their order. Fields named like an
// attribute are skipped (see Reserved). Invalid UTF-8 is escaped as \u00XX.
var JSON Encoder = EncoderFunc(appendJSON)

func appendJSON(buf []byte, e *event.Event) []byte {
	buf = append(buf, `{"timestamp":"`...)
	buf = AppendTime(buf, e.Timestamp)
	buf = append(buf, `","host":`...)
	buf = event.AppendJSONString(buf, e.Host)
	buf = append(buf, `,"stream":`...)
	buf = event.AppendJSONString(buf, e.Stream)
	buf = append(buf, `,"message":`...)
	buf = event.AppendJSONString(buf, e.Message)
	for i := range e.Fields {
		f := &e.Fields[i]
		if Reserved(f.Key) {
			continue
		}
		buf = append(buf, ',')
		buf = event.AppendJSONString(buf, f.Key)
		buf = append(buf, ':')
		buf = f.Value.AppendJSON(buf)
	}
	return append(buf, '}')
}

// Text encodes an event as its message bytes, unchanged.
var Text Encoder = EncoderFunc(appendText)

func appendText(buf []byte, e *event.Event) []byte { return append(buf, e.Message...) }
