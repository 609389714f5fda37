// Package postgres watches a Postgres table of drains, in logtrain's
// schema, and reports the full set of routes whenever it changes.
//
// The table is drains(drain uuid, hostname text, endpoint text, created,
// updated): hostname is the app, endpoint its drain URL. Triggers on
// insert, update and delete send pg_notify on drains.insert, drains.update
// and drains.delete; Watch creates the table, function and triggers if
// they are missing (idempotently). On every (re)connect it LISTENs first,
// then loads the whole table, then reloads it after each burst of
// notifications, so no change made while it was disconnected or between
// the load and the LISTEN is missed, and a payload too large for NOTIFY
// cannot matter (the payload is never read). It reconnects with backoff
// and never exits until its context ends.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-log/sluice/internal/backoff"
)

// Channels are the notification channels logtrain's triggers use.
var Channels = []string{"drains.insert", "drains.update", "drains.delete"}

// schema creates logtrain's table and triggers if they are missing.
const schema = `
CREATE TABLE IF NOT EXISTS drains (
	drain uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	hostname text NOT NULL,
	endpoint text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	updated timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION sluice_drains_notify() RETURNS trigger AS $$
BEGIN
	-- The payload is only the row's id: a long endpoint must never make
	-- NOTIFY (8000 bytes at most) fail the write.
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('drains.delete', OLD.drain::text);
		RETURN OLD;
	END IF;
	PERFORM pg_notify('drains.' || lower(TG_OP), NEW.drain::text);
	RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'sluice_drains_notify' AND tgrelid = 'drains'::regclass) THEN
		CREATE TRIGGER sluice_drains_notify AFTER INSERT OR UPDATE OR DELETE ON drains
			FOR EACH ROW EXECUTE FUNCTION sluice_drains_notify();
	END IF;
END;
$$;`

// Routes maps an app (hostname) to its drain URLs (endpoints).
type Routes map[string][]string

// Watch keeps apply up to date with the table at url until ctx ends. apply
// is called with the full table after every (re)connect and every burst
// of changes; connected, if not nil, is told whether it is connected.
func Watch(ctx context.Context, url string, log *slog.Logger, apply func(Routes), connected func(bool)) {
	retry := backoff.Exponential{Base: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: true}
	for ctx.Err() == nil {
		err := session(ctx, url, apply, connected, &retry)
		if connected != nil {
			connected(false)
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("drains table: reconnecting", "error", err)
		if !backoff.Sleep(ctx, retry.Next()) {
			return
		}
	}
}

// session is one connection: LISTEN, load, then reload on notifications.
func session(ctx context.Context, url string, apply func(Routes), connected func(bool), retry *backoff.Exponential) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, schema); err != nil {
		return fmt.Errorf("creating the drains table and triggers: %w", err)
	}
	for _, ch := range Channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listening on %s: %w", ch, err)
		}
	}
	if err := reload(ctx, conn, apply); err != nil {
		return err
	}
	retry.Reset()
	if connected != nil {
		connected(true)
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("waiting for notifications: %w", err)
		}
		// Take the rest of a burst (a bulk insert) before reloading once.
		for {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			_, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				break
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := reload(ctx, conn, apply); err != nil {
			return err
		}
	}
}

// reload reads the whole table and applies it.
func reload(ctx context.Context, conn *pgx.Conn, apply func(Routes)) error {
	rows, err := conn.Query(ctx, "SELECT hostname, endpoint FROM drains ORDER BY created, drain")
	if err != nil {
		return fmt.Errorf("reading the drains table: %w", err)
	}
	out := Routes{}
	for rows.Next() {
		var app, endpoint string
		if err := rows.Scan(&app, &endpoint); err != nil {
			rows.Close()
			return fmt.Errorf("reading the drains table: %w", err)
		}
		out[app] = append(out[app], endpoint)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the drains table: %w", err)
	}
	apply(out)
	return nil
}

// CheckURL reports whether url is a connection string pgx accepts,
// without connecting. The error does not repeat the URL, which may hold a
// password.
func CheckURL(url string) error {
	if _, err := pgx.ParseConfig(url); err != nil {
		return errors.New("not a valid postgres connection URL or DSN")
	}
	return nil
}
