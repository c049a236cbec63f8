package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/matching"
	"daisuso/people"
	"daisuso/programme"
)

type helpRequestBody struct {
	HouseholdID string `json:"household_id"`
	// Members are the indexes of the household's members who want to
	// learn; default: every member with needs.
	Members  []int    `json:"members,omitempty" minimum:"0" doc:"Indexes in the household's members (default: every member with needs)."`
	Topics   []string `json:"topics,omitempty" enum:"@topics"`
	RadiusKm *float64 `json:"radius_km,omitempty" minimum:"0.5" maximum:"15" doc:"Where to start looking, km (default 2; widened to 15)."`
}

type mentorCardJSON struct {
	ID          string `json:"id"`
	FirstName   string `json:"first_name"`
	PhoneMasked string `json:"phone_masked"`
}

type explanationJSON struct {
	DistanceKm           float64  `json:"distance_km"`
	Rings                int      `json:"rings"`
	SearchRadiusKm       float64  `json:"search_radius_km"`
	SharedLanguage       string   `json:"shared_language,omitempty"`
	LanguageRequired     bool     `json:"language_required"`
	TopicsCovered        []string `json:"topics_covered"`
	TopicsMissing        []string `json:"topics_missing"`
	MentorNeededLearners int      `json:"mentor_needed_learners"`
	Summary              string   `json:"summary"`
}

type assignmentJSON struct {
	Mentor      mentorCardJSON  `json:"mentor"`
	DistanceKm  float64         `json:"distance_km"`
	Explanation explanationJSON `json:"explanation"`
	Source      string          `json:"source"`
	CreatedAt   time.Time       `json:"created_at"`
}

type unservedJSON struct {
	Reason         string    `json:"reason"`
	NextStep       string    `json:"next_step"`
	TriedRadiiKm   []float64 `json:"tried_radii_km"`
	MentorsInReach int       `json:"mentors_in_reach"`
	Message        string    `json:"message"`
}

type helpRequestJSON struct {
	ID               string          `json:"id"`
	HouseholdID      string          `json:"household_id"`
	State            string          `json:"state"`
	Members          []int           `json:"members"`
	Learners         int             `json:"learners"`
	Language         string          `json:"language"`
	LanguageRequired bool            `json:"language_required"`
	Topics           []string        `json:"topics"`
	RadiusKm         float64         `json:"radius_km"`
	CreatedAt        time.Time       `json:"created_at"`
	Assignment       *assignmentJSON `json:"assignment,omitempty"`
	Unserved         *unservedJSON   `json:"unserved,omitempty"`
}

func (a *API) createHelpRequest(c *fiber.Ctx) error {
	var req helpRequestBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	actor := actorOf(c)
	// The household and the mentor's profile are asked for again by the
	// answer and the new-match reminder: read once.
	ctx := people.RememberReads(c.UserContext())
	// Under an Idempotency-Key the request's id comes from the key, so a
	// retry after a failed try (whose key was freed) finds the request the
	// first try wrote instead of writing a second one.
	var id string
	if key := c.Get("Idempotency-Key"); key != "" {
		id = "rq_" + hashHex(actor.UserID, "help-request", key)[:24]
	}
	out, h, err := a.deps.Programme.AskHelp(ctx, actor, programme.HelpRequest{ID: id, HouseholdID: req.HouseholdID,
		Members: req.Members, Topics: req.Topics, RadiusKm: req.RadiusKm})
	if err != nil {
		return err
	}
	c.Locals(localSubject, h.ID)
	body, err := a.helpRequestJSON(ctx, c, out)
	if err != nil {
		return err
	}
	if out.Existing {
		// Asked again for learners whose request is open: that request.
		return c.JSON(body)
	}
	return c.Status(fiber.StatusCreated).JSON(body)
}

func (a *API) getHelpRequest(c *fiber.Ctx) error {
	ctx := c.UserContext()
	out, err := a.deps.Matching.Outcome(ctx, copyParam(c, "id"))
	if err != nil {
		return err
	}
	// Whoever may see the household may see its requests (which includes
	// its mentor); everyone else gets 404.
	if _, err := a.deps.People.Household(ctx, actorOf(c), out.Request.HouseholdID); err != nil {
		return err
	}
	body, err := a.helpRequestJSON(c.UserContext(), c, out)
	if err != nil {
		return err
	}
	return c.JSON(body)
}

type helpRequestList struct {
	Items []helpRequestJSON `json:"items"`
}

// householdRequests: a household's help requests, newest first, each with
// the mentor found or why it waits (whoever may see the household).
func (a *API) householdRequests(c *fiber.Ctx) error {
	ctx := c.UserContext()
	h, err := a.deps.People.Household(ctx, actorOf(c), copyParam(c, "id"))
	if err != nil {
		return err
	}
	outs, err := a.deps.Matching.OfHousehold(ctx, h.ID)
	if err != nil {
		return err
	}
	list := helpRequestList{Items: make([]helpRequestJSON, 0, len(outs))}
	for _, o := range outs {
		j, err := a.helpRequestJSON(ctx, c, o)
		if err != nil {
			return err
		}
		list.Items = append(list.Items, j)
	}
	return c.JSON(list)
}

func (a *API) helpRequestJSON(ctx context.Context, c *fiber.Ctx, o matching.Outcome) (helpRequestJSON, error) {
	r := o.Request
	j := helpRequestJSON{ID: r.ID, HouseholdID: r.HouseholdID, State: o.State, Members: nonNil(r.Members), Learners: r.Learners, Language: r.Language,
		LanguageRequired: r.LanguageRequired, Topics: nonNil(r.Topics), RadiusKm: r.RadiusKm, CreatedAt: r.CreatedAt}
	lang := language(c)
	if o.Assignment != nil {
		as := o.Assignment
		first, masked, err := a.deps.People.MentorCard(ctx, as.MentorID)
		if err != nil {
			return j, err
		}
		e := as.Explanation
		j.Assignment = &assignmentJSON{Mentor: mentorCardJSON{ID: as.MentorID, FirstName: first, PhoneMasked: masked},
			DistanceKm: round1(as.DistanceKm), Source: as.Source, CreatedAt: as.CreatedAt,
			Explanation: explanationJSON{DistanceKm: e.DistanceKm, Rings: e.Rings, SearchRadiusKm: e.SearchRadiusKm,
				SharedLanguage: e.SharedLanguage, LanguageRequired: e.LanguageRequired, TopicsCovered: nonNil(e.TopicsCovered),
				TopicsMissing: nonNil(e.TopicsMissing), MentorNeededLearners: e.MentorNeededLearners,
				Summary: explainText(lang, first, e, as.Learners)}}
	}
	if u := o.Unserved; u != nil {
		j.Unserved = &unservedJSON{Reason: u.Reason, NextStep: u.NextStep, TriedRadiiKm: u.TriedRadiiKm,
			MentorsInReach: u.MentorsInReach, Message: message(lang, u.Reason, nil) + " " + message(lang, u.NextStep, nil)}
	}
	return j, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type queueItemJSON struct {
	ID               string    `json:"id"`
	HouseholdID      string    `json:"household_id"`
	Learners         int       `json:"learners"`
	Language         string    `json:"language"`
	LanguageRequired bool      `json:"language_required"`
	Topics           []string  `json:"topics"`
	Reason           string    `json:"reason"`
	MentorsInReach   int       `json:"mentors_in_reach"`
	WaitingSince     time.Time `json:"waiting_since"`
	WaitedHours      float64   `json:"waited_hours"`
}

type queueList struct {
	Items      []queueItemJSON `json:"items"`
	Total      int             `json:"total"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// queue lists the waiting requests of an area, oldest first: the commune
// technology team's queue (?commune_id= or ?branch_id=).
func (a *API) queue(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	communes, err := a.queryArea(c)
	if err != nil {
		return err
	}
	all, err := a.deps.Matching.Queue(c.UserContext(), communes)
	if err != nil {
		return err
	}
	items, next := pageOf(all, p, func(o matching.Outcome) string { return o.Request.ID })
	now := a.deps.Now()
	out := queueList{Items: []queueItemJSON{}, Total: len(all), NextCursor: next}
	for _, o := range items {
		r := o.Request
		out.Items = append(out.Items, queueItemJSON{ID: r.ID, HouseholdID: r.HouseholdID, Learners: r.Learners,
			Language: r.Language, LanguageRequired: r.LanguageRequired, Topics: nonNil(r.Topics), Reason: o.Unserved.Reason,
			MentorsInReach: o.Unserved.MentorsInReach, WaitingSince: r.CreatedAt,
			WaitedHours: round1(now.Sub(r.CreatedAt).Hours())})
	}
	return c.JSON(out)
}

type menteeJSON struct {
	RequestID   string    `json:"request_id"`
	HouseholdID string    `json:"household_id"`
	Learners    int       `json:"learners"`
	DistanceKm  float64   `json:"distance_km"`
	Names       []string  `json:"names"`
	Since       time.Time `json:"since"`
}

type menteeList struct {
	Items    []menteeJSON `json:"items"`
	Learners int          `json:"learners"`
	Quota    int          `json:"quota"`
}

func (a *API) mentees(c *fiber.Ctx) error {
	ctx := c.UserContext()
	actor := actorOf(c)
	v, err := a.deps.People.Volunteer(ctx, actor, copyParam(c, "id"))
	if err != nil {
		return err
	}
	as, err := a.deps.Matching.Mentees(ctx, v.ID)
	if err != nil {
		return err
	}
	out := menteeList{Items: []menteeJSON{}, Quota: matching.Quota}
	for _, as := range as {
		m := menteeJSON{RequestID: as.RequestID, HouseholdID: as.HouseholdID, Learners: as.Learners,
			DistanceKm: round1(as.DistanceKm), Since: as.CreatedAt, Names: []string{}}
		if h, err := a.deps.People.Household(ctx, actor, as.HouseholdID); err == nil {
			for _, mem := range h.Members {
				m.Names = append(m.Names, mem.Name)
			}
		}
		out.Learners += as.Learners
		out.Items = append(out.Items, m)
	}
	return c.JSON(out)
}
