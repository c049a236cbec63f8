package api

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
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
	Items      []campaignJSON `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
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
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := a.deps.Gamify.Campaigns(c.UserContext())
	if err != nil {
		return err
	}
	items, next := pageOf(list, p, func(x gamify.Campaign) string { return x.ID })
	now := a.deps.Now()
	out := campaignList{Items: []campaignJSON{}, NextCursor: next}
	for _, x := range items {
		out.Items = append(out.Items, toCampaignJSON(x, now))
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
		if errors.Is(err, errs.ErrNotFound) {
			return &errs.RuleError{Code: "scope_outside_your_unit", Field: "scope"}
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
	State      string     `json:"state" enum:"never,running,done,failed"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Generation string     `json:"generation,omitempty"`
	Entries    int        `json:"entries"`
	Late       int        `json:"late"`
	Keys       int        `json:"keys"`
	// Error: "timeout", "store_unavailable" or "failed"; Message says it
	// in words.
	Error   string `json:"error,omitempty"`
	Message string `json:"message"`
}

type rebuildRequest struct {
	// Confirm must be true: a rebuild reads the whole ledger.
	Confirm bool `json:"confirm"`
}

// rebuildBoards starts a rebuild and answers 202 at once: it reads the
// whole ledger, longer than any request may take.
func (a *API) rebuildBoards(c *fiber.Ctx) error {
	var req rebuildRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !req.Confirm {
		return &errs.FieldError{Field: "confirm", Reason: "required"}
	}
	st, err := a.deps.Gamify.StartRebuild(c.UserContext())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(rebuildStatusJSON(language(c), st))
}

func (a *API) rebuildStatus(c *fiber.Ctx) error {
	st, err := a.deps.Gamify.LastRebuild(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rebuildStatusJSON(language(c), st))
}

func rebuildStatusJSON(lang string, st gamify.RebuildStatus) rebuildJSON {
	out := rebuildJSON{State: st.State, Generation: st.Generation, Entries: st.Entries, Late: st.Late, Keys: st.Keys, Error: st.Error}
	if !st.StartedAt.IsZero() {
		out.StartedAt = &st.StartedAt
	}
	if !st.FinishedAt.IsZero() {
		out.FinishedAt = &st.FinishedAt
	}
	code := "rebuild_" + st.State
	if st.Error != "" {
		code += "_" + st.Error
	}
	m := rebuildMessages[code]
	out.Message = m.vi
	if lang == "en" {
		out.Message = m.en
	}
	if st.State == gamify.RebuildDone {
		out.Message = fmt.Sprintf(out.Message, formatInt(lang, st.Entries), formatTime(lang, st.FinishedAt))
	}
	return out
}

var rebuildMessages = map[string]text{
	"rebuild_never":                    {"Chưa có lần dựng lại bảng xếp hạng nào.", "The leaderboards have not been rebuilt yet."},
	"rebuild_running":                  {"Đang dựng lại bảng xếp hạng từ sổ điểm…", "Rebuilding the leaderboards from the ledger…"},
	"rebuild_done":                     {"Đã dựng lại bảng xếp hạng từ %s mục của sổ điểm, xong lúc %s.", "Rebuilt the leaderboards from %s ledger entries, finished at %s."},
	"rebuild_failed_timeout":           {"Dựng lại bảng xếp hạng quá thời gian cho phép; dữ liệu vẫn an toàn, hãy thử lại.", "The rebuild ran out of time; nothing is lost, try again."},
	"rebuild_failed_store_unavailable": {"Không đọc được sổ điểm hoặc Redis khi dựng lại; hãy thử lại sau.", "The ledger or Redis did not answer during the rebuild; try again later."},
	"rebuild_failed_failed":            {"Dựng lại bảng xếp hạng không thành công; xem nhật ký máy chủ.", "The rebuild failed; see the server's log."},
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
		out.Items = append(out.Items, badgeJSON{Code: b.Code, Name: name(b.VI, b.EN), EarnedAt: b.EarnedAt, Why: name(b.WhyVI, b.WhyEN)})
	}
	return c.JSON(out)
}
