package programme

import (
	"context"
	"slices"

	"daisuso/errs"
	"daisuso/matching"
	"daisuso/people"
)

// HelpRequest is a household's ask for a mentor, by itself or by someone
// acting for it (a volunteer, the commune desk).
type HelpRequest struct {
	// ID, when set, is the request's id (the API derives it from the
	// Idempotency-Key, so that a retry finds what a failed try wrote).
	ID          string
	HouseholdID string
	Members     []int    // nil: every member with needs
	Topics      []string // nil: their needs
	RadiusKm    *float64 // nil: people.DefaultRadiusKm
}

// maxAskedMembers bounds the members one request names (a household has
// at most people.maxMembers).
const maxAskedMembers = 20

// AskHelp submits a help request for a household the actor may act for:
// the household must have given the matching consent, and the learners
// are its members with needs (people.Household.Learners). It returns the
// outcome (the mentor found, or why it waits; Existing when those learners
// already have an open request) and the household.
func (s *Services) AskHelp(ctx context.Context, a people.Actor, in HelpRequest) (matching.Outcome, people.Household, error) {
	if !people.ValidID(in.HouseholdID) {
		return matching.Outcome{}, people.Household{}, &errs.FieldError{Field: "household_id", Reason: "required"}
	}
	if len(in.Members) > maxAskedMembers || len(in.Topics) > len(people.Topics) {
		return matching.Outcome{}, people.Household{}, &errs.FieldError{Field: "members", Reason: "too_many"}
	}
	radius := people.DefaultRadiusKm
	if in.RadiusKm != nil {
		if *in.RadiusKm < people.MinRadiusKm || *in.RadiusKm > matching.MaxRadiusKm {
			return matching.Outcome{}, people.Household{}, &errs.FieldError{Field: "radius_km", Reason: "out_of_range"}
		}
		radius = *in.RadiusKm
	}
	h, err := s.People.Household(ctx, a, in.HouseholdID)
	if err != nil {
		return matching.Outcome{}, people.Household{}, err
	}
	if !slices.ContainsFunc(h.Consents, func(c people.Consent) bool { return c.Purpose == "matching" }) {
		return matching.Outcome{}, h, &errs.RuleError{Code: "matching_consent_required", Field: "household_id"}
	}
	set, err := h.Learners(in.Members, in.Topics)
	if err != nil {
		return matching.Outcome{}, h, err
	}
	out, err := s.Matching.Submit(ctx, matching.Request{ID: in.ID, HouseholdID: h.ID, CommuneID: h.CommuneID,
		RequestedBy: a.UserID, Cell: h.Cell, Members: set.Members, Language: set.Language, LanguageRequired: set.Required,
		Topics: set.Topics, RadiusKm: radius})
	return out, h, err
}
