package rtail

import (
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestStart(t *testing.T) {
	testutil.CheckListenerStart(t, "udp", func(t testing.TB, address string) component.Source {
		c := &Config{}
		c.Defaults()
		c.Address = address
		s, err := New(testutil.Validated(t, c), testutil.Deps(t, "rtail"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
