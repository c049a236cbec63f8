// Package storetest gives tests real stores: a MongoDB wire-protocol server
// (an in-process FerretDB on SQLite, FerretDB on PostgreSQL when
// DAISUSO_TEST_POSTGRES_URL is set, or the MongoDB at MONGODB_URI) and a real
// redis-server (REDIS_URL, or one started on a free port). Each test gets its
// own database and key prefix, removed when it ends.
//
// Packages that use it call storetest.Main from TestMain so that servers
// started for the package are stopped and the Redis report is written.
package storetest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
	"daisuso/store/ferret"
)

// Environment variables the tests read.
const (
	envMongoURI     = "MONGODB_URI"
	envPostgresURL  = "DAISUSO_TEST_POSTGRES_URL"
	envRedisURL     = "REDIS_URL"
	envRequireRedis = "DAISUSO_REQUIRE_REAL_REDIS" // "1": fail rather than fall back to miniredis
	envReportDir    = "DAISUSO_TEST_REPORT_DIR"    // where each package records which Redis it used
)

var (
	mu        sync.Mutex
	stops     []func()
	mongoURI  string
	mongoErr  error
	mongoOnce sync.Once
	redisURL  string
	redisKind string // "real redis-server <version>" or "miniredis"
	redisErr  error
	redisOnce sync.Once
	redisUsed bool
	embedded  *ferret.Server // the in-process FerretDB, when the tests run one
)

// gcPercent is the garbage collector target benchmarks run with: GOGC,
// Go's 100 or, once Main has seen -test.bench, the service's.
var gcPercent = cmp.Or(os.Getenv("GOGC"), "100")

// GCPercent says which garbage collector target (GOGC) the benchmark runs
// with, for its report.
func GCPercent() string { return gcPercent }

// Main runs the package's tests and then stops what they started.
func Main(m *testing.M) {
	// go-redis logs every failed dial; tests that stop Redis make many.
	redis.SetLogger(quietRedisLog{})
	// Benchmarks on the in-process FerretDB run with the garbage collector
	// target cmd/daisuso sets when it embeds one; tests, and benchmarks on
	// MONGODB_URI, with Go's.
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" && os.Getenv(envMongoURI) == "" {
		gcPercent = ferret.TuneGC(os.Getenv)
	}
	code := m.Run()
	writeReport()
	mu.Lock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	mu.Unlock()
	os.Exit(code)
}

func atExit(f func()) {
	mu.Lock()
	stops = append(stops, f)
	mu.Unlock()
}

// Name returns a short random name usable as a database name or key prefix.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// MongoURI returns the URI of the shared test MongoDB: MONGODB_URI when
// set, else the in-process FerretDB (EmbeddedURI).
func MongoURI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv(envMongoURI); uri != "" {
		return uri
	}
	return EmbeddedURI(t)
}

// EmbeddedURI returns the URI of the in-process FerretDB, starting it the
// first time it is asked for.
func EmbeddedURI(t testing.TB) string {
	t.Helper()
	mongoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "daisuso-ferret-")
		if err != nil {
			mongoErr = err
			return
		}
		f, err := ferret.Start(ferret.Config{Dir: dir, PostgresURL: os.Getenv(envPostgresURL)})
		if err != nil {
			mongoErr = err
			_ = os.RemoveAll(dir)
			return
		}
		mongoURI, embedded = f.URI, f
		atExit(func() { f.Stop(); _ = os.RemoveAll(dir) })
	})
	if mongoErr != nil {
		t.Fatalf("test mongodb: %v", mongoErr)
	}
	return mongoURI
}

// MongoBackends are the servers a test of the stores' semantics runs
// against, by name: the in-process FerretDB always, and the server at
// MONGODB_URI when that is set.
func MongoBackends(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{"embedded FerretDB": EmbeddedURI(t)}
	if uri := os.Getenv(envMongoURI); uri != "" {
		out["MONGODB_URI"] = uri
	}
	return out
}

// Mongo returns a fresh database for this test, dropped when it ends.
func Mongo(t testing.TB) *mongo.Database {
	t.Helper()
	return MongoAt(t, MongoURI(t))
}

// MongoAt returns a fresh database on the server at uri, dropped when the
// test ends.
func MongoAt(t testing.TB, uri string) *mongo.Database {
	t.Helper()
	client, db, err := store.OpenMongo(context.Background(), store.MongoConfig{
		URI: uri, Database: Name("t_"), Timeout: 2 * time.Second, Monitor: commands.monitor(),
	})
	if err != nil {
		t.Fatalf("open test mongodb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return db
}

// RedisURL returns the URL of the shared test Redis: REDIS_URL, or a
// redis-server started on a free port, or, only where no redis-server is
// installed and DAISUSO_REQUIRE_REAL_REDIS is not 1, an in-process miniredis.
func RedisURL(t testing.TB) string {
	t.Helper()
	redisOnce.Do(func() {
		if u := os.Getenv(envRedisURL); u != "" {
			redisURL = u
			return
		}
		if _, err := exec.LookPath("redis-server"); err == nil {
			srv, err := startRedisServer()
			if err != nil {
				redisErr = err
				return
			}
			redisURL = srv.URL
			atExit(srv.Stop)
			return
		}
		if os.Getenv(envRequireRedis) == "1" {
			redisErr = fmt.Errorf("no redis-server on PATH and %s=1", envRequireRedis)
			return
		}
		m, u, err := store.StartMiniRedis()
		if err != nil {
			redisErr = err
			return
		}
		fmt.Fprintln(os.Stderr, "storetest: no redis-server installed; using in-process miniredis")
		redisURL, redisKind = u, "miniredis"
		atExit(m.Close)
	})
	if redisErr != nil {
		t.Fatalf("test redis: %v", redisErr)
	}
	// Record what kind of server the tests of this package use.
	RedisAt(t, redisURL)
	return redisURL
}

// Redis returns a client of the shared test Redis and a key prefix of this
// test's own; keys under the prefix are removed when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	client := RedisAt(t, RedisURL(t))
	prefix := Name("t") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Unlink(ctx, iter.Val())
		}
	})
	return client, prefix
}

// RedisAt opens a client of the Redis at url, closed when the test ends,
// and records what kind of server it is for the package report.
func RedisAt(t testing.TB, url string) *redis.Client {
	t.Helper()
	client, err := store.OpenRedis(context.Background(), store.RedisConfig{URL: url, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("open test redis: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	kind := serverKind(client)
	if kind == "miniredis" && os.Getenv(envRequireRedis) == "1" {
		t.Fatalf("test redis at %s is not a real redis-server and %s=1", url, envRequireRedis)
	}
	mu.Lock()
	redisUsed = true
	if redisKind == "" || kind == "miniredis" {
		redisKind = kind
	}
	mu.Unlock()
	return client
}

// serverKind tells a real redis-server (which reports its version and
// process id in INFO) from miniredis (which does not implement INFO server).
func serverKind(c *redis.Client) string {
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil || !strings.Contains(info, "process_id:") {
		return "miniredis"
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return "real redis-server " + v
		}
	}
	return "miniredis"
}

func writeReport() {
	dir := os.Getenv(envReportDir)
	mu.Lock()
	used, kind := redisUsed, redisKind
	mu.Unlock()
	if dir == "" || !used {
		return
	}
	name := strings.ReplaceAll(packageDir(), string(filepath.Separator), "_")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".redis"), []byte(kind+"\n"), 0o644)
}

// RedisServer is a redis-server process of one test's own, for tests that
// stop it to see what the service does without Redis.
type RedisServer struct {
	URL string
	cmd *exec.Cmd
	dir string
}

// OwnRedis starts a redis-server for this test alone; it is stopped when the
// test ends, if the test has not stopped it already. The test is skipped
// where no redis-server is installed (and fails if one is required).
func OwnRedis(t testing.TB) *RedisServer {
	t.Helper()
	needRedisServer(t, "this test needs one to stop")
	srv, err := startRedisServer()
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// needRedisServer skips the test where no redis-server is installed, or
// fails it if one is required.
func needRedisServer(t testing.TB, why string) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(envRequireRedis) == "1" {
			t.Fatalf("no redis-server on PATH and %s=1", envRequireRedis)
		}
		t.Skip("no redis-server installed; " + why)
	}
}

// RedisCluster starts a Redis Cluster of three masters (no replicas) from
// redis-server for this test alone and returns a cluster client of it; the
// servers stop when the test ends. The slots are split evenly, as
// redis-cli --cluster create does.
func RedisCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	needRedisServer(t, "this test needs one to start a cluster")
	var addrs []string
	for range 3 {
		srv, err := startRedisServer("--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		if err != nil {
			t.Fatalf("start cluster node: %v", err)
		}
		t.Cleanup(srv.Stop)
		addrs = append(addrs, strings.TrimSuffix(strings.TrimPrefix(srv.URL, "redis://"), "/0"))
	}
	ctx := context.Background()
	// Each master takes a third of the 16384 slots, then they meet.
	for i, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		lo, hi := i*16384/3, (i+1)*16384/3
		slots := make([]int, 0, hi-lo)
		for s := lo; s < hi; s++ {
			slots = append(slots, s)
		}
		err := c.ClusterAddSlots(ctx, slots...).Err()
		if err == nil && i > 0 {
			host, port, _ := strings.Cut(addrs[0], ":")
			err = c.ClusterMeet(ctx, host, port).Err()
		}
		_ = c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", a, err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ready at %s: %s %v", a, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cc.Close() })
	for cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }) != nil {
		if time.Now().After(deadline) {
			t.Fatal("cluster client cannot reach every master")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cc
}

func startRedisServer(extra ...string) (*RedisServer, error) {
	port, err := store.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "daisuso-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("redis-server", append([]string{
		"--bind", "127.0.0.1", "--port", fmt.Sprint(port),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log")}, extra...)...)
	// The server dies with the test binary even when the binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	srv := &RedisServer{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), cmd: cmd, dir: dir}
	if err := srv.waitUp(); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// waitUp waits up to 10 s for the server to answer PING.
func (s *RedisServer) waitUp() error {
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s did not start", s.URL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Restart starts a stopped server again on the same port, empty (it keeps
// nothing on disk), as a Redis restarted after a crash.
func (s *RedisServer) Restart() error {
	if s.cmd.ProcessState == nil {
		return fmt.Errorf("redis-server still running")
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	cmd.SysProcAttr = s.cmd.SysProcAttr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w", err)
	}
	s.cmd = cmd
	return s.waitUp()
}

// Stop kills the server; calling it again does nothing.
func (s *RedisServer) Stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.dir)
}

// packageDir is the tested package's folder relative to the module root.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "unknown"
	}
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, _ := filepath.Rel(dir, wd)
			return rel
		}
	}
	return filepath.Base(wd)
}

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...interface{}) {}

// IndexFerretIDs applies ferret.Server.IndexIDs to the in-process FerretDB
// on SQLite, as the service does at start: every collection that exists
// now gets an index FerretDB's {_id: x} lookups use. It does nothing on
// another store. Benchmarks call it once their collections exist and say
// so in their reports.
func IndexFerretIDs(t testing.TB) int {
	t.Helper()
	if embedded == nil {
		return 0
	}
	n, err := embedded.IndexIDs(context.Background())
	if err != nil {
		t.Fatalf("index ferretdb _id: %v", err)
	}
	return n
}

// MongoKind says which MongoDB the tests use, for benchmark reports.
func MongoKind() string {
	switch {
	case os.Getenv("MONGODB_URI") != "":
		return "MONGODB_URI"
	case os.Getenv("DAISUSO_TEST_POSTGRES_URL") != "":
		return "FerretDB 1.24 in-process (PostgreSQL)"
	}
	return "FerretDB 1.24 in-process (SQLite, synchronous=NORMAL, clients of 4 connections)"
}

// Long marks a fault, load or browser test: `make test-short` (go test
// -short) leaves it out, `make test` and CI run it.
func Long(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("a fault, load or browser test: run by make test, not by make test-short")
	}
}
