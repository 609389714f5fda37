package natsconn

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/config"
)

func TestConnValidate(t *testing.T) {
	for name, c := range map[string]Conn{
		"no url":        {},
		"bad scheme":    {URL: "http://h:1"},
		"no host":       {URL: "nats://"},
		"one bad of 2":  {URL: "nats://a:1,http://b:2"},
		"two auths":     {URL: "nats://a:1", Auth: Auth{Token: "t", NKeySeedFile: "f"}},
		"password only": {URL: "nats://a:1", Auth: Auth{Password: "p"}},
		"half tls":      {URL: "tls://a:1", TLS: config.ClientTLS{Cert: "c"}},
	} {
		c.ConnectTimeout = config.Duration(time.Second)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ok := Conn{URL: "nats://a:1, tls://b:2", Auth: Auth{User: "u", Password: "p"}, ConnectTimeout: config.Duration(time.Second)}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestStreamConfig(t *testing.T) {
	var s Stream
	s.Defaults()
	s.Retention, s.Storage, s.MaxAge, s.MaxBytes = "workqueue", "memory", config.Duration(time.Hour), 1<<20
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	c := s.StreamConfig("LOGS", []string{"logs.>"})
	if c.Retention != jetstream.WorkQueuePolicy || c.Storage != jetstream.MemoryStorage || c.MaxAge != time.Hour ||
		c.MaxBytes != 1<<20 || c.MaxMsgs != -1 || c.Duplicates != 2*time.Minute || c.Replicas != 1 {
		t.Errorf("got %+v", c)
	}
	s.Retention = "forever"
	if s.Validate() == nil {
		t.Error("bad retention accepted")
	}
}
