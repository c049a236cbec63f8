package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/errgroup"

	"daisuso/api/dashboard"
	"daisuso/gamify"
	"daisuso/matching"
	"daisuso/people"
	"daisuso/sessions"
)

// The indicators of the branch dashboard: for the caller's unit (or one
// under it), per commune and per branch, with weekly trends and the
// campaign's targets. Aggregates only: no one's name or phone.

const (
	defaultTrendWeeks = 8
	maxTrendWeeks     = 26
)

type trendJSON struct {
	Sessions  []int `json:"sessions"`            // confirmed sessions checked in that week
	Certified []int `json:"certified,omitempty"` // learners certified that week (communes only)
	Families  []int `json:"families,omitempty"`  // households that became Gia đình số that week (communes only)
}

// indicatorRow is one commune, one branch or the unit as a whole. The
// household and request figures belong to communes: a branch row has none.
type indicatorRow struct {
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
	Trend    trendJSON      `json:"trend"`
}

// teamJSON is a technology team's targets with its progress.
type teamJSON struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	CommuneID  string       `json:"commune_id"`
	Period     string       `json:"period" enum:"month,campaign"`
	CampaignID string       `json:"campaign_id,omitempty"`
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Targets    []targetJSON `json:"targets"`
}

type targetJSON struct {
	Kind   string  `json:"kind"` // sessions, certified_learners, digital_families or mentors_at_five
	Target int     `json:"target"`
	Value  int     `json:"value"` // reached within the campaign's window (mentors_at_five: now)
	Share  float64 `json:"share"`
}

type dashCampaignJSON struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Scope    string       `json:"scope"`
	StartsAt *time.Time   `json:"starts_at,omitempty"`
	EndsAt   *time.Time   `json:"ends_at,omitempty"`
	Targets  []targetJSON `json:"targets"`
}

// boardScopeJSON is a leaderboard scope the unit's dashboard offers, with
// the boards it ranks (gamify.BoardsIn).
type boardScopeJSON struct {
	Scope  string   `json:"scope"`
	Level  string   `json:"level" enum:"unit,commune,province,national"`
	Name   string   `json:"name,omitempty"`
	Boards []string `json:"boards"`
}

// actionsJSON says which actions the dashboard may offer the caller here.
type actionsJSON struct {
	BatchMatching bool `json:"batch_matching"` // over a commune: commune and province unions
	Broadcast     bool `json:"broadcast"`
}

type indicatorsJSON struct {
	Unit branchJSON `json:"unit"`
	// Context is the commune a branch belongs to, named above a branch's
	// own figures; absent for a commune or province.
	Context     *branchJSON      `json:"context,omitempty"`
	Actions     actionsJSON      `json:"actions"`
	BoardScopes []boardScopeJSON `json:"board_scopes"`
	BoardScope  string           `json:"board_scope"` // the unit's leaderboard scope
	Campaign    dashCampaignJSON `json:"campaign"`
	Teams       []teamJSON       `json:"teams"` // technology teams with targets
	Weeks       []string         `json:"weeks"` // the trend's weeks, by their Monday (Asia/Ho_Chi_Minh)
	Total       indicatorRow     `json:"total"`
	Communes    []indicatorRow   `json:"communes"`
	Branches    []indicatorRow   `json:"branches"`
	GeneratedAt time.Time        `json:"generated_at"`
}

var indicatorsQuery = []queryParam{
	{"branch_id", "Your unit (default) or a node under it."},
	{"campaign", "A campaign id; default the newest active campaign over the unit, else the all-time one."},
	{"weeks", "Weeks of trend, 1 to 26 (default 8)."},
}

func (a *API) getIndicators(c *fiber.Ctx) error {
	out, err := a.indicators(c)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// weekStart is the Monday 00:00 (Asia/Ho_Chi_Minh) of t's week.
func weekStart(t time.Time) time.Time {
	l := t.In(gamify.Vietnam)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, gamify.Vietnam)
	return day.AddDate(0, 0, -((int(l.Weekday()) + 6) % 7))
}

// boardScopeOf is the leaderboard scope a unit's people compete in.
func boardScopeOf(b people.Branch) string {
	switch b.Kind {
	case people.KindProvince:
		return gamify.ScopeProvince + ":" + b.ProvinceCode
	case people.KindBranch:
		return gamify.ScopeBranch + ":" + b.ID
	}
	return gamify.ScopeCommune + ":" + b.CommuneCode
}

func (a *API) indicators(c *fiber.Ctx) (indicatorsJSON, error) {
	ctx := c.UserContext()
	actor := actorOf(c)
	id := string([]byte(c.Query("branch_id")))
	if id == "" {
		id = actor.BranchID
	}
	if id == "" {
		return indicatorsJSON{}, &people.FieldError{Field: "branch_id", Reason: "required"}
	}
	weeks := defaultTrendWeeks
	if s := c.Query("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTrendWeeks {
			return indicatorsJSON{}, &people.FieldError{Field: "weeks", Reason: "out_of_range"}
		}
		weeks = n
	}
	unit, nodes, err := a.deps.People.Subtree(ctx, actor, id)
	if err != nil {
		return indicatorsJSON{}, err
	}
	now := a.deps.Now()
	camp, err := a.dashboardCampaign(ctx, string([]byte(c.Query("campaign"))), unit, now)
	if err != nil {
		return indicatorsJSON{}, err
	}
	communes := unit.CommunesAmong(nodes)
	thisWeek := weekStart(now)
	from := thisWeek.AddDate(0, 0, -7*(weeks-1))
	since := from
	if camp.ID != gamify.AllTime && len(camp.Targets) > 0 && camp.StartsAt.Before(since) {
		since = camp.StartsAt
	}

	var (
		households      map[string]people.CommuneCount
		results         map[string]sessions.CommuneCounts
		marks           []sessions.Mark
		byCommune, byBr map[string]*matching.UnitCounts
		workC, workB    map[string]*sessions.UnitWork
	)
	workFrom, workTo := time.Time{}, time.Time{}
	if camp.ID != gamify.AllTime {
		workFrom, workTo = camp.StartsAt, camp.EndsAt
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { households, err = a.deps.People.CountByCommune(gctx, communes...); return })
	g.Go(func() (err error) { results, err = a.deps.Sessions.CountByCommune(gctx, thisWeek, communes...); return })
	g.Go(func() (err error) { marks, err = a.deps.Sessions.Activity(gctx, communes, since); return })
	g.Go(func() (err error) { byCommune, byBr, err = a.deps.Matching.Units(gctx, communes); return })
	g.Go(func() (err error) {
		workC, workB, err = a.deps.Sessions.WorkByUnit(gctx, communes, workFrom, workTo)
		return
	})
	if err := g.Wait(); err != nil {
		return indicatorsJSON{}, err
	}

	out := indicatorsJSON{Unit: toBranchJSON(unit, a.units()), BoardScope: boardScopeOf(unit), GeneratedAt: now.UTC(),
		Communes: []indicatorRow{}, Branches: []indicatorRow{}}
	for i := range weeks {
		out.Weeks = append(out.Weeks, from.AddDate(0, 0, 7*i).Format(time.DateOnly))
	}
	names, codes := map[string]string{unit.ID: a.unitName(unit)}, map[string]string{unit.ID: unit.CommuneCode}
	for _, n := range nodes {
		names[n.ID], codes[n.ID] = a.unitName(n), n.CommuneCode
	}
	rows := map[string]*indicatorRow{}
	for _, id := range communes {
		hh, res, u := households[id], results[id], byCommune[id]
		if u == nil {
			u = &matching.UnitCounts{}
		}
		r := &indicatorRow{ID: id, Name: names[id], UnitCode: codes[id], Level: "commune", Mentors: u.Mentors, MentorsAtFive: u.MentorsAtFive,
			Learners: u.Learners, HouseholdsServed: u.Households, SessionsThisWeek: res.Sessions, Households: ptr(hh.Households), DigitalFamilies: ptr(res.Families),
			CertifiedLearners: ptr(res.Certified), RequestsWaiting: ptr(u.RequestsWaiting), LearnersWaiting: ptr(u.LearnersWaiting),
			Trend: trendJSON{Sessions: make([]int, weeks), Certified: make([]int, weeks), Families: make([]int, weeks)}}
		if !u.OldestWaiting.IsZero() {
			r.OldestWaitHours = ptr(math.Round(now.Sub(u.OldestWaiting).Hours()*10) / 10)
		}
		rows[id] = r
	}
	branches := nodes
	if unit.Kind == people.KindBranch {
		// A branch's dashboard is the branch's own figures.
		branches = []people.Branch{unit}
	}
	for _, n := range branches {
		if n.Kind != people.KindBranch {
			continue
		}
		u := byBr[n.ID]
		if u == nil {
			u = &matching.UnitCounts{}
		}
		rows[n.ID] = &indicatorRow{ID: n.ID, Name: n.Name, Level: "branch", CommuneID: n.CommuneID(), Mentors: u.Mentors,
			MentorsAtFive: u.MentorsAtFive, Learners: u.Learners, HouseholdsServed: u.Households, Trend: trendJSON{Sessions: make([]int, weeks)}}
	}
	total := indicatorRow{ID: unit.ID, Name: names[unit.ID], UnitCode: cmp.Or(unit.CommuneCode, unit.ProvinceCode), Level: "unit", Households: ptr(0), DigitalFamilies: ptr(0),
		CertifiedLearners: ptr(0), RequestsWaiting: ptr(0), LearnersWaiting: ptr(0),
		Trend: trendJSON{Sessions: make([]int, weeks), Certified: make([]int, weeks), Families: make([]int, weeks)}}
	inCampaign := map[string]int{}
	for _, m := range marks {
		if camp.ID != gamify.AllTime && !m.At.Before(camp.StartsAt) && m.At.Before(camp.EndsAt) {
			inCampaign[m.Kind]++
		}
		w := int(m.At.Sub(from).Hours() / (24 * 7))
		if m.At.Before(from) || w >= weeks {
			continue
		}
		counted := []*indicatorRow{&total}
		if r := rows[m.CommuneID]; r != nil && r.Level == "commune" {
			counted = append(counted, r)
		}
		if r := rows[m.BranchID]; r != nil && r.Level == "branch" {
			counted = append(counted, r)
		}
		for _, r := range counted {
			switch m.Kind {
			case sessions.MarkSession:
				r.Trend.Sessions[w]++
				if r.Level == "branch" && !m.At.Before(thisWeek) {
					r.SessionsThisWeek++
				}
			case sessions.MarkCertified:
				r.Trend.Certified[w]++
			case sessions.MarkFamily:
				r.Trend.Families[w]++
			}
		}
	}
	total.Outcomes = map[string]int{}
	for id, r := range rows {
		work := workB[id]
		if r.Level == "commune" {
			work = workC[id]
		}
		r.Outcomes = map[string]int{}
		for _, o := range sessions.Outcomes {
			if work != nil {
				r.Outcomes[o] = work.Outcomes[o]
			} else {
				r.Outcomes[o] = 0
			}
		}
	}
	for _, id := range communes {
		r := rows[id]
		for o, n := range r.Outcomes {
			total.Outcomes[o] += n
		}
		total.Mentors += r.Mentors
		total.MentorsAtFive += r.MentorsAtFive
		total.Learners += r.Learners
		total.HouseholdsServed += r.HouseholdsServed
		total.SessionsThisWeek += r.SessionsThisWeek
		*total.Households += *r.Households
		*total.DigitalFamilies += *r.DigitalFamilies
		*total.CertifiedLearners += *r.CertifiedLearners
		*total.RequestsWaiting += *r.RequestsWaiting
		*total.LearnersWaiting += *r.LearnersWaiting
		if r.OldestWaitHours != nil && (total.OldestWaitHours == nil || *r.OldestWaitHours > *total.OldestWaitHours) {
			total.OldestWaitHours = ptr(*r.OldestWaitHours)
		}
		out.Communes = append(out.Communes, *r.shares())
	}
	for _, n := range nodes {
		if r := rows[n.ID]; r != nil && r.Level == "branch" {
			out.Branches = append(out.Branches, *r.shares())
		}
	}
	byName := func(x, y indicatorRow) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) }
	slices.SortFunc(out.Communes, byName)
	slices.SortFunc(out.Branches, byName)
	out.Total = *total.shares()
	if unit.Kind == people.KindBranch {
		own := *rows[unit.ID].shares()
		own.Level, own.CommuneID = "unit", ""
		out.Total, out.Communes, out.Branches = own, []indicatorRow{}, []indicatorRow{}
		if commune, err := a.deps.People.Branch(ctx, unit.CommuneID()); err == nil {
			cj := toBranchJSON(commune, a.units())
			out.Context = &cj
		}
	}
	if out.Teams, err = a.teamProgress(ctx, nodes, now); err != nil {
		return indicatorsJSON{}, err
	}
	out.BoardScopes = boardScopes(unit, names[unit.ID], out.Context)
	out.Actions = actionsJSON{Broadcast: true,
		BatchMatching: unit.Kind == people.KindCommune || unit.Kind == people.KindProvince}

	out.Campaign = dashCampaignJSON{ID: camp.ID, Name: camp.Name, Scope: camp.Scope(), Targets: []targetJSON{}}
	if camp.ID != gamify.AllTime {
		out.Campaign.StartsAt, out.Campaign.EndsAt = &camp.StartsAt, &camp.EndsAt
	}
	reached := map[string]int{
		"sessions":           inCampaign[sessions.MarkSession],
		"certified_learners": inCampaign[sessions.MarkCertified],
		"digital_families":   inCampaign[sessions.MarkFamily],
		"mentors_at_five":    out.Total.MentorsAtFive,
	}
	for _, kind := range gamify.TargetKinds {
		if t := camp.Targets[kind]; t > 0 {
			out.Campaign.Targets = append(out.Campaign.Targets, targetJSON{Kind: kind, Target: t, Value: reached[kind],
				Share: share(reached[kind], t)})
		}
	}
	return out, nil
}

// teamProgress is the progress of the technology teams among nodes that
// have targets: over this calendar month, or their campaign's window.
func (a *API) teamProgress(ctx context.Context, nodes []people.Branch, now time.Time) ([]teamJSON, error) {
	teams := map[string]people.Branch{}
	var ids []string
	for _, n := range nodes {
		if n.Kind == people.KindTechTeam {
			teams[n.ID] = n
			ids = append(ids, n.ID)
		}
	}
	list, err := a.deps.People.TargetsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// The teams' windows: this month, or a campaign's; the sessions of
	// each window are read once for all the teams measured over it.
	type window struct{ from, to time.Time }
	windowOf := map[string]window{}
	communesIn := map[window][]string{}
	for _, t := range list {
		l := now.In(gamify.Vietnam)
		from := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, gamify.Vietnam)
		w := window{from, from.AddDate(0, 1, 0)}
		if t.Period == people.TargetPerCampaign {
			c, err := a.deps.Gamify.Campaign(ctx, t.CampaignID)
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
		byCommune, _, err := a.deps.Sessions.WorkByUnit(ctx, communes, w.from, w.to)
		if err != nil {
			return nil, err
		}
		work[w] = byCommune
	}
	out := []teamJSON{}
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
		j := teamJSON{ID: team.ID, Name: team.Name, CommuneID: team.CommuneID(), Period: t.Period, CampaignID: t.CampaignID,
			From: w.from.UTC(), To: w.to.UTC(), Targets: []targetJSON{}}
		for _, k := range people.TeamTargetKinds {
			if v, ok := t.Values[k.Code]; ok && v > 0 {
				j.Targets = append(j.Targets, targetJSON{Kind: k.Code, Target: v, Value: done.Value(k.Code), Share: share(done.Value(k.Code), v)})
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// boardScopes are the leaderboard scopes a unit's dashboard offers, its own
// first, each with the boards it ranks: never a scope a board cannot work
// in.
func boardScopes(unit people.Branch, name string, commune *branchJSON) []boardScopeJSON {
	own := boardScopeOf(unit)
	kind, _, _ := strings.Cut(own, ":")
	out := []boardScopeJSON{{Scope: own, Level: "unit", Name: name, Boards: gamify.BoardsIn(kind)}}
	if unit.Kind == people.KindBranch {
		c := boardScopeJSON{Scope: gamify.ScopeCommune + ":" + unit.CommuneCode, Level: "commune", Boards: gamify.BoardsIn(gamify.ScopeCommune)}
		if commune != nil {
			c.Name = commune.Name
		}
		out = append(out, c)
	}
	if unit.Kind != people.KindProvince {
		out = append(out, boardScopeJSON{Scope: gamify.ScopeProvince + ":" + unit.ProvinceCode, Level: "province",
			Boards: gamify.BoardsIn(gamify.ScopeProvince)})
	}
	return append(out, boardScopeJSON{Scope: gamify.ScopeNational, Level: "national", Boards: gamify.BoardsIn(gamify.ScopeNational)})
}

func (r *indicatorRow) shares() *indicatorRow {
	r.AtFiveShare = share(r.MentorsAtFive, r.Mentors)
	if r.Households != nil {
		r.FamilyShare = ptr(share(*r.DigitalFamilies, *r.Households))
	}
	return r
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
func (a *API) dashboardCampaign(ctx context.Context, id string, unit people.Branch, now time.Time) (gamify.Campaign, error) {
	if id != "" {
		return a.deps.Gamify.Campaign(ctx, id)
	}
	list, err := a.deps.Gamify.Campaigns(ctx)
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
		return a.deps.Gamify.Campaign(ctx, gamify.AllTime)
	}
	return best, nil
}

// getIndicatorsCSV: the same indicators as a CSV file that Excel opens with
// its Vietnamese intact: UTF-8 with a byte-order mark, CRLF line ends, and
// the separator a Vietnamese Excel expects when asked (?sep=semicolon; the
// default is a comma).
func (a *API) getIndicatorsCSV(c *fiber.Ctx) error {
	sep := ','
	switch c.Query("sep", "comma") {
	case "comma":
	case "semicolon":
		sep = ';'
	default:
		return &people.FieldError{Field: "sep", Reason: "unknown_code"}
	}
	in, err := a.indicators(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = sep, true
	head := []string{"Cấp", "Mã", "Mã đơn vị hành chính", "Tên", "Tình nguyện viên", "Đủ 1 kèm 5", "Tỷ lệ 1 kèm 5 (%)", "Người học được kèm", "Hộ được kèm",
		"Buổi tuần này", "Hộ gia đình", "Gia đình số", "Tỷ lệ Gia đình số (%)", "Người đạt chuẩn", "Yêu cầu chờ", "Người học chờ",
		"Chờ lâu nhất (giờ)"}
	for _, o := range sessions.Outcomes {
		head = append(head, people.NameOf(people.Outcomes, o, "vi"))
	}
	for _, wk := range in.Weeks {
		head = append(head, "Buổi tuần "+wk)
	}
	_ = w.Write(head)
	level := map[string]string{"unit": "Tổng", "commune": "Xã", "branch": "Chi đoàn"}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	dec := func(p *float64, scale float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p*scale, 'f', 1, 64)
	}
	rows := append(append([]indicatorRow{in.Total}, in.Communes...), in.Branches...)
	for _, r := range rows {
		rec := []string{level[r.Level], r.ID, r.UnitCode, r.Name, strconv.Itoa(r.Mentors), strconv.Itoa(r.MentorsAtFive),
			dec(&r.AtFiveShare, 100), strconv.Itoa(r.Learners), strconv.Itoa(r.HouseholdsServed), strconv.Itoa(r.SessionsThisWeek),
			num(r.Households), num(r.DigitalFamilies), dec(r.FamilyShare, 100), num(r.CertifiedLearners), num(r.RequestsWaiting),
			num(r.LearnersWaiting), dec(r.OldestWaitHours, 1)}
		for _, o := range sessions.Outcomes {
			rec = append(rec, strconv.Itoa(r.Outcomes[o]))
		}
		for _, n := range r.Trend.Sessions {
			rec = append(rec, strconv.Itoa(n))
		}
		_ = w.Write(rec)
	}
	if len(in.Teams) > 0 {
		// The technology teams' targets, after a blank line.
		_ = w.Write([]string{})
		_ = w.Write([]string{"Tổ công nghệ số", "Mã", "Kỳ", "Từ ngày", "Đến ngày", "Mục tiêu", "Chỉ tiêu", "Đạt", "Tỷ lệ (%)"})
		for _, tm := range in.Teams {
			period := "Tháng"
			if tm.Period == people.TargetPerCampaign {
				period = "Chiến dịch " + tm.CampaignID
			}
			for _, x := range tm.Targets {
				_ = w.Write([]string{tm.Name, tm.ID, period, tm.From.In(gamify.Vietnam).Format("02/01/2006"),
					tm.To.Add(-time.Second).In(gamify.Vietnam).Format("02/01/2006"), people.NameOf(people.TeamTargetKinds, x.Kind, "vi"),
					strconv.Itoa(x.Target), strconv.Itoa(x.Value), strconv.FormatFloat(x.Share*100, 'f', 1, 64)})
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	code := in.Unit.CommuneCode
	if code == "" {
		code = in.Unit.ProvinceCode
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="chi-so-%s-%s.csv"`, code,
		a.deps.Now().In(gamify.Vietnam).Format(time.DateOnly)))
	return c.Send(buf.Bytes())
}

// ---- the dashboard's own files ----

// dashboardCSP lets the page load only its own files and talk only to this
// service and, for production sign-in, Google's Identity Toolkit.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"

// dashboardFile serves an embedded file: /dashboard is index.html.
func (a *API) dashboardFile(c *fiber.Ctx) error { return serveAsset(c, a.assets, dashboardCSP) }

// appFile serves the app's files: /app is index.html. The service worker
// (sw.js) controls /app/ and nothing else.
func (a *API) appFile(c *fiber.Ctx) error { return serveAsset(c, a.appFiles, dashboardCSP) }

// serveAsset serves an embedded file by the :file parameter ("" is
// index.html), revalidated by ETag on every load: the app's service worker
// keeps its own copy for when the network is gone.
func serveAsset(c *fiber.Ctx, assets map[string]dashboard.Asset, csp string) error {
	name := c.Params("file")
	if name == "" {
		name = "index.html"
	}
	as, ok := assets[name]
	if !ok {
		return newError(fiber.StatusNotFound, "not_found", nil)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, as.ETag)
	if c.Get(fiber.HeaderIfNoneMatch) == as.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, as.Type)
	return c.Send(as.Body)
}

type dashboardConfigJSON struct {
	// DevMode: sign in with a dev token (and ask for one by user id).
	DevMode bool `json:"dev_mode"`
	// FirebaseAPIKey is the web API key of the Firebase project, public by
	// design: the page signs in with e-mail and password through Google's
	// Identity Toolkit and sends the ID token it gets.
	FirebaseAPIKey string `json:"firebase_api_key,omitempty"`
}

func (a *API) dashboardConfig(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(dashboardConfigJSON{DevMode: a.deps.DevTokens != nil, FirebaseAPIKey: a.deps.FirebaseWebAPIKey})
}

// unitName is how a union node is named to people (unionName).
func (a *API) unitName(b people.Branch) string { return unionName(b, a.units()) }
