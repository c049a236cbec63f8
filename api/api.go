package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/api/app"
	"daisuso/api/dashboard"
	"daisuso/gamify"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/notify"
	"daisuso/people"
	"daisuso/programme"
	"daisuso/sessions"
	"daisuso/store"
)

// Deps is everything the API needs, created once in cmd/ and handed in.
type Deps struct {
	Logger *slog.Logger
	// Programme is the services, joined (programme.New); People, Matching,
	// Sessions, Gamify and Notify are its.
	Programme   *programme.Services
	People      *people.Service
	Matching    *matching.Service
	Sessions    *sessions.Service
	Gamify      *gamify.Service
	Notify      *notify.Service
	Mongo       *mongo.Database       // idempotency records
	Redis       redis.UniversalClient // rate limits, a cluster's or a server's
	RedisPrefix string
	// Stores are pinged by /readyz, by name ("mongodb", "redis").
	Stores map[string]Pinger
	// Verifier checks production bearer tokens (Firebase ID tokens); nil
	// means none are accepted.
	Verifier TokenVerifier
	// DevTokens, when set, turns dev mode on: POST /v1/dev/token exists and
	// dev tokens are accepted.
	DevTokens      *DevTokens
	RequestTimeout time.Duration
	// UserCacheTTL is how long a user's role and branch are kept in memory
	// (0: read every request).
	UserCacheTTL time.Duration
	BodyLimit    int
	RateLimits   RateLimits
	// ProxyHeader names the header holding the client IP behind a trusted
	// proxy ("X-Forwarded-For"); empty means the connection's address.
	ProxyHeader string
	Registry    *prometheus.Registry
	Now         func() time.Time
	// FirebaseWebAPIKey lets the dashboard's sign-in page get Firebase ID
	// tokens (e-mail and password); empty: only dev tokens can be pasted.
	FirebaseWebAPIKey string
}

// API is the HTTP service.
type API struct {
	draining atomic.Bool
	deps     Deps
	log      *slog.Logger
	app      *fiber.App
	metrics  *metrics
	limiter  *limiter
	idem     *idempotency
	rankings *rankingCache
	users    *userCache
	table    []route
	openAPI  []byte
	assets   map[string]dashboard.Asset
	appFiles map[string]dashboard.Asset
}

// units is the list of administrative units the service runs with.
func (a *API) units() *geo.Units { return a.deps.People.Units() }

// New builds the Fiber app with every route of the table.
func New(d Deps) (*API, error) {
	if p := d.Programme; p != nil {
		d.People, d.Matching, d.Sessions, d.Gamify, d.Notify = p.People, p.Matching, p.Sessions, p.Gamify, p.Notify
	}
	if d.Logger == nil || d.Programme == nil || d.Mongo == nil {
		return nil, errors.New("api: Logger, Programme and Mongo are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 5 * time.Second
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = 1 << 20
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("api metrics: %w", err)
	}
	a := &API{deps: d, log: d.Logger, metrics: m, rankings: newRankingCache(),
		users: &userCache{lookup: d.People.User, ttl: d.UserCacheTTL, now: d.Now, m: map[string]cachedUser{}}}
	if d.Redis != nil {
		a.limiter = &limiter{rdb: d.Redis, prefix: d.RedisPrefix, now: d.Now}
	}
	a.idem = &idempotency{coll: d.Mongo.Collection(idempotencyCollection), now: d.Now,
		staleAfter: d.RequestTimeout + 10*time.Second, keep: idempotencyKeep}
	a.app = fiber.New(fiber.Config{
		AppName:      "daisuso",
		ErrorHandler: a.handleError,
		// Fiber (fasthttp) reads bodies up to bodyReadFactor times the
		// limit, and bodyLimit answers those over it with the JSON 413: a
		// server that stops reading a body it refuses resets the
		// connection under a client that sends it whole before reading
		// (Android's, which send no Expect: 100-continue), and the app
		// sees a network error instead of the answer. Beyond that multiple
		// fasthttp refuses as before.
		BodyLimit:             d.BodyLimit * bodyReadFactor,
		ReadTimeout:           10 * time.Second, // also lets shutdown drain idle keep-alive connections
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		ReadBufferSize:        16 << 10,
		DisableStartupMessage: true,
		ProxyHeader:           d.ProxyHeader,
	})
	// In-flight requests of a stopping server answer with Connection: close.
	a.app.Server().CloseOnShutdown = true
	a.app.Use(a.closeWhenDraining, withRequestID, a.observe,
		fiberrecover.New(fiberrecover.Config{EnableStackTrace: true, StackTraceHandler: a.logPanic}),
		a.withDeadline, a.bodyLimit, checkPageParams, a.rateLimit(d.RateLimits.PerIP, ipSubject))
	d.People.AddDataHolder(personData{a})
	if a.appFiles, err = app.Assets(); err != nil {
		return nil, err
	}
	if a.assets, err = dashboard.Assets(); err != nil {
		return nil, fmt.Errorf("api dashboard: %w", err)
	}
	a.table = a.routes()
	if err := a.register(a.table); err != nil {
		return nil, err
	}
	if a.openAPI, err = buildOpenAPI(a.registered()); err != nil {
		return nil, fmt.Errorf("api openapi: %w", err)
	}
	return a, nil
}

// bodyReadFactor: see the BodyLimit of New.
const bodyReadFactor = 4

// bodyLimit answers a body over the limit with the JSON 413, once it has
// been read whole (see New).
func (a *API) bodyLimit(c *fiber.Ctx) error {
	if len(c.Body()) > a.deps.BodyLimit {
		return newError(fiber.StatusRequestEntityTooLarge, "body_too_large", map[string]any{"limit_bytes": a.deps.BodyLimit})
	}
	return c.Next()
}

// Drain begins a graceful stop, before the listener closes: /readyz
// answers 503 so that a load balancer sends nothing new, and every response
// asks its client to close the connection, so that when the listener closes
// no client is about to reuse a keep-alive connection (which would meet a
// reset, and a request lost, rather than a refused connection it can retry).
func (a *API) Drain() { a.draining.Store(true) }

func (a *API) closeWhenDraining(c *fiber.Ctx) error {
	if a.draining.Load() {
		c.Context().SetConnectionClose()
	}
	return c.Next()
}

// App is the Fiber app, to listen on or to test with app.Test.
func (a *API) App() *fiber.App { return a.app }

func (a *API) register(table []route) error {
	seen := map[string]bool{}
	for _, r := range table {
		if r.handler == nil || r.path == "" || r.method == "" {
			return fmt.Errorf("api: route %s %s is incomplete", r.method, r.path)
		}
		if !r.access.public && !r.access.signedIn && len(r.access.roles) == 0 {
			return fmt.Errorf("api: route %s %s has no access rule", r.method, r.path)
		}
		if seen[r.method+r.path] {
			return fmt.Errorf("api: route %s %s listed twice", r.method, r.path)
		}
		seen[r.method+r.path] = true
		if r.devOnly && a.deps.DevTokens == nil {
			continue
		}
		handlers := []fiber.Handler{markRoute(r.path)}
		if !r.access.public {
			handlers = append(handlers, a.authenticate, authorize(r.access),
				a.rateLimit(a.deps.RateLimits.PerUser, userSubject))
		}
		if r.idempotent {
			handlers = append(handlers, a.idempotent)
		}
		a.app.Add(r.method, r.path, append(handlers, r.handler)...)
	}
	return nil
}

// registered is the part of the table that this configuration serves.
func (a *API) registered() []route {
	var out []route
	for _, r := range a.table {
		if !r.devOnly || a.deps.DevTokens != nil {
			out = append(out, r)
		}
	}
	return out
}

func (a *API) logPanic(c *fiber.Ctx, v any) {
	a.log.Error("panic in handler", "request_id", requestID(c), "route", routeLabel(c), "panic", fmt.Sprint(v))
}

func (a *API) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(a.deps.Registry, promhttp.HandlerOpts{}))
}

// EnsureIndexes creates the indexes of the API's own collections.
func (a *API) EnsureIndexes(ctx context.Context) error {
	if err := store.EnsureExpiry(ctx, a.idem.coll, "expires_at"); err != nil {
		return err
	}
	return store.EnsureIndexes(ctx, a.idem.coll,
		mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}}})
}

// RunMaintenance sweeps expired idempotency records where the store has no
// TTL index: one pass, which the command runs every ten minutes
// (store.Every).
func (a *API) RunMaintenance(ctx context.Context) {
	if n, err := a.idem.sweep(ctx); err != nil {
		a.log.Warn("idempotency sweep failed", "err", err)
	} else if n > 0 {
		a.log.Info("idempotency sweep", "deleted", n)
	}
}
