// Package all imports every component compiled into the sluice binary;
// each registers itself in init.
package all

import (
	_ "github.com/sluice-log/sluice/internal/sink/blackhole"
)
