package app

import (
	"runtime/debug"
	"sync/atomic"
)

// Memory the GC policy assumes: the pipeline's own working heap (events
// in buffers and batches), and what one series of log-derived metrics
// holds (store.BenchmarkMemoryPerSeries: ~100 bytes with two labels, map
// entry included, creation time too; rounded up for three).
const (
	pipelineHeap   = 48 << 20
	bytesPerSeries = 120
)

// gcPercent is the GC target for a store of n series. GOGC=200 suits the
// pipeline's short-lived events, but series live long: 1.2 M of them are
// ~140 MB, and a 200% headroom over that is most of the process's memory.
// The target shrinks as the series grow, so that the headroom stays about
// twice the pipeline's heap, never below 50%.
func gcPercent(series int64) int {
	return max(50, min(200, int(200*pipelineHeap/(pipelineHeap+series*bytesPerSeries))))
}

// tuneGC returns the store's growth hook that applies gcPercent, only
// when it changes. It is installed unless the user set GOGC.
func tuneGC() func(series int64) {
	var last atomic.Int64
	last.Store(200)
	return func(n int64) {
		if p := int64(gcPercent(n)); last.Swap(p) != p {
			debug.SetGCPercent(int(p))
		}
	}
}
