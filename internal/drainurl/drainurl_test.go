package drainurl

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Drain
		url      string
	}{
		{"es basic", "es+https://elastic:pw@es.internal:9200/logs-{{ .stream }}?auth=basic",
			Drain{Sink: Elasticsearch, Transport: "https", Host: "es.internal:9200", Path: "logs-{{ .stream }}", User: "elastic", Password: "pw", Auth: "basic"},
			"https://es.internal:9200"},
		{"es alias default port, user means basic", "es://u:p@es/idx",
			Drain{Sink: Elasticsearch, Transport: "https", Host: "es:9200", Path: "idx", User: "u", Password: "p", Auth: "basic"}, "https://es:9200"},
		{"elasticsearch apikey", "elasticsearch://:key@es/idx?auth=apikey",
			Drain{Sink: Elasticsearch, Transport: "https", Host: "es:9200", Path: "idx", Password: "key", Auth: "apikey"}, "https://es:9200"},
		{"es over http", "es+http://es:9201/x",
			Drain{Sink: Elasticsearch, Transport: "http", Host: "es:9201", Path: "x"}, "http://es:9201"},
		{"syslog alias is udp", "syslog://logs.example.com",
			Drain{Sink: Syslog, Transport: "udp", Host: "logs.example.com:514", Path: ""}, "udp://logs.example.com:514"},
		{"syslog tls with ca", "syslog+tls://10.0.0.1:6514?ca=/etc/ca.pem",
			Drain{Sink: Syslog, Transport: "tls", Host: "10.0.0.1:6514", CA: "/etc/ca.pem"}, "tls://10.0.0.1:6514"},
		{"syslog tcp", "syslog+tcp://h:1514", Drain{Sink: Syslog, Transport: "tcp", Host: "h:1514"}, "tcp://h:1514"},
		{"syslog https", "syslog+https://h/drain", Drain{Sink: Syslog, Transport: "https", Host: "h:443", Path: "/drain"}, "https://h:443/drain"},
		{"plain https keeps query", "https://h/in?app=x", Drain{Sink: HTTP, Transport: "https", Host: "h:443", Path: "/in"}, "https://h:443/in?app=x"},
		{"wss", "wss://hub:9580/ingest", Drain{Sink: Websocket, Transport: "wss", Host: "hub:9580", Path: "/ingest"}, "wss://hub:9580/ingest"},
		{"ipv6", "syslog+tcp://[::1]:5514", Drain{Sink: Syslog, Transport: "tcp", Host: "[::1]:5514"}, "tcp://[::1]:5514"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := *d
			got.raw, got.Query = nil, nil
			testutil.Diff(t, tc.want, got, cmpopts.IgnoreUnexported(Drain{}))
			testutil.Diff(t, tc.url, d.URL())
		})
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"ftp://h":                           `unknown drain scheme "ftp"`,
		"syslog+tcp://":                     "has no host",
		"syslog+tcp://h:99999":              `invalid port "99999"`,
		"es://h/x?auth=magic":               `unknown auth "magic"`,
		"syslog+tcp://h?ca=/x":              "ca and insecure need a TLS scheme",
		"es+https://u:secret@h/x?auth=nope": `es+https://u:<redacted>@h/x?auth=nope`,
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: password in error %q", in, err)
		}
	}
}

func TestStringRedacts(t *testing.T) {
	d, err := Parse("es+https://elastic:hunter2@es:9200/logs")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "<redacted>") {
		t.Errorf("String() = %q", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"es+https://u:p@h:1/i?auth=basic", "syslog+tls://h?ca=x", "wss://[::1]:9/x", "syslog://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d.Host == "" || d.Sink == "" {
			t.Fatalf("accepted %q without host or sink: %+v", s, d)
		}
		if p := d.Password.Reveal(); len(p) > 3 && strings.Contains(d.String(), p) && !strings.Contains(d.User, p) {
			t.Fatalf("String() of %q shows the password", s)
		}
	})
}
