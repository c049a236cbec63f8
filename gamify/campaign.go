package gamify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"daisuso/errs"
	"daisuso/people"
	"daisuso/store"
)

// Vietnam is Asia/Ho_Chi_Minh (UTC+7, no daylight saving): weeks, months
// and multiplier days are local to it.
var Vietnam = time.FixedZone("Asia/Ho_Chi_Minh", 7*3600)

// AllTime is the campaign that always runs, nationally: the boards every
// volunteer appears on whether or not a campaign is on.
const AllTime = "all"

// Limits of a campaign.
const (
	maxCampaignDays = 400
	maxMultipliers  = 60
	// MaxActiveCampaigns is how many campaigns not yet ended a scope (the
	// nation, a province, a commune) may have at once: a union runs a few
	// at a time (the yearly 10 October day, a month's drive), and each is a
	// board per unit that every award in its scope adds to.
	MaxActiveCampaigns = 5
	maxFactor          = 5.0
	maxTarget          = 100_000_000
)

// Scope kinds of a campaign and of a board.
const (
	ScopeNational = "national"
	ScopeProvince = "province"
	ScopeCommune  = "commune"
	ScopeBranch   = "branch"
)

// Multiplier multiplies the points of every award made on one local day.
type Multiplier struct {
	Date   string // "2026-10-10", Asia/Ho_Chi_Minh
	Factor float64
}

// Campaign is an emulation drive: a window, a scope, multipliers and
// targets. Campaigns are immutable once created, so that a ledger entry's
// credits stay what they were when awarded.
type Campaign struct {
	ID          string
	Name        string
	ScopeKind   string // national, province or commune
	ScopeCode   string // the province's or commune's code; "" for national
	StartsAt    time.Time
	EndsAt      time.Time
	Multipliers []Multiplier
	Targets     map[string]int
	CreatedBy   string
	CreatedAt   time.Time
}

// TargetKinds are what a campaign may set targets on.
var TargetKinds = []string{"sessions", "certified_learners", "digital_families", "mentors_at_five"}

var (
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	codePattern = regexp.MustCompile(`^\d{2}$|^\d{5}$`)
)

// allTime is the built-in campaign.
var allTime = Campaign{ID: AllTime, Name: "Thường xuyên", ScopeKind: ScopeNational}

// Scope is where a campaign runs, as "national", "province:10" or
// "commune:00001".
func (c Campaign) Scope() string {
	if c.ScopeKind == ScopeNational {
		return ScopeNational
	}
	return c.ScopeKind + ":" + c.ScopeCode
}

// covers reports whether the campaign runs where w is at time at.
func (c Campaign) covers(w Who, at time.Time) bool {
	if c.ID != AllTime && (at.Before(c.StartsAt) || !at.Before(c.EndsAt)) {
		return false
	}
	switch c.ScopeKind {
	case ScopeProvince:
		return w.ProvinceCode == c.ScopeCode
	case ScopeCommune:
		return w.CommuneCode == c.ScopeCode
	}
	return true
}

// factor is the multiplier of the local day of at (1 when none).
func (c Campaign) factor(at time.Time) float64 {
	day := at.In(Vietnam).Format(time.DateOnly)
	for _, m := range c.Multipliers {
		if m.Date == day {
			return m.Factor
		}
	}
	return 1
}

// NewCampaign is what an admin asks for.
type NewCampaign struct {
	Name        string
	Scope       string
	StartsAt    time.Time
	EndsAt      time.Time
	Multipliers []Multiplier
	Targets     map[string]int
}

// ParseScope splits "province:10" into its kind and code, checking both.
func ParseScope(s string, withBranch bool) (kind, code string, ok bool) {
	if s == ScopeNational {
		return ScopeNational, "", true
	}
	kind, code, found := strings.Cut(s, ":")
	switch {
	case !found:
		return "", "", false
	case kind == ScopeProvince:
		return kind, code, len(code) == 2 && codePattern.MatchString(code)
	case kind == ScopeCommune:
		return kind, code, len(code) == 5 && codePattern.MatchString(code)
	case kind == ScopeBranch && withBranch:
		return kind, code, people.ValidID(code)
	}
	return "", "", false
}

// checkCampaign validates a new campaign; by is the admin's unit (nil for
// national admins), which bounds the scope they may choose.
func checkCampaign(in NewCampaign, by *people.Branch) (Campaign, error) {
	name, err := people.CleanText("name", in.Name, 120)
	if err != nil {
		return Campaign{}, err
	}
	kind, code, ok := ParseScope(in.Scope, false)
	if !ok {
		return Campaign{}, &errs.FieldError{Field: "scope", Reason: "invalid_scope"}
	}
	if by != nil {
		// A province union runs campaigns in its province, a commune union
		// or branch in its commune; national ones are for national admins.
		allowed := (by.Kind == people.KindProvince && kind == ScopeProvince && code == by.ProvinceCode) ||
			(by.Kind != people.KindProvince && kind == ScopeCommune && code == by.CommuneCode)
		if !allowed {
			return Campaign{}, &errs.RuleError{Code: "scope_outside_your_unit", Field: "scope"}
		}
	}
	if in.StartsAt.IsZero() || in.EndsAt.IsZero() {
		return Campaign{}, &errs.FieldError{Field: "ends_at", Reason: "required"}
	}
	if !in.EndsAt.After(in.StartsAt) {
		return Campaign{}, &errs.RuleError{Code: "campaign_ends_before_start", Field: "ends_at"}
	}
	if in.EndsAt.Sub(in.StartsAt) > maxCampaignDays*24*time.Hour {
		return Campaign{}, &errs.RuleError{Code: "campaign_too_long", Field: "ends_at"}
	}
	if len(in.Multipliers) > maxMultipliers {
		return Campaign{}, &errs.FieldError{Field: "multipliers", Reason: "too_many"}
	}
	seen := map[string]bool{}
	for i, m := range in.Multipliers {
		field := fmt.Sprintf("multipliers[%d]", i)
		day, err := time.ParseInLocation(time.DateOnly, m.Date, Vietnam)
		if !datePattern.MatchString(m.Date) || err != nil {
			return Campaign{}, &errs.FieldError{Field: field + ".date", Reason: "invalid_date"}
		}
		if seen[m.Date] {
			return Campaign{}, &errs.FieldError{Field: field + ".date", Reason: "duplicate"}
		}
		seen[m.Date] = true
		if day.Add(24*time.Hour).Before(in.StartsAt) || !day.Before(in.EndsAt) {
			return Campaign{}, &errs.RuleError{Code: "multiplier_outside_campaign", Field: field + ".date"}
		}
		// Halves only, so that points stay whole numbers a person can check.
		if m.Factor < 1 || m.Factor > maxFactor || math.Round(m.Factor*2) != m.Factor*2 {
			return Campaign{}, &errs.FieldError{Field: field + ".factor", Reason: "out_of_range"}
		}
	}
	targets := map[string]int{}
	for k, v := range in.Targets {
		if !slices.Contains(TargetKinds, k) {
			return Campaign{}, &errs.FieldError{Field: "targets." + k, Reason: "unknown_code"}
		}
		if v < 0 || v > maxTarget {
			return Campaign{}, &errs.FieldError{Field: "targets." + k, Reason: "out_of_range"}
		}
		targets[k] = v
	}
	return Campaign{Name: name, ScopeKind: kind, ScopeCode: code, StartsAt: in.StartsAt.UTC().Truncate(time.Second),
		EndsAt: in.EndsAt.UTC().Truncate(time.Second), Multipliers: slices.Clone(in.Multipliers), Targets: targets}, nil
}

// ---- store ----

type campaignDoc struct {
	ID          string          `bson:"_id"`
	Name        string          `bson:"name"`
	ScopeKind   string          `bson:"scope_kind"`
	ScopeCode   string          `bson:"scope_code"`
	StartsAt    time.Time       `bson:"starts_at"`
	EndsAt      time.Time       `bson:"ends_at"`
	Multipliers []multiplierDoc `bson:"multipliers"`
	Targets     map[string]int  `bson:"targets"`
	CreatedBy   string          `bson:"created_by"`
	CreatedAt   time.Time       `bson:"created_at"`
}

type multiplierDoc struct {
	Date   string  `bson:"date"`
	Factor float64 `bson:"factor"`
}

func toCampaignDoc(c Campaign) campaignDoc {
	d := campaignDoc{ID: c.ID, Name: c.Name, ScopeKind: c.ScopeKind, ScopeCode: c.ScopeCode, StartsAt: c.StartsAt,
		EndsAt: c.EndsAt, Targets: c.Targets, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
	for _, m := range c.Multipliers {
		d.Multipliers = append(d.Multipliers, multiplierDoc(m))
	}
	return d
}

func (d campaignDoc) campaign() Campaign {
	c := Campaign{ID: d.ID, Name: d.Name, ScopeKind: d.ScopeKind, ScopeCode: d.ScopeCode, StartsAt: d.StartsAt.UTC(),
		EndsAt: d.EndsAt.UTC(), Targets: d.Targets, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC()}
	for _, m := range d.Multipliers {
		c.Multipliers = append(c.Multipliers, Multiplier(m))
	}
	return c
}

// campaigns keeps the campaigns collection and a copy in memory, refreshed
// at most every refresh: there are few campaigns and they never change, so
// an award does not read the collection.
type campaigns struct {
	coll *mongo.Collection
	// slots: _id "<scope>#<n>", n below MaxActiveCampaigns, held by a
	// campaign until it ends: insert-only places that a unique key gives
	// out once, so concurrent creations cannot pass the limit.
	slots   *mongo.Collection
	refresh time.Duration
	mu      sync.Mutex
	list    []Campaign
	byScope map[string][]Campaign // the list by Scope(), latest end first
	loaded  time.Time
}

func (cs *campaigns) all(ctx context.Context, now time.Time) ([]Campaign, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.list != nil && now.Sub(cs.loaded) < cs.refresh {
		return cs.list, nil
	}
	docs, err := store.FindAll[campaignDoc](ctx, cs.coll, bson.D{}, options.Find().SetSort(bson.D{{Key: "starts_at", Value: -1}}))
	if err != nil {
		return nil, err
	}
	list := []Campaign{allTime}
	byScope := map[string][]Campaign{}
	for _, d := range docs {
		c := d.campaign()
		list = append(list, c)
		byScope[c.Scope()] = append(byScope[c.Scope()], c)
	}
	for _, l := range byScope {
		slices.SortFunc(l, func(a, b Campaign) int { return b.EndsAt.Compare(a.EndsAt) })
	}
	cs.list, cs.byScope, cs.loaded = list, byScope, now
	return list, nil
}

// creditsOf are what an entry earns in each campaign that covers it,
// looking only at the campaigns of the scopes its volunteer is in (the
// nation, their province, their commune), and of those only at the ones
// still running when it happened: an award costs the same however many
// campaigns other units run or ran.
func (cs *campaigns) creditsOf(ctx context.Context, now time.Time, e Entry) ([]Credit, error) {
	if _, err := cs.all(ctx, now); err != nil {
		return nil, err
	}
	cs.mu.Lock()
	byScope := cs.byScope
	cs.mu.Unlock()
	out := credits([]Campaign{allTime}, e)
	for _, scope := range []string{ScopeNational, ScopeProvince + ":" + e.Who.ProvinceCode, ScopeCommune + ":" + e.Who.CommuneCode} {
		for _, c := range byScope[scope] {
			if !c.EndsAt.After(e.At) {
				break // this one and the rest ended before it happened
			}
			out = append(out, credits([]Campaign{c}, e)...)
		}
	}
	return out, nil
}

// find returns the campaign with id. An id not in the copy may be a
// campaign made on another instance since the last refresh: the
// collection is read again, at most once a second (ids are what a client
// sends).
func (cs *campaigns) find(ctx context.Context, id string, now time.Time) (Campaign, error) {
	for range 2 {
		list, err := cs.all(ctx, now)
		if err != nil {
			return Campaign{}, err
		}
		if i := slices.IndexFunc(list, func(c Campaign) bool { return c.ID == id }); i >= 0 {
			return list[i], nil
		}
		cs.mu.Lock()
		stale := now.Sub(cs.loaded) >= time.Second
		if stale {
			cs.list = nil
		}
		cs.mu.Unlock()
		if !stale {
			break
		}
	}
	return Campaign{}, ErrNotFound
}

type campaignSlotDoc struct {
	ID       string    `bson:"_id"`
	Campaign string    `bson:"campaign"`
	EndsAt   time.Time `bson:"ends_at"`
}

// takeSlot gives a campaign that has not ended one of its scope's
// MaxActiveCampaigns places, taking over a place whose campaign ended; a
// scope with every place held is refused.
func (cs *campaigns) takeSlot(ctx context.Context, c Campaign, now time.Time) error {
	if !c.EndsAt.After(now) {
		return nil // over already: it holds no place
	}
	for n := range MaxActiveCampaigns {
		id := c.Scope() + "#" + strconv.Itoa(n)
		for try := range 2 {
			_, err := cs.slots.InsertOne(ctx, campaignSlotDoc{ID: id, Campaign: c.ID, EndsAt: c.EndsAt})
			if err = store.WrapMongo(err); err == nil {
				return nil
			}
			if !errors.Is(err, store.ErrDuplicate) {
				return err
			}
			var held campaignSlotDoc
			err = cs.slots.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&held)
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue // freed meanwhile: try again
			}
			if err != nil {
				return store.WrapMongo(err)
			}
			if held.EndsAt.After(now) || try == 1 {
				break
			}
			// Its campaign is over: free the place (that very holder's).
			if _, err := cs.slots.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "campaign", Value: held.Campaign}}); err != nil {
				return store.WrapMongo(err)
			}
		}
	}
	return &errs.RuleError{Code: "too_many_active_campaigns", Field: "scope"}
}

// freeSlot gives back a campaign's place (its insert failed).
func (cs *campaigns) freeSlot(ctx context.Context, c Campaign) {
	_, _ = cs.slots.DeleteMany(ctx, bson.D{{Key: "campaign", Value: c.ID}})
}

func (cs *campaigns) insert(ctx context.Context, c Campaign) error {
	_, err := cs.coll.InsertOne(ctx, toCampaignDoc(c))
	if err := store.WrapMongo(err); err != nil {
		return err
	}
	cs.mu.Lock()
	cs.list = nil // reload at the next use
	cs.mu.Unlock()
	return nil
}
