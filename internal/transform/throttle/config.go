package throttle

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/expr"
	"github.com/sluice-log/sluice/internal/template"
)

// DroppedOutput is the output that over-limit events go to with
// dropped_output: true; consumers read it as `<name>.dropped`.
const DroppedOutput = "dropped"

// Config is the throttle transform's configuration.
type Config struct {
	// Threshold is how many events of one key pass per window, on
	// average. Required.
	Threshold int `yaml:"threshold"`
	// Window is the period threshold applies to. Default: 1s.
	Window config.Duration `yaml:"window"`
	// Burst is how many events of one key may pass at once after a quiet
	// spell. Default: threshold.
	Burst int `yaml:"burst"`
	// KeyField limits each value of this field separately. Events without
	// it share one key.
	KeyField string `yaml:"key_field"`
	// Key is a template for the key, like `{{ .host }}/{{ .app }}`, instead
	// of key_field. Without either, all events share one limit.
	Key string `yaml:"key"`
	// Exclude is a condition; events for which it is true always pass and
	// use no budget, e.g. `level == "error"`.
	Exclude string `yaml:"exclude"`
	// MaxKeys bounds how many keys are tracked; the least recently seen is
	// forgotten first (counted in sluice_throttle_evicted_keys_total), and
	// starts again with a full burst. Default: 10000.
	MaxKeys int `yaml:"max_keys"`
	// DroppedOutput sends over-limit events to the output `dropped`
	// (`inputs: [<name>.dropped]`) instead of dropping them. Default: false.
	DroppedOutput bool `yaml:"dropped_output"`

	key     *template.Template // parsed by Validate
	exclude *expr.Program      // compiled by Validate
}

// Defaults sets the defaults.
func (c *Config) Defaults() {
	c.Window = config.Duration(time.Second)
	c.MaxKeys = 10000
}

// Outputs lists the named output when dropped_output is on, so that the
// config loader accepts `<name>.dropped` (component.Outputter).
func (c *Config) Outputs() []string {
	if c.DroppedOutput {
		return []string{DroppedOutput}
	}
	return nil
}

// Validate checks the config and compiles key and exclude for New.
func (c *Config) Validate() error {
	switch {
	case c.Threshold < 1:
		return errors.New("threshold: required and positive, e.g. threshold: 100 (events per window)")
	case c.Window.D() <= 0:
		return fmt.Errorf("window: %v is not positive", c.Window)
	case c.Burst < 0:
		return fmt.Errorf("burst: %d is negative", c.Burst)
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d is not positive", c.MaxKeys)
	case c.Key != "" && c.KeyField != "":
		return errors.New("key and key_field: give one of them")
	case c.Window.D()/time.Duration(c.Threshold) <= 0:
		return fmt.Errorf("threshold: %d events per %v is more than one per nanosecond", c.Threshold, c.Window)
	}
	if c.Burst == 0 {
		c.Burst = c.Threshold
	}
	c.key, c.exclude = nil, nil
	if c.Key != "" {
		k, err := template.Parse(c.Key)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		c.key = k
	}
	if c.Exclude != "" {
		p, err := expr.CompileCondition(c.Exclude)
		if err != nil {
			return fmt.Errorf("exclude: %w", err)
		}
		c.exclude = p
	}
	return nil
}
