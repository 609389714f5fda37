package all

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
)

// TestDefaultIsALoopbackHub: the embedded default is SPEC §4's hub. Every
// source listens on loopback: the relay (`sluice send`) on 9582, syslog
// over TCP and UDP on 5514, rtail on 9999; the one sink is the live sink,
// fed by every source; nothing goes to stdout.
func TestDefaultIsALoopbackHub(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("<embedded default>", app.DefaultConfig(), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API == nil || cfg.API.Listen != "127.0.0.1:9580" || cfg.API.AllowInsecure {
		t.Errorf("api %+v, want 127.0.0.1:9580 without allow_insecure", cfg.API)
	}
	sources := map[string]string{}
	var sinks []*config.Component
	for _, c := range cfg.Components {
		switch c.Kind {
		case component.KindSource:
			addr := reflect.ValueOf(c.Options).Elem().FieldByName("Address").String()
			sources[c.ID] = c.Type + " " + addr
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Errorf("source %s listens on %q, not loopback", c.ID, addr)
			}
		case component.KindSink:
			sinks = append(sinks, c)
		}
	}
	want := map[string]string{"relay": "websocket 127.0.0.1:9582", "syslog_tcp": "syslog 127.0.0.1:5514",
		"syslog_udp": "syslog 127.0.0.1:5514", "rtail": "rtail 127.0.0.1:9999"}
	if !reflect.DeepEqual(sources, want) {
		t.Errorf("sources %v, want %v", sources, want)
	}
	if len(sinks) != 1 || sinks[0].Type != "live" {
		t.Fatalf("sinks %v, want only the live sink", sinks)
	}
	got := slices.Sorted(slices.Values(sinks[0].Inputs))
	if !reflect.DeepEqual(got, []string{"relay", "rtail", "syslog_tcp", "syslog_udp"}) {
		t.Errorf("the live sink's inputs are %v, want every source", got)
	}
}
