package sample

import (
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/expr"
)

// Config is the sample transform's configuration.
type Config struct {
	// Rate keeps 1 event in Rate (10: one in ten). Either rate or ratio.
	Rate int `yaml:"rate"`
	// Ratio keeps this fraction of the events, above 0 and at most 1
	// (0.1: one in ten). Either rate or ratio.
	Ratio float64 `yaml:"ratio"`
	// KeyField samples each value of this field independently: with rate
	// 10, one in ten events of every key is kept, so rare keys are not
	// sampled away by common ones. Events without the field share one key.
	KeyField string `yaml:"key_field"`
	// HashField decides by a hash of this field's value instead of by
	// counting: events with the same value (a trace or request ID) are
	// all kept or all dropped, on every sluice instance. Events without
	// the field are sampled by counting.
	HashField string `yaml:"hash_field"`
	// Exclude is a condition; events for which it is true are always kept
	// and not counted toward the sampling, e.g. `level == "error"`.
	Exclude string `yaml:"exclude"`
	// MaxKeys bounds how many keys of key_field are counted at once; when
	// a new key would exceed it, all counts start over (and
	// sluice_sample_key_resets_total counts it). Default: 100000.
	MaxKeys int `yaml:"max_keys"`

	exclude *expr.Program // compiled by Validate
}

// Defaults sets the defaults.
func (c *Config) Defaults() { c.MaxKeys = 100000 }

// Validate checks the config and compiles exclude, keeping it for New.
func (c *Config) Validate() error {
	switch {
	case c.Rate < 0:
		return fmt.Errorf("rate: %d is negative", c.Rate)
	case c.Rate == 0 && c.Ratio == 0:
		return errors.New("rate or ratio: one is required, e.g. rate: 10 keeps one event in ten")
	case c.Rate != 0 && c.Ratio != 0:
		return errors.New("rate and ratio: give one of them, not both")
	case c.Ratio < 0 || c.Ratio > 1:
		return fmt.Errorf("ratio: %v is not above 0 and at most 1", c.Ratio)
	case c.KeyField != "" && c.HashField != "":
		return errors.New("key_field and hash_field: give one of them; hashing already treats every value apart")
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d is not positive", c.MaxKeys)
	}
	c.exclude = nil
	if c.Exclude != "" {
		p, err := expr.CompileCondition(c.Exclude)
		if err != nil {
			return fmt.Errorf("exclude: %w", err)
		}
		c.exclude = p
	}
	return nil
}

// ratio is the fraction kept.
func (c *Config) ratio() float64 {
	if c.Rate != 0 {
		return 1 / float64(c.Rate)
	}
	return c.Ratio
}
