package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

func TestURLRedacted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   URL
		want string
	}{
		{"plain", "https://h/x?a=1", "https://h/x?a=1"},
		{"user only", "https://bob@h/", "https://bob@h/"},
		{"password", "https://bob:s3cret@h/", "https://bob:<redacted>@h/"},
		{"drain url with options", "wss://relay:s3cret@relay.example:9443/in?ca=/etc/ca.pem", "wss://relay:<redacted>@relay.example:9443/in?ca=/etc/ca.pem"},
		{"empty password", "https://bob:@h/", "https://bob:<redacted>@h/"},
		{"unparsable with userinfo", "http://a b:s3cret@h/%zz", "<redacted>"},
		{"unparsable without userinfo", "http://a b/%zz", "http://a b/%zz"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			y, err := yaml.Marshal(struct {
				U URL `yaml:"u"`
			}{tc.in})
			if err != nil {
				t.Fatal(err)
			}
			j, err := json.Marshal(struct{ U URL }{tc.in})
			if err != nil {
				t.Fatal(err)
			}
			var fromJSON struct{ U string }
			if err := json.Unmarshal(j, &fromJSON); err != nil {
				t.Fatal(err)
			}
			var logged strings.Builder
			slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "url", tc.in)
			//lint:ignore S1025 the test is that fmt's %s verb redacts too
			for _, got := range []string{tc.in.String(), fmt.Sprintf("%v", tc.in), fmt.Sprintf("%s", tc.in),
				fmt.Sprintf("%#v", tc.in), fmt.Sprintf("%+v", struct{ U URL }{tc.in}), string(y), fromJSON.U, logged.String()} {
				if strings.Contains(got, "s3cret") || !strings.Contains(got, tc.want) {
					t.Errorf("printed %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestURLDecodesAsString(t *testing.T) {
	t.Parallel()
	var c struct {
		U URL `yaml:"u"`
	}
	if err := yaml.Load([]byte("u: https://bob:s3cret@h/"), &c, yaml.WithKnownFields()); err != nil {
		t.Fatal(err)
	}
	if string(c.U) != "https://bob:s3cret@h/" {
		t.Errorf("decoded %q", string(c.U))
	}
}
