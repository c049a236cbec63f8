package gamify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type fixture struct {
	*Service
	rdb    redis.UniversalClient
	prefix string
	now    time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	rdb, prefix := storetest.Redis(t)
	return newFixtureOn(t, rdb, prefix)
}

// newFixtureOn is a fixture on the given Redis, a cluster's or a single
// server's.
func newFixtureOn(t testing.TB, rdb redis.UniversalClient, prefix string) *fixture {
	t.Helper()
	db := storetest.Mongo(t)
	f := &fixture{rdb: rdb, prefix: prefix, now: time.Date(2026, 11, 23, 10, 0, 0, 0, Vietnam)}
	f.Service = New(Config{DB: db, Redis: rdb, RedisPrefix: prefix, Now: func() time.Time { return f.now }, Grace: 200 * time.Millisecond})
	ctx := context.Background()
	if err := f.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.EnsureBoards(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func who(i int) Who {
	commune := []string{"00001", "00002"}[i%2]
	return Who{VolunteerID: fmt.Sprintf("v%02d", i), Name: fmt.Sprintf("Tên%d", i), BranchID: fmt.Sprintf("b%d", i%3),
		BranchName: fmt.Sprintf("Chi đoàn %d", i%3), CommuneID: "c" + commune, CommuneName: "Xã " + commune,
		ProvinceCode: "10", CommuneCode: commune}
}

// boardSnapshot reads every board of the current generation, keyed without
// the generation, with the names.
func (f *fixture) boardSnapshot(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	ctx := context.Background()
	gen, err := f.rdb.Get(ctx, f.prefix+"lb:gen").Result()
	if err != nil {
		t.Fatal(err)
	}
	keys := f.keys(t, f.prefix+"lb:g"+gen+":*")
	out := map[string]map[string]float64{}
	for _, k := range keys {
		zs, err := f.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]float64{}
		for _, z := range zs {
			m[z.Member.(string)] = z.Score
		}
		out[strings.TrimPrefix(k, f.prefix+"lb:g"+gen+":")] = m
	}
	for _, b := range Boards {
		names, err := f.rdb.HGetAll(ctx, f.prefix+"lb:names:"+b).Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]float64{}
		for id, n := range names {
			m[id+"="+n] = 1
		}
		out["names:"+b] = m
	}
	return out
}

func TestAwardIsExactlyOncePerKeyUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	made := make(chan bool, 60)
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := f.Award(ctx, Award{Key: "session:s1", Reason: ReasonSession, Source: "s1", Who: who(1), At: f.now})
			if err != nil {
				t.Error(err)
			}
			made <- ok
		}()
	}
	wg.Wait()
	close(made)
	n := 0
	for ok := range made {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("60 concurrent awards of one key made %d entries, want 1", n)
	}
	_, rows, err := f.Top(ctx, Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodCampaign}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Points != BasePoints[ReasonSession] || rows[0].Name != "Tên1" {
		t.Fatalf("board after 60 concurrent awards of one key: %+v", rows)
	}
}

func TestCampaignsCreditWithinWindowScopeAndMultiplier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	prov := &people.Branch{ID: "p10", Kind: people.KindProvince, ProvinceCode: "10"}
	c, err := f.CreateCampaign(ctx, NewCampaign{Name: "Ngày hội toàn dân học tập số", Scope: "province:10",
		StartsAt: time.Date(2026, 11, 1, 0, 0, 0, 0, Vietnam), EndsAt: time.Date(2026, 12, 1, 0, 0, 0, 0, Vietnam),
		Multipliers: []Multiplier{{Date: "2026-11-23", Factor: 2}}}, "admin1", prov)
	if err != nil {
		t.Fatal(err)
	}
	other := who(2)
	other.ProvinceCode = "11"
	for _, a := range []Award{
		{Key: "session:a", Reason: ReasonSession, Who: who(1), At: f.now},                                         // doubled
		{Key: "session:b", Reason: ReasonSession, Who: who(1), At: f.now.AddDate(0, 0, -1)},                       // in window, no multiplier
		{Key: "session:c", Reason: ReasonSession, Who: who(1), At: time.Date(2026, 10, 31, 12, 0, 0, 0, Vietnam)}, // before
		{Key: "session:d", Reason: ReasonSession, Who: other, At: f.now},                                          // other province
	} {
		if _, _, err := f.Award(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	_, rows, err := f.Top(ctx, Query{Campaign: c.ID, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodCampaign}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "v01" || rows[0].Points != 30 {
		t.Fatalf("campaign board: %+v, want v01 with 20+10", rows)
	}
	// A branch admin may not run a campaign for another province, nor a
	// commune union one for a province.
	for _, tc := range []struct {
		by    *people.Branch
		scope string
	}{
		{prov, "province:11"}, {prov, ScopeNational},
		{&people.Branch{ID: "c1", Kind: people.KindCommune, ProvinceCode: "10", CommuneCode: "00001"}, "province:10"},
	} {
		_, err := f.CreateCampaign(ctx, NewCampaign{Name: "X", Scope: tc.scope, StartsAt: f.now, EndsAt: f.now.Add(time.Hour)}, "u", tc.by)
		if err == nil {
			t.Errorf("%s creating %s: allowed", tc.by.ID, tc.scope)
		}
	}
}

func TestTopMeAndScopes(t *testing.T) { testTopMeAndScopes(t, newFixture(t)) }

func testTopMeAndScopes(t *testing.T, f *fixture) {
	ctx := context.Background()
	for i := range 8 {
		for j := range i + 1 {
			a := Award{Key: fmt.Sprintf("session:%d-%d", i, j), Reason: ReasonSession, Who: who(i), At: f.now}
			if _, _, err := f.Award(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodWeek}
	_, rows, err := f.Top(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{rows[0].ID, rows[1].ID, rows[2].ID}; !slices.Equal(got, []string{"v07", "v06", "v05"}) || rows[0].Points != 80 {
		t.Fatalf("top 3: %+v", rows)
	}
	_, st, err := f.Me(ctx, q, "v03", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !st.OnBoard || st.Rank != 5 || st.Points != 40 || len(st.Neighbors) != 3 || st.Neighbors[0].ID != "v04" || st.Neighbors[2].ID != "v02" {
		t.Fatalf("me: %+v", st)
	}
	// Commune 00002 holds the odd volunteers.
	q.Scope = "commune:00002"
	if _, rows, err = f.Top(ctx, q, 10); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].ID != "v07" || rows[3].ID != "v01" {
		t.Fatalf("commune board: %+v", rows)
	}
	// Communes board: 00002 has 2+4+6+8 sessions, 00001 1+3+5+7.
	_, rows, err = f.Top(ctx, Query{Campaign: AllTime, Board: BoardCommunes, Scope: "province:10", Period: PeriodMonth}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != "c00002" || rows[0].Points != 200 || rows[1].Points != 160 || rows[0].Name != "Xã 00002" {
		t.Fatalf("communes board: %+v", rows)
	}
	// Next week the week board is empty, the campaign board is not.
	f.now = f.now.AddDate(0, 0, 7)
	q.Scope = ScopeNational
	if _, rows, _ = f.Top(ctx, q, 10); len(rows) != 0 {
		t.Fatalf("next week's board: %+v", rows)
	}
	_, st, _ = f.Me(ctx, q, "v03", 1)
	if st.OnBoard {
		t.Fatalf("v03 on next week's board: %+v", st)
	}
	for _, bad := range []Query{
		{Campaign: "nope", Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodWeek},
		{Campaign: AllTime, Board: "people", Scope: ScopeNational, Period: PeriodWeek},
		{Campaign: AllTime, Board: BoardVolunteers, Scope: "province:1", Period: PeriodWeek},
		{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: "year"},
		{Campaign: AllTime, Board: BoardCommunes, Scope: "commune:00001", Period: PeriodWeek},
	} {
		if _, _, err := f.Top(ctx, bad, 10); err == nil {
			t.Errorf("%+v: accepted", bad)
		}
	}
}

// TestRebuildReproducesBoards awards, snapshots the boards, wipes Redis's
// copy and rebuilds: every board and name must come back equal; then a
// rebuild while awards go on must equal a quiet rebuild of the same ledger.
func TestRebuildReproducesBoards(t *testing.T) { testRebuildReproducesBoards(t, newFixture(t)) }

func testRebuildReproducesBoards(t *testing.T, f *fixture) {
	ctx := context.Background()
	c, err := f.CreateCampaign(ctx, NewCampaign{Name: "Tháng 11", Scope: ScopeNational,
		StartsAt: time.Date(2026, 11, 1, 0, 0, 0, 0, Vietnam), EndsAt: time.Date(2026, 12, 1, 0, 0, 0, 0, Vietnam),
		Multipliers: []Multiplier{{Date: "2026-11-20", Factor: 1.5}}}, "admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	reasons := slices.Sorted(maps.Keys(BasePoints))
	for i := range 60 {
		at := f.now.Add(-time.Duration(i) * 11 * time.Hour) // spans weeks and months
		a := Award{Key: fmt.Sprintf("k%d", i), Reason: reasons[i%len(reasons)], Who: who(i % 9), At: at}
		if _, _, err := f.Award(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// A volunteer renamed since: the latest entry's name wins.
	renamed := who(1)
	renamed.Name = "Tên mới"
	if _, _, err := f.Award(ctx, Award{Key: "renamed", Reason: ReasonSession, Who: renamed, At: f.now}); err != nil {
		t.Fatal(err)
	}
	before := f.boardSnapshot(t)
	if before["names:volunteers"]["v01=Tên mới"] != 1 {
		t.Fatalf("names before: %v", before["names:volunteers"])
	}
	if len(before) < 20 || len(before[c.ID+":volunteers:national:campaign"]) == 0 {
		t.Fatalf("too few boards to compare: %d", len(before))
	}
	// Redis loses everything.
	for _, k := range f.keys(t, f.prefix+"*") {
		if err := f.rdb.Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The state cache may hold the old generation for a moment.
	f.boards.forgetState()
	if _, _, err := f.Top(ctx, Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodWeek}, 3); !errors.Is(err, ErrRebuilding) {
		t.Fatalf("reading lost boards: %v, want ErrRebuilding", err)
	}
	if err := f.EnsureBoards(ctx); err != nil {
		t.Fatal(err)
	}
	after := f.boardSnapshot(t)
	if !equalBoards(before, after) {
		t.Fatalf("rebuilt boards differ: %s", diffBoards(before, after))
	}
	// Written while the ledger is read, every few entries: the sums and
	// names written again as they change end as the totals.
	f.boards.streamAt = 5
	for _, b := range Boards { // names outlive generations
		if err := f.rdb.Del(ctx, f.prefix+"lb:names:"+b).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	f.boards.streamAt = streamAt
	if streamed := f.boardSnapshot(t); !equalBoards(before, streamed) {
		t.Fatalf("boards written while reading differ: %s", diffBoards(before, streamed))
	}

	// Awards during a rebuild: the result must equal a quiet rebuild.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			a := Award{Key: fmt.Sprintf("live%d", i), Reason: ReasonSession, Who: who(i % 9), At: f.now}
			if _, _, err := f.Award(ctx, a); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	live := f.boardSnapshot(t)
	if _, err := f.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := f.boardSnapshot(t)
	if !equalBoards(live, quiet) {
		t.Fatalf("boards after a rebuild under awards differ from a quiet rebuild: %s", diffBoards(live, quiet))
	}
	if live["all:volunteers:national:campaign"]["v00"] == before["all:volunteers:national:campaign"]["v00"] {
		t.Fatal("the live awards did not reach the boards")
	}
}

// diffBoards names the first few boards that differ.
func diffBoards(a, b map[string]map[string]float64) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if !maps.Equal(a[k], b[k]) {
			out = append(out, fmt.Sprintf("%s: %v vs %v", k, a[k], b[k]))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k+": only in the second")
		}
	}
	return strings.Join(out[:min(len(out), 5)], "; ")
}

func equalBoards(a, b map[string]map[string]float64) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]float64) bool { return maps.Equal(x, y) })
}

func TestStreakAndLevels(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, Vietnam) // Monday of w2026-48
	weeks := []string{"w2026-47", "w2026-46", "w2026-44", "w2026-43"}
	if n := Streak(weeks, nil, now); n != 2 {
		t.Fatalf("streak with a gap at w45: %d, want 2", n)
	}
	if n := Streak(weeks, []string{"w2026-45"}, now); n != 4 {
		t.Fatalf("streak with w45 paused: %d, want 4", n)
	}
	if n := Streak(append(weeks, "w2026-48"), []string{"w2026-45"}, now); n != 5 {
		t.Fatalf("streak including this week: %d, want 5", n)
	}
	if l, next := LevelOf(0); l.Number != 1 || next != 100 {
		t.Fatalf("level of 0: %+v %d", l, next)
	}
	if l, next := LevelOf(2500); l.Number != 5 || next != 0 {
		t.Fatalf("level of 2500: %+v %d", l, next)
	}
}

func TestBadgesAreAwardedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := Stats{ConfirmedSessions: 10, DistinctLearners: 5, ScamLessons: 1}
	got, err := f.EvaluateBadges(ctx, "v1", st)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, b := range got {
		codes = append(codes, b.Code)
	}
	if !slices.Equal(codes, []string{"first_session", "one_with_five", "sessions_10"}) {
		t.Fatalf("badges: %v", codes)
	}
	again, err := f.EvaluateBadges(ctx, "v1", st)
	if err != nil || len(again) != 0 {
		t.Fatalf("second evaluation gave %v, %v", again, err)
	}
	held, _ := f.Badges(ctx, "v1")
	if len(held) != 3 || held[1].WhyEN != "5 learners with confirmed sessions" || held[1].WhyVI != "5 người học có buổi hướng dẫn được xác nhận" || held[1].VI != "1 kèm 5" {
		t.Fatalf("held: %+v", held)
	}
}

func TestDatedBoardsExpire(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.Award(ctx, Award{Key: "k", Reason: ReasonSession, Who: who(1), At: f.now}); err != nil {
		t.Fatal(err)
	}
	n, err := f.boards.expireDated(ctx)
	if err != nil || n == 0 {
		t.Fatalf("expired %d keys, %v", n, err)
	}
	gen, _ := f.rdb.Get(ctx, f.prefix+"lb:gen").Result()
	week := f.prefix + "lb:g" + gen + ":all:volunteers:national:w2026-48"
	at, err := f.rdb.ExpireTime(ctx, week).Result()
	// w2026-48 ends on Monday 30 November 2026, 00:00 in Vietnam.
	want := time.Date(2026, 11, 30, 0, 0, 0, 0, Vietnam).Add(datedKeep)
	if err != nil || at != time.Duration(want.Unix())*time.Second {
		t.Fatalf("expiry of %s: %v, %v; want %v", week, at, err, want)
	}
	campaign := f.prefix + "lb:g" + gen + ":all:volunteers:national:campaign"
	if ttl, _ := f.rdb.TTL(ctx, campaign).Result(); ttl != -1 {
		t.Fatalf("the campaign board expires: %v", ttl)
	}
	if again, _ := f.boards.expireDated(ctx); again != 0 {
		t.Fatalf("second pass set %d expiries", again)
	}
}

// keys lists the keys that match pattern on every master.
func (f *fixture) keys(t *testing.T, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	collect := func(ctx context.Context, c *redis.Client) error {
		ks, err := c.Keys(ctx, pattern).Result()
		mu.Lock()
		out = append(out, ks...)
		mu.Unlock()
		return err
	}
	var err error
	if cc, ok := f.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, collect)
	} else {
		err = collect(ctx, f.rdb.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBoardsOnRedisCluster runs the leaderboard tests on a three-master
// Redis Cluster: awards, top N, me with neighbours, scopes and periods, and
// a rebuild after Redis lost everything. A command whose keys fell in
// different slots would fail with CROSSSLOT here.
func TestBoardsOnRedisCluster(t *testing.T) {
	cc := storetest.RedisCluster(t)
	t.Run("top, me and scopes", func(t *testing.T) { testTopMeAndScopes(t, newFixtureOn(t, cc, storetest.Name("c1")+":")) })
	t.Run("rebuild", func(t *testing.T) {
		f := newFixtureOn(t, cc, storetest.Name("c2")+":")
		testRebuildReproducesBoards(t, f)
		var mu sync.Mutex
		masters := 0
		_ = cc.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
			if n, _ := c.Keys(ctx, f.prefix+"*").Result(); len(n) > 0 {
				mu.Lock()
				masters++
				mu.Unlock()
			}
			return nil
		})
		if masters < 2 {
			t.Errorf("the boards sit on %d of 3 masters; the test would not see a cross-slot command", masters)
		}
	})
}

// A group holding the same key twice, and a key awarded before, writes
// each key once: the unordered insert reports the duplicates entry by
// entry, and only the new entries reach the boards.
func TestAwardGroupReportsDuplicatesPerEntry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, made, err := f.Award(ctx, Award{Key: "session:old", Reason: ReasonSession, Who: who(1), At: f.now}); err != nil || !made {
		t.Fatal(made, err)
	}
	entry := func(key string, i int) Entry {
		return Entry{ID: key, Reason: ReasonSession, Points: 10, At: f.now, Who: who(i),
			Credits: []Credit{{Campaign: AllTime, Points: 10}}}
	}
	// One call's entries always go in one group.
	fresh, err := f.writer.Insert(ctx, entry("session:a", 2), entry("session:b", 3), entry("session:a", 2), entry("session:old", 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false, false}; !slices.Equal(fresh, want) {
		t.Fatalf("new entries %v, want %v", fresh, want)
	}
	n, err := f.ledger.coll.CountDocuments(ctx, bson.D{})
	if err != nil || n != 3 {
		t.Fatalf("ledger holds %d entries (%v), want 3", n, err)
	}
	_, rows, err := f.Top(ctx, Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodCampaign}, 10)
	if err != nil {
		t.Fatal(err)
	}
	points := map[string]int{}
	for _, r := range rows {
		points[r.ID] = r.Points
	}
	if want := map[string]int{"v01": 10, "v02": 10, "v03": 10}; !maps.Equal(points, want) {
		t.Fatalf("boards after the group: %v, want %v", points, want)
	}
}

// An instance reads its own board writes at once; another instance's show
// when its cached read expires (here never, to see the cache at work), and
// at once when it caches nothing.
func TestReadCacheSeesOwnWritesAtOnce(t *testing.T) {
	a := newFixture(t)
	ctx := context.Background()
	db := a.ledger.coll.Database()
	other := func(ttl time.Duration) *Service {
		return New(Config{DB: db, Redis: a.rdb, RedisPrefix: a.prefix, Now: func() time.Time { return a.now },
			Grace: 200 * time.Millisecond, ReadCacheTTL: ttl})
	}
	cached, uncached := other(time.Hour), other(-1)
	q := Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodCampaign}
	top := func(s *Service) map[string]int {
		t.Helper()
		_, rows, err := s.Top(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, r := range rows {
			out[r.ID] = r.Points
		}
		return out
	}
	award := func(s *Service, key string, i int) {
		t.Helper()
		if _, _, err := s.Award(ctx, Award{Key: key, Reason: ReasonSession, Who: who(i), At: a.now}); err != nil {
			t.Fatal(err)
		}
	}
	award(a.Service, "session:1", 1)
	if got := top(cached); !maps.Equal(got, map[string]int{"v01": 10}) {
		t.Fatalf("first read: %v", got)
	}
	award(a.Service, "session:2", 2)
	if got := top(cached); !maps.Equal(got, map[string]int{"v01": 10}) {
		t.Fatalf("the cached instance read %v before its cache expired: the cache did not serve the read", got)
	}
	if got := top(uncached); !maps.Equal(got, map[string]int{"v01": 10, "v02": 10}) {
		t.Fatalf("an instance without a cache read %v", got)
	}
	award(cached, "session:3", 3)
	if got := top(cached); !maps.Equal(got, map[string]int{"v01": 10, "v02": 10, "v03": 10}) {
		t.Fatalf("after its own award the cached instance read %v", got)
	}
	// Names too: an erasure by this instance shows at once.
	if err := cached.ErasePerson(ctx, "volunteer", "v03", ""); err != nil {
		t.Fatal(err)
	}
	if got := top(cached); !maps.Equal(got, map[string]int{"v01": 10, "v02": 10}) {
		t.Fatalf("after its own erasure the cached instance read %v", got)
	}
}

// TestLedgerEachReadsAhead: each asks the store for the next batch while
// f still holds the first (a getMore arrives before f returns), hands
// every entry over once across batches, and stops with f's error.
func TestLedgerEachReadsAhead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 7 {
		if _, _, err := f.Award(ctx, Award{Key: fmt.Sprintf("e%d", i), Reason: ReasonSession, Who: who(i), At: f.now}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	var sizes []int
	aheadSeen := false
	n, err := f.ledger.each(ctx, 2, func(es []Entry) error {
		if len(sizes) == 0 {
			before := storetest.Commands("getMore", "ledger")
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !aheadSeen; time.Sleep(time.Millisecond) {
				aheadSeen = storetest.Commands("getMore", "ledger") > before
			}
		}
		sizes = append(sizes, len(es))
		for _, e := range es {
			seen[e.ID]++
		}
		return nil
	})
	if err != nil || n != 7 || len(seen) != 7 || !slices.Equal(sizes, []int{2, 2, 2, 1}) {
		t.Fatalf("each: n %d, err %v, seen %v, batches %v", n, err, seen, sizes)
	}
	if !aheadSeen {
		t.Error("no getMore of the ledger while f held the first batch: each does not read ahead")
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s handed over %d times", id, c)
		}
	}
	stop := errors.New("stop")
	calls := 0
	n, err = f.ledger.each(ctx, 2, func([]Entry) error {
		if calls++; calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || calls != 2 {
		t.Fatalf("each after f failed: n %d, err %v, calls %d; want 2, stop, 2", n, err, calls)
	}
}

// TestConcurrentMeReadsShareRoundTrips: `me` reads made at the same time
// (which go to Redis together in pipelines) each get their own standing,
// a member off the board is told so, and a pipeline still works after
// Redis has forgotten the script.
func TestConcurrentMeReadsShareRoundTrips(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 8 {
		for j := range i + 1 {
			if _, _, err := f.Award(ctx, Award{Key: fmt.Sprintf("s:%d-%d", i, j), Reason: ReasonSession, Who: who(i), At: f.now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := Query{Campaign: AllTime, Board: BoardVolunteers, Scope: ScopeNational, Period: PeriodWeek}
	// v0i has i+1 sessions: rank 8-i with 10(i+1) points; v08 none.
	check := func(i int, st Standing) error {
		member := fmt.Sprintf("v%02d", i)
		if i == 8 && st.OnBoard {
			return fmt.Errorf("%s on the board: %+v", member, st)
		}
		if i < 8 && (!st.OnBoard || st.Rank != 8-i || st.Points != 10*(i+1)) {
			return fmt.Errorf("%s: %+v, want rank %d with %d points", member, st, 8-i, 10*(i+1))
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 90)
	for range 10 {
		for i := range 9 {
			wg.Go(func() {
				_, st, err := f.Me(ctx, q, fmt.Sprintf("v%02d", i), 1)
				if err == nil {
					err = check(i, st)
				}
				if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// One pipeline of three after SCRIPT FLUSH.
	ref, err := f.ref(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := f.boards.readGen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	key := f.boards.boardKey(gen, ref.Campaign, ref.Board, ref.Scope, ref.Period)
	var batch []*standingCall
	for _, m := range []string{"v07", "v08", "v02"} {
		batch = append(batch, &standingCall{key: key, member: m, around: 1, done: make(chan struct{})})
	}
	f.boards.standings.send(ctx, batch)
	if c := batch[1]; !errors.Is(c.err, redis.Nil) {
		t.Errorf("v08: %v %v, want redis.Nil", c.res, c.err)
	}
	for i, want := range map[int]int64{0: 0, 2: 5} { // 0-based ranks of v07 and v02
		if rank, _, _, ok := parseStanding(batch[i].res); batch[i].err != nil || !ok || rank != want {
			t.Errorf("%s after SCRIPT FLUSH: %v %v, want rank %d", batch[i].member, batch[i].res, batch[i].err, want)
		}
	}
}

// TestGroupIncrementsMatchTheirSums applies a group of entries that share
// boards and members in one pipeline (boards.incr reorders its increments
// board by board) and compares every board and name with LoadBoards', which
// writes the sums whole.
func TestGroupIncrementsMatchTheirSums(t *testing.T) {
	ctx := context.Background()
	var es []Entry
	for i := range 40 {
		e := Entry{ID: fmt.Sprintf("g:%d", i), Reason: ReasonSession, Points: 10 + i,
			At: time.Date(2026, 11, 1+i%20, 9, 0, 0, 0, Vietnam), Who: who(i % 7)}
		e.Credits = []Credit{{Campaign: AllTime, Points: e.Points}}
		if i%3 == 0 {
			e.Credits = append(e.Credits, Credit{Campaign: "c2", Points: 2 * e.Points})
		}
		es = append(es, e)
	}
	grouped, loaded := newFixture(t), newFixture(t)
	if err := grouped.boards.apply(ctx, es); err != nil {
		t.Fatal(err)
	}
	if err := loaded.LoadBoards(ctx, es); err != nil {
		t.Fatal(err)
	}
	got, want := grouped.boardSnapshot(t), loaded.boardSnapshot(t)
	if len(want) < 50 {
		t.Fatalf("only %d boards: the entries do not spread as meant", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		for k, w := range want {
			if !reflect.DeepEqual(got[k], w) {
				t.Errorf("board %s: got %v, want %v", k, got[k], w)
			}
		}
		t.Fatalf("the group's boards differ from the sums (%d boards against %d)", len(got), len(want))
	}
}

// TestStreakSurvivesAPause: weeks mostly paused neither count nor break a
// streak, after the pause ended too (the history is kept); a pause of an
// hour in a week without sessions does not save it.
func TestStreakSurvivesAPause(t *testing.T) {
	vn := Vietnam
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, vn) // Thursday of w2026-48
	weeks := []string{"w2026-43", "w2026-44", "w2026-45", "w2026-48"}
	// Paused from Monday of w2026-46 to Sunday evening of w2026-47, resumed.
	twoWeeks := []people.Pause{{From: time.Date(2026, 11, 9, 8, 0, 0, 0, vn), To: time.Date(2026, 11, 22, 20, 0, 0, 0, vn)}}
	if got := PausedWeeks(twoWeeks, now); !slices.Equal(got, []string{"w2026-46", "w2026-47"}) {
		t.Fatalf("paused weeks %v", got)
	}
	if n := Streak(weeks, PausedWeeks(twoWeeks, now), now); n != 4 {
		t.Fatalf("streak across a two-week pause: %d, want 4", n)
	}
	// An hour's pause in each empty week.
	hours := []people.Pause{
		{From: time.Date(2026, 11, 10, 8, 0, 0, 0, vn), To: time.Date(2026, 11, 10, 9, 0, 0, 0, vn)},
		{From: time.Date(2026, 11, 17, 8, 0, 0, 0, vn), To: time.Date(2026, 11, 17, 9, 0, 0, 0, vn)},
	}
	if n := Streak(weeks, PausedWeeks(hours, now), now); n != 1 {
		t.Fatalf("streak across hour-long pauses: %d, want 1", n)
	}
	// A pause still open counts up to now.
	open := []people.Pause{{From: time.Date(2026, 11, 9, 8, 0, 0, 0, vn)}}
	if got := PausedWeeks(open, now); !slices.Equal(got, []string{"w2026-46", "w2026-47"}) {
		t.Fatalf("open pause: %v (w2026-48 has 3.5 days of it, under %d)", got, MinPausedDays)
	}
}
