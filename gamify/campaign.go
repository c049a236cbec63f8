package gamify

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"daisuso/errs"
	"daisuso/people"
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
