package rtail

import (
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestStart(t *testing.T) {
	testutil.CheckListenerStart(t, "udp", func(t testing.TB, address string) component.Source {
		c := testutil.NewConfig(t, func(c *Config) { c.Address = address })
		s, err := New(c, testutil.Deps(t, "rtail"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
