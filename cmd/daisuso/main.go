// Command daisuso is the Đại sứ số network service. With no settings it runs
// on its embedded default (FerretDB in ./data, an in-process Redis, pushes
// logged, dev mode on); see README.md for every setting.
//
//	daisuso          run the service
//	daisuso demo     run the service, first filling an empty database with a
//	                 demo province (DEMO_HOUSEHOLDS households, default 5,000)
//	daisuso seed N   write a generated province of N households as JSON lines
//	daisuso env      print the settings table
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	firebase "firebase.google.com/go/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/option"

	"daisuso/api"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/notify"
	"daisuso/people"
	"daisuso/programme"
	"daisuso/store"
	"daisuso/store/ferret"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "daisuso:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	demo := false
	if len(args) > 0 {
		switch args[0] {
		case "env":
			printSettings(stdout)
			return nil
		case "seed":
			return writeSeed(args[1:], stdout)
		case "demo":
			demo = true
		case "units":
			return unitsCommand(ctx, args[1:], getenv, stdout)
		case "migrate":
			return migrateCommand(ctx, args[1:], getenv, stdout)
		default:
			return fmt.Errorf("unknown command %q (commands: demo, seed, units, migrate, env)", args[0])
		}
	}

	// Configuration: every setting checked before anything starts.
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	units, err := loadUnits(cfg.UnitsDir)
	if err != nil {
		return fmt.Errorf("configuration:\nUNITS_DIR: %w", err)
	}
	log := newLogger(cfg, stdout)
	log.Info("starting", append([]any{"dev_mode", cfg.DevMode}, logValues(getenv)...)...)

	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	if st.embedded != nil {
		// Only the embedded FerretDB allocates so (ferret.GCPercent).
		log.Info("garbage collector target", "GOGC", ferret.TuneGC(getenv))
	}
	embedded, db := st.embedded, st.db
	log.Info("mongodb", "backend", store.BackendOf(db).Name)

	svcs, srv, err := build(ctx, cfg, log, st, units)
	if err != nil {
		return err
	}
	if err := prepare(ctx, log, db, srv, svcs, embedded); err != nil {
		return err
	}
	if demo {
		if err := seedDemo(ctx, log, db, svcs.People, svcs.Matching, svcs.Gamify, svcs.SessionsAt, getenv("DEMO_HOUSEHOLDS")); err != nil {
			return err
		}
	}

	return serve(ctx, cfg, log, stdout, srv, svcs, embedded)
}

// build makes the services and the API on the stores: the sign-in
// verifiers, the push sender, the secrets, the metrics.
func build(ctx context.Context, cfg config, log *slog.Logger, st *stores, units *geo.Units) (*programme.Services, *api.API, error) {
	db, rdb := st.db, st.redis
	verifier, sender, err := openFirebase(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}

	var devTokens *api.DevTokens
	if cfg.DevMode {
		secret, err := keptSecret(cfg.DevTokenSecret, cfg.DataDir, "dev-token-secret")
		if err != nil {
			return nil, nil, err
		}
		devTokens = &api.DevTokens{Secret: secret, TTL: 7 * 24 * time.Hour, Now: time.Now}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log.Info("administrative units", "version", units.Version, "provinces", len(units.Provinces()))
	codeSecret, err := keptSecret(cfg.SessionCodeSecret, cfg.DataDir, "session-code-secret")
	if err != nil {
		return nil, nil, err
	}
	if cfg.SessionCodeSecret == "" && !cfg.DevMode {
		log.Warn("SESSION_CODE_SECRET is unset: confirmation codes use a secret kept in DATA_DIR, which other instances do not share")
	}
	svcs := programme.New(programme.Config{DB: db, Redis: rdb, RedisPrefix: cfg.RedisPrefix, Logger: log, Now: time.Now,
		Units: units, CodeSecret: codeSecret, Sender: sender, PushLease: cfg.PushLease, NoQuietHours: cfg.NoQuietHours})
	if st.embedded != nil {
		// An erased person leaves no copy in the embedded store's log.
		svcs.People.OnErased(st.embedded.Checkpoint)
	}
	if err := registerNotifyMetrics(registry, svcs.Notify); err != nil {
		return nil, nil, err
	}
	srv, err := api.New(api.Deps{
		Logger: log, Programme: svcs, Mongo: db, Redis: rdb, RedisPrefix: cfg.RedisPrefix,
		Stores:   map[string]api.Pinger{"mongodb": pingMongo(st.mongo), "redis": pingRedis(rdb)},
		Verifier: verifier, DevTokens: devTokens,
		RequestTimeout: cfg.RequestTimeout, UserCacheTTL: cfg.UserCacheTTL, BodyLimit: cfg.BodyLimit,
		RateLimits:  api.RateLimits{PerUser: cfg.RateLimitUser, PerIP: cfg.RateLimitIP},
		ProxyHeader: cfg.ProxyHeader, Registry: registry, Now: time.Now, FirebaseWebAPIKey: cfg.FirebaseWebAPIKey,
	})
	if err != nil {
		return nil, nil, err
	}
	return svcs, srv, nil
}

// prepare readies the stores before serving: every index, the embedded
// FerretDB's _id indexes, the boards, the push queue and the mentor index,
// which Redis and matching derive from MongoDB. It refuses data that needs
// `daisuso migrate` first.
func prepare(ctx context.Context, log *slog.Logger, db *mongo.Database, srv *api.API, svcs *programme.Services, embedded *ferret.Server) error {
	if err := srv.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := svcs.EnsureIndexes(ctx); err != nil {
		return err
	}
	if current, err := svcs.Gamify.LedgerCurrent(ctx); err != nil {
		return fmt.Errorf("points ledger: %w", err)
	} else if !current {
		return fmt.Errorf("points ledger: %w", errMigrate)
	}
	if embedded != nil {
		// Now that every collection with an index exists; the run every
		// minute in serve covers those made later.
		embedded.Maintain(ctx)
	}
	// Redis keeps no boards after a restart (or with the in-process Redis):
	// rebuild them from the ledger before serving.
	if err := svcs.Gamify.EnsureBoards(ctx); err != nil {
		return fmt.Errorf("leaderboards: %w", err)
	}
	// The notification queue and device directory in Redis are derived
	// too: load what is pending from MongoDB.
	if err := svcs.Notify.Reconcile(ctx); err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	if err := syncMentorIndex(ctx, log, db, svcs.People, svcs.Matching); err != nil {
		return err
	}
	return nil
}

// serve listens, runs the background work (the push worker and each part's
// upkeep) until ctx ends, then shuts down gracefully: in-flight requests
// finish, then the background work, all of which it waits for.
func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer, srv *api.API, svcs *programme.Services, embedded *ferret.Server) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	log.Info("listening", "url", url)
	if cfg.DevMode {
		fmt.Fprintf(stdout, "\ndaisuso is up at %s (dev mode)\nGet a token:\n  curl -s -X POST %s/v1/dev/token -H 'Content-Type: application/json' -d '{\"user_id\":\"demo-admin\",\"role\":\"admin\"}'\n\n", url, url)
	}
	// Background work: the push worker and each part's upkeep, in one
	// group that shutdown waits for.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var work errgroup.Group
	loop := func(interval time.Duration, now bool, f func(context.Context)) {
		work.Go(func() error { store.Every(workCtx, interval, now, f); return nil })
	}
	loop(10*time.Minute, false, srv.RunMaintenance)
	loop(10*time.Minute, false, func(ctx context.Context) { matchingUpkeep(ctx, log, svcs.Matching, svcs.People, svcs.Notify) })
	loop(10*time.Second, false, svcs.Gamify.Maintain)
	loop(time.Minute, true, svcs.Notify.Maintain)
	if embedded != nil {
		loop(time.Minute, false, embedded.Maintain)
	}
	work.Go(func() error { svcs.Notify.Run(workCtx); return nil })

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Graceful shutdown: finish in-flight requests, then stop workers and
	// close the stores (deferred above, in reverse order).
	log.Info("shutting down", "drain", cfg.ShutdownDrain, "timeout", cfg.ShutdownTimeout)
	srv.Drain()
	time.Sleep(cfg.ShutdownDrain)
	if err := srv.App().ShutdownWithTimeout(cfg.ShutdownTimeout); err != nil {
		log.Warn("shutdown", "err", err)
	}
	stopWork()
	// Batches under way are sent and recorded, so none goes twice after a
	// restart; upkeep passes under way end.
	_ = work.Wait()
	log.Info("stopped")
	return nil
}

// stores are the connections the service runs on, and how to close them
// (in reverse order of opening).
type stores struct {
	embedded *ferret.Server // nil unless embedded
	mongo    *mongo.Client
	db       *mongo.Database
	redis    redis.UniversalClient
	closers  []func()
}

func (st *stores) close() {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
}

// openMongo opens MongoDB: the given one, or FerretDB embedded in this
// process with its files in DATA_DIR.
func openMongo(ctx context.Context, cfg config, log *slog.Logger) (st *stores, err error) {
	st = &stores{}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	mongoURI := cfg.MongoURI
	if mongoURI == "" {
		dir := filepath.Join(cfg.DataDir, "ferretdb")
		if st.embedded, err = ferret.Start(ferret.Config{Dir: dir, PostgresURL: cfg.FerretPostgres, SyncFull: cfg.DataSyncFull,
			Logger: log.With("component", "ferretdb").WithGroup("ferretdb")}); err != nil {
			return st, err
		}
		st.closers = append(st.closers, st.embedded.Stop)
		mongoURI = st.embedded.URI
		log.Info("embedded FerretDB started", "dir", dir)
	}
	if st.mongo, st.db, err = store.OpenMongo(ctx, store.MongoConfig{URI: mongoURI, Database: cfg.MongoDatabase, Timeout: cfg.StoreTimeout,
		SelectionTimeout: max(cfg.StoreTimeout, cfg.RequestTimeout)}); err != nil {
		return st, err
	}
	client := st.mongo
	st.closers = append(st.closers, func() { disconnect(client) })
	return st, nil
}

// openStores opens MongoDB (openMongo) and Redis: the given one or
// cluster, or an in-process Redis-protocol server.
func openStores(ctx context.Context, cfg config, log *slog.Logger) (st *stores, err error) {
	if st, err = openMongo(ctx, cfg, log); err != nil {
		return st, err
	}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if len(cfg.RedisCluster) > 0 {
		if st.redis, err = store.OpenRedisCluster(ctx, cfg.RedisCluster, cfg.StoreTimeout); err != nil {
			return st, err
		}
	} else {
		redisURL := cfg.RedisURL
		if redisURL == "" {
			mini, u, err := store.StartMiniRedis()
			if err != nil {
				return st, err
			}
			st.closers = append(st.closers, mini.Close)
			redisURL = u
			log.Info("in-process Redis started (nothing kept on disk)")
		}
		if st.redis, err = store.OpenRedis(ctx, store.RedisConfig{URL: redisURL, Timeout: cfg.StoreTimeout}); err != nil {
			return st, err
		}
	}
	rdb := st.redis
	st.closers = append(st.closers, func() { _ = rdb.Close() })
	return st, nil
}

// openFirebase gives the sign-in verifier and the push sender: Firebase's
// when a project is given, otherwise none and a sender that logs.
func openFirebase(ctx context.Context, cfg config, log *slog.Logger) (api.TokenVerifier, notify.Sender, error) {
	if cfg.FirebaseProject == "" {
		return nil, notify.LogSender{Log: log.With("component", "push")}, nil
	}
	// No OpenTelemetry: the service exports none, and the Google
	// transport's instrumentation still worked out every request's
	// attributes (docs/PERFORMANCE.md, "telemetry").
	opts := []option.ClientOption{option.WithTelemetryDisabled()}
	if cfg.FCMEndpoint != "" {
		// Beside a local FCM stand-in there are no Google credentials;
		// verifying ID tokens needs none (only Google's public keys).
		opts = append(opts, option.WithoutAuthentication())
	}
	fb, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.FirebaseProject}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("firebase: %w", err)
	}
	authClient, err := fb.Auth(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("firebase auth: %w", err)
	}
	if cfg.FCMEndpoint != "" {
		// a local FCM stand-in: no Google credentials
		fb, err = firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.FirebaseProject},
			option.WithEndpoint(cfg.FCMEndpoint), option.WithoutAuthentication(), option.WithTelemetryDisabled())
		if err != nil {
			return nil, nil, fmt.Errorf("firebase: %w", err)
		}
	}
	msgClient, err := fb.Messaging(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("firebase messaging: %w", err)
	}
	return api.FirebaseVerifier{Client: authClient}, notify.FCMSender{Client: msgClient}, nil
}

// syncMentorIndex rebuilds matching's mentor index from the registry when
// the two disagree in size (the index is derived data; a profile saved while
// the index's store failed would otherwise stay stale until its next edit).
func syncMentorIndex(ctx context.Context, log *slog.Logger, db *mongo.Database, p *people.Service, m *matching.Service) error {
	vols, err := db.Collection("volunteers").CountDocuments(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mentor index: %w", err)
	}
	idx, err := db.Collection("mentors").CountDocuments(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mentor index: %w", err)
	}
	if vols == idx {
		return nil
	}
	log.Info("rebuilding the mentor index", "volunteers", vols, "indexed", idx)
	return p.EachVolunteer(ctx, func(v people.Volunteer) error { return m.SaveMentor(ctx, programme.MentorOf(v)) })
}

// matchingUpkeep gives the learners of long-paused mentors back to
// matching, frees the slots of reservations that died, and sends requests
// waiting longer than a week up to the province unions.
func matchingUpkeep(ctx context.Context, log *slog.Logger, m *matching.Service, p *people.Service, n *notify.Service) {
	if sent, err := programme.EscalateOverdue(ctx, p, m, n); err != nil {
		log.Warn("escalation of overdue requests failed", "err", err)
	} else if sent > 0 {
		log.Info("overdue requests sent up to province unions", "notifications", sent)
	}
	if n, err := m.ReleasePaused(ctx); err != nil {
		log.Warn("release of paused mentors failed", "err", err)
	} else if n > 0 {
		log.Info("learners of paused mentors matched again", "requests", n)
	}
	if n, err := m.SweepSlots(ctx, 10*time.Minute); err != nil {
		log.Warn("slot sweep failed", "err", err)
	} else if n > 0 {
		log.Info("capacity slots of reservations that died freed", "slots", n)
	}
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// keptSecret is the given secret, or one made once and kept in DATA_DIR
// under name, so that it survives a restart (dev tokens of `make run`,
// confirmation codes shown before a restart).
func keptSecret(given, dataDir, name string) ([]byte, error) {
	if given != "" {
		return []byte(given), nil
	}
	path := filepath.Join(dataDir, name)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := os.WriteFile(path, secret, 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return secret, nil
}

func pingMongo(c *mongo.Client) api.Pinger {
	return func(ctx context.Context) error { return c.Ping(ctx, readpref.Primary()) }
}

func pingRedis(c redis.UniversalClient) api.Pinger {
	return func(ctx context.Context) error { return c.Ping(ctx).Err() }
}

func disconnect(c *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		fmt.Fprintln(os.Stderr, "mongodb disconnect:", err)
	}
}
