package api

import (
	"time"

	"context"

	"github.com/gofiber/fiber/v2"

	"daisuso/errs"
	"daisuso/people"
)

func actorOf(c *fiber.Ctx) people.Actor {
	p := callerOf(c)
	return people.Actor{UserID: p.ID, Role: p.Role, BranchID: p.BranchID}
}

// copyParam copies a path parameter: Fiber reuses its bytes after the
// request, and ids outlive it in errors and logs.
func copyParam(c *fiber.Ctx, name string) string { return string([]byte(c.Params(name))) }

func (a *API) createBranch(c *fiber.Ctx) error {
	var req branchRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Targets != nil {
		// Checked before anything is written.
		if people.BranchKind(req.Kind) != people.KindTechTeam {
			return &errs.RuleError{Code: "not_a_tech_team", Field: "targets"}
		}
		if err := a.checkTeamTargets(c.UserContext(), req.Targets.targets("")); err != nil {
			return err
		}
	}
	b, err := a.deps.People.CreateBranch(c.UserContext(), actorOf(c), people.NewBranch{Kind: people.BranchKind(req.Kind),
		Name: req.Name, ParentID: req.ParentID, ProvinceCode: req.ProvinceCode, CommuneCode: req.CommuneCode})
	if err != nil {
		return err
	}
	if req.Targets != nil {
		if _, err := a.deps.People.SetTeamTargets(c.UserContext(), actorOf(c), req.Targets.targets(b.ID)); err != nil {
			return err
		}
	}
	return c.Status(fiber.StatusCreated).JSON(toBranchJSON(b, a.units()))
}

// checkTeamTargets checks targets and that their campaign exists.
func (a *API) checkTeamTargets(ctx context.Context, t people.TeamTargets) error {
	if err := people.CheckTeamTargets(t); err != nil {
		return err
	}
	if t.CampaignID != "" {
		if _, err := a.deps.Gamify.Campaign(ctx, t.CampaignID); err != nil {
			return &errs.RuleError{Code: "unknown_campaign", Field: "campaign_id"}
		}
	}
	return nil
}

// putTeamTargets gives a commune's technology team its targets.
func (a *API) putTeamTargets(c *fiber.Ctx) error {
	var req teamTargetsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t := req.targets(copyParam(c, "id"))
	if err := a.checkTeamTargets(c.UserContext(), t); err != nil {
		return err
	}
	t, err := a.deps.People.SetTeamTargets(c.UserContext(), actorOf(c), t)
	if err != nil {
		return err
	}
	return c.JSON(teamTargetsJSON{TeamID: t.TeamID, Period: t.Period, CampaignID: t.CampaignID, Values: t.Values, SetAt: t.SetAt})
}

type populationRequest struct {
	Residents  int `json:"residents" minimum:"1" maximum:"2000000" doc:"People living in the commune, by its official statistics."`
	Households int `json:"households" minimum:"1" doc:"Households living in the commune (at most residents)."`
	Year       int `json:"year" minimum:"2019" doc:"The year the figures are of (not after this year)."`
}

type populationJSON struct {
	CommuneID   string    `json:"commune_id"`
	CommuneCode string    `json:"commune_code"`
	CommuneName string    `json:"commune_name"`
	Residents   int       `json:"residents"`
	Households  int       `json:"households"`
	Year        int       `json:"year"`
	SetAt       time.Time `json:"set_at"`
}

// putPopulation records a commune's official population, which the
// per-resident rates of the rankings divide by.
func (a *API) putPopulation(c *fiber.Ctx) error {
	var req populationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id := copyParam(c, "id")
	p, err := a.deps.People.SetPopulation(c.UserContext(), actorOf(c), id,
		people.Population{Residents: req.Residents, Households: req.Households, Year: req.Year})
	if err != nil {
		return err
	}
	_, name := a.units().FullNames("", p.CommuneCode)
	return c.JSON(populationJSON{CommuneID: id, CommuneCode: p.CommuneCode, CommuneName: name, Residents: p.Residents,
		Households: p.Households, Year: p.Year, SetAt: p.SetAt})
}

func (a *API) getBranch(c *fiber.Ctx) error {
	b, err := a.deps.People.Branch(c.UserContext(), copyParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(toBranchJSON(b, a.units()))
}

func (a *API) branchChildren(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	after := string(p.Cursor)
	if after != "" && !people.ValidID(after) {
		return newError(fiber.StatusBadRequest, "invalid_cursor", nil)
	}
	items, err := a.deps.People.Children(c.UserContext(), copyParam(c, "id"), after, p.Limit)
	if err != nil {
		return err
	}
	out := branchList{Items: make([]branchJSON, len(items))}
	for i, b := range items {
		out.Items[i] = toBranchJSON(b, a.units())
	}
	if len(items) == p.Limit {
		out.NextCursor = encodeCursor([]byte(items[len(items)-1].ID))
	}
	return c.JSON(out)
}

func (a *API) createVolunteer(c *fiber.Ctx) error {
	defer a.forgetUsers(c)
	var req volunteerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	actor := actorOf(c)
	v, err := a.deps.People.RegisterVolunteer(c.UserContext(), actor, in)
	if err != nil {
		return err
	}
	c.Locals(localSubject, v.ID)
	return c.Status(fiber.StatusCreated).JSON(toVolunteerJSON(v, a.deps.People.SeesVolunteerPhone(actor, v), a.units()))
}

func (a *API) getVolunteer(c *fiber.Ctx) error {
	actor := actorOf(c)
	v, err := a.deps.People.Volunteer(c.UserContext(), actor, copyParam(c, "id"))
	if err != nil {
		return err
	}
	streak, err := a.deps.Sessions.Streak(c.UserContext(), v)
	if err != nil {
		return err
	}
	j := toVolunteerJSON(v, a.deps.People.SeesVolunteerPhone(actor, v), a.units())
	j.StreakWeeks = &streak
	return c.JSON(j)
}

func (a *API) patchVolunteer(c *fiber.Ctx) error {
	defer a.forgetUsers(c)
	var req volunteerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	actor := actorOf(c)
	v, err := a.deps.People.UpdateVolunteer(c.UserContext(), actor, copyParam(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(toVolunteerJSON(v, a.deps.People.SeesVolunteerPhone(actor, v), a.units()))
}

func (a *API) deleteVolunteer(c *fiber.Ctx) error {
	defer a.forgetUsers(c)
	if err := a.deps.People.DeleteVolunteer(c.UserContext(), actorOf(c), copyParam(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *API) exportVolunteer(c *fiber.Ctx) error {
	e, err := a.deps.People.ExportVolunteer(c.UserContext(), actorOf(c), copyParam(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="daisuso-export.json"`)
	return c.JSON(toExportJSON(e, a.units()))
}

func (a *API) createHousehold(c *fiber.Ctx) error {
	defer a.forgetUsers(c)
	var req householdRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	actor := actorOf(c)
	if key := c.Get("Idempotency-Key"); key != "" && actor.Role != "" && actor.Role != people.RoleHousehold {
		// A retry after a failed try finds what that try wrote.
		in.ID = "hh_" + hashHex(actor.UserID, "household", key)[:16]
	}
	h, err := a.deps.People.RegisterHousehold(c.UserContext(), actor, in)
	if err != nil {
		return err
	}
	c.Locals(localSubject, h.ID)
	return a.sendHousehold(c.Status(fiber.StatusCreated), actor, h)
}

func (a *API) getHousehold(c *fiber.Ctx) error {
	actor := actorOf(c)
	h, err := a.deps.People.Household(c.UserContext(), actor, copyParam(c, "id"))
	if err != nil {
		return err
	}
	return a.sendHousehold(c, actor, h)
}

func (a *API) patchHousehold(c *fiber.Ctx) error {
	var req householdRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	actor := actorOf(c)
	h, err := a.deps.People.UpdateHousehold(c.UserContext(), actor, copyParam(c, "id"), in)
	if err != nil {
		return err
	}
	return a.sendHousehold(c, actor, h)
}

func (a *API) deleteHousehold(c *fiber.Ctx) error {
	defer a.forgetUsers(c)
	if err := a.deps.People.DeleteHousehold(c.UserContext(), actorOf(c), copyParam(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *API) exportHousehold(c *fiber.Ctx) error {
	e, err := a.deps.People.ExportHousehold(c.UserContext(), actorOf(c), copyParam(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="daisuso-export.json"`)
	return c.JSON(toExportJSON(e, a.units()))
}

func (a *API) sendHousehold(c *fiber.Ctx, actor people.Actor, h people.Household) error {
	full, err := a.deps.People.SeesHouseholdPhone(c.UserContext(), actor, h)
	if err != nil {
		return err
	}
	return c.JSON(toHouseholdJSON(h, full, a.units()))
}

// forgetUsers drops the caller and the user of the :id in the path from the
// user cache: the handler may have changed their role or branch.
func (a *API) forgetUsers(c *fiber.Ctx) {
	a.users.forget(callerOf(c).ID)
	if id := c.Params("id"); id != "" {
		a.users.forget(id)
	}
}
