package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/gamify"
	"daisuso/people"
)

type multiplierJSON struct {
	Date   string  `json:"date"`
	Factor float64 `json:"factor"`
}

type campaignRequest struct {
	Name        string           `json:"name"`
	Scope       string           `json:"scope"` // national, province:CODE or commune:CODE
	StartsAt    time.Time        `json:"starts_at"`
	EndsAt      time.Time        `json:"ends_at"`
	Multipliers []multiplierJSON `json:"multipliers,omitempty"`
	Targets     map[string]int   `json:"targets,omitempty"`
}

type campaignJSON struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Scope       string           `json:"scope"`
	StartsAt    *time.Time       `json:"starts_at,omitempty"` // none for the all-time campaign
	EndsAt      *time.Time       `json:"ends_at,omitempty"`
	Multipliers []multiplierJSON `json:"multipliers"`
	Targets     map[string]int   `json:"targets"`
	Active      bool             `json:"active"`
}

type campaignList struct {
	Items []campaignJSON `json:"items"`
}

func toCampaignJSON(c gamify.Campaign, now time.Time) campaignJSON {
	out := campaignJSON{ID: c.ID, Name: c.Name, Scope: c.Scope(), Multipliers: []multiplierJSON{}, Targets: c.Targets,
		Active: c.ID == gamify.AllTime || (!now.Before(c.StartsAt) && now.Before(c.EndsAt))}
	if c.ID != gamify.AllTime {
		out.StartsAt, out.EndsAt = &c.StartsAt, &c.EndsAt
	}
	for _, m := range c.Multipliers {
		out.Multipliers = append(out.Multipliers, multiplierJSON(m))
	}
	if out.Targets == nil {
		out.Targets = map[string]int{}
	}
	return out
}

func (a *API) listCampaigns(c *fiber.Ctx) error {
	list, err := a.deps.Gamify.Campaigns(c.UserContext())
	if err != nil {
		return err
	}
	now := a.deps.Now()
	out := campaignList{Items: make([]campaignJSON, len(list))}
	for i, x := range list {
		out.Items[i] = toCampaignJSON(x, now)
	}
	return c.JSON(out)
}

func (a *API) createCampaign(c *fiber.Ctx) error {
	var req campaignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	actor := actorOf(c)
	var by *people.Branch
	if actor.Role != people.RoleAdmin {
		b, err := a.deps.People.Branch(ctx, actor.BranchID)
		if errors.Is(err, people.ErrNotFound) {
			return &people.RuleError{Code: "scope_outside_your_unit", Field: "scope"}
		}
		if err != nil {
			return err
		}
		by = &b
	}
	in := gamify.NewCampaign{Name: req.Name, Scope: req.Scope, StartsAt: req.StartsAt, EndsAt: req.EndsAt, Targets: req.Targets}
	for _, m := range req.Multipliers {
		in.Multipliers = append(in.Multipliers, gamify.Multiplier(m))
	}
	camp, err := a.deps.Gamify.CreateCampaign(ctx, in, actor.UserID, by)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toCampaignJSON(camp, a.deps.Now()))
}

// ---- leaderboards ----

type rowJSON struct {
	Rank   int    `json:"rank"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Points int    `json:"points"`
	Mine   bool   `json:"mine,omitempty"`
}

type boardJSON struct {
	Campaign string    `json:"campaign"`
	Board    string    `json:"board"`
	Scope    string    `json:"scope"`
	Period   string    `json:"period"` // the period's id: campaign, w2026-48, m2026-11
	Items    []rowJSON `json:"items"`
}

type standingJSON struct {
	boardJSON
	Member  string `json:"member"`
	OnBoard bool   `json:"on_board"`
	Rank    int    `json:"rank,omitempty"`
	Points  int    `json:"points"`
}

var boardQuery = []queryParam{
	{"board", "volunteers (default), branches or communes."},
	{"scope", "national (default), province:CODE, commune:CODE or branch:ID."},
	{"period", "week (default), month or campaign; weeks and months are Asia/Ho_Chi_Minh."},
}

func boardQueryOf(c *fiber.Ctx) gamify.Query {
	q := gamify.Query{Campaign: copyParam(c, "campaign"), Board: c.Query("board", gamify.BoardVolunteers),
		Scope: c.Query("scope", gamify.ScopeNational), Period: c.Query("period", gamify.PeriodWeek)}
	return q
}

func toRows(rows []gamify.Row, mine string) []rowJSON {
	out := make([]rowJSON, len(rows))
	for i, r := range rows {
		out[i] = rowJSON{Rank: r.Rank, ID: r.ID, Name: r.Name, Points: r.Points, Mine: r.ID == mine}
	}
	return out
}

func (a *API) leaderboard(c *fiber.Ctx) error {
	limit := gamify.MaxTop / 10
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > gamify.MaxTop {
			return newError(fiber.StatusBadRequest, "invalid_input", map[string]any{"field": "limit", "reason": "out_of_range"})
		}
		limit = n
	}
	ref, rows, err := a.deps.Gamify.Top(c.UserContext(), boardQueryOf(c), limit)
	if err != nil {
		return err
	}
	return c.JSON(boardJSON{Campaign: ref.Campaign, Board: ref.Board, Scope: ref.Scope, Period: ref.Period, Items: toRows(rows, "")})
}

// leaderboardMe: the caller's own place: as a volunteer on the volunteers
// board, or their unit's on the branches and communes boards.
func (a *API) leaderboardMe(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := boardQueryOf(c)
	actor := actorOf(c)
	member := actor.UserID
	if q.Board != gamify.BoardVolunteers {
		v, err := a.deps.People.VolunteerRecord(ctx, actor.UserID)
		if err != nil {
			return err
		}
		member = v.BranchID
		if q.Board == gamify.BoardCommunes {
			member = v.CommuneID
		}
	}
	ref, st, err := a.deps.Gamify.Me(ctx, q, member, 2)
	if err != nil {
		return err
	}
	return c.JSON(standingJSON{boardJSON: boardJSON{Campaign: ref.Campaign, Board: ref.Board, Scope: ref.Scope, Period: ref.Period,
		Items: toRows(st.Neighbors, member)}, Member: member, OnBoard: st.OnBoard, Rank: st.Rank, Points: st.Points})
}

type rebuildJSON struct {
	Generation string `json:"generation"`
	Entries    int    `json:"entries"`
	Late       int    `json:"late"`
	Keys       int    `json:"keys"`
	TookMS     int64  `json:"took_ms"`
}

type rebuildRequest struct {
	// Confirm must be true: a rebuild reads the whole ledger.
	Confirm bool `json:"confirm"`
}

func (a *API) rebuildBoards(c *fiber.Ctx) error {
	var req rebuildRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !req.Confirm {
		return &people.FieldError{Field: "confirm", Reason: "required"}
	}
	st, err := a.deps.Gamify.Rebuild(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rebuildJSON{Generation: st.Generation, Entries: st.Entries, Late: st.Late, Keys: st.Keys, TookMS: st.Took.Milliseconds()})
}

// ---- badges ----

type badgeJSON struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	EarnedAt time.Time `json:"earned_at"`
	Why      string    `json:"why"`
}

type levelJSON struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	ToNext int    `json:"points_to_next"`
}

type badgeList struct {
	VolunteerID string      `json:"volunteer_id"`
	Points      int         `json:"points"`
	Level       levelJSON   `json:"level"`
	Items       []badgeJSON `json:"items"`
}

func (a *API) volunteerBadges(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := copyParam(c, "id")
	if _, err := a.deps.People.VolunteerRecord(ctx, id); err != nil {
		return err
	}
	badges, err := a.deps.Gamify.Badges(ctx, id)
	if err != nil {
		return err
	}
	p, err := a.deps.Gamify.ProgressOf(ctx, id)
	if err != nil {
		return err
	}
	en := language(c) == "en"
	name := func(vi, english string) string {
		if en {
			return english
		}
		return vi
	}
	out := badgeList{VolunteerID: id, Points: p.Points, Items: []badgeJSON{},
		Level: levelJSON{Number: p.Level.Number, Name: name(p.Level.VI, p.Level.EN), ToNext: p.ToNext}}
	for _, b := range badges {
		out.Items = append(out.Items, badgeJSON{Code: b.Code, Name: name(b.VI, b.EN), EarnedAt: b.EarnedAt, Why: b.Why})
	}
	return c.JSON(out)
}
