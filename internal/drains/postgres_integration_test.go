package drains

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// pgServer is a throwaway PostgreSQL cluster in a temp dir on a free
// loopback port: never the system service. As root it runs as the
// postgres user, or nobody where PostgreSQL was unpacked rather than
// installed (scripts/install-test-deps.sh).
type pgServer struct {
	t         *testing.T
	bin, dir  string
	port      string
	asPostgre bool
	osUser    string // who runs the cluster when the test runs as root
}

func startPostgres(t *testing.T) *pgServer {
	testutil.SkipIfShort(t)
	initdb, err := exec.LookPath("initdb") // /opt/sluice-peers/bin on make test's PATH
	if err != nil {
		bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(bins) == 0 {
			testutil.RequireCI(t, "PostgreSQL's initdb is not installed (scripts/install-test-deps.sh)")
		}
		initdb = bins[len(bins)-1]
	}
	dir, err := os.MkdirTemp("", "sluice-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &pgServer{t: t, bin: filepath.Dir(initdb), dir: dir, asPostgre: os.Getuid() == 0, osUser: "postgres"}
	if _, err := user.Lookup("postgres"); err != nil {
		s.osUser = "nobody" // PostgreSQL unpacked, not installed: no postgres user
	}
	_, s.port, _ = splitHostPort(testutil.FreeAddr(t))
	if s.asPostgre { // initdb and postgres refuse to run as root
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s.run("chown", "-R", s.osUser+":", dir)
	}
	s.run(s.pg("initdb"), "-D", dir+"/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *pgServer) pg(name string) string { return filepath.Join(s.bin, name) }

func (s *pgServer) run(name string, args ...string) {
	s.t.Helper()
	if s.asPostgre && name != "chown" {
		args = append([]string{"-u", s.osUser, "--", name}, args...)
		name = "runuser"
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (s *pgServer) start() {
	s.run(s.pg("pg_ctl"), "-D", s.dir+"/data", "-l", s.dir+"/pg.log", "-w", "-t", "30", "-o",
		"-c listen_addresses=127.0.0.1 -p "+s.port+" -k "+s.dir+" -c fsync=off -c synchronous_commit=off", "start")
}

func (s *pgServer) stop() {
	s.run(s.pg("pg_ctl"), "-D", s.dir+"/data", "-m", "fast", "-w", "stop")
}

func (s *pgServer) url() string {
	return "postgres://postgres@127.0.0.1:" + s.port + "/postgres?sslmode=disable"
}

func (s *pgServer) exec(sql string, args ...any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url())
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

func splitHostPort(a string) (string, string, error) {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == ':' {
			return a[:i], a[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("no port in %q", a)
}

// TestPostgresDatasource follows logtrain's drains table: 1,000 rows
// present at start all route; an insert, an update and a delete apply
// within a second; a Postgres restart mid-stream loses nothing for the
// apps whose routes did not change.
func TestPostgresDatasource(t *testing.T) {
	pg := startPostgres(t)
	preset, moved := newReceiver(t), newReceiver(t)
	// The table exists with rows before sluice first connects.
	pg.exec(`CREATE TABLE drains (drain uuid PRIMARY KEY DEFAULT gen_random_uuid(), hostname text NOT NULL,
		endpoint text NOT NULL, created timestamptz NOT NULL DEFAULT now(), updated timestamptz NOT NULL DEFAULT now())`)
	pg.exec(`INSERT INTO drains (hostname, endpoint) SELECT 'app' || i, $1 || '?app=' || i FROM generate_series(0, 999) i`, preset.url())
	c := testConfig(t, func(c *Config) {
		c.Timeout = config.Duration(5 * time.Second)
		c.Postgres.URL = config.URL(pg.url())
	})
	r := newRouter(t, c, "")
	count := func(origin string) int {
		r.mu.RLock()
		defer r.mu.RUnlock()
		n := 0
		for _, rt := range r.routes {
			if rt.Origin == origin {
				n++
			}
		}
		return n
	}
	testutil.WaitFor(t, 30*time.Second, "1,000 routes from the table", func() bool { return count(OriginPostgres) == 1000 })
	for i := range 1000 {
		write(t, r, batch("app"+strconv.Itoa(i), 0, 1))
	}
	testutil.WaitFor(t, 30*time.Second, "an event at each of the 1,000 drains", func() bool { return preset.total.Load() == 1000 })

	pg.exec(`INSERT INTO drains (hostname, endpoint) VALUES ('new', $1)`, moved.url())
	testutil.WaitFor(t, time.Second, "the inserted route within a second", func() bool {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return len(r.byApp["new"]) == 1
	})
	write(t, r, batch("new", 0, 5))
	testutil.WaitFor(t, 5*time.Second, "new's events", func() bool { return len(moved.messages("new")) == 5 })

	pg.exec(`UPDATE drains SET endpoint = $1, updated = now() WHERE hostname = 'new'`, preset.url()+"?moved=1")
	testutil.WaitFor(t, time.Second, "the updated route within a second", func() bool {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return len(r.byApp["new"]) == 1 && r.routes[DrainID("new", preset.url()+"?moved=1")] != nil
	})
	write(t, r, batch("new", 5, 5))
	testutil.WaitFor(t, 5*time.Second, "new's events at the moved drain", func() bool { return len(preset.messages("new")) == 5 })
	if n := len(moved.messages("new")); n != 5 {
		t.Fatalf("the old drain got %d events, want 5", n)
	}

	pg.exec(`DELETE FROM drains WHERE hostname = 'new'`)
	testutil.WaitFor(t, time.Second, "the deleted route gone within a second", func() bool {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return len(r.byApp["new"]) == 0
	})

	// Restart Postgres while app0..app9 keep writing: their routes stay,
	// and every event arrives once.
	pg.stop()
	for i := range 10 {
		write(t, r, batch("app"+strconv.Itoa(i), 1, 10))
	}
	pg.start()
	pg.exec(`INSERT INTO drains (hostname, endpoint) VALUES ('after', $1)`, moved.url())
	testutil.WaitFor(t, 30*time.Second, "the route inserted after the restart", func() bool {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return len(r.byApp["after"]) == 1
	})
	for i := range 10 {
		write(t, r, batch("app"+strconv.Itoa(i), 11, 10))
	}
	testutil.WaitFor(t, 10*time.Second, "every event of app0..app9", func() bool {
		for i := range 10 {
			if len(preset.messages("app"+strconv.Itoa(i))) != 21 {
				return false
			}
		}
		return true
	})
	for i := range 10 {
		app := "app" + strconv.Itoa(i)
		for j, m := range preset.messages(app) {
			if want := app + " " + strconv.Itoa(j); m != want {
				t.Fatalf("%s event %d = %q, want %q", app, j, m, want)
			}
		}
	}
	testutil.Diff(t, 1001, count(OriginPostgres))
}
