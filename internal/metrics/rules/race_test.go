//go:build race

package rules_test

// raceEnabled skips allocation counts, which the race detector changes.
const raceEnabled = true
