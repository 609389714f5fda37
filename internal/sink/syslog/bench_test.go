package syslog

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// benchBatch is 1000 events as the syslog source makes them, with a
// 160-byte message each.
func benchBatch() *event.Batch {
	b := events(strings.Repeat("m", 150), 1000)
	for i := range b.Events {
		b.Events[i].Fields = event.Fields{
			{Key: "facility", Value: event.String("local0")}, {Key: "severity", Value: event.String("info")},
			{Key: "appname", Value: event.String("api")}, {Key: "procid", Value: event.String("1234")},
			{Key: "syslog_format", Value: event.String("rfc5424")},
		}
	}
	return b
}

func BenchmarkEncode(b *testing.B) {
	for _, framing := range []string{FramingOctet, FramingLF} {
		b.Run(framing, func(b *testing.B) {
			c := &Config{}
			c.Defaults()
			c.Framing = framing
			enc := newEncoder(c, ModeTCP)
			batch := benchBatch()
			b.ReportAllocs()
			for b.Loop() {
				enc.encode(batch)
			}
			b.SetBytes(int64(len(enc.f.buf)))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Events)), "ns/msg")
		})
	}
}

func BenchmarkWriteTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}()
	c := testutil.NewConfig(b, func(c *Config) { c.Address = ln.Addr().String() })
	s, err := newSink(c, testutil.Deps(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	batch := benchBatch()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Events)), "ns/msg")
	_ = s.Close(b.Context())
	<-done
}
