package programme

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"daisuso/errs"
	"daisuso/gamify"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/people"
	"daisuso/sessions"
)

// The indicators of a union's dashboard: for a unit, per commune and per
// branch, with weekly trends and a campaign's targets. Aggregates only: no
// one's name or phone. The types carry the JSON names the API answers
// with: this report is what the dashboard and its CSV are made of.

// Weeks of trend a report may ask for.
const (
	DefaultTrendWeeks = 8
	MaxTrendWeeks     = 26
)

// IndicatorsQuery asks for a unit's report.
type IndicatorsQuery struct {
	UnitID     string // "": the actor's own unit
	CampaignID string // "": the newest active campaign over the unit, else the all-time one
	Weeks      int    // of trend, 1..MaxTrendWeeks
}

// Trend counts per week, oldest first.
type Trend struct {
	Sessions  []int `json:"sessions"`            // confirmed sessions checked in that week
	Certified []int `json:"certified,omitempty"` // learners certified that week (communes only)
	Families  []int `json:"families,omitempty"`  // households that became Gia đình số that week (communes only)
}

// IndicatorRow is one commune, one branch or the unit as a whole. The
// household and request figures belong to communes: a branch row has none.
type IndicatorRow struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	UnitCode          string   `json:"unit_code,omitempty"` // official code of a commune's or province's unit
	Level             string   `json:"level"`               // unit, commune or branch
	CommuneID         string   `json:"commune_id,omitempty"`
	Mentors           int      `json:"mentors"`         // active (not paused)
	MentorsAtFive     int      `json:"mentors_at_five"` // with five learners or more: "1 kèm 5"
	AtFiveShare       float64  `json:"mentors_at_five_share"`
	Learners          int      `json:"learners"`          // learners the unit's mentors serve
	HouseholdsServed  int      `json:"households_served"` // households the unit's mentors serve
	SessionsThisWeek  int      `json:"sessions_this_week"`
	Households        *int     `json:"households,omitempty"`
	DigitalFamilies   *int     `json:"digital_families,omitempty"`
	FamilyShare       *float64 `json:"digital_family_share,omitempty"`
	CertifiedLearners *int     `json:"certified_learners,omitempty"`
	RequestsWaiting   *int     `json:"requests_waiting,omitempty"`
	LearnersWaiting   *int     `json:"learners_waiting,omitempty"`
	OldestWaitHours   *float64 `json:"oldest_wait_hours,omitempty"`
	// Outcomes are those the plan monitors, recorded in the campaign's
	// window (all time for the all-time campaign), by code.
	Outcomes map[string]int `json:"outcomes"`
	Trend    Trend          `json:"trend"`
}

// TeamProgress is a technology team's targets with its progress.
type TeamProgress struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	CommuneID  string           `json:"commune_id"`
	Period     string           `json:"period" enum:"month,campaign"`
	CampaignID string           `json:"campaign_id,omitempty"`
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	Targets    []TargetProgress `json:"targets"`
}

// TargetProgress is one target and what was reached of it.
type TargetProgress struct {
	Kind   string  `json:"kind"` // sessions, certified_learners, digital_families or mentors_at_five
	Target int     `json:"target"`
	Value  int     `json:"value"` // reached within the campaign's window (mentors_at_five: now)
	Share  float64 `json:"share"`
}

// CampaignProgress is the campaign a report measures against.
type CampaignProgress struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Scope    string           `json:"scope"`
	StartsAt *time.Time       `json:"starts_at,omitempty"`
	EndsAt   *time.Time       `json:"ends_at,omitempty"`
	Targets  []TargetProgress `json:"targets"`
}

// BoardScope is a leaderboard scope the unit's dashboard offers, with the
// boards it ranks (gamify.BoardsIn).
type BoardScope struct {
	Scope  string   `json:"scope"`
	Level  string   `json:"level" enum:"unit,commune,province,national"`
	Name   string   `json:"name,omitempty"`
	Boards []string `json:"boards"`
}

// Actions says which actions the dashboard may offer the caller here.
type Actions struct {
	BatchMatching bool `json:"batch_matching"` // over a commune: commune and province unions
	Broadcast     bool `json:"broadcast"`
}

// Indicators is a unit's report.
type Indicators struct {
	Unit people.Branch `json:"-"`
	// Context is the commune a branch belongs to, named above a branch's
	// own figures; nil for a commune or province.
	Context     *people.Branch   `json:"-"`
	Actions     Actions          `json:"actions"`
	BoardScopes []BoardScope     `json:"board_scopes"`
	BoardScope  string           `json:"board_scope"` // the unit's leaderboard scope
	Campaign    CampaignProgress `json:"campaign"`
	Teams       []TeamProgress   `json:"teams"` // technology teams with targets
	Weeks       []string         `json:"weeks"` // the trend's weeks, by their Monday (Asia/Ho_Chi_Minh)
	Total       IndicatorRow     `json:"total"`
	Communes    []IndicatorRow   `json:"communes"`
	Branches    []IndicatorRow   `json:"branches"`
	GeneratedAt time.Time        `json:"generated_at"`
}

// unitFigures is what the stores say of a unit's communes, read at once.
type unitFigures struct {
	households      map[string]people.CommuneCount
	results         map[string]sessions.CommuneCounts
	marks           []sessions.Mark
	byCommune, byBr map[string]*matching.UnitCounts
	workC, workB    map[string]*sessions.UnitWork
}

// report is a report being made: its window and rows.
type report struct {
	out            Indicators
	camp           gamify.Campaign
	from, thisWeek time.Time
	weeks          int
	rows           map[string]*IndicatorRow
	inCampaign     map[string]int // marks within the campaign's window, by kind
}

// Indicators reports on the unit q names, which the actor must be allowed
// to see (people.Service.Subtree).
func (s *Services) Indicators(ctx context.Context, actor people.Actor, q IndicatorsQuery) (Indicators, error) {
	if q.UnitID == "" {
		q.UnitID = actor.BranchID
	}
	if q.UnitID == "" {
		return Indicators{}, &errs.FieldError{Field: "branch_id", Reason: "required"}
	}
	if q.Weeks < 1 || q.Weeks > MaxTrendWeeks {
		return Indicators{}, &errs.FieldError{Field: "weeks", Reason: "out_of_range"}
	}
	unit, nodes, err := s.People.Subtree(ctx, actor, q.UnitID)
	if err != nil {
		return Indicators{}, err
	}
	now := s.cfg.Now()
	r := &report{weeks: q.Weeks, thisWeek: WeekStart(now), rows: map[string]*IndicatorRow{}, inCampaign: map[string]int{}}
	if r.camp, err = s.dashboardCampaign(ctx, q.CampaignID, unit, now); err != nil {
		return Indicators{}, err
	}
	r.from = r.thisWeek.AddDate(0, 0, -7*(q.Weeks-1))
	communes := unit.CommunesAmong(nodes)
	f, err := s.unitFigures(ctx, communes, r)
	if err != nil {
		return Indicators{}, err
	}
	r.out = Indicators{Unit: unit, BoardScope: BoardScopeOf(unit), GeneratedAt: now.UTC(), Communes: []IndicatorRow{}, Branches: []IndicatorRow{}}
	for i := range q.Weeks {
		r.out.Weeks = append(r.out.Weeks, r.from.AddDate(0, 0, 7*i).Format(time.DateOnly))
	}
	units := s.People.Units()
	total := r.addRows(unit, nodes, communes, f, units, now)
	r.countMarks(f.marks, total)
	r.countOutcomes(f)
	r.sumCommunes(communes, total)
	for _, n := range nodes {
		if row := r.rows[n.ID]; row != nil && row.Level == "branch" {
			r.out.Branches = append(r.out.Branches, *row.shares())
		}
	}
	byName := func(x, y IndicatorRow) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) }
	slices.SortFunc(r.out.Communes, byName)
	slices.SortFunc(r.out.Branches, byName)
	r.out.Total = *total.shares()
	contextName := ""
	if unit.Kind == people.KindBranch {
		// A branch's dashboard is the branch's own figures.
		own := *r.rows[unit.ID].shares()
		own.Level, own.CommuneID = "unit", ""
		r.out.Total, r.out.Communes, r.out.Branches = own, []IndicatorRow{}, []IndicatorRow{}
		if commune, err := s.People.Branch(ctx, unit.CommuneID()); err == nil {
			r.out.Context, contextName = &commune, commune.OfficialName(units)
		}
	}
	if r.out.Teams, err = s.teamProgress(ctx, nodes, now); err != nil {
		return Indicators{}, err
	}
	r.out.BoardScopes = boardScopes(unit, unit.OfficialName(units), contextName)
	r.out.Actions = Actions{Broadcast: true, BatchMatching: unit.Kind == people.KindCommune || unit.Kind == people.KindProvince}
	r.campaignProgress()
	return r.out, nil
}

// since is when the marks a report counts begin: its first week, or its
// campaign's start if that is earlier and the campaign has targets.
func (r *report) since() time.Time {
	if r.camp.ID != gamify.AllTime && len(r.camp.Targets) > 0 && r.camp.StartsAt.Before(r.from) {
		return r.camp.StartsAt
	}
	return r.from
}

// unitFigures reads what the stores say of the communes over the
// report's window, at once.
func (s *Services) unitFigures(ctx context.Context, communes []string, r *report) (unitFigures, error) {
	var f unitFigures
	workFrom, workTo := time.Time{}, time.Time{}
	if r.camp.ID != gamify.AllTime {
		workFrom, workTo = r.camp.StartsAt, r.camp.EndsAt
	}
	thisWeek, since := r.thisWeek, r.since()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { f.households, err = s.People.CountByCommune(gctx, communes...); return })
	g.Go(func() (err error) { f.results, err = s.Sessions.CountByCommune(gctx, thisWeek, communes...); return })
	g.Go(func() (err error) { f.marks, err = s.Sessions.Activity(gctx, communes, since); return })
	g.Go(func() (err error) { f.byCommune, f.byBr, err = s.Matching.Units(gctx, communes); return })
	g.Go(func() (err error) {
		f.workC, f.workB, err = s.Sessions.WorkByUnit(gctx, communes, workFrom, workTo)
		return
	})
	return f, g.Wait()
}

// addRows makes a row for each commune and branch of the report and
// returns the unit's total, still to be summed.
func (r *report) addRows(unit people.Branch, nodes []people.Branch, communes []string, f unitFigures, units *geo.Units, now time.Time) *IndicatorRow {
	names, codes := map[string]string{}, map[string]string{}
	for _, n := range append([]people.Branch{unit}, nodes...) {
		names[n.ID], codes[n.ID] = n.OfficialName(units), n.CommuneCode
	}
	weeks := r.weeks
	for _, id := range communes {
		hh, res, u := f.households[id], f.results[id], f.byCommune[id]
		if u == nil {
			u = &matching.UnitCounts{}
		}
		row := &IndicatorRow{ID: id, Name: names[id], UnitCode: codes[id], Level: "commune", Mentors: u.Mentors, MentorsAtFive: u.MentorsAtFive,
			Learners: u.Learners, HouseholdsServed: u.Households, SessionsThisWeek: res.Sessions, Households: ptr(hh.Households), DigitalFamilies: ptr(res.Families),
			CertifiedLearners: ptr(res.Certified), RequestsWaiting: ptr(u.RequestsWaiting), LearnersWaiting: ptr(u.LearnersWaiting),
			Trend: Trend{Sessions: make([]int, weeks), Certified: make([]int, weeks), Families: make([]int, weeks)}}
		if !u.OldestWaiting.IsZero() {
			row.OldestWaitHours = ptr(math.Round(now.Sub(u.OldestWaiting).Hours()*10) / 10)
		}
		r.rows[id] = row
	}
	branches := nodes
	if unit.Kind == people.KindBranch {
		branches = []people.Branch{unit}
	}
	for _, n := range branches {
		if n.Kind != people.KindBranch {
			continue
		}
		u := f.byBr[n.ID]
		if u == nil {
			u = &matching.UnitCounts{}
		}
		r.rows[n.ID] = &IndicatorRow{ID: n.ID, Name: n.Name, Level: "branch", CommuneID: n.CommuneID(), Mentors: u.Mentors,
			MentorsAtFive: u.MentorsAtFive, Learners: u.Learners, HouseholdsServed: u.Households, Trend: Trend{Sessions: make([]int, weeks)}}
	}
	return &IndicatorRow{ID: unit.ID, Name: names[unit.ID], UnitCode: cmp.Or(unit.CommuneCode, unit.ProvinceCode), Level: "unit",
		Households: ptr(0), DigitalFamilies: ptr(0), CertifiedLearners: ptr(0), RequestsWaiting: ptr(0), LearnersWaiting: ptr(0),
		Trend: Trend{Sessions: make([]int, weeks), Certified: make([]int, weeks), Families: make([]int, weeks)}}
}

// countMarks counts each session, certification and Gia đình số in the
// week it happened, for the total, its commune and its branch, and those
// within the campaign's window.
func (r *report) countMarks(marks []sessions.Mark, total *IndicatorRow) {
	for _, m := range marks {
		if r.camp.ID != gamify.AllTime && !m.At.Before(r.camp.StartsAt) && m.At.Before(r.camp.EndsAt) {
			r.inCampaign[m.Kind]++
		}
		w := int(m.At.Sub(r.from).Hours() / (24 * 7))
		if m.At.Before(r.from) || w >= r.weeks {
			continue
		}
		counted := []*IndicatorRow{total}
		if row := r.rows[m.CommuneID]; row != nil && row.Level == "commune" {
			counted = append(counted, row)
		}
		if row := r.rows[m.BranchID]; row != nil && row.Level == "branch" {
			counted = append(counted, row)
		}
		for _, row := range counted {
			switch m.Kind {
			case sessions.MarkSession:
				row.Trend.Sessions[w]++
				if row.Level == "branch" && !m.At.Before(r.thisWeek) {
					row.SessionsThisWeek++
				}
			case sessions.MarkCertified:
				row.Trend.Certified[w]++
			case sessions.MarkFamily:
				row.Trend.Families[w]++
			}
		}
	}
}

// countOutcomes gives each row every monitored outcome, 0 when none.
func (r *report) countOutcomes(f unitFigures) {
	for id, row := range r.rows {
		work := f.workB[id]
		if row.Level == "commune" {
			work = f.workC[id]
		}
		row.Outcomes = map[string]int{}
		for _, o := range sessions.Outcomes {
			if work != nil {
				row.Outcomes[o] = work.Outcomes[o]
			} else {
				row.Outcomes[o] = 0
			}
		}
	}
}

// sumCommunes adds the communes' rows into the total and the report.
func (r *report) sumCommunes(communes []string, total *IndicatorRow) {
	total.Outcomes = map[string]int{}
	for _, id := range communes {
		row := r.rows[id]
		for o, n := range row.Outcomes {
			total.Outcomes[o] += n
		}
		total.Mentors += row.Mentors
		total.MentorsAtFive += row.MentorsAtFive
		total.Learners += row.Learners
		total.HouseholdsServed += row.HouseholdsServed
		total.SessionsThisWeek += row.SessionsThisWeek
		*total.Households += *row.Households
		*total.DigitalFamilies += *row.DigitalFamilies
		*total.CertifiedLearners += *row.CertifiedLearners
		*total.RequestsWaiting += *row.RequestsWaiting
		*total.LearnersWaiting += *row.LearnersWaiting
		if row.OldestWaitHours != nil && (total.OldestWaitHours == nil || *row.OldestWaitHours > *total.OldestWaitHours) {
			total.OldestWaitHours = ptr(*row.OldestWaitHours)
		}
		r.out.Communes = append(r.out.Communes, *row.shares())
	}
}

// campaignProgress sets the campaign and what its targets reached.
func (r *report) campaignProgress() {
	camp := r.camp
	r.out.Campaign = CampaignProgress{ID: camp.ID, Name: camp.Name, Scope: camp.Scope(), Targets: []TargetProgress{}}
	if camp.ID != gamify.AllTime {
		r.out.Campaign.StartsAt, r.out.Campaign.EndsAt = &camp.StartsAt, &camp.EndsAt
	}
	reached := map[string]int{
		"sessions":           r.inCampaign[sessions.MarkSession],
		"certified_learners": r.inCampaign[sessions.MarkCertified],
		"digital_families":   r.inCampaign[sessions.MarkFamily],
		"mentors_at_five":    r.out.Total.MentorsAtFive,
	}
	for _, kind := range gamify.TargetKinds {
		if t := camp.Targets[kind]; t > 0 {
			r.out.Campaign.Targets = append(r.out.Campaign.Targets, TargetProgress{Kind: kind, Target: t, Value: reached[kind],
				Share: share(reached[kind], t)})
		}
	}
}

// WeekStart is the Monday 00:00 (Asia/Ho_Chi_Minh) of t's week.
func WeekStart(t time.Time) time.Time { return PeriodStart(gamify.PeriodWeek, t) }

// BoardScopeOf is the leaderboard scope a unit's people compete in.
func BoardScopeOf(b people.Branch) string {
	switch b.Kind {
	case people.KindProvince:
		return gamify.ScopeProvince + ":" + b.ProvinceCode
	case people.KindBranch:
		return gamify.ScopeBranch + ":" + b.ID
	}
	return gamify.ScopeCommune + ":" + b.CommuneCode
}

// teamProgress is the progress of the technology teams among nodes that
// have targets: over this calendar month, or their campaign's window.
func (s *Services) teamProgress(ctx context.Context, nodes []people.Branch, now time.Time) ([]TeamProgress, error) {
	teams := map[string]people.Branch{}
	var ids []string
	for _, n := range nodes {
		if n.Kind == people.KindTechTeam {
			teams[n.ID] = n
			ids = append(ids, n.ID)
		}
	}
	list, err := s.People.TargetsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// The teams' windows: this month, or a campaign's; the sessions of
	// each window are read once for all the teams measured over it.
	type window struct{ from, to time.Time }
	windowOf := map[string]window{}
	communesIn := map[window][]string{}
	for _, t := range list {
		from := PeriodStart(gamify.PeriodMonth, now)
		w := window{from, from.AddDate(0, 1, 0)}
		if t.Period == people.TargetPerCampaign {
			c, err := s.Gamify.Campaign(ctx, t.CampaignID)
			if err != nil {
				continue // the campaign is gone: nothing to measure against
			}
			w = window{c.StartsAt, c.EndsAt}
		}
		windowOf[t.TeamID] = w
		communesIn[w] = append(communesIn[w], teams[t.TeamID].CommuneID())
	}
	work := map[window]map[string]*sessions.UnitWork{}
	for w, communes := range communesIn {
		byCommune, _, err := s.Sessions.WorkByUnit(ctx, communes, w.from, w.to)
		if err != nil {
			return nil, err
		}
		work[w] = byCommune
	}
	out := []TeamProgress{}
	for _, t := range list {
		w, ok := windowOf[t.TeamID]
		if !ok {
			continue
		}
		team := teams[t.TeamID]
		done := work[w][team.CommuneID()]
		if done == nil {
			done = &sessions.UnitWork{}
		}
		j := TeamProgress{ID: team.ID, Name: team.Name, CommuneID: team.CommuneID(), Period: t.Period, CampaignID: t.CampaignID,
			From: w.from.UTC(), To: w.to.UTC(), Targets: []TargetProgress{}}
		for _, k := range people.TeamTargetKinds {
			if v, ok := t.Values[k.Code]; ok && v > 0 {
				j.Targets = append(j.Targets, TargetProgress{Kind: k.Code, Target: v, Value: done.Value(k.Code), Share: share(done.Value(k.Code), v)})
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// boardScopes are the leaderboard scopes a unit's dashboard offers, its own
// first, each with the boards it ranks: never a scope a board cannot work
// in.
func boardScopes(unit people.Branch, name, communeName string) []BoardScope {
	own := BoardScopeOf(unit)
	kind, _, _ := strings.Cut(own, ":")
	out := []BoardScope{{Scope: own, Level: "unit", Name: name, Boards: gamify.BoardsIn(kind)}}
	if unit.Kind == people.KindBranch {
		out = append(out, BoardScope{Scope: gamify.ScopeCommune + ":" + unit.CommuneCode, Level: "commune", Name: communeName,
			Boards: gamify.BoardsIn(gamify.ScopeCommune)})
	}
	if unit.Kind != people.KindProvince {
		out = append(out, BoardScope{Scope: gamify.ScopeProvince + ":" + unit.ProvinceCode, Level: "province",
			Boards: gamify.BoardsIn(gamify.ScopeProvince)})
	}
	return append(out, BoardScope{Scope: gamify.ScopeNational, Level: "national", Boards: gamify.BoardsIn(gamify.ScopeNational)})
}

func (row *IndicatorRow) shares() *IndicatorRow {
	row.AtFiveShare = share(row.MentorsAtFive, row.Mentors)
	if row.Households != nil {
		row.FamilyShare = ptr(share(*row.DigitalFamilies, *row.Households))
	}
	return row
}

// share is n/of rounded to 3 decimals, 0 when of is 0.
func share(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1000) / 1000
}

func ptr[T any](v T) *T { return &v }

// dashboardCampaign is the campaign asked for, or the newest active one
// whose scope holds the unit, or the all-time one.
func (s *Services) dashboardCampaign(ctx context.Context, id string, unit people.Branch, now time.Time) (gamify.Campaign, error) {
	if id != "" {
		return s.Gamify.Campaign(ctx, id)
	}
	list, err := s.Gamify.Campaigns(ctx)
	if err != nil {
		return gamify.Campaign{}, err
	}
	var best gamify.Campaign
	for _, c := range list {
		if c.ID == gamify.AllTime || now.Before(c.StartsAt) || !now.Before(c.EndsAt) {
			continue
		}
		holds := c.ScopeKind == gamify.ScopeNational ||
			(c.ScopeKind == gamify.ScopeProvince && c.ScopeCode == unit.ProvinceCode) ||
			(c.ScopeKind == gamify.ScopeCommune && c.ScopeCode == unit.CommuneCode)
		if holds && (best.ID == "" || c.StartsAt.After(best.StartsAt)) {
			best = c
		}
	}
	if best.ID == "" {
		return s.Gamify.Campaign(ctx, gamify.AllTime)
	}
	return best, nil
}
