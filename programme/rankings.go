package programme

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"daisuso/gamify"
)

// MinHouseholdsRanked: a commune with fewer registered households is left
// out of the public rankings, as from the public coverage map, so that no
// figure points at a family.
const MinHouseholdsRanked = 5

// Levels of the public rankings.
const (
	LevelCommune  = "commune"
	LevelProvince = "province"
)

// What the public rankings may order by.
const (
	ByFamilies  = "families"  // the share of households that are Gia đình số
	ByCertified = "certified" // certified learners per 1,000 residents
	BySessions  = "sessions"  // confirmed sessions in the period
)

// Ranking is one commune's or province's figures in the public rankings.
type Ranking struct {
	Rank         int    // 1 for the first, set by Rank
	ID           string // the commune union's id, or the province's code
	Name         string // the official name
	ProvinceCode string
	ProvinceName string
	CommuneCode  string // commune rows
	Households   int    // registered with the programme
	// Residents is the official figure of the commune (the sum over the
	// province's communes that have one); ResidentsYear the latest year.
	Residents, ResidentsYear int
	HasResidents             bool
	WithoutFigure            int // province rows: communes with no population figure
	DigitalFamilies          int
	FamilyShare              float64  // 0..1
	Certified                int      // certified learners
	CertifiedPer1000         *float64 // per 1,000 residents of the communes with a figure; nil without one
	Sessions                 int      // confirmed in the period
	certifiedCounted         int
}

// PeriodStart is when a ranking period that holds now began: the month, or
// the week from Monday, in Vietnam's time.
func PeriodStart(period string, now time.Time) time.Time {
	local := now.In(gamify.Vietnam)
	if period == gamify.PeriodWeek {
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, gamify.Vietnam)
		return day.AddDate(0, 0, -((int(local.Weekday()) + 6) % 7))
	}
	return time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, gamify.Vietnam)
}

// Rankings gives the figures of every commune (or province) with at least
// MinHouseholdsRanked households, over the period since: what registration,
// sessions and the official lists (names, populations) say of each.
func (s *Services) Rankings(ctx context.Context, level string, since time.Time) ([]Ranking, error) {
	reg, err := s.People.CountByCommune(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.Sessions.CountByCommune(ctx, since)
	if err != nil {
		return nil, err
	}
	pops, err := s.People.Populations(ctx)
	if err != nil {
		return nil, err
	}
	units := s.People.Units()
	byID := map[string]*Ranking{}
	var order []string
	for communeID, r := range reg {
		if r.Households < MinHouseholdsRanked {
			continue
		}
		b, err := s.People.Branch(ctx, communeID)
		if err != nil {
			continue // erased meanwhile
		}
		provinceName, communeName := units.FullNames(b.ProvinceCode, b.CommuneCode)
		id, name, code := communeID, cmp.Or(communeName, b.Name), b.CommuneCode
		if level == LevelProvince {
			id, name, code = b.ProvinceCode, cmp.Or(provinceName, b.ProvinceCode), ""
		}
		row := byID[id]
		if row == nil {
			row = &Ranking{ID: id, Name: name, ProvinceCode: b.ProvinceCode, ProvinceName: provinceName, CommuneCode: code}
			byID[id] = row
			order = append(order, id)
		}
		x := res[communeID]
		row.Households += r.Households
		row.DigitalFamilies += x.Families
		row.Certified += x.Certified
		row.Sessions += x.Sessions
		if p, ok := pops[b.CommuneCode]; ok {
			row.Residents += p.Residents
			row.ResidentsYear = max(row.ResidentsYear, p.Year)
			row.certifiedCounted += x.Certified
		} else if level == LevelProvince {
			row.WithoutFigure++
		}
	}
	out := make([]Ranking, 0, len(order))
	for _, id := range order {
		r := *byID[id]
		if r.Residents > 0 {
			rate := math.Round(float64(r.certifiedCounted)/float64(r.Residents)*1000*10) / 10
			r.CertifiedPer1000, r.HasResidents = &rate, true
		}
		r.FamilyShare = math.Round(float64(r.DigitalFamilies)/float64(r.Households)*1000) / 1000
		out = append(out, r)
	}
	return out, nil
}

// Rank orders rows by the figure by names, highest first, ties by id, and
// numbers them from 1. A row without a population figure has no
// per-resident rate and comes after every row with one.
func Rank(rows []Ranking, by string) {
	metric := func(r Ranking) float64 {
		switch by {
		case ByCertified:
			if r.CertifiedPer1000 == nil {
				return -1
			}
			return *r.CertifiedPer1000
		case BySessions:
			return float64(r.Sessions)
		}
		return r.FamilyShare
	}
	slices.SortStableFunc(rows, func(x, y Ranking) int {
		return cmp.Or(cmp.Compare(metric(y), metric(x)), cmp.Compare(x.ID, y.ID))
	})
	for i := range rows {
		rows[i].Rank = i + 1
	}
}
