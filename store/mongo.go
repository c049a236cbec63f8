package store

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
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// MongoConfig says where MongoDB is and how long to wait for it.
type MongoConfig struct {
	URI      string
	Database string
	// Timeout bounds dialling and each operation that has no deadline of
	// its own, so that a dead MongoDB fails fast.
	Timeout time.Duration
	// SelectionTimeout bounds server selection, which in the driver also
	// bounds the wait for a pooled connection; 0: Timeout. The service gives
	// its request timeout, so that a request waits for a busy store's
	// connection within its own deadline (a burst on the embedded FerretDB's
	// four connections waited longer than 500 ms and was answered 503); a
	// store that cannot be reached is still told at once by /readyz, and a
	// request finds it so within its deadline.
	SelectionTimeout time.Duration
	// Monitor, when set, is told of every command (benchmarks count them).
	Monitor *event.CommandMonitor
}

// OpenMongo connects to MongoDB and checks that it answers.
func OpenMongo(ctx context.Context, cfg MongoConfig) (*mongo.Client, *mongo.Database, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.SelectionTimeout <= 0 {
		cfg.SelectionTimeout = cfg.Timeout
	}
	opts := options.Client().ApplyURI(cfg.URI).
		SetServerSelectionTimeout(cfg.SelectionTimeout).
		SetConnectTimeout(cfg.Timeout).
		SetTimeout(2 * cfg.Timeout).
		SetAppName("daisuso")
	if cfg.Monitor != nil {
		opts.SetMonitor(cfg.Monitor)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("mongodb connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*cfg.Timeout)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, nil, fmt.Errorf("mongodb ping: %w", WrapMongo(err))
	}
	return client, client.Database(cfg.Database), nil
}

// Ferret is an in-process FerretDB v1 speaking the MongoDB wire protocol on
// a loopback port: the embedded default of `make run` and the tests' store.
type Ferret struct {
	URI    string
	dir    string // the SQLite databases' folder; "" with PostgreSQL
	cancel context.CancelFunc
	done   chan struct{}
}

// FerretConfig chooses FerretDB's backend: SQLite files in Dir, or the
// PostgreSQL database at PostgresURL when that is set.
type FerretConfig struct {
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

// StartFerret starts FerretDB and returns once it accepts connections.
func StartFerret(cfg FerretConfig) (*Ferret, error) {
	// FerretDB logs every connection at info level, and every driver
	// disconnect (endSessions, which it lacks) as a warning: keep only errors.
	base := slog.Default().Handler()
	if cfg.Logger != nil {
		base = cfg.Logger.Handler()
	}
	fc := &ferretdb.Config{Logger: slog.New(errorsOnly{base: base})}
	addr := cfg.Addr
	if addr == "" {
		port, err := FreePort()
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
	fr := &Ferret{URI: f.MongoDBURI(), cancel: cancel, done: done}
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
// For synchronous, see FerretConfig.SyncFull.
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
func (f *Ferret) Stop() {
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

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// EnsureIndexes creates indexes, treating "already exists" as success.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	// One at a time: FerretDB 1.24 panics (and drops the connection) on a
	// createIndexes of several indexes that all exist already, which is
	// every start but the first (TestEnsureIndexesAgain).
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("indexes on %s: %w", coll.Name(), WrapMongo(err))
		}
	}
	return nil
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

// InsertNew inserts docs, unordered, and reports which of them were new:
// a duplicate _id is the same thing written before, not an error. Any
// other failure fails them all (which of them were written is then not
// known; written again, those come back as not new).
func InsertNew[T any](ctx context.Context, coll *mongo.Collection, docs []T) ([]bool, error) {
	fresh := make([]bool, len(docs))
	if len(docs) == 0 {
		return fresh, nil
	}
	for i := range fresh {
		fresh[i] = true
	}
	_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return fresh, nil
	}
	var bulk mongo.BulkWriteException
	if !errors.As(err, &bulk) || bulk.WriteConcernError != nil || len(bulk.WriteErrors) == 0 {
		return nil, WrapMongo(err)
	}
	for _, we := range bulk.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(docs) {
			return nil, WrapMongo(err)
		}
		fresh[we.Index] = false
	}
	return fresh, nil
}

// FindAll runs a query and decodes every matching document into a T.
func FindAll[T any](ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := coll.Find(ctx, filter, opts...)
	if err != nil {
		return nil, WrapMongo(err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, WrapMongo(err)
	}
	return out, nil
}

// SumBy sums sum (1 to count, or a numeric field path such as "$n") over
// the documents matching match, grouped by the string field group ("$x"):
// one $group with one accumulator, because FerretDB 1.24 computes only
// the first accumulator of a $group and returns 0 for the others.
func SumBy(ctx context.Context, coll *mongo.Collection, match bson.D, group string, sum any) (map[string]int, error) {
	pipeline := bson.A{bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: group}, {Key: "n", Value: bson.D{{Key: "$sum", Value: sum}}}}}}}
	if len(match) > 0 {
		pipeline = append(bson.A{bson.D{{Key: "$match", Value: match}}}, pipeline...)
	}
	cur, err := coll.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, WrapMongo(err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, WrapMongo(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// InFilter is {field: {$in: values}}, or no filter at all when values is
// empty (meaning "every document").
func InFilter(field string, values []string) bson.D {
	if len(values) == 0 {
		return nil
	}
	return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: values}}}}
}
