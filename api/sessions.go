package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/geo"
	"daisuso/people"
	"daisuso/sessions"
)

type learnerRef struct {
	HouseholdID string `json:"household_id"`
	Member      int    `json:"member"`
}

type resultJSON struct {
	HouseholdID string `json:"household_id"`
	Member      int    `json:"member"`
	// Topics: the session's topics this learner took part in (a subset of
	// topics_covered); omitted: all of them.
	Topics   []string `json:"topics,omitempty" enum:"@topics"`
	Outcomes []string `json:"outcomes" enum:"@outcomes"`
}

type sessionRequest struct {
	ID       string       `json:"id"`
	Learners []learnerRef `json:"learners"`
	StartsAt time.Time    `json:"starts_at" doc:"From 30 days back to 120 days ahead."`
	Minutes  int          `json:"minutes" minimum:"15" maximum:"240"`
	Location *geo.Point   `json:"location,omitempty"`
	Topics   []string     `json:"topics,omitempty" enum:"@topics"`
}

type checkInRequest struct {
	At            *time.Time   `json:"at,omitempty" doc:"When it was held, as the phone recorded it (default now); more than 7 days back or ahead of the server, the session goes to review."`
	Location      *geo.Point   `json:"location,omitempty"`
	TopicsCovered []string     `json:"topics_covered" enum:"@topics"`
	Results       []resultJSON `json:"results,omitempty"`
}

type confirmRequest struct {
	// Code is the 6-digit code the mentor gave the learner; commune staff
	// confirming for someone without a phone need it, a household in the
	// app does not.
	Code string `json:"code,omitempty"`
}

type reviewRequest struct {
	Decision string `json:"decision" enum:"approve,reject"`
}

type checkInJSON struct {
	At            time.Time    `json:"at"`
	Cell          string       `json:"cell"`
	TopicsCovered []string     `json:"topics_covered"`
	Results       []resultJSON `json:"results"`
}

type sessionJSON struct {
	ID          string       `json:"id"`
	MentorID    string       `json:"mentor_id"`
	State       string       `json:"state"`
	Learners    []learnerRef `json:"learners"`
	StartsAt    time.Time    `json:"starts_at"`
	Minutes     int          `json:"minutes"`
	Cell        string       `json:"cell"`
	Topics      []string     `json:"topics"`
	CheckIn     *checkInJSON `json:"check_in,omitempty"`
	ReviewFlags []string     `json:"review_flags"`
	// ConfirmationCode is shown to the mentor only, while the session waits
	// for confirmation.
	ConfirmationCode string     `json:"confirmation_code,omitempty"`
	ConfirmedBy      string     `json:"confirmed_by,omitempty"` // household_app or staff_code
	ConfirmedAt      *time.Time `json:"confirmed_at,omitempty"`
	Review           string     `json:"review,omitempty"`
	Version          int        `json:"version"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func (a *API) toSessionJSON(actor people.Actor, s sessions.Session) sessionJSON {
	out := sessionJSON{ID: s.ID, MentorID: s.MentorID, State: s.State, StartsAt: s.StartsAt, Minutes: s.Minutes,
		Cell: s.Cell.String(), Topics: nonNil(s.Topics), ReviewFlags: s.Flags, Version: s.Version, UpdatedAt: s.UpdatedAt,
		Learners: make([]learnerRef, len(s.Learners))}
	for i, l := range s.Learners {
		out.Learners[i] = learnerRef{HouseholdID: l.HouseholdID, Member: l.Member}
	}
	if out.ReviewFlags == nil {
		out.ReviewFlags = []string{}
	}
	if s.CheckIn != nil {
		ci := &checkInJSON{At: s.CheckIn.At, Cell: s.CheckIn.Cell.String(), TopicsCovered: s.CheckIn.TopicsCovered}
		for _, r := range s.CheckIn.Results {
			ci.Results = append(ci.Results, resultJSON(r))
		}
		out.CheckIn = ci
		if s.State == sessions.StateHeld && actor.UserID == s.MentorID {
			out.ConfirmationCode = a.deps.Sessions.Code(s)
		}
	}
	if s.Confirmation != nil {
		out.ConfirmedBy, out.ConfirmedAt = s.Confirmation.Method, &s.Confirmation.At
	}
	if s.Review != nil {
		out.Review = s.Review.Decision
	}
	return out
}

func learnersOf(in []learnerRef) []sessions.Learner {
	out := make([]sessions.Learner, len(in))
	for i, l := range in {
		out[i] = sessions.Learner{HouseholdID: l.HouseholdID, Member: l.Member}
	}
	return out
}

func resultsOf(in []resultJSON) []sessions.Result {
	if in == nil {
		return nil
	}
	out := make([]sessions.Result, len(in))
	for i, r := range in {
		out[i] = sessions.Result(r)
	}
	return out
}

func (a *API) createSession(c *fiber.Ctx) error {
	var req sessionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	actor := actorOf(c)
	s, created, err := a.deps.Sessions.Schedule(c.UserContext(), actor, sessions.NewSession{ID: req.ID, Learners: learnersOf(req.Learners),
		StartsAt: req.StartsAt, Minutes: req.Minutes, Location: req.Location, Topics: req.Topics})
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if !created {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(a.toSessionJSON(actor, s))
}

type sessionList struct {
	Items []sessionJSON `json:"items"`
}

func (a *API) mySessions(c *fiber.Ctx) error {
	limit := 20
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > sessions.MaxMine {
			return newError(fiber.StatusBadRequest, "invalid_limit", map[string]any{"max": sessions.MaxMine})
		}
		limit = n
	}
	actor := actorOf(c)
	list, err := a.deps.Sessions.Mine(c.UserContext(), actor, limit)
	if err != nil {
		return err
	}
	out := sessionList{Items: make([]sessionJSON, len(list))}
	for i, s := range list {
		out.Items[i] = a.toSessionJSON(actor, s)
	}
	return c.JSON(out)
}

func (a *API) getSession(c *fiber.Ctx) error {
	actor := actorOf(c)
	s, err := a.deps.Sessions.Get(c.UserContext(), actor, copyParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(a.toSessionJSON(actor, s))
}

func (a *API) checkInSession(c *fiber.Ctx) error {
	var req checkInRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := sessions.CheckInInput{Location: req.Location, TopicsCovered: req.TopicsCovered, Results: resultsOf(req.Results)}
	if req.At != nil {
		in.At = *req.At
	}
	actor := actorOf(c)
	s, _, err := a.deps.Sessions.CheckIn(c.UserContext(), actor, copyParam(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a.toSessionJSON(actor, s))
}

func (a *API) confirmSession(c *fiber.Ctx) error {
	var req confirmRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	actor := actorOf(c)
	s, err := a.deps.Sessions.Confirm(c.UserContext(), actor, copyParam(c, "id"), req.Code)
	if err != nil {
		return err
	}
	return c.JSON(a.toSessionJSON(actor, s))
}

func (a *API) cancelSession(c *fiber.Ctx) error {
	actor := actorOf(c)
	s, _, err := a.deps.Sessions.Cancel(c.UserContext(), actor, copyParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(a.toSessionJSON(actor, s))
}

func (a *API) reviewSession(c *fiber.Ctx) error {
	var req reviewRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	actor := actorOf(c)
	s, err := a.deps.Sessions.ReviewSession(c.UserContext(), actor, copyParam(c, "id"), req.Decision)
	if err != nil {
		return err
	}
	return c.JSON(a.toSessionJSON(actor, s))
}

// ---- offline sync ----

type syncItemJSON struct {
	ItemID        string       `json:"item_id"`
	Op            string       `json:"op" enum:"schedule,check_in,cancel"`
	SessionID     string       `json:"session_id"`
	Learners      []learnerRef `json:"learners,omitempty"`
	StartsAt      *time.Time   `json:"starts_at,omitempty"`
	Minutes       int          `json:"minutes,omitempty"`
	Topics        []string     `json:"topics,omitempty"`
	Location      *geo.Point   `json:"location,omitempty"`
	At            *time.Time   `json:"at,omitempty"`
	TopicsCovered []string     `json:"topics_covered,omitempty"`
	Results       []resultJSON `json:"results,omitempty"`
}

type syncRequest struct {
	Items []syncItemJSON `json:"items"`
}

type syncResultJSON struct {
	ItemID  string        `json:"item_id"`
	Status  string        `json:"status"` // applied, already_applied, rejected or retry
	Session *sessionJSON  `json:"session,omitempty"`
	Error   *errorPayload `json:"error,omitempty"`
}

type syncResponse struct {
	Results []syncResultJSON `json:"results"`
}

func (a *API) syncSessions(c *fiber.Ctx) error {
	var req syncRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	items := make([]sessions.Item, len(req.Items))
	for i, it := range req.Items {
		items[i] = sessions.Item{ItemID: it.ItemID, Op: it.Op, SessionID: it.SessionID, Learners: learnersOf(it.Learners),
			Minutes: it.Minutes, Topics: it.Topics, Location: it.Location, TopicsCovered: it.TopicsCovered, Results: resultsOf(it.Results)}
		if it.StartsAt != nil {
			items[i].StartsAt = *it.StartsAt
		}
		if it.At != nil {
			items[i].At = *it.At
		}
	}
	actor := actorOf(c)
	results, err := a.deps.Sessions.Sync(c.UserContext(), actor, items)
	if err != nil {
		return err
	}
	out := syncResponse{Results: make([]syncResultJSON, len(results))}
	lang := language(c)
	for i, r := range results {
		res := syncResultJSON{ItemID: r.ItemID, Status: r.Status}
		if r.Session != nil {
			j := a.toSessionJSON(actor, *r.Session)
			res.Session = &j
		}
		if r.Err != nil {
			e := toAPIError(r.Err)
			if e.Status >= 500 {
				a.log.Error("sync item failed", "request_id", requestID(c), "err", r.Err)
				e = &apiError{Code: "store_unavailable"}
			}
			details := e.Details
			if details == nil {
				details = map[string]any{}
			}
			res.Error = &errorPayload{Code: e.Code, Message: message(lang, e.Code, details), Details: details}
		}
		out.Results[i] = res
	}
	return c.JSON(out)
}
