package gamify

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/errs"
	"daisuso/people"
	"daisuso/store"
)

// ErrNotFound: no such campaign or board.
var ErrNotFound = errors.New("not found")

// Service is gamification: the ledger, campaigns, badges and boards.
type Service struct {
	ledger    *ledger
	meta      *mongo.Collection
	badges    *badgeStore
	campaigns *campaigns
	boards    *boards
	writer    *store.Grouper[Entry]
	log       *slog.Logger
	now       func() time.Time
	onBadge   []func(context.Context, string, Earned)
	expiredAt atomic.Pointer[time.Time] // when Maintain last gave dated boards their expiry
}

// OnBadge registers f to be told of every badge earned, with the
// volunteer's id. Call it before serving.
func (s *Service) OnBadge(f func(ctx context.Context, volunteerID string, e Earned)) {
	s.onBadge = append(s.onBadge, f)
}

// Config configures a Service.
type Config struct {
	DB          *mongo.Database
	Redis       redis.UniversalClient
	RedisPrefix string
	Logger      *slog.Logger
	Now         func() time.Time
	// Grace is how long a rebuild waits after switching generations for
	// awards still in flight (default 5 s: the store timeouts).
	Grace time.Duration
	// ReadCacheTTL is how long an instance keeps top rows and names it
	// read (default 1 s; below zero, not at all). See readCache.
	ReadCacheTTL time.Duration
}

// New returns a Service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Grace <= 0 {
		c.Grace = 5 * time.Second
	}
	if c.ReadCacheTTL == 0 {
		c.ReadCacheTTL = time.Second
	}
	s := &Service{
		ledger:    &ledger{c.DB.Collection("ledger")},
		meta:      c.DB.Collection("gamify_meta"),
		badges:    &badgeStore{c.DB.Collection("badges")},
		campaigns: &campaigns{coll: c.DB.Collection("campaigns"), slots: c.DB.Collection("campaign_slots"), refresh: 30 * time.Second},
		boards: &boards{rdb: c.Redis, standings: newStandings(c.Redis), prefix: c.RedisPrefix, grace: c.Grace, streamAt: streamAt, stateTTL: min(200*time.Millisecond, c.Grace/2),
			cache: readCache{ttl: c.ReadCacheTTL}},
		log: c.Logger, now: c.Now,
	}
	s.boards.hidden = &hidden{rdb: c.Redis, key: s.boards.key("hidden"), ver: s.boards.key("hidden", "ver"), ttl: c.ReadCacheTTL}
	s.writer = newAwardWriter(s.ledger, s.boards, s.log)
	return s
}

// SetPublicRanking records whether a volunteer consents to be shown on the
// boards (the "public_ranking" purpose). Without it they are on no list by
// name or id from the next read on; their points still count for their
// branch and commune, and their own standing (Me) is theirs to read.
func (s *Service) SetPublicRanking(ctx context.Context, volunteerID string, public bool) error {
	defer s.boards.cache.invalidate()
	return s.boards.hidden.change(ctx, volunteerID, !public)
}

// EnsureIndexes creates the indexes of the ledger and badges: by
// volunteer (badges, totals, erasure).
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := store.EnsureIndexes(ctx, s.ledger.coll, mongo.IndexModel{Keys: bson.D{{Key: "volunteer", Value: 1}, {Key: "at", Value: 1}}}); err != nil {
		return err
	}
	return store.EnsureIndexes(ctx, s.badges.coll, mongo.IndexModel{Keys: bson.D{{Key: "volunteer_id", Value: 1}}})
}

// LedgerCurrent says whether every ledger entry is in the layout this
// version writes, so that the service may run on it: a ledger with entries
// of an earlier layout is brought up to date by UpgradeLedger (`daisuso
// migrate`) first. An empty ledger is current.
func (s *Service) LedgerCurrent(ctx context.Context) (bool, error) {
	return s.ledger.current(ctx, s.meta)
}

// UpgradeLedger rewrites the entries of earlier layouts in this one and
// returns how many it rewrote; run again, it rewrites nothing.
func (s *Service) UpgradeLedger(ctx context.Context) (int, error) {
	return s.ledger.upgrade(ctx, s.meta)
}

// CreateCampaign stores a new campaign; by is the creator's unit, nil for
// national admins.
func (s *Service) CreateCampaign(ctx context.Context, in NewCampaign, userID string, by *people.Branch) (Campaign, error) {
	c, err := checkCampaign(in, by)
	if err != nil {
		return Campaign{}, err
	}
	c.ID, c.CreatedBy, c.CreatedAt = store.NewID("cp_"), userID, s.now().UTC().Truncate(time.Millisecond)
	if err := s.campaigns.takeSlot(ctx, c, s.now()); err != nil {
		return Campaign{}, err
	}
	if err := s.campaigns.insert(ctx, c); err != nil {
		s.campaigns.freeSlot(context.WithoutCancel(ctx), c)
		return Campaign{}, err
	}
	return c, nil
}

// Campaigns lists every campaign, the built-in all-time one first, then
// the newest.
func (s *Service) Campaigns(ctx context.Context) ([]Campaign, error) {
	return s.campaigns.all(ctx, s.now())
}

// Campaign returns one campaign.
func (s *Service) Campaign(ctx context.Context, id string) (Campaign, error) {
	return s.campaigns.find(ctx, id, s.now())
}

// Query asks for a board: the campaign, the board kind, the scope
// ("national", "province:10", "commune:00001", "branch:ID") and the period
// kind (week, month, campaign), at a time (now when zero).
type Query struct {
	Campaign, Board, Scope, Period string
	At                             time.Time
}

func (s *Service) ref(ctx context.Context, q Query) (BoardRef, error) {
	if _, err := s.Campaign(ctx, q.Campaign); err != nil {
		return BoardRef{}, err
	}
	if !slices.Contains(Boards, q.Board) {
		return BoardRef{}, &errs.FieldError{Field: "board", Reason: "unknown_code"}
	}
	kind, _, ok := ParseScope(q.Scope, true)
	if !ok {
		return BoardRef{}, &errs.FieldError{Field: "scope", Reason: "invalid_scope"}
	}
	if !slices.Contains(BoardsIn(kind), q.Board) {
		return BoardRef{}, &errs.RuleError{Code: "scope_too_narrow_for_board", Field: "scope"}
	}
	at := q.At
	if at.IsZero() {
		at = s.now()
	}
	period, ok := PeriodID(q.Period, at)
	if !ok {
		return BoardRef{}, &errs.FieldError{Field: "period", Reason: "unknown_code"}
	}
	return BoardRef{Campaign: q.Campaign, Board: q.Board, Scope: q.Scope, Period: period}, nil
}

// BoardsIn are the boards a scope of that kind ranks: a branch ranks its
// volunteers, a commune its volunteers and branches, wider scopes all
// three.
func BoardsIn(scopeKind string) []string {
	switch scopeKind {
	case ScopeBranch:
		return []string{BoardVolunteers}
	case ScopeCommune:
		return []string{BoardVolunteers, BoardBranches}
	}
	return Boards
}

// Top returns the first n (1 to MaxTop) of a board.
func (s *Service) Top(ctx context.Context, q Query, n int) (BoardRef, []Row, error) {
	ref, err := s.ref(ctx, q)
	if err != nil {
		return BoardRef{}, nil, err
	}
	rows, err := s.boards.top(ctx, ref, min(max(n, 1), MaxTop))
	return ref, rows, err
}

// Me returns a member's standing with `around` neighbours each side.
func (s *Service) Me(ctx context.Context, q Query, member string, around int) (BoardRef, Standing, error) {
	ref, err := s.ref(ctx, q)
	if err != nil {
		return BoardRef{}, Standing{}, err
	}
	st, err := s.boards.me(ctx, ref, member, min(max(around, 0), maxAround))
	return ref, st, err
}

// Rebuild rebuilds every board from the ledger.
func (s *Service) Rebuild(ctx context.Context) (RebuildStats, error) {
	if _, ok := ctx.Deadline(); !ok {
		// The store clients bound an operation without a deadline by the
		// store timeout (half a second), meant for requests; reading a
		// large ledger in batches may take longer per batch.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
	}
	st, err := s.boards.rebuild(ctx, s.ledger)
	if err == nil {
		s.log.Info("leaderboards rebuilt from the ledger", "generation", st.Generation, "entries", st.Entries,
			"late", st.Late, "keys", st.Keys, "ms", st.Took.Milliseconds())
	}
	return st, err
}

// EnsureBoards rebuilds the boards when Redis has none (a fresh or
// restarted Redis) or when a board write failed; cmd/ calls it at start and
// Maintain every interval.
func (s *Service) EnsureBoards(ctx context.Context) error {
	gen, next, err := s.boards.state(ctx)
	if err != nil {
		return err
	}
	if (gen != "" || next != "") && !s.boards.dirty.Load() {
		return nil
	}
	_, err = s.Rebuild(ctx)
	if errors.Is(err, ErrRebuildRunning) {
		return nil
	}
	return err
}

// Maintain checks the boards (EnsureBoards: rebuilt if Redis lost them)
// and, every half hour, gives new week and month boards their expiry: one
// pass, which the command runs every ten seconds (store.Every).
func (s *Service) Maintain(ctx context.Context) {
	if err := s.EnsureBoards(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("leaderboard check failed", "err", err)
	}
	if last := s.expiredAt.Load(); last != nil && time.Since(*last) < 30*time.Minute {
		return
	}
	if _, err := s.boards.expireDated(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("leaderboard expiry failed", "err", err)
	}
	now := time.Now()
	s.expiredAt.Store(&now)
}

// ---- personal data ----

// Name names gamify's data in exports.
func (s *Service) Name() string { return "gamify" }

// ExportPerson returns a volunteer's ledger entries and badges.
func (s *Service) ExportPerson(ctx context.Context, kind, id, _ string) (any, error) {
	if kind != "volunteer" {
		return nil, nil
	}
	entries, err := s.ledger.of(ctx, id)
	if err != nil {
		return nil, err
	}
	badges, err := s.badges.of(ctx, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ledger": entries, "badges": badges}, nil
}

// ErasePerson anonymizes a volunteer's ledger entries, deletes their
// badges and takes them off the volunteers boards; for a household it
// drops the household's id from the entries it was the source of.
func (s *Service) ErasePerson(ctx context.Context, kind, id, _ string) error {
	if kind == "household" {
		return s.ledger.forgetSource(ctx, id)
	}
	if kind != "volunteer" {
		return nil
	}
	if err := s.ledger.anonymize(ctx, id); err != nil {
		return err
	}
	if err := s.badges.deleteOf(ctx, id); err != nil {
		return err
	}
	if err := s.boards.forget(ctx, id); err != nil {
		return err
	}
	return s.boards.hidden.change(ctx, id, false)
}

// LoadBoards puts entries on the current boards without the ledger, for
// benchmarks and load tests that need boards of a million volunteers
// without writing a million ledger entries first. The boards are created
// (generation "1") when there are none.
func (s *Service) LoadBoards(ctx context.Context, entries []Entry) error {
	gen, _, err := s.boards.state(ctx)
	if err != nil {
		return err
	}
	if gen == "" {
		// A number from the counter, so that a later rebuild's does not
		// fall on these boards.
		n, err := s.boards.rdb.Incr(ctx, s.boards.key("counter")).Result()
		if err != nil {
			return store.WrapRedis(err)
		}
		gen = strconv.FormatInt(n, 10)
		if err := s.boards.rdb.Set(ctx, s.boards.key("gen"), gen, 0).Err(); err != nil {
			return store.WrapRedis(err)
		}
		s.boards.forgetState()
	}
	agg := newAggregate()
	for _, e := range entries {
		agg.add(e)
	}
	_, err = s.boards.write(ctx, gen, agg)
	return err
}
