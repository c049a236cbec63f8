package people

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store"
)

// Limits of a volunteer's profile.
const (
	DefaultRadiusKm = 2.0
	MaxRadiusKm     = 15.0
	MinRadiusKm     = 0.5
	DefaultCapacity = 10
	MinCapacity     = 5 // "1 kèm 5": a mentor takes at least five
	MaxCapacity     = 20
	maxSlots        = 21
)

// Slot is a weekly time a volunteer is free: Day 1 is Monday, 7 Sunday;
// From and To are "HH:MM" in Asia/Ho_Chi_Minh.
type Slot struct {
	Day      int
	From, To string
}

// Consent is one purpose a person agreed to, when, and who recorded it.
type Consent struct {
	Purpose    string
	GivenAt    time.Time
	RecordedBy string
}

// Volunteer is a mentor (Đại sứ số). Cell is the home cell at
// geo.HomeResolution; the exact location is never kept.
type Volunteer struct {
	ID           string
	UserID       string // the signed-in user who is this volunteer; "" if registered by an admin
	Name         string
	Phone        string // +84...
	BranchID     string
	Scope        []string // the branch and its ancestors
	CommuneID    string
	ProvinceCode string
	CommuneCode  string
	Cell         geo.Cell
	// LocatedCode is the official code of the commune the location given
	// lies in, by the outlines; it may differ from CommuneCode (a volunteer
	// of one commune's union living in the next), see OutsideCommune.
	LocatedCode  string
	RadiusKm     float64
	Languages    []string
	Topics       []string
	Capacity     int
	Availability []Slot
	Paused       bool
	PausedAt     time.Time // zero when not paused
	// Pauses is the pause history, oldest first (at most MaxPauses); the
	// last one is open (To zero) while paused. Streaks read it.
	Pauses    []Pause
	Consents  []Consent
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
}

// OutsideCommune reports whether the volunteer's home lies in another
// commune than their branch's: kept and shown, as for households.
func (v Volunteer) OutsideCommune() bool {
	return v.LocatedCode != "" && v.LocatedCode != v.CommuneCode
}

// Pause is a time a volunteer was paused; To is zero while it lasts.
type Pause struct {
	From, To time.Time
}

// MaxPauses bounds the pause history kept: two years of a pause a week.
const MaxPauses = 104

// VolunteerInput is a registration, or with nil/empty fields left as they
// are, an update.
type VolunteerInput struct {
	Name         *string
	Phone        *string
	BranchID     *string
	Location     *geo.Point // turned into a cell at once, never stored
	RadiusKm     *float64
	Languages    *[]string
	Topics       *[]string
	Capacity     *int
	Availability *[]Slot
	Paused       *bool
	Consents     *[]string
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// apply checks each given field and writes it into v.
func (s *Service) applyVolunteer(ctx context.Context, a Actor, v *Volunteer, in VolunteerInput) error {
	if in.Name != nil {
		name, err := CleanName("name", *in.Name)
		if err != nil {
			return err
		}
		v.Name = name
	}
	if in.Phone != nil {
		p := NormalizePhone(*in.Phone)
		if p == "" {
			return &errs.FieldError{Field: "phone", Reason: "invalid_phone"}
		}
		v.Phone = p
	}
	if in.BranchID != nil {
		if err := s.applyBranch(ctx, v, *in.BranchID); err != nil {
			return err
		}
	}
	if in.Location != nil {
		c, located, err := s.place(*in.Location)
		if err != nil {
			return err
		}
		v.Cell, v.LocatedCode = c, located
	}
	if err := applyPreferences(v, in); err != nil {
		return err
	}
	if in.Paused != nil && *in.Paused != v.Paused {
		s.setPaused(v, *in.Paused)
	}
	if in.Consents != nil {
		c, err := s.consents(a, *in.Consents)
		if err != nil {
			return err
		}
		v.Consents = c
	}
	return nil
}

// applyBranch moves the volunteer to branch id, which must be a branch,
// a team or a commune's union: not a province's.
func (s *Service) applyBranch(ctx context.Context, v *Volunteer, id string) error {
	b, err := s.Branch(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return &errs.RuleError{Code: "unknown_branch", Field: "branch_id"}
	}
	if err != nil {
		return err
	}
	if b.Kind == KindProvince {
		return &errs.RuleError{Code: "branch_below_province", Field: "branch_id"}
	}
	v.BranchID, v.Scope, v.CommuneID, v.ProvinceCode, v.CommuneCode = b.ID, b.Scope(), b.CommuneID(), b.ProvinceCode, b.CommuneCode
	return nil
}

// applyPreferences sets what matching takes from the volunteer: reach,
// languages, topics, capacity and free time.
func applyPreferences(v *Volunteer, in VolunteerInput) error {
	if in.RadiusKm != nil {
		r := *in.RadiusKm
		if r < MinRadiusKm || r > MaxRadiusKm {
			return &errs.FieldError{Field: "radius_km", Reason: "out_of_range"}
		}
		v.RadiusKm = r
	}
	if in.Languages != nil {
		l, err := checkLanguages("languages", *in.Languages)
		if err != nil {
			return err
		}
		if len(l) == 0 {
			return &errs.FieldError{Field: "languages", Reason: "required"}
		}
		v.Languages = l
	}
	if in.Topics != nil {
		t, err := checkCodes("topics", *in.Topics, Topics, len(Topics))
		if err != nil {
			return err
		}
		if len(t) == 0 {
			return &errs.FieldError{Field: "topics", Reason: "required"}
		}
		v.Topics = t
	}
	if in.Capacity != nil {
		if *in.Capacity < MinCapacity || *in.Capacity > MaxCapacity {
			return &errs.FieldError{Field: "capacity", Reason: "out_of_range"}
		}
		v.Capacity = *in.Capacity
	}
	if in.Availability != nil {
		slots := *in.Availability
		if len(slots) > maxSlots {
			return &errs.FieldError{Field: "availability", Reason: "too_many"}
		}
		for _, sl := range slots {
			if sl.Day < 1 || sl.Day > 7 || !hhmm.MatchString(sl.From) || !hhmm.MatchString(sl.To) || sl.From >= sl.To {
				return &errs.FieldError{Field: "availability", Reason: "invalid_slot"}
			}
		}
		v.Availability = slices.Clone(slots)
	}
	return nil
}

// setPaused pauses or resumes the volunteer, keeping the last MaxPauses
// pauses with their times.
func (s *Service) setPaused(v *Volunteer, paused bool) {
	now := s.now().UTC().Truncate(time.Millisecond)
	v.Paused = paused
	v.PausedAt = time.Time{}
	v.Pauses = slices.Clone(v.Pauses)
	if v.Paused {
		v.PausedAt = now
		v.Pauses = append(v.Pauses, Pause{From: now})
		if len(v.Pauses) > MaxPauses {
			v.Pauses = v.Pauses[len(v.Pauses)-MaxPauses:]
		}
	} else if n := len(v.Pauses); n > 0 && v.Pauses[n-1].To.IsZero() {
		v.Pauses[n-1].To = now
	}
}

// place turns a point into its home cell and the official code of the
// commune it lies in, with the rule errors of the registry: a point outside
// Vietnam is a broken rule (422), not bad syntax.
func (s *Service) place(p geo.Point) (geo.Cell, string, error) {
	c, pl, err := s.Units().Place(p)
	switch {
	case errors.Is(err, geo.ErrOutsideVietnam):
		return 0, "", &errs.RuleError{Code: "outside_vietnam", Field: "location"}
	case err != nil:
		return 0, "", &errs.FieldError{Field: "location", Reason: "invalid_coordinates"}
	}
	return c, pl.CommuneCode, nil
}

func (s *Service) consents(a Actor, purposes []string) ([]Consent, error) {
	ps, err := checkCodes("consents", purposes, Purposes, len(Purposes))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	out := make([]Consent, len(ps))
	for i, p := range ps {
		out[i] = Consent{Purpose: p, GivenAt: now, RecordedBy: a.UserID}
	}
	return out, nil
}

// HasConsent reports whether the consents include the purpose.
func HasConsent(cs []Consent, purpose string) bool {
	return slices.ContainsFunc(cs, func(c Consent) bool { return c.Purpose == purpose })
}

// WithoutConsent returns which of the users are a volunteer or a household
// that has not given consent to the purpose; users who are neither (staff,
// admins) are not in it.
func (s *Service) WithoutConsent(ctx context.Context, users []string, purpose string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(users) > 0 {
		chunk := users[:min(len(users), 1000)]
		users = users[len(chunk):]
		for _, coll := range []*mongo.Collection{s.volunteers.coll, s.households.coll} {
			given, err := consentsOf(ctx, coll, chunk)
			if err != nil {
				return nil, err
			}
			for user, consents := range given {
				if !HasConsent(consents, purpose) {
					out[user] = true
				}
			}
		}
	}
	return out, nil
}

// RegisterVolunteer creates a mentor profile. A signed-in person who is not
// registered yet (or is a volunteer without a profile) registers themself
// and becomes a volunteer of the branch; a branch admin or admin registers
// someone else inside their subtree.
func (s *Service) RegisterVolunteer(ctx context.Context, a Actor, in VolunteerInput) (Volunteer, error) {
	for field, missing := range map[string]bool{"name": in.Name == nil, "phone": in.Phone == nil,
		"branch_id": in.BranchID == nil, "location": in.Location == nil, "topics": in.Topics == nil, "consents": in.Consents == nil} {
		if missing {
			return Volunteer{}, &errs.FieldError{Field: field, Reason: "required"}
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	v := Volunteer{RadiusKm: DefaultRadiusKm, Capacity: DefaultCapacity, Languages: []string{"vi"},
		CreatedAt: now, UpdatedAt: now, CreatedBy: a.UserID}
	if err := s.applyVolunteer(ctx, a, &v, in); err != nil {
		return Volunteer{}, err
	}
	if !HasConsent(v.Consents, "matching") {
		return Volunteer{}, &errs.RuleError{Code: "matching_consent_required", Field: "consents"}
	}
	self := a.Role == "" || a.Role == RoleVolunteer
	switch {
	case self:
		v.ID, v.UserID = a.UserID, a.UserID
	case a.Role == RoleAdmin || a.Role == RoleBranchAdmin:
		ok, err := s.administers(ctx, a, v.Scope)
		if err != nil {
			return Volunteer{}, err
		}
		if !ok {
			return Volunteer{}, &errs.RuleError{Code: "branch_outside_your_scope", Field: "branch_id"}
		}
		v.ID = store.NewID("vo_")
	default:
		return Volunteer{}, errs.ErrForbidden
	}
	// A phone number is a way to reach someone, not who they are (the
	// signed-in account is): it is not unique, so that no answer here
	// tells whether a number is someone else's.
	if err := s.volunteers.insert(ctx, v); err != nil {
		if !errors.Is(err, errs.ErrConflict) {
			return Volunteer{}, fmt.Errorf("register volunteer: %w", err)
		}
		return Volunteer{}, &errs.ConflictError{Reason: "already_registered", Field: "user_id"}
	}
	if self && a.Role == "" {
		if _, _, err := s.EnsureUser(ctx, User{ID: a.UserID, Role: RoleVolunteer, BranchID: v.BranchID}); err != nil {
			return Volunteer{}, err
		}
	}
	return v, s.volunteerSaved(ctx, v)
}

// canSeeVolunteer: the volunteer, admins, and the branch admins and commune
// staff above the volunteer's branch.
func (s *Service) canSeeVolunteer(ctx context.Context, a Actor, v Volunteer) (bool, error) {
	if v.UserID != "" && v.UserID == a.UserID {
		return true, nil
	}
	return s.administers(ctx, a, v.Scope)
}

// SeesVolunteerPhone: the volunteer, commune staff and admins see the full
// number; everyone else a masked one.
func (s *Service) SeesVolunteerPhone(a Actor, v Volunteer) bool {
	return (v.UserID != "" && v.UserID == a.UserID) || a.Role == RoleAdmin || a.Role == RoleCommuneStaff
}

// MentorCard is what a household is shown of its mentor: the first name and
// a masked phone.
func (s *Service) MentorCard(ctx context.Context, id string) (firstName, maskedPhone string, err error) {
	if !ValidID(id) {
		return "", "", errs.ErrNotFound
	}
	v, err := s.volunteers.get(ctx, id)
	if err != nil {
		return "", "", err
	}
	return FirstName(v.Name), MaskPhone(v.Phone), nil
}

// Volunteer returns a profile the actor may see, else errs.ErrNotFound.
func (s *Service) Volunteer(ctx context.Context, a Actor, id string) (Volunteer, error) {
	if !ValidID(id) {
		return Volunteer{}, errs.ErrNotFound
	}
	v, err := s.volunteers.get(ctx, id)
	if err != nil {
		return Volunteer{}, err
	}
	ok, err := s.canSeeVolunteer(ctx, a, v)
	if err != nil {
		return Volunteer{}, err
	}
	if !ok {
		return Volunteer{}, errs.ErrNotFound
	}
	return v, nil
}

// UpdateVolunteer changes the given fields. Commune staff may look but not
// change.
func (s *Service) UpdateVolunteer(ctx context.Context, a Actor, id string, in VolunteerInput) (Volunteer, error) {
	v, err := s.Volunteer(ctx, a, id)
	if err != nil {
		return Volunteer{}, err
	}
	if a.Role == RoleCommuneStaff && v.UserID != a.UserID {
		return Volunteer{}, errs.ErrForbidden
	}
	oldPhone, oldBranch := v.Phone, v.BranchID
	if err := s.applyVolunteer(ctx, a, &v, in); err != nil {
		return Volunteer{}, err
	}
	if in.BranchID != nil && v.BranchID != oldBranch && a.Role == RoleVolunteer {
		// Moving to another branch (chuyển sinh hoạt) is done by an admin
		// of the new one: a volunteer who could move themselves could carry
		// their work to whichever branch leads a campaign.
		return Volunteer{}, &errs.RuleError{Code: "branch_change_by_admin", Field: "branch_id"}
	}
	if in.BranchID != nil && v.UserID != a.UserID {
		if ok, err := s.administers(ctx, a, v.Scope); err != nil || !ok {
			if err != nil {
				return Volunteer{}, err
			}
			return Volunteer{}, &errs.RuleError{Code: "branch_outside_your_scope", Field: "branch_id"}
		}
	}
	if in.Consents != nil && !HasConsent(v.Consents, "matching") {
		return Volunteer{}, &errs.RuleError{Code: "matching_consent_required", Field: "consents"}
	}
	v.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.volunteers.replace(ctx, v); err != nil {
		return Volunteer{}, err
	}
	if v.Phone != oldPhone {
		// A claim on the old number a record from before kept.
		_ = s.claims.release(ctx, "phone:v:"+oldPhone, v.ID)
	}
	if in.BranchID != nil && v.UserID != "" {
		// The user's branch decides what they may do: keep it in step.
		if err := s.users.setBranch(ctx, v.UserID, v.BranchID); err != nil {
			return Volunteer{}, err
		}
	}
	return v, s.volunteerSaved(ctx, v)
}

// DeleteVolunteer erases a volunteer: the profile, the phone claim, the user
// record if it is theirs, and through the erasers everything other parts of
// the service hold about them (matches are freed there).
func (s *Service) DeleteVolunteer(ctx context.Context, a Actor, id string) error {
	v, err := s.Volunteer(ctx, a, id)
	if err != nil {
		return err
	}
	if a.Role == RoleCommuneStaff && v.UserID != a.UserID {
		return errs.ErrForbidden
	}
	if err := s.erase(ctx, "volunteer", v.ID, v.UserID); err != nil {
		return err
	}
	if err := s.volunteers.delete(ctx, v.ID); err != nil {
		return err
	}
	if err := s.claims.release(ctx, "phone:v:"+v.Phone, v.ID); err != nil {
		return err
	}
	if v.UserID != "" {
		if err := s.users.delete(ctx, v.UserID); err != nil {
			return err
		}
	}
	return s.erased(ctx)
}
