package people

import (
	"context"
	"fmt"
	"time"

	"daisuso/errs"
	"daisuso/geo"
)

// DataHolder is a part of the service that keeps data about a person
// outside the registry (matches, ledger entries, leaderboard entries,
// device tokens...). The registry asks each one to export and to erase it.
// cmd/ wires the holders in; the registry does not import them.
type DataHolder interface {
	// Name names the section of the export, e.g. "matches".
	Name() string
	ExportPerson(ctx context.Context, kind, id, userID string) (any, error)
	ErasePerson(ctx context.Context, kind, id, userID string) error
}

// AddDataHolder registers a holder. Call it before serving.
func (s *Service) AddDataHolder(h DataHolder) { s.holders = append(s.holders, h) }

// OnVolunteerSaved registers f to be told of every registered or changed
// volunteer (the mentor index of matching). Call it before serving.
func (s *Service) OnVolunteerSaved(f func(context.Context, Volunteer) error) {
	s.observers = append(s.observers, f)
}

// OnErased registers f to run once a person's erasure has deleted
// everything (the embedded store checkpoints its log, so that nothing
// deleted stays in its files). Call it before serving.
func (s *Service) OnErased(f func(context.Context) error) { s.afterErase = append(s.afterErase, f) }

func (s *Service) erased(ctx context.Context) error {
	for _, f := range s.afterErase {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// SetMentorLookup tells the registry who mentors a household, so that the
// matched mentor may see its phone number.
func (s *Service) SetMentorLookup(f func(ctx context.Context, householdID string) ([]string, error)) {
	s.mentorsOf = f
}

func (s *Service) volunteerSaved(ctx context.Context, v Volunteer) error {
	for _, f := range s.observers {
		if err := f(ctx, v); err != nil {
			return fmt.Errorf("volunteer %s saved, but not indexed: %w", v.ID, err)
		}
	}
	return nil
}

// EachVolunteer calls f for every volunteer, to rebuild what others derive
// from the registry.
func (s *Service) EachVolunteer(ctx context.Context, f func(Volunteer) error) error {
	return s.volunteers.each(ctx, f)
}

// isMentorOf reports whether the actor is a mentor matched with h.
func (s *Service) isMentorOf(ctx context.Context, a Actor, h Household) (bool, error) {
	if s.mentorsOf == nil || a.Role != RoleVolunteer {
		return false, nil
	}
	ids, err := s.mentorsOf(ctx, h.ID)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if id == a.UserID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) erase(ctx context.Context, kind, id, userID string) error {
	for _, h := range s.holders {
		if err := h.ErasePerson(ctx, kind, id, userID); err != nil {
			return fmt.Errorf("erase %s %s from %s: %w", kind, id, h.Name(), err)
		}
	}
	return nil
}

// Export is everything the service keeps about one person, for them to
// take away (Law 91/2025/QH15, the data subject's right of access).
type Export struct {
	Kind       string
	ExportedAt time.Time
	Volunteer  *Volunteer
	Household  *Household
	User       *User
	Other      map[string]any
}

// exportFor gathers the user record and every data holder's part; the
// callers have checked who may export.
func (s *Service) exportFor(ctx context.Context, kind, id, userID string) (Export, error) {
	e := Export{Kind: kind, ExportedAt: s.now().UTC(), Other: map[string]any{}}
	if userID != "" {
		u, err := s.users.get(ctx, userID)
		if err == nil {
			e.User = &u
		}
	}
	for _, h := range s.holders {
		data, err := h.ExportPerson(ctx, kind, id, userID)
		if err != nil {
			return Export{}, fmt.Errorf("export %s %s from %s: %w", kind, id, h.Name(), err)
		}
		if data != nil {
			e.Other[h.Name()] = data
		}
	}
	return e, nil
}

// ExportVolunteer returns a volunteer's data to the volunteer or an admin.
func (s *Service) ExportVolunteer(ctx context.Context, a Actor, id string) (Export, error) {
	v, err := s.Volunteer(ctx, a, id)
	if err != nil {
		return Export{}, err
	}
	if v.UserID != a.UserID && a.Role != RoleAdmin {
		return Export{}, errs.ErrForbidden
	}
	e, err := s.exportFor(ctx, "volunteer", v.ID, v.UserID)
	e.Volunteer = &v
	return e, err
}

// ExportHousehold returns a household's data to the household, its
// commune's staff or an admin.
func (s *Service) ExportHousehold(ctx context.Context, a Actor, id string) (Export, error) {
	h, err := s.Household(ctx, a, id)
	if err != nil {
		return Export{}, err
	}
	if ok, err := s.mayChangeHousehold(ctx, a, h); err != nil || !ok {
		if err != nil {
			return Export{}, err
		}
		return Export{}, errs.ErrForbidden
	}
	e, err := s.exportFor(ctx, "household", h.ID, h.UserID)
	e.Household = &h
	return e, err
}

// VolunteerRecord returns a volunteer with no access check, for other
// parts of the service (sessions, points) that act on facts, not on
// behalf of a caller.
func (s *Service) VolunteerRecord(ctx context.Context, id string) (Volunteer, error) {
	if !ValidID(id) {
		return Volunteer{}, errs.ErrNotFound
	}
	return s.volunteers.get(ctx, id)
}

// HouseholdRecord returns a household with no access check; see
// VolunteerRecord.
func (s *Service) HouseholdRecord(ctx context.Context, id string) (Household, error) {
	if !ValidID(id) {
		return Household{}, errs.ErrNotFound
	}
	return s.households.get(ctx, id)
}

// CellOf turns a location into its H3 cell, with the registry's errors:
// a errs.RuleError outside Vietnam, a errs.FieldError for impossible coordinates.
func (s *Service) CellOf(p geo.Point) (geo.Cell, error) {
	c, _, err := s.place(p)
	return c, err
}
