package api

import (
	"math"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/matching"
	"daisuso/people"
)

type runRequest struct {
	CommuneID string   `json:"commune_id,omitempty"`
	BranchID  string   `json:"branch_id,omitempty"`
	Cells     []string `json:"cells,omitempty"`
}

type pairJSON struct {
	RequestID  string  `json:"request_id"`
	MentorID   string  `json:"mentor_id"`
	Learners   int     `json:"learners"`
	DistanceKm float64 `json:"distance_km"`
}

type runSummaryJSON struct {
	Requests          int            `json:"requests"`
	Learners          int            `json:"learners"`
	ServedRequests    int            `json:"served_requests"`
	ServedLearners    int            `json:"served_learners"`
	UnservedLearners  map[string]int `json:"unserved_learners"`
	Mentors           int            `json:"mentors"`
	MentorsUnderQuota int            `json:"mentors_under_quota"`
	MissingSlots      int            `json:"missing_slots"`
	UnderQuotaWhy     map[string]int `json:"under_quota_why"`
	TotalDistanceKm   float64        `json:"total_distance_km"`
	MeanDistanceKm    float64        `json:"mean_distance_km"`
	TookMS            int64          `json:"took_ms"`
}

type runJSON struct {
	ID         string         `json:"id"`
	CommuneIDs []string       `json:"commune_ids,omitempty"`
	Cells      []string       `json:"cells,omitempty"`
	CreatedBy  string         `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	Status     string         `json:"status"` // computing, proposed, failed, applied or discarded
	Summary    runSummaryJSON `json:"summary"`
	Pairs      []pairJSON     `json:"pairs"`
	PairsShown int            `json:"pairs_shown"`
	Applied    int            `json:"applied"`
	Skipped    int            `json:"skipped"`
}

// maxPairsShown bounds the pairs a run's JSON lists; the summary counts all.
const maxPairsShown = 1000

func toRunJSON(r matching.Run) runJSON {
	s := r.Summary
	j := runJSON{ID: r.ID, CommuneIDs: r.Area.CommuneIDs, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, Status: r.Status,
		Applied: r.Applied, Skipped: r.Skipped, Pairs: []pairJSON{},
		Summary: runSummaryJSON{Requests: s.Requests, Learners: s.Learners, ServedRequests: s.ServedRequests,
			ServedLearners: s.ServedLearners, UnservedLearners: s.UnservedLearners, Mentors: s.Mentors,
			MentorsUnderQuota: s.MentorsUnderQuota, MissingSlots: s.MissingSlots, UnderQuotaWhy: s.UnderQuotaWhy,
			TotalDistanceKm: round1(s.TotalDistanceKm), MeanDistanceKm: round1(s.MeanDistanceKm), TookMS: s.Took.Milliseconds()}}
	if r.Decision != "" {
		j.Status = r.Decision
	}
	for _, c := range r.Area.Cells {
		j.Cells = append(j.Cells, c.String())
	}
	for i, p := range r.Pairs {
		if i == maxPairsShown {
			break
		}
		j.Pairs = append(j.Pairs, pairJSON{RequestID: p.RequestID, MentorID: p.MentorID, Learners: p.Learners, DistanceKm: round1(p.DistanceKm)})
	}
	j.PairsShown = len(j.Pairs)
	return j
}

// round1 rounds to one decimal: distances to 100 m, hours to 6 minutes.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// createRun proposes a batch matching over a commune, a branch's area (its
// commune, or a province's communes) or, for admins, a list of cells.
func (a *API) createRun(c *fiber.Ctx) error {
	var req runRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	actor := actorOf(c)
	area := matching.Area{}
	given := 0
	for _, s := range []string{req.CommuneID, req.BranchID} {
		if s != "" {
			given++
		}
	}
	if len(req.Cells) > 0 {
		given++
	}
	if given != 1 {
		return &errs.FieldError{Field: "commune_id", Reason: "one_of_commune_id_branch_id_cells"}
	}
	switch {
	case len(req.Cells) > 0:
		if actor.Role != people.RoleAdmin {
			return &errs.RuleError{Code: "cells_for_admins_only", Field: "cells"}
		}
		if len(req.Cells) > 500 {
			return &errs.FieldError{Field: "cells", Reason: "too_many"}
		}
		for _, s := range req.Cells {
			cell, err := geo.ParseCell(s, -1)
			if err != nil || cell.Resolution() > geo.HomeResolution || cell.Resolution() < 5 {
				return &errs.FieldError{Field: "cells", Reason: "invalid_cell"}
			}
			area.Cells = append(area.Cells, cell)
		}
	default:
		node := req.CommuneID + req.BranchID
		communes, err := a.deps.People.CommunesAdministered(ctx, actor, node)
		if err != nil {
			return err
		}
		if req.CommuneID != "" && (len(communes) != 1 || communes[0] != req.CommuneID) {
			return &errs.RuleError{Code: "unknown_commune", Field: "commune_id"}
		}
		area.ScopeID, area.CommuneIDs = node, communes
	}
	// Wait for the result a little less than the request's deadline; a
	// larger area answers 202 and is polled with GET.
	wait := time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = max(0, time.Until(d)-time.Second)
	}
	run, err := a.deps.Matching.Propose(ctx, area, actor.UserID, wait)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if run.Status == matching.RunComputing {
		status = fiber.StatusAccepted
	}
	return c.Status(status).JSON(toRunJSON(run))
}

// runFor loads a run the actor may act on: admins any, branch admins those
// asked for inside their subtree; others get 404.
func (a *API) runFor(c *fiber.Ctx) (matching.Run, error) {
	ctx := c.UserContext()
	run, err := a.deps.Matching.Run(ctx, copyParam(c, "id"))
	if err != nil {
		return run, err
	}
	actor := actorOf(c)
	if actor.Role == people.RoleAdmin {
		return run, nil
	}
	if run.Area.ScopeID == "" {
		return matching.Run{}, errs.ErrNotFound
	}
	ok, err := a.deps.People.Administers(ctx, actor, run.Area.ScopeID)
	if err != nil {
		return matching.Run{}, err
	}
	if !ok {
		return matching.Run{}, errs.ErrNotFound
	}
	return run, nil
}

func (a *API) getRun(c *fiber.Ctx) error {
	run, err := a.runFor(c)
	if err != nil {
		return err
	}
	return c.JSON(toRunJSON(run))
}

func (a *API) applyRun(c *fiber.Ctx) error {
	run, err := a.runFor(c)
	if err != nil {
		return err
	}
	if run, err = a.deps.Matching.Apply(c.UserContext(), run.ID, actorOf(c).UserID); err != nil {
		return err
	}
	return c.JSON(toRunJSON(run))
}

func (a *API) discardRun(c *fiber.Ctx) error {
	run, err := a.runFor(c)
	if err != nil {
		return err
	}
	if run, err = a.deps.Matching.Discard(c.UserContext(), run.ID, actorOf(c).UserID); err != nil {
		return err
	}
	return c.JSON(toRunJSON(run))
}
