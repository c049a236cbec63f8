package sessions

import (
	"context"
	"time"
)

// Name names the sessions' part of an export.
func (s *Service) Name() string { return "sessions" }

// ExportPerson returns the sessions a volunteer mentored or a household
// took part in, and a household's progress.
func (s *Service) ExportPerson(ctx context.Context, kind, id, _ string) (any, error) {
	if kind != "volunteer" && kind != "household" {
		return nil, nil
	}
	list, err := s.st.sessionsOf(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"sessions": list}
	if kind == "household" {
		progress, _, err := s.HouseholdProgress(ctx, id)
		if err != nil {
			return nil, err
		}
		out["progress"] = progress
	}
	return out, nil
}

// ErasePerson deletes the sessions of a volunteer or a household (their
// snapshots and events) and a household's progress, certifications and
// Gia đình số record. Points already awarded stay in the ledger, which
// gamify anonymizes for the same person.
func (s *Service) ErasePerson(ctx context.Context, kind, id, _ string) error {
	if kind != "volunteer" && kind != "household" {
		return nil
	}
	list, err := s.st.sessionsOf(ctx, kind, id)
	if err != nil {
		return err
	}
	ids := make([]string, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	if err := s.st.deleteSessions(ctx, ids); err != nil {
		return err
	}
	if kind == "household" {
		return s.st.eraseHousehold(ctx, id)
	}
	// A volunteer's name is nowhere here; the learners' records keep their
	// progress without naming who taught them.
	return s.st.forgetMentor(ctx, id)
}

// ActiveSince reports whether a household has had a session scheduled
// (and not cancelled) since t: inactivity reminders are skipped then.
func (s *Service) ActiveSince(ctx context.Context, householdID string, t time.Time) (bool, error) {
	return s.st.scheduledSince(ctx, householdID, t)
}
