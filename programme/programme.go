// Package programme is the work of the Đại sứ số programme that spans the
// domains: it builds the services and joins them (a saved volunteer updates
// the mentor index, erasure reaches every store, events become reminders),
// and holds the flows that need more than one of them (asking for help,
// the public rankings).
// cmd/daisuso and the API's tests build the service with New, so that both
// run the same wiring; the HTTP layer (api/) only decodes, calls and
// encodes.
package programme

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/gamify"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/notify"
	"daisuso/people"
	"daisuso/sessions"
)

// Config is what the services are built on.
type Config struct {
	DB          *mongo.Database
	Redis       redis.UniversalClient
	RedisPrefix string
	Logger      *slog.Logger     // nil: discarded
	Now         func() time.Time // nil: time.Now
	Units       *geo.Units       // nil: the embedded list
	// CodeSecret keys the sessions' confirmation codes (the same on every
	// instance).
	CodeSecret []byte
	// Sender sends pushes; Lease, NoQuietHours and SendTimeout are
	// notify.Config's.
	Sender       notify.Sender
	PushLease    time.Duration
	NoQuietHours bool
	SendTimeout  time.Duration
	// BoardGrace is gamify.Config's Grace (0: its default).
	BoardGrace time.Duration
}

// Services are the domain services, joined.
type Services struct {
	People   *people.Service
	Matching *matching.Service
	Gamify   *gamify.Service
	Sessions *sessions.Service
	Notify   *notify.Service
	cfg      Config
}

// New builds the services on cfg and joins them.
func New(cfg Config) *Services {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Services{cfg: cfg, People: people.New(people.Config{DB: cfg.DB, Now: cfg.Now, Units: cfg.Units}),
		Matching: matching.New(matching.Config{DB: cfg.DB, Now: cfg.Now})}
	s.Gamify = gamify.New(gamify.Config{DB: cfg.DB, Redis: cfg.Redis, RedisPrefix: cfg.RedisPrefix, Logger: cfg.Logger,
		Now: cfg.Now, Grace: cfg.BoardGrace})
	s.Sessions = s.SessionsAt(cfg.Now)
	connect(s.People, s.Matching, s.Gamify, s.Sessions)
	s.Notify = notify.New(notify.Config{DB: cfg.DB, Redis: cfg.Redis, RedisPrefix: cfg.RedisPrefix, Sender: cfg.Sender,
		Logger: cfg.Logger.With("component", "notify"), Now: cfg.Now, Still: stills(s.Matching, s.Sessions),
		Lease: cfg.PushLease, NoQuietHours: cfg.NoQuietHours, SendTimeout: cfg.SendTimeout})
	connectNotify(s.People, s.Matching, s.Gamify, s.Sessions, s.Notify, cfg.Logger.With("component", "reminders"), cfg.Now)
	return s
}

// SessionsAt is a sessions service on the same stores with another clock
// (the demo writes weeks of history).
func (s *Services) SessionsAt(now func() time.Time) *sessions.Service {
	c := s.cfg
	return sessions.New(sessions.Config{DB: c.DB, People: s.People, Matching: s.Matching, Gamify: s.Gamify,
		Redis: c.Redis, RedisPrefix: c.RedisPrefix, CodeSecret: c.CodeSecret, Logger: c.Logger, Now: now})
}

// EnsureIndexes creates every service's indexes.
func (s *Services) EnsureIndexes(ctx context.Context) error {
	for _, ensure := range []func(context.Context) error{s.People.EnsureIndexes, s.Matching.EnsureIndexes,
		s.Gamify.EnsureIndexes, s.Sessions.EnsureIndexes, s.Notify.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return err
		}
	}
	return nil
}
