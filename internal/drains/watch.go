package drains

import (
	"context"
	"errors"

	"github.com/sluice-log/sluice/internal/drains/postgres"
)

// watch starts the datasources the config names; each reports its whole
// set of routes, which replace that origin's routes.
func (r *Router) watch() {
	if r.cfg.Postgres.URL == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stopWatch = cancel
	log := r.deps.Logger.With("datasource", "postgres")
	r.watching.Go(func() {
		postgres.Watch(ctx, string(r.cfg.Postgres.URL), log, func(rs postgres.Routes) {
			if err := errors.Join(r.replace(OriginPostgres, rs)...); err != nil {
				log.Warn("drains table: routes not used", "error", err)
			}
		}, nil)
	})
}
