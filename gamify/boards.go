package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store"
)

// Boards, periods and limits.
const (
	BoardVolunteers = "volunteers"
	BoardBranches   = "branches"
	BoardCommunes   = "communes"

	PeriodCampaign = "campaign"
	PeriodWeek     = "week"
	PeriodMonth    = "month"

	MaxTop    = 100
	maxAround = 5
	// streamAt is how many changed scores and names a rebuild writes at
	// once while it reads the ledger: each write rewrites the sums of
	// branches and communes that changed since the last, so not too often.
	streamAt = 1_000_000
	// datedKeep is how long a week's or a month's board is kept after it.
	datedKeep = 400 * 24 * time.Hour
)

// Boards lists the board kinds.
var Boards = []string{BoardVolunteers, BoardBranches, BoardCommunes}

// ErrRebuilding: the boards are missing (Redis lost them) and are being
// rebuilt from the ledger; the API answers 503 with Retry-After.
var ErrRebuilding = errors.New("leaderboards are being rebuilt")

// ErrRebuildRunning: another rebuild holds the lease.
var ErrRebuildRunning = errors.New("a rebuild is already running")

// boards keeps the leaderboards in Redis sorted sets.
//
// Keys, all under prefix:
//
//	lb:gen                   the generation the boards are read from
//	lb:next                  the generation a running rebuild fills
//	lb:counter               the last generation number handed out
//	lb:rebuild               the rebuild lease
//	lb:late:<n>              ids of entries awarded while generation n was built
//	lb:g<n>:<campaign>:<board>:<scope>:<period>   a board: member -> score
//	lb:names:<board>         member -> display name
//	lb:hidden, lb:hidden:ver volunteers shown on no list (see hidden)
//
// An award reads lb:gen and lb:next and then increments the boards of gen
// in one pipeline; while a rebuild runs it also appends its entry id to
// lb:late:<next>, and the rebuild adds those it did not read from the
// ledger. No command names two keys, so each key may live on any node of a
// Redis Cluster.
type boards struct {
	rdb    redis.UniversalClient
	prefix string
	grace  time.Duration // how long an award may be in flight after reading lb:gen
	// streamAt: see the constant; tests make it small.
	streamAt int
	dirty    atomic.Bool

	names     nameCache
	cache     readCache
	standings *standings
	hidden    *hidden

	mu        sync.Mutex // guards the cache of lb:gen and lb:next
	stateGen  string
	stateNext string
	stateAt   time.Time
	stateTTL  time.Duration
}

func (b *boards) key(parts ...string) string { return b.prefix + "lb:" + strings.Join(parts, ":") }

func (b *boards) boardKey(gen, campaign, board, scope, period string) string {
	return b.key("g"+gen, campaign, board, scope, period)
}

func (b *boards) markDirty() { b.dirty.Store(true) }

// target is one member of one board kind with the scopes it is ranked in.
type target struct {
	board, member string
	scopes        []string
}

func targets(w Who) []target {
	province, commune := ScopeProvince+":"+w.ProvinceCode, ScopeCommune+":"+w.CommuneCode
	scopes := func(s ...string) []string {
		out := []string{ScopeNational}
		for _, x := range s {
			if !strings.HasSuffix(x, ":") { // no code: not ranked there
				out = append(out, x)
			}
		}
		return out
	}
	var ts []target
	if w.VolunteerID != "" { // "" once the volunteer was erased
		ts = append(ts, target{BoardVolunteers, w.VolunteerID, scopes(province, commune, ScopeBranch+":"+w.BranchID)})
	}
	if w.BranchID != "" {
		ts = append(ts, target{BoardBranches, w.BranchID, scopes(province, commune)})
	}
	if w.CommuneID != "" {
		ts = append(ts, target{BoardCommunes, w.CommuneID, scopes(province)})
	}
	return ts
}

func (t target) name(w Who) string {
	switch t.board {
	case BoardBranches:
		return w.BranchName
	case BoardCommunes:
		return w.CommuneName
	}
	return w.Name
}

// periodsOf are the ids of the periods an award at t counts in: the
// campaign's, its local week's and its local month's.
func periodsOf(t time.Time) [3]string {
	local := t.In(Vietnam)
	y, w := local.ISOWeek()
	return [3]string{PeriodCampaign, fmt.Sprintf("w%04d-%02d", y, w), local.Format("m2006-01")}
}

// PeriodID is the board period of kind (week, month, campaign) at t.
func PeriodID(kind string, t time.Time) (string, bool) {
	ps := periodsOf(t)
	switch kind {
	case PeriodCampaign:
		return ps[0], true
	case PeriodWeek:
		return ps[1], true
	case PeriodMonth:
		return ps[2], true
	}
	return "", false
}

// incr queues the increments of es on the boards of generation gen, a
// board's one after the other: on boards of a million members most of
// redis-server's time goes to reaching a member through a board's hash
// and skiplist in memory no cache holds, and increments of one board in a
// row find its upper levels cached.
func (b *boards) incr(ctx context.Context, p redis.Pipeliner, gen string, es []Entry) {
	type zincr struct {
		board  int32 // in keys
		member string
		by     float64
	}
	var (
		zs   []zincr
		keys []string
		at   = map[string]int32{}
	)
	for _, e := range es {
		periods := periodsOf(e.At)
		for _, t := range targets(e.Who) {
			if name := t.name(e.Who); name != "" && b.names.changed(t.board, t.member, name) {
				p.HSet(ctx, b.key("names", t.board), t.member, name)
			}
			for _, c := range e.Credits {
				for _, scope := range t.scopes {
					for _, per := range periods {
						key := b.boardKey(gen, c.Campaign, t.board, scope, per)
						i, ok := at[key]
						if !ok {
							i = int32(len(keys))
							at[key] = i
							keys = append(keys, key)
						}
						zs = append(zs, zincr{i, t.member, float64(c.Points)})
					}
				}
			}
		}
	}
	slices.SortStableFunc(zs, func(x, y zincr) int { return cmp.Compare(x.board, y.board) })
	for _, z := range zs {
		p.ZIncrBy(ctx, keys[z.board], z.by, z.member)
	}
}

// nameCache remembers the names this instance wrote, so that an award
// does not rewrite an unchanged name.
type nameCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *nameCache) changed(board, member, name string) bool {
	k := board + ":" + member
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil || len(n.m) >= 1_000_000 {
		n.m = map[string]string{}
	}
	if n.m[k] == name {
		return false
	}
	n.m[k] = name
	return true
}

func (n *nameCache) reset() {
	n.mu.Lock()
	n.m = nil
	n.mu.Unlock()
}

// state reads the generation to write and the one being built.
func (b *boards) state(ctx context.Context) (gen, next string, err error) {
	p := b.rdb.Pipeline()
	g := p.Get(ctx, b.key("gen"))
	n := p.Get(ctx, b.key("next"))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return "", "", store.WrapRedis(err)
	}
	return g.Val(), n.Val(), nil
}

// cachedState is state, read at most every stateTTL. A rebuild waits
// longer than stateTTL between announcing the next generation and reading
// the ledger, so an award that used an older state wrote its entry before
// the read began (see rebuild).
func (b *boards) cachedState(ctx context.Context) (gen, next string, err error) {
	b.mu.Lock()
	if now := time.Now(); now.Sub(b.stateAt) < b.stateTTL {
		gen, next = b.stateGen, b.stateNext
		b.mu.Unlock()
		return gen, next, nil
	}
	b.mu.Unlock()
	gen, next, err = b.state(ctx)
	if err != nil {
		return "", "", err
	}
	b.mu.Lock()
	b.stateGen, b.stateNext, b.stateAt = gen, next, time.Now()
	b.mu.Unlock()
	return gen, next, nil
}

// apply adds entries that were just written to the ledger.
func (b *boards) apply(ctx context.Context, entries []Entry) error {
	gen, next, err := b.cachedState(ctx)
	if err != nil {
		return err
	}
	if gen == "" {
		// The boards are gone (a new or restarted Redis): Maintain rebuilds
		// them from the ledger, once more if one is running already.
		b.markDirty()
		if next == "" {
			return nil
		}
	}
	p := b.rdb.Pipeline()
	if gen != "" {
		b.incr(ctx, p, gen, entries)
	}
	if next != "" {
		for _, e := range entries {
			p.RPush(ctx, b.key("late", next), e.ID)
		}
	}
	_, err = p.Exec(ctx)
	b.cache.invalidate()
	return store.WrapRedis(err)
}

// readGen is the generation to read (from the same cache as awards), or
// ErrRebuilding when there are no boards.
func (b *boards) readGen(ctx context.Context) (string, error) {
	gen, _, err := b.cachedState(ctx)
	if err == nil && gen == "" {
		err = ErrRebuilding
	}
	return gen, err
}

// forgetState makes the next read of lb:gen and lb:next go to Redis.
func (b *boards) forgetState() {
	b.mu.Lock()
	b.stateAt = time.Time{}
	b.mu.Unlock()
}

// Row is a place on a board.
type Row struct {
	Rank   int // 1-based
	ID     string
	Name   string
	Points int
}

// BoardRef names one board.
type BoardRef struct {
	Campaign, Board, Scope, Period string // Period is a period id: "campaign", "w2026-48", "m2026-11"
}

// rows names the members of zs, from the read cache where it can.
func (b *boards) rows(ctx context.Context, board string, zs []redis.Z, firstRank int) ([]Row, error) {
	if len(zs) == 0 {
		return []Row{}, nil
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
	}
	names := make([]string, len(zs))
	if missing := b.cache.namesOf(board, ids, names); len(missing) > 0 {
		epoch := b.cache.snapshot()
		ask := make([]string, len(missing))
		for k, i := range missing {
			ask[k] = ids[i]
		}
		got, err := b.rdb.HMGet(ctx, b.key("names", board), ask...).Result()
		if err != nil {
			return nil, store.WrapRedis(err)
		}
		found := make([]string, len(ask))
		for k, i := range missing {
			found[k], _ = got[k].(string)
			names[i] = found[k]
		}
		b.cache.putNames(board, ask, found, epoch)
	}
	out := make([]Row, len(zs))
	for i, z := range zs {
		out[i] = Row{Rank: firstRank + i, ID: ids[i], Name: names[i], Points: int(z.Score)}
	}
	return out, nil
}

// top returns the first n rows of a board. Ties are broken by member id,
// descending, as Redis orders equal scores: stable across reads and
// rebuilds.
func (b *boards) top(ctx context.Context, ref BoardRef, n int) ([]Row, error) {
	gen, err := b.readGen(ctx)
	if err != nil {
		return nil, err
	}
	k := b.boardKey(gen, ref.Campaign, ref.Board, ref.Scope, ref.Period)
	if rows, ok := b.cache.top(k, n); ok {
		return rows, nil
	}
	epoch := b.cache.snapshot()
	zs, err := b.rdb.ZRevRangeWithScores(ctx, k, 0, int64(n-1)).Result()
	if err != nil {
		return nil, store.WrapRedis(err)
	}
	var ranks []int
	if ref.Board == BoardVolunteers {
		hid, err := b.hidden.members(ctx)
		if err != nil {
			return nil, err
		}
		if zs, ranks, err = b.visibleTop(ctx, k, zs, n, hid); err != nil {
			return nil, err
		}
	}
	rows, err := b.rows(ctx, ref.Board, zs, 1)
	for i := range ranks {
		rows[i].Rank = ranks[i]
	}
	if err == nil {
		b.cache.putTop(k, n, rows, epoch)
	}
	return rows, err
}

// Standing is a member's place on a board with its neighbours.
type Standing struct {
	OnBoard   bool
	Rank      int
	Points    int
	Neighbors []Row // from `around` above to `around` below, the member included
}

// standingScript reads a member's rank and the rows around it in one round trip
// (one key, so any node of a cluster can run it): false when the member is
// not on the board, else {rank, first rank shown, {member, score, ...}}.
var standingScript = redis.NewScript(`
local r = redis.call("ZREVRANK", KEYS[1], ARGV[1])
if not r then return false end
local from = math.max(0, r - tonumber(ARGV[2]))
return {r, from, redis.call("ZREVRANGE", KEYS[1], from, r + tonumber(ARGV[2]), "WITHSCORES")}`)

func (b *boards) me(ctx context.Context, ref BoardRef, member string, around int) (Standing, error) {
	gen, err := b.readGen(ctx)
	if err != nil {
		return Standing{}, err
	}
	k := b.boardKey(gen, ref.Campaign, ref.Board, ref.Scope, ref.Period)
	res, err := b.standings.run(ctx, k, member, around)
	if errors.Is(err, redis.Nil) {
		return Standing{Neighbors: []Row{}}, nil
	}
	if err != nil {
		return Standing{}, store.WrapRedis(err)
	}
	rank, from, flat, ok := parseStanding(res)
	if !ok {
		return Standing{}, fmt.Errorf("leaderboard: unexpected reply to the standing script: %v", res)
	}
	zs := make([]redis.Z, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		m, _ := flat[i].(string)
		score, err := scoreOf(flat[i+1])
		if err != nil {
			return Standing{}, err
		}
		zs = append(zs, redis.Z{Member: m, Score: score})
	}
	rows, err := b.rows(ctx, ref.Board, zs, int(from)+1)
	if err != nil {
		return Standing{}, err
	}
	if ref.Board == BoardVolunteers {
		hid, err := b.hidden.members(ctx)
		if err != nil {
			return Standing{}, err
		}
		rows = slices.DeleteFunc(rows, func(r Row) bool {
			_, h := hid[r.ID]
			return h && r.ID != member
		})
	}
	st := Standing{OnBoard: true, Rank: int(rank) + 1, Neighbors: rows}
	for _, r := range rows {
		if r.ID == member {
			st.Points = r.Points
		}
	}
	return st, nil
}

// scoreOf reads a score from a script's reply: a string (RESP2, as
// scripts reply by default), or a number.
func scoreOf(v any) (float64, error) {
	switch x := v.(type) {
	case string:
		return strconv.ParseFloat(x, 64)
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("leaderboard: score %v (%T)", v, v)
}

func parseStanding(res []any) (rank, from int64, flat []any, ok bool) {
	if len(res) != 3 {
		return 0, 0, nil, false
	}
	rank, ok1 := res[0].(int64)
	from, ok2 := res[1].(int64)
	flat, ok3 := res[2].([]any)
	return rank, from, flat, ok1 && ok2 && ok3
}

// ---- rebuild ----

// RebuildStats says what a rebuild did.
type RebuildStats struct {
	Generation string
	Entries    int // read from the ledger
	Late       int // awarded while it ran and added afterwards
	Keys       int // boards written
	Took       time.Duration
	Read       time.Duration // of Took, reading the ledger, adding it up and writing most of the boards
	Write      time.Duration // of Took, writing the rest of the boards after the reading
}

// releaseLease deletes the lease only if it is still ours.
var releaseLease = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// rebuild fills a new generation from the ledger and switches to it; see
// the boards comment for how awards made meanwhile are kept.
func (b *boards) rebuild(ctx context.Context, l *ledger) (st RebuildStats, err error) {
	start := time.Now()
	token := store.NewID("")
	ok, err := b.rdb.SetNX(ctx, b.key("rebuild"), token, 30*time.Minute).Result()
	if err != nil {
		return RebuildStats{}, store.WrapRedis(err)
	}
	if !ok {
		return RebuildStats{}, ErrRebuildRunning
	}
	defer releaseLease.Run(context.WithoutCancel(ctx), b.rdb, []string{b.key("rebuild")}, token)
	b.dirty.Store(false) // failures from here on set it again
	switched := false
	defer func() {
		if err != nil {
			b.markDirty()
		}
		if err != nil && st.Generation != "" && !switched {
			// Boards are written while the ledger is read: drop what was
			// written of a generation nobody will read.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			_ = b.unlinkGeneration(cctx, st.Generation)
		}
	}()

	next, old, err := b.nextGeneration(ctx)
	if err != nil {
		return RebuildStats{}, err
	}
	st.Generation = next
	// Awards that read the state before lb:next was set may still be
	// writing; after grace every award in flight has seen it (grace is
	// longer than the state cache and the store timeouts).
	// With no boards at all (a fresh Redis at start) nobody is waited for:
	// an award made meanwhile marks the boards dirty and they are rebuilt
	// once more.
	wait := b.grace
	if old == "" {
		wait = 0
	}
	if err := sleep(ctx, wait); err != nil {
		return st, err
	}
	seen, err := b.fill(ctx, l, next, &st)
	if err != nil {
		return st, err
	}
	late, err := b.drainLate(ctx, l, next, seen)
	st.Late += late
	if err != nil {
		return st, err
	}
	p := b.rdb.Pipeline()
	p.Set(ctx, b.key("gen"), next, 0)
	p.Del(ctx, b.key("next"))
	if _, err = p.Exec(ctx); err != nil {
		return st, store.WrapRedis(err)
	}
	switched = true
	// Awards that read lb:gen before the switch may still push to the late
	// list; wait for them, then add what came.
	_ = sleep(ctx, wait)
	late, err = b.drainLate(context.WithoutCancel(ctx), l, next, seen)
	st.Late += late
	if err != nil {
		return st, err
	}
	_ = b.rdb.Unlink(ctx, b.key("late", next)).Err()
	if old != "" && old != next {
		if err = b.unlinkGeneration(ctx, old); err != nil {
			return st, err
		}
	}
	b.forgetState()
	b.names.reset()
	b.cache.invalidate()
	st.Took = time.Since(start)
	return st, nil
}

// nextGeneration numbers the generation a rebuild fills and marks it as
// the next one (lb:next), which awards then write to as well; old is the
// generation read now ("" with no boards).
func (b *boards) nextGeneration(ctx context.Context) (next, old string, err error) {
	n, err := b.rdb.Incr(ctx, b.key("counter")).Result()
	if err != nil {
		return "", "", store.WrapRedis(err)
	}
	next = strconv.FormatInt(n, 10)
	old, err = b.rdb.Get(ctx, b.key("gen")).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", "", store.WrapRedis(err)
	}
	if err := b.rdb.Set(ctx, b.key("next"), next, 0).Err(); err != nil {
		return "", "", store.WrapRedis(err)
	}
	return next, old, nil
}

// fill adds up the whole ledger into the boards of generation next and
// returns the ids of the entries it read. The boards are written while
// the ledger is read, whenever about streamAt scores or names changed:
// Redis takes them while the ledger is read instead of after it.
func (b *boards) fill(ctx context.Context, l *ledger, next string, st *RebuildStats) (map[string]struct{}, error) {
	agg := newAggregate()
	seen := map[string]struct{}{}
	phase := time.Now()
	w := startWriter(ctx)
	var err error
	st.Entries, err = l.each(ctx, 2000, func(es []Entry) error {
		for _, e := range es {
			seen[e.ID] = struct{}{}
			agg.add(e)
			if agg.changed >= b.streamAt {
				if err := agg.writeChanged(ctx, b, next, w.put); err != nil {
					return err
				}
			}
		}
		return nil
	})
	st.Read, phase = time.Since(phase), time.Now()
	if err == nil {
		err = agg.writeChanged(ctx, b, next, w.put)
	}
	if werr := w.close(); werr != nil {
		err = werr
	}
	b.cache.invalidate()
	if err != nil {
		return nil, err
	}
	st.Keys, st.Write = len(agg.boards), time.Since(phase)
	return seen, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// drainLate adds the entries awarded during the rebuild that the ledger
// read missed.
func (b *boards) drainLate(ctx context.Context, l *ledger, gen string, seen map[string]struct{}) (int, error) {
	n := 0
	for {
		ids, err := b.rdb.LPopCount(ctx, b.key("late", gen), 500).Result()
		if errors.Is(err, redis.Nil) || (err == nil && len(ids) == 0) {
			return n, nil
		}
		if err != nil {
			return n, store.WrapRedis(err)
		}
		fresh := ids[:0]
		for _, id := range ids {
			if _, ok := seen[id]; !ok {
				seen[id] = struct{}{}
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		es, err := l.getMany(ctx, fresh)
		if err != nil {
			return n, err
		}
		p, found := b.rdb.Pipeline(), make([]Entry, 0, len(fresh))
		for _, id := range fresh {
			if e, ok := es[id]; ok { // else erased meanwhile
				found = append(found, e)
			}
		}
		b.incr(ctx, p, gen, found)
		n += len(found)
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return n, store.WrapRedis(err)
		}
	}
}

// eachKey calls f with batches of the keys matching pattern, on every
// master of a cluster.
func (b *boards) eachKey(ctx context.Context, pattern string, f func(context.Context, redis.Cmdable, []string) error) error {
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var batch []string
		for it.Next(ctx) {
			batch = append(batch, it.Val())
			if len(batch) == 500 {
				if err := f(ctx, c, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err := it.Err(); err != nil {
			return store.WrapRedis(err)
		}
		if len(batch) > 0 {
			return f(ctx, c, batch)
		}
		return nil
	}
	if cc, ok := b.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, b.rdb)
}

// eachKeyPipelined queues do for every key matching pattern, a pipeline
// per batch of keys.
func (b *boards) eachKeyPipelined(ctx context.Context, pattern string, do func(context.Context, redis.Pipeliner, string)) error {
	return b.eachKey(ctx, pattern, func(ctx context.Context, c redis.Cmdable, keys []string) error {
		p := c.Pipeline()
		for _, k := range keys {
			do(ctx, p, k)
		}
		_, err := p.Exec(ctx)
		return store.WrapRedis(err)
	})
}

// unlinkGeneration drops every board of generation gen, one key per
// command (UNLINK frees the memory off Redis's main thread).
func (b *boards) unlinkGeneration(ctx context.Context, gen string) error {
	return b.eachKeyPipelined(ctx, b.prefix+"lb:g"+gen+":*", func(ctx context.Context, p redis.Pipeliner, k string) {
		p.Unlink(ctx, k)
	})
}

// forget removes a volunteer from every volunteers board and their name.
func (b *boards) forget(ctx context.Context, volunteerID string) error {
	defer b.cache.invalidate()
	gen, err := b.readGen(ctx)
	if errors.Is(err, ErrRebuilding) {
		return nil
	}
	if err != nil {
		return err
	}
	err = b.eachKeyPipelined(ctx, b.prefix+"lb:g"+gen+":*:"+BoardVolunteers+":*", func(ctx context.Context, p redis.Pipeliner, k string) {
		p.ZRem(ctx, k, volunteerID)
	})
	if err != nil {
		return err
	}
	return store.WrapRedis(b.rdb.HDel(ctx, b.key("names", BoardVolunteers), volunteerID).Err())
}

// periodEnd is when a dated period ("w2026-48", "m2026-11") ends.
func periodEnd(id string) (time.Time, bool) {
	var y, n int
	switch {
	case strings.HasPrefix(id, "w"):
		if _, err := fmt.Sscanf(id, "w%d-%d", &y, &n); err != nil || n < 1 || n > 53 {
			return time.Time{}, false
		}
		// ISO week 1 holds 4 January; its Monday starts the year's weeks.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, Vietnam)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+7*(n-1))
		return monday.AddDate(0, 0, 7), true
	case strings.HasPrefix(id, "m"):
		if _, err := fmt.Sscanf(id, "m%d-%d", &y, &n); err != nil || n < 1 || n > 12 {
			return time.Time{}, false
		}
		return time.Date(y, time.Month(n)+1, 1, 0, 0, 0, 0, Vietnam), true
	}
	return time.Time{}, false
}

// expireDated gives every week's and month's board of the current
// generation that has no expiry one, datedKeep after its period ends.
// Awards do not set it, to keep their pipeline to the increments; Maintain
// runs this now and then.
func (b *boards) expireDated(ctx context.Context) (int, error) {
	gen, err := b.readGen(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = b.eachKey(ctx, b.prefix+"lb:g"+gen+":*", func(ctx context.Context, c redis.Cmdable, keys []string) error {
		ttls := make([]*redis.DurationCmd, len(keys))
		p := c.Pipeline()
		for i, k := range keys {
			ttls[i] = p.TTL(ctx, k)
		}
		if _, err := p.Exec(ctx); err != nil {
			return store.WrapRedis(err)
		}
		p = c.Pipeline()
		queued := 0
		for i, k := range keys {
			end, ok := periodEnd(k[strings.LastIndexByte(k, ':')+1:])
			if !ok || ttls[i].Val() != -1 {
				continue
			}
			p.ExpireAt(ctx, k, end.Add(datedKeep))
			queued++
		}
		if queued == 0 {
			return nil
		}
		n += queued
		_, err := p.Exec(ctx)
		return store.WrapRedis(err)
	})
	return n, err
}
