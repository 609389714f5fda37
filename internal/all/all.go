// Package all imports every component compiled into the sluice binary;
// each registers itself in init.
package all

import (
	_ "github.com/sluice-log/sluice/internal/metrics/rules"
	_ "github.com/sluice-log/sluice/internal/mtail/mtailsink"
	_ "github.com/sluice-log/sluice/internal/sink/blackhole"
	_ "github.com/sluice-log/sluice/internal/sink/elasticsearch"
	_ "github.com/sluice-log/sluice/internal/sink/file"
	_ "github.com/sluice-log/sluice/internal/sink/http"
	_ "github.com/sluice-log/sluice/internal/sink/live"
	_ "github.com/sluice-log/sluice/internal/sink/stdout"
	_ "github.com/sluice-log/sluice/internal/sink/syslog"
	_ "github.com/sluice-log/sluice/internal/sink/websocket"
	_ "github.com/sluice-log/sluice/internal/source/exec"
	_ "github.com/sluice-log/sluice/internal/source/fifo"
	_ "github.com/sluice-log/sluice/internal/source/file"
	_ "github.com/sluice-log/sluice/internal/source/http"
	_ "github.com/sluice-log/sluice/internal/source/journald"
	_ "github.com/sluice-log/sluice/internal/source/rtail"
	_ "github.com/sluice-log/sluice/internal/source/stdin"
	_ "github.com/sluice-log/sluice/internal/source/syslog"
	_ "github.com/sluice-log/sluice/internal/source/websocket"
	_ "github.com/sluice-log/sluice/internal/transform/filter"
	_ "github.com/sluice-log/sluice/internal/transform/parse"
	_ "github.com/sluice-log/sluice/internal/transform/redact"
	_ "github.com/sluice-log/sluice/internal/transform/route"
	_ "github.com/sluice-log/sluice/internal/transform/sample"
	_ "github.com/sluice-log/sluice/internal/transform/set"
	_ "github.com/sluice-log/sluice/internal/transform/throttle"
)
