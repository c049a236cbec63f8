// Package ferret runs the stand-in for MongoDB that `make run` and the
// tests use: FerretDB 1.24 in this process, on SQLite files (or
// PostgreSQL). Everything that exists only for it lives here: starting it,
// its SQLite settings, the filter on its logs, the _id indexes its lookups
// need (IndexIDs), the WAL checkpoint after an erasure, and the garbage
// collector's target it runs best with. Production runs MongoDB, and no
// domain package imports this one.
package ferret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"daisuso/store"
)

// Server is an in-process FerretDB v1 speaking the MongoDB wire protocol on
// a loopback port: the embedded default of `make run` and the tests' store.
type Server struct {
	URI    string
	log    *slog.Logger
	dir    string // the SQLite databases' folder; "" with PostgreSQL
	cancel context.CancelFunc
	done   chan struct{}
}

// Config chooses FerretDB's backend: SQLite files in Dir, or the
// PostgreSQL database at PostgresURL when that is set.
type Config struct {
	Dir         string
	PostgresURL string
	// SyncFull makes SQLite wait for the disk at every commit
	// (synchronous=FULL, SQLite's default): no acknowledged write is lost
	// even if the machine stops. Without it (synchronous=NORMAL, which
	// SQLite's documentation calls a good choice in the write-ahead-log
	// mode FerretDB uses) every acknowledged write survives a crash of
	// this process, and the last ones may be lost if the machine itself
	// stops.
	SyncFull bool
	// Addr is the TCP address to listen on; empty means a free loopback port.
	Addr   string
	Logger *slog.Logger
}

// Start starts FerretDB and returns once it accepts connections.
func Start(cfg Config) (*Server, error) {
	// FerretDB logs every connection at info level, and every driver
	// disconnect (endSessions, which it lacks) as a warning: keep only errors.
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	fc := &ferretdb.Config{Logger: slog.New(errorsOnly{base: cfg.Logger.Handler()})}
	addr := cfg.Addr
	if addr == "" {
		port, err := store.FreePort()
		if err != nil {
			return nil, err
		}
		addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	fc.Listener.TCP = addr
	if cfg.PostgresURL != "" {
		fc.Handler = "postgresql"
		fc.PostgreSQLURL = cfg.PostgresURL
	} else {
		dir, err := filepath.Abs(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("ferretdb dir: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("ferretdb dir: %w", err)
		}
		fc.Handler = "sqlite"
		fc.SQLiteURL = sqliteURL(dir, cfg.SyncFull)
	}
	f, err := ferretdb.New(fc)
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	if err := waitListening(addr, 10*time.Second); err != nil {
		cancel()
		<-done
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	fr := &Server{URI: f.MongoDBURI(), log: cfg.Logger, cancel: cancel, done: done}
	if cfg.PostgresURL == "" {
		fr.dir, _ = filepath.Abs(cfg.Dir)
		fr.URI = withPoolLimit(fr.URI, sqlitePool)
	}
	return fr, nil
}

// sqliteURL is the SQLite URL FerretDB opens its files in dir with.
// Write transactions take SQLite's write lock when they begin
// (_txlock=immediate) and so wait for it (FerretDB sets a 10 s
// busy_timeout). Deferred ones, FerretDB's default, start as readers and
// fail at once with SQLITE_BUSY when they cannot upgrade (the busy handler
// is not called then): under load, concurrent updates came back as 500s.
// For synchronous, see Config.SyncFull.
func sqliteURL(dir string, syncFull bool) string {
	sync := "NORMAL"
	if syncFull {
		sync = "FULL"
	}
	// secure_delete: what a person's erasure deletes is overwritten with
	// zeros in the files, not left in free pages (Law 91/2025 erasure).
	return "file:" + dir + "/?_txlock=immediate&_pragma=synchronous(" + sync + ")&_pragma=secure_delete(1)"
}

// sqlitePool is how many connections a client of the embedded FerretDB on
// SQLite opens. SQLite writes one transaction at a time, and a writer that
// finds the lock taken sleeps in SQLite's busy handler, 1 ms, then 2, 5,
// 10 and on up to 100 ms between tries, however soon the lock is free: with
// 50 requests writing at once, some slept for seconds while others went
// ahead. With a few connections, the commands wait in the driver's queue
// instead, in turn, and each finds SQLite nearly free.
const sqlitePool = 4

// withPoolLimit adds maxPoolSize to a MongoDB URI.
func withPoolLimit(uri string, n int) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%smaxPoolSize=%d", uri, sep, n)
}

// Stop closes FerretDB's listener and its backend.
func (f *Server) Stop() {
	f.cancel()
	<-f.done
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s not listening after %s", addr, limit), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errorsOnly passes on records of level Error and above. FerretDB derives
// loggers (With) as it serves; their attributes are applied only to a
// record that passes, because formatting them up front took 6.5% of the
// process's CPU in a profile of a rebuild of 100,000 ledger entries (go
// test -bench Rebuild ./gamify/ -cpuprofile).
type errorsOnly struct {
	base slog.Handler
	with []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func (h errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.base.Enabled(ctx, l)
}

func (h errorsOnly) Handle(ctx context.Context, r slog.Record) error {
	x := h.base
	for _, f := range h.with {
		x = f(x)
	}
	return x.Handle(ctx, r)
}

func (h errorsOnly) WithAttrs(a []slog.Attr) slog.Handler {
	return errorsOnly{h.base, append(slices.Clip(h.with), func(x slog.Handler) slog.Handler { return x.WithAttrs(a) })}
}

func (h errorsOnly) WithGroup(n string) slog.Handler {
	return errorsOnly{h.base, append(slices.Clip(h.with), func(x slog.Handler) slog.Handler { return x.WithGroup(n) })}
}
