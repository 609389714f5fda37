package nats

import (
	"errors"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/natsconn"
)

// Config configures the nats source.
type Config struct {
	natsconn.Conn `yaml:",inline"`
	// Stream to consume. Required.
	Stream string `yaml:"stream"`
	// Durable is the name of the durable pull consumer. Every sluice
	// instance configured with the same stream and durable shares it: each
	// message goes to one of them. Required.
	Durable string `yaml:"durable"`
	// Subjects filters the stream's messages by subject (e.g.
	// ["logs.web.>"]). Default: every message of the stream. More than one
	// subject needs nats-server 2.10 or later.
	Subjects []string `yaml:"subjects"`
	// CreateStream creates the stream, with subjects as its subjects and
	// the retention and limit keys below, when it does not exist. Default
	// false.
	CreateStream bool `yaml:"create_stream"`
	// Create holds the stream settings used only when the source creates
	// the stream.
	Create natsconn.Stream `yaml:",inline"`
	// BatchSize is how many messages one fetch asks for; they become one
	// batch of events. Default 500.
	BatchSize int `yaml:"batch_size"`
	// MaxWait is how long a fetch waits to fill its batch before it emits
	// what it has. Default 100ms.
	MaxWait config.Duration `yaml:"max_wait"`
	// AckWait is how long JetStream waits for sluice's acknowledgement of a
	// message before it delivers it again (to this or another instance).
	// Set on the consumer when it is created. Default 30s.
	AckWait config.Duration `yaml:"ack_wait"`
	// MaxDeliver is how many times a message is delivered before JetStream
	// gives up on it; -1 (default) is no limit.
	MaxDeliver int `yaml:"max_deliver"`
	// MaxAckPending bounds the messages delivered and not yet acknowledged,
	// over every instance sharing the consumer. Default 20000.
	MaxAckPending int `yaml:"max_ack_pending"`
	// ShutdownTimeout is how long a stopping source waits for the
	// acknowledgement of what it emitted before it disconnects (what is
	// still unacknowledged then is delivered again after ack_wait).
	// Default 10s.
	ShutdownTimeout config.Duration `yaml:"shutdown_timeout"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Conn.Defaults()
	c.Create.Defaults()
	c.BatchSize = 500
	c.MaxWait = config.Duration(100 * time.Millisecond)
	c.AckWait = config.Duration(30 * time.Second)
	c.MaxDeliver = -1
	c.MaxAckPending = 20000
	c.ShutdownTimeout = config.Duration(10 * time.Second)
}

// Validate checks the connection, names and limits.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(); err != nil {
		return err
	}
	switch {
	case c.Stream == "":
		return errors.New("stream is required")
	case c.Durable == "":
		return errors.New("durable is required")
	case c.CreateStream && len(c.Subjects) == 0:
		return errors.New("create_stream needs subjects")
	case c.BatchSize < 1:
		return errors.New("batch_size must be at least 1")
	case c.MaxWait <= 0 || c.AckWait <= 0 || c.ShutdownTimeout <= 0:
		return errors.New("max_wait, ack_wait and shutdown_timeout must be positive")
	case c.MaxDeliver == 0 || c.MaxDeliver < -1:
		return errors.New("max_deliver must be -1 (no limit) or at least 1")
	case c.MaxAckPending < 1:
		return errors.New("max_ack_pending must be at least 1")
	}
	return c.Create.Validate()
}
