package nats

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/natsconn"
	"github.com/sluice-log/sluice/internal/template"
)

// Config configures the nats sink.
type Config struct {
	natsconn.Conn `yaml:",inline"`
	// Subject each event is published to: a template over the event
	// (docs/configuration.md#templates), e.g. "logs.{{.host}}" to partition
	// by origin. Required.
	Subject string `yaml:"subject"`
	// Stream the subjects belong to. When set and the stream does not
	// exist, the sink creates it with subjects and the retention and limit
	// keys below. Default: none (the stream is managed elsewhere).
	Stream string `yaml:"stream"`
	// Subjects of the stream the sink creates, e.g. ["logs.>"]. Required
	// with stream unless the stream already exists.
	Subjects []string `yaml:"subjects"`
	// Create holds the stream settings used only when the sink creates
	// the stream.
	Create natsconn.Stream `yaml:",inline"`
	// MaxPending is the window of publishes awaiting their PubAck; a batch
	// larger than it waits for acknowledgements as it goes. Default 512.
	MaxPending int `yaml:"max_pending"`
	// EventsPerMessage packs up to this many consecutive events with the
	// same subject into one message, newline-separated (the nats source
	// splits them again). JetStream's cost is per message, so packing
	// multiplies throughput; the message id (de-duplication) and the
	// outcome are then per message. Default 1: one message per event.
	EventsPerMessage int `yaml:"events_per_message"`
	// AckTimeout is how long a publish waits for its PubAck before it is
	// retried (with the same message id, so JetStream drops a copy it
	// already stored). Default 5s.
	AckTimeout config.Duration `yaml:"ack_timeout"`

	subject *template.Template
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Conn.Defaults()
	c.Create.Defaults()
	c.MaxPending = 512
	c.EventsPerMessage = 1
	c.AckTimeout = config.Duration(5 * time.Second)
}

// Validate checks the connection, the subject template and the stream
// settings.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(); err != nil {
		return err
	}
	if c.Subject == "" {
		return errors.New("subject is required")
	}
	t, err := template.Parse(c.Subject)
	if err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	c.subject = t
	if err := c.Create.Validate(); err != nil {
		return err
	}
	if c.MaxPending < 1 {
		return errors.New("max_pending must be at least 1")
	}
	if c.EventsPerMessage < 1 {
		return errors.New("events_per_message must be at least 1")
	}
	if c.AckTimeout <= 0 {
		return errors.New("ack_timeout must be positive")
	}
	return nil
}
