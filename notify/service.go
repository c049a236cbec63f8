package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/store"
)

// Limits and defaults.
const (
	DefaultDailyCap   = 3                    // pushes a user gets a local day before the rest wait for the digest
	MaxDevicesPerUser = 10                   // the oldest token goes when an 11th is registered
	TokenMaxAge       = 270 * 24 * time.Hour // FCM's own horizon for stale tokens
	MaxAttempts       = 8                    // claims of one notification before it is given up
	maxKeyLen         = 300
)

// Still reports whether a notification of a kind is still worth sending
// when it falls due (a learner may have had a session meanwhile).
type Still func(ctx context.Context, n Notification) (bool, error)

// Config configures a Service.
type Config struct {
	DB          *mongo.Database
	Redis       redis.UniversalClient
	RedisPrefix string
	Sender      Sender
	Logger      *slog.Logger
	Now         func() time.Time
	// Still holds the checks made when a notification of the kind falls due.
	Still map[Kind]Still
	// Batch is how many notifications a worker claims at once (default
	// 500); Workers how many batches one instance sends at once (default 4).
	Batch, Workers int
	// Lease is how long a claim holds before another worker may take the
	// notification again (default 60 s). The worker renews it every third
	// of it while it deals with the batch, so it bounds how long the
	// notifications of a dead worker wait, not how long a send may take.
	Lease time.Duration
	// SendTimeout bounds one batch's send (default 30 s).
	SendTimeout time.Duration
	// RetryBase is the first backoff after a 500 or 503 (default 30 s);
	// it doubles with each attempt, up to an hour, with ±50% jitter.
	RetryBase time.Duration
	// Poll is how long an idle worker waits before looking again (default 1 s).
	Poll     time.Duration
	DailyCap int
	// NoQuietHours sends at any hour: for tests of what is sent, which
	// must not depend on the hour they run at.
	NoQuietHours bool
}

// Service schedules and sends notifications.
type Service struct {
	st    *mongoStore
	q     *queue
	send  Sender
	log   *slog.Logger
	now   func() time.Time
	still map[Kind]Still
	cfg   Config
	owner string
	// dirty is set when a Redis write behind a MongoDB write failed: the
	// next maintenance reloads the queue and devices from MongoDB.
	dirty atomic.Bool
	stats counters
}

// New returns a Service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Sender == nil {
		c.Sender = LogSender{Log: c.Logger}
	}
	if c.Batch <= 0 || c.Batch > MaxBatch {
		c.Batch = MaxBatch
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.DailyCap <= 0 {
		c.DailyCap = DefaultDailyCap
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Service{st: newMongoStore(c.DB), q: &queue{rdb: c.Redis, prefix: c.RedisPrefix}, send: c.Sender,
		log: c.Logger, now: c.Now, still: c.Still, cfg: c, owner: hex.EncodeToString(b)}
}

// EnsureIndexes creates the indexes of notifications and devices.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.st.ensureIndexes(ctx) }

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_:.#>@-]+$`)

// Enqueue schedules notifications. Each is written to MongoDB first; one
// whose key was scheduled before is left as it is. The queue in Redis is
// derived: when writing it fails, the notifications are kept and the next
// maintenance puts them in.
func (s *Service) Enqueue(ctx context.Context, ns ...Notification) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	docs := make([]notifDoc, 0, len(ns))
	for _, n := range ns {
		if n.Key == "" || len(n.Key) > maxKeyLen || !keyPattern.MatchString(n.Key) || n.UserID == "" || !n.Kind.Known() {
			return fmt.Errorf("enqueue %q (%s): %w", n.Key, n.Kind, ErrInvalid)
		}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = now
		}
		if n.DueAt.IsZero() {
			n.DueAt = now
		}
		if n.ExpiresAt.IsZero() {
			n.ExpiresAt = n.DueAt.Add(kinds[n.Kind].ttl)
		}
		n.DueAt, n.ExpiresAt = n.DueAt.UTC().Truncate(time.Millisecond), n.ExpiresAt.UTC().Truncate(time.Millisecond)
		if !n.StartsAt.IsZero() {
			n.StartsAt = n.StartsAt.UTC().Truncate(time.Millisecond)
		}
		docs = append(docs, toDoc(n))
	}
	fresh, err := store.InsertNew(ctx, s.st.notifications, docs)
	if err != nil {
		return fmt.Errorf("enqueue notifications: %w", err)
	}
	var added []notifDoc
	for i, d := range docs {
		if fresh[i] {
			added = append(added, d)
		}
	}
	if err := s.q.add(ctx, added, s.dueScore); err != nil {
		s.dirty.Store(true)
		s.log.Warn("notifications kept in MongoDB, not yet queued", "count", len(added), "err", err)
	}
	return nil
}

// dueScore is when a notification may go: quiet hours applied.
func (s *Service) dueScore(d notifDoc) time.Time {
	var starts time.Time
	if d.Starts != nil {
		starts = *d.Starts
	}
	return s.deliverAt(d.Due, starts)
}

// deliverAt applies quiet hours unless they are off.
func (s *Service) deliverAt(due, startsAt time.Time) time.Time {
	if s.cfg.NoQuietHours {
		return due
	}
	return deliverAt(due, startsAt)
}

// Cancel withdraws the notifications of the keys that are not sent yet
// (the session they were about was cancelled or confirmed).
func (s *Service) Cancel(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	outs := make([]outcomeDoc, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = IDOf(k)
		outs[i] = outcomeDoc{ID: ids[i], State: string(StateCancelled), At: now}
	}
	if err := s.st.record(ctx, outs); err != nil {
		return fmt.Errorf("cancel notifications: %w", err)
	}
	if err := s.q.done(ctx, ids); err != nil {
		// Rare (Redis failed just now): the worker checks recorded outcomes
		// only on a second claim, so one of these may still go out when due.
		s.log.Warn("cancelled notifications left in the queue", "err", err)
	}
	return nil
}

// Reconcile rebuilds the Redis side from MongoDB: every device, and every
// notification that has no outcome and has not expired. It runs at start,
// when Redis has come back empty and after a failed Redis write; one
// instance at a time.
func (s *Service) Reconcile(ctx context.Context) error {
	ok, err := s.q.lease(ctx, "reconcile", s.owner, 10*time.Minute)
	if err != nil || !ok {
		return err
	}
	defer s.q.unlease(context.WithoutCancel(ctx), "reconcile", s.owner)
	s.dirty.Store(false)
	devices, err := s.st.allDevices(ctx)
	if err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile devices: %w", err)
	}
	for len(devices) > 0 {
		chunk := devices[:min(len(devices), 1000)]
		devices = devices[len(chunk):]
		if _, err := s.q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, d := range chunk {
				p.HSet(ctx, s.q.deviceKey(d.User), d.Token, deviceValue(d.Platform, d.Locale))
			}
			return nil
		}); err != nil {
			s.dirty.Store(true)
			return fmt.Errorf("reconcile devices: %w", store.WrapRedis(err))
		}
	}
	if err := s.q.rdb.Set(ctx, s.q.devReadyKey(), s.owner, 0).Err(); err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile devices: %w", store.WrapRedis(err))
	}
	docs, err := s.st.unexpired(ctx, s.now().UTC())
	if err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile queue: %w", err)
	}
	recorded, err := s.st.recordedIDs(ctx)
	if err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile queue: %w", err)
	}
	var pending []notifDoc
	for _, d := range docs {
		if !recorded[d.ID] {
			pending = append(pending, d)
		}
	}
	if err := s.q.add(ctx, pending, s.dueScore); err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile queue: %w", err)
	}
	if err := s.q.rdb.Set(ctx, s.q.readyKey(), s.owner, 0).Err(); err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("reconcile queue: %w", store.WrapRedis(err))
	}
	s.log.Info("notification queue loaded from MongoDB", "pending", len(pending))
	return nil
}

// Maintain keeps the Redis side whole and drops stale tokens: one pass,
// which the command runs every minute (store.Every).
func (s *Service) Maintain(ctx context.Context) {
	if err := s.maintain(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("notification maintenance", "err", err)
	}
}

func (s *Service) maintain(ctx context.Context) error {
	ready, err := s.q.ready(ctx)
	if err != nil {
		return err
	}
	if !ready || s.dirty.Load() {
		if err := s.Reconcile(ctx); err != nil {
			return err
		}
	}
	_, err = s.PruneDevices(ctx)
	return err
}

// counters are the worker's running totals.
type counters struct {
	claimed, messages, retried, tokensDropped, resendsAvoided atomic.Int64
	storeNanos, sendNanos                                     atomic.Int64

	mu       sync.Mutex
	outcomes map[State]int64
}

// tally counts a notification's final state.
func (c *counters) tally(st State) {
	c.mu.Lock()
	if c.outcomes == nil {
		c.outcomes = map[State]int64{}
	}
	c.outcomes[st]++
	c.mu.Unlock()
}

// Stats are the worker's totals since the service started.
type Stats struct {
	Claimed, Messages, Retried, TokensDropped int64
	ResendsAvoided                            int64           // claims of a notification whose outcome was already recorded
	Outcomes                                  map[State]int64 // notifications by final state
	StoreTime                                 time.Duration   // summed over workers: MongoDB and Redis calls
	SendTime                                  time.Duration   // summed over workers: the sender
}

// Stats returns the worker's totals.
func (s *Service) Stats() Stats {
	c := &s.stats
	c.mu.Lock()
	outcomes := maps.Clone(c.outcomes)
	c.mu.Unlock()
	if outcomes == nil {
		outcomes = map[State]int64{}
	}
	return Stats{Claimed: c.claimed.Load(), Messages: c.messages.Load(), Retried: c.retried.Load(),
		TokensDropped: c.tokensDropped.Load(), ResendsAvoided: c.resendsAvoided.Load(), Outcomes: outcomes,
		StoreTime: time.Duration(c.storeNanos.Load()), SendTime: time.Duration(c.sendNanos.Load())}
}

// Pending returns how many notifications wait in the queue (due or not).
func (s *Service) Pending(ctx context.Context) (int64, error) { return s.q.pending(ctx) }

// List returns a user's notifications, newest first, in the locale, with
// where each stands; before is the cursor of the previous page ("" for the
// first).
func (s *Service) List(ctx context.Context, userID, locale string, before Cursor, limit int) ([]Item, error) {
	docs, err := s.st.page(ctx, userID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	outs, err := s.st.outcomesOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	now := s.now()
	items := make([]Item, len(docs))
	for i, d := range docs {
		n := d.notification()
		title, body := Render(n, locale)
		it := Item{ID: d.ID, Kind: n.Kind, Ref: n.Ref, Title: title, Body: body, State: StatePending, DueAt: n.DueAt, CreatedAt: n.CreatedAt}
		if o, ok := outs[d.ID]; ok {
			it.State = State(o.State)
			if it.State == StateSent {
				it.SentAt = o.At
			}
		} else if !now.Before(n.ExpiresAt) {
			it.State = StateExpired
		}
		items[i] = it
	}
	return items, nil
}

// Cursor is a position in a user's list.
type Cursor struct {
	At time.Time
	ID string
}

// Cursor returns the position after the item, for the next page.
func (it Item) Cursor() Cursor { return Cursor{At: it.CreatedAt, ID: it.ID} }
