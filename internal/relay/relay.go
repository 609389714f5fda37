// Package relay is the sluice-to-sluice relay protocol spoken by the
// websocket sink (the sender) and the websocket source (the receiver); see
// docs/relay-protocol.md for the specification.
//
// A sender sends binary WebSocket messages that each carry one batch with a
// sequence number that only ever grows; the receiver answers each with a
// receipt only once the batch's acknowledgement token has fired. This
// package holds what both ends share: message framing, per-message
// compression and the keepalive loop; a batch's payload is the event
// encoding of package wire. It knows nothing about connections or the
// pipeline.
package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
)

// Handshake constants.
const (
	// Subprotocol is the Sec-WebSocket-Protocol value of this version.
	Subprotocol = "sluice.relay.v1"
	// HeaderSender carries the sender's id: 1 to 64 characters of
	// [A-Za-z0-9._-], unique per sender process lifetime. Optional.
	HeaderSender = "Sluice-Sender"
	// HeaderAuthorization carries the sender's own credentials when the
	// Authorization header is used for a reverse proxy's basic auth.
	HeaderAuthorization = "X-Sluice-Authorization"
	// HeaderMaxMessageSize is the receiver's answer: the largest message,
	// in bytes, that it accepts.
	HeaderMaxMessageSize = "Sluice-Max-Message-Size"
	// DefaultMaxMessageSize is what a sender assumes when the receiver's
	// answer has no HeaderMaxMessageSize; every receiver accepts this much.
	DefaultMaxMessageSize = 1 << 20
	// MinMaxMessageSize is the smallest limit a receiver may announce.
	MinMaxMessageSize = 4 << 10
)

// Message types: the first byte of every message.
const (
	TypeBatch   byte = 0x01 // sender to receiver
	TypeReceipt byte = 0x02 // receiver to sender
)

// Batch flags: the second byte of a batch message.
const (
	// FlagCompressed marks a payload compressed as one S2 block (the
	// Snappy-compatible block format of github.com/klauspost/compress/s2).
	FlagCompressed byte = 0x01
	knownFlags          = FlagCompressed
)

// HeaderSize is the length of a batch message's header: type, flags and
// the big-endian 64-bit sequence number.
const HeaderSize = 10

// MaxReason bounds the reason text of a receipt, in bytes.
const MaxReason = 1024

// ErrCorrupt marks a message that cannot be parsed or a payload that
// cannot be decompressed; an undecodable payload gives wire.ErrCorrupt.
var ErrCorrupt = errors.New("corrupt relay message")

// Status is a receipt's outcome. The values are fixed by the protocol and
// match ack.Status.
type Status byte

// Receipt statuses.
const (
	Delivered Status = 0 // durably taken by every destination
	Rejected  Status = 1 // refused for good; do not resend
	Dropped   Status = 2 // discarded by a drop_newest buffer; do not resend
	Abandoned Status = 3 // not taken (receiver stopping): resend
)

// StatusOf converts an acknowledgement status to its wire value.
func StatusOf(s ack.Status) Status {
	switch s {
	case ack.Delivered:
		return Delivered
	case ack.Rejected:
		return Rejected
	case ack.Dropped:
		return Dropped
	}
	return Abandoned
}

// Done reports whether the sender may forget the batch; only Abandoned
// asks for it to be sent again.
func (s Status) Done() bool { return s != Abandoned }

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Rejected:
		return "rejected"
	case Dropped:
		return "dropped"
	case Abandoned:
		return "abandoned"
	}
	return fmt.Sprintf("status(%d)", byte(s))
}

// AppendBatchHeader appends the header of a batch message; the payload
// follows it.
func AppendBatchHeader(buf []byte, flags byte, seq uint64) []byte {
	buf = append(buf, TypeBatch, flags)
	return binary.BigEndian.AppendUint64(buf, seq)
}

// ParseBatch splits a batch message into its flags, sequence number and
// payload, which aliases msg.
func ParseBatch(msg []byte) (flags byte, seq uint64, payload []byte, err error) {
	if len(msg) < HeaderSize || msg[0] != TypeBatch {
		return 0, 0, nil, fmt.Errorf("%w: not a batch message", ErrCorrupt)
	}
	flags, seq = msg[1], binary.BigEndian.Uint64(msg[2:HeaderSize])
	if flags&^knownFlags != 0 {
		return flags, seq, nil, fmt.Errorf("%w: unknown flags %#02x", ErrCorrupt, flags)
	}
	return flags, seq, msg[HeaderSize:], nil
}

// Decode decodes the payload of a batch message (wire.Decode): the
// events' messages alias payload. Malformed input gives an error wrapping
// wire.ErrCorrupt.
func Decode(payload []byte) ([]event.Event, error) { return wire.Decode(payload) }

// Receipt is the receiver's answer to one batch.
type Receipt struct {
	Seq    uint64
	Status Status
	// Reason explains a rejection; empty otherwise.
	Reason string
}

// AppendReceipt appends a receipt message. A reason longer than MaxReason
// bytes is cut at a rune boundary.
func AppendReceipt(buf []byte, r Receipt) []byte {
	buf = append(buf, TypeReceipt, byte(r.Status))
	buf = binary.BigEndian.AppendUint64(buf, r.Seq)
	reason := r.Reason
	if len(reason) > MaxReason {
		reason = reason[:MaxReason]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	return append(buf, reason...)
}

// ParseReceipt decodes a receipt message.
func ParseReceipt(msg []byte) (Receipt, error) {
	if len(msg) < HeaderSize || msg[0] != TypeReceipt {
		return Receipt{}, fmt.Errorf("%w: not a receipt", ErrCorrupt)
	}
	r := Receipt{Status: Status(msg[1]), Seq: binary.BigEndian.Uint64(msg[2:HeaderSize])}
	if r.Status > Abandoned {
		return Receipt{}, fmt.Errorf("%w: unknown receipt status %d", ErrCorrupt, msg[1])
	}
	if len(msg)-HeaderSize > MaxReason {
		return Receipt{}, fmt.Errorf("%w: receipt reason longer than %d bytes", ErrCorrupt, MaxReason)
	}
	r.Reason = string(msg[HeaderSize:])
	return r, nil
}

// ValidSender reports whether id is an acceptable sender id.
func ValidSender(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
