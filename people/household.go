package people

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store"
)

const maxMembers = 20

// Member is a person of a household. Age rules of consent (Law 91/2025):
// from 7 years old a person consents themself; under 16 a guardian
// consents too (under 7, the guardian alone).
type Member struct {
	Name          string
	BirthYear     int
	Needs         []string // topics
	Accessibility []string
	Language      string
	HasSmartphone bool
	SelfConsent   bool
	GuardianName  string
}

// Household is a family (Gia đình số) or a single person asking for help.
type Household struct {
	ID               string
	UserID           string // the signed-in user who is this household; "" if registered on its behalf
	CommuneID        string
	Scope            []string // the commune and its ancestors
	ProvinceCode     string
	CommuneCode      string
	Cell             geo.Cell
	LocatedCode      string // the commune the location lies in, see OutsideCommune
	ContactPhone     string // may be empty: people without phones are the point
	Members          []Member
	Consents         []Consent
	RegisteredBy     string
	RegisteredByRole Role
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// OutsideCommune reports whether the household's location lies in another
// commune than the one it is registered with: the desk of one commune may
// register a family living across the boundary. The record is kept (the
// family still needs help, and the desk knows them) and the flag is shown
// to the desk, with the commune the location is in.
func (h Household) OutsideCommune() bool {
	return h.LocatedCode != "" && h.LocatedCode != h.CommuneCode
}

// HouseholdInput is a registration, or with nil fields left as they are, an
// update. Members, when given, replace the list.
type HouseholdInput struct {
	CommuneID    *string
	Location     *geo.Point
	ContactPhone *string // "" removes it
	Members      *[]Member
	Consents     *[]string
	// ID is the id to give a household registered on its behalf; the API
	// derives it from the Idempotency-Key so that a retry after a failed
	// try finds what that try wrote. Empty: a new random one.
	ID string
}

func (s *Service) applyHousehold(ctx context.Context, a Actor, h *Household, in HouseholdInput) error {
	if in.CommuneID != nil {
		b, err := s.Branch(ctx, *in.CommuneID)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && b.Kind != KindCommune) {
			return &errs.RuleError{Code: "unknown_commune", Field: "commune_id"}
		}
		if err != nil {
			return err
		}
		h.CommuneID, h.Scope, h.ProvinceCode, h.CommuneCode = b.ID, b.Scope(), b.ProvinceCode, b.CommuneCode
	}
	if in.Location != nil {
		c, located, err := s.place(*in.Location)
		if err != nil {
			return err
		}
		h.Cell, h.LocatedCode = c, located
	}
	if in.ContactPhone != nil {
		h.ContactPhone = ""
		if *in.ContactPhone != "" {
			if h.ContactPhone = NormalizePhone(*in.ContactPhone); h.ContactPhone == "" {
				return &errs.FieldError{Field: "contact_phone", Reason: "invalid_phone"}
			}
		}
	}
	if in.Members != nil {
		ms, err := s.checkMembers(*in.Members)
		if err != nil {
			return err
		}
		h.Members = ms
	}
	if in.Consents != nil {
		c, err := s.consents(a, *in.Consents)
		if err != nil {
			return err
		}
		h.Consents = c
	}
	return nil
}

func (s *Service) checkMembers(in []Member) ([]Member, error) {
	if len(in) == 0 {
		return nil, &errs.FieldError{Field: "members", Reason: "required"}
	}
	if len(in) > maxMembers {
		return nil, &errs.FieldError{Field: "members", Reason: "too_many"}
	}
	year := s.now().In(vietnam).Year()
	out := make([]Member, len(in))
	for i, m := range in {
		field := func(f string) string { return fmt.Sprintf("members[%d].%s", i, f) }
		name, err := CleanName(field("name"), m.Name)
		if err != nil {
			return nil, err
		}
		if m.BirthYear < 1900 || m.BirthYear > year {
			return nil, &errs.FieldError{Field: field("birth_year"), Reason: "out_of_range"}
		}
		needs, err := checkCodes(field("needs"), m.Needs, Topics, len(Topics))
		if err != nil {
			return nil, err
		}
		acc, err := checkCodes(field("accessibility"), m.Accessibility, Accessibility, len(Accessibility))
		if err != nil {
			return nil, err
		}
		lang := "vi"
		if m.Language != "" {
			if lang = NormalizeLanguage(m.Language); lang == "" {
				return nil, &errs.FieldError{Field: field("language"), Reason: "unknown_code"}
			}
		}
		guardian := ""
		if m.GuardianName != "" {
			if guardian, err = CleanName(field("guardian_name"), m.GuardianName); err != nil {
				return nil, err
			}
		}
		age := year - m.BirthYear
		switch {
		case age >= 7 && !m.SelfConsent:
			return nil, &errs.RuleError{Code: "member_consent_required", Field: field("self_consent")}
		case age < 16 && guardian == "":
			return nil, &errs.RuleError{Code: "guardian_consent_required", Field: field("guardian_name")}
		}
		out[i] = Member{Name: name, BirthYear: m.BirthYear, Needs: needs, Accessibility: acc, Language: lang,
			HasSmartphone: m.HasSmartphone, SelfConsent: m.SelfConsent, GuardianName: guardian}
	}
	return out, nil
}

// RegisterHousehold records a household: by itself (a signed-in person not
// registered yet, who becomes its household user), or on its behalf by a
// volunteer, commune staff of its commune, or an admin. Who registered it
// is kept.
func (s *Service) RegisterHousehold(ctx context.Context, a Actor, in HouseholdInput) (Household, error) {
	for field, missing := range map[string]bool{"commune_id": in.CommuneID == nil, "location": in.Location == nil,
		"members": in.Members == nil, "consents": in.Consents == nil} {
		if missing {
			return Household{}, &errs.FieldError{Field: field, Reason: "required"}
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	h := Household{RegisteredBy: a.UserID, RegisteredByRole: a.Role, CreatedAt: now, UpdatedAt: now}
	if err := s.applyHousehold(ctx, a, &h, in); err != nil {
		return Household{}, err
	}
	if !HasConsent(h.Consents, "matching") {
		return Household{}, &errs.RuleError{Code: "matching_consent_required", Field: "consents"}
	}
	self := a.Role == "" || a.Role == RoleHousehold
	switch {
	case self:
		h.ID, h.UserID = a.UserID, a.UserID
	case a.Role == RoleVolunteer:
		h.ID = in.ID
	case a.Role == RoleCommuneStaff || a.Role == RoleAdmin || a.Role == RoleBranchAdmin:
		ok, err := s.administers(ctx, a, h.Scope)
		if err != nil {
			return Household{}, err
		}
		if !ok {
			return Household{}, &errs.RuleError{Code: "commune_outside_your_scope", Field: "commune_id"}
		}
		h.ID = in.ID
	default:
		return Household{}, errs.ErrForbidden
	}
	if h.ID == "" {
		h.ID = store.NewID("hh_")
	}
	// A contact phone is not unique (a family's one phone, a relative who
	// registers two households): no answer tells whether a number is
	// someone else's.
	if err := s.households.insert(ctx, h); err != nil {
		if !errors.Is(err, errs.ErrConflict) {
			return Household{}, fmt.Errorf("register household: %w", err)
		}
		// A household with this id is there: registered before by this
		// very call (a retry), or the person registered themselves before.
		prior, perr := s.households.get(ctx, h.ID)
		if perr != nil {
			return Household{}, perr
		}
		if !self && prior.RegisteredBy == a.UserID {
			return prior, nil
		}
		return Household{}, &errs.ConflictError{Reason: "already_registered", Field: "user_id"}
	}
	if self && a.Role == "" {
		if _, _, err := s.EnsureUser(ctx, User{ID: a.UserID, Role: RoleHousehold, BranchID: h.CommuneID}); err != nil {
			return Household{}, err
		}
	}
	return h, nil
}

// canSeeHousehold: the household, whoever registered it, admins, and the
// commune staff and branch admins above its commune.
func (s *Service) canSeeHousehold(ctx context.Context, a Actor, h Household) (bool, error) {
	if (h.UserID != "" && h.UserID == a.UserID) || h.RegisteredBy == a.UserID {
		return true, nil
	}
	if ok, err := s.isMentorOf(ctx, a, h); err != nil || ok {
		return ok, err
	}
	return s.administers(ctx, a, h.Scope)
}

// SeesHouseholdPhone: the household, its matched mentor, commune staff and
// admins see the full number; others a masked one.
func (s *Service) SeesHouseholdPhone(ctx context.Context, a Actor, h Household) (bool, error) {
	if (h.UserID != "" && h.UserID == a.UserID) || a.Role == RoleAdmin || a.Role == RoleCommuneStaff {
		return true, nil
	}
	return s.isMentorOf(ctx, a, h)
}

// Household returns a household the actor may see, else errs.ErrNotFound.
func (s *Service) Household(ctx context.Context, a Actor, id string) (Household, error) {
	if !ValidID(id) {
		return Household{}, errs.ErrNotFound
	}
	h, err := s.households.get(ctx, id)
	if err != nil {
		return Household{}, err
	}
	ok, err := s.canSeeHousehold(ctx, a, h)
	if err != nil {
		return Household{}, err
	}
	if !ok {
		return Household{}, errs.ErrNotFound
	}
	return h, nil
}

// mayChangeHousehold: the household itself, its commune's staff and admins.
// A volunteer who registered it may read it but not rewrite it.
func (s *Service) mayChangeHousehold(ctx context.Context, a Actor, h Household) (bool, error) {
	if h.UserID != "" && h.UserID == a.UserID {
		return true, nil
	}
	if a.Role != RoleCommuneStaff && a.Role != RoleAdmin {
		return false, nil
	}
	return s.administers(ctx, a, h.Scope)
}

// UpdateHousehold changes the given fields.
func (s *Service) UpdateHousehold(ctx context.Context, a Actor, id string, in HouseholdInput) (Household, error) {
	h, err := s.Household(ctx, a, id)
	if err != nil {
		return Household{}, err
	}
	if ok, err := s.mayChangeHousehold(ctx, a, h); err != nil || !ok {
		if err != nil {
			return Household{}, err
		}
		return Household{}, errs.ErrForbidden
	}
	oldPhone := h.ContactPhone
	if err := s.applyHousehold(ctx, a, &h, in); err != nil {
		return Household{}, err
	}
	if in.CommuneID != nil && h.UserID != a.UserID {
		if ok, err := s.administers(ctx, a, h.Scope); err != nil || !ok {
			if err != nil {
				return Household{}, err
			}
			return Household{}, &errs.RuleError{Code: "commune_outside_your_scope", Field: "commune_id"}
		}
	}
	if in.Consents != nil && !HasConsent(h.Consents, "matching") {
		return Household{}, &errs.RuleError{Code: "matching_consent_required", Field: "consents"}
	}
	h.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.households.replace(ctx, h); err != nil {
		return Household{}, err
	}
	if h.ContactPhone != oldPhone && oldPhone != "" {
		// A claim on the old number a record from before kept.
		_ = s.claims.release(ctx, "phone:h:"+oldPhone, h.ID)
	}
	return h, nil
}

// HouseholdCells returns the home cell of every household of the given
// communes, by id: the raw material of coverage maps, which show only
// counts.
func (s *Service) HouseholdCells(ctx context.Context, communeIDs []string) (map[string]geo.Cell, error) {
	return s.households.cells(ctx, communeIDs)
}

// DeleteHousehold erases a household and everything held about it.
func (s *Service) DeleteHousehold(ctx context.Context, a Actor, id string) error {
	h, err := s.Household(ctx, a, id)
	if err != nil {
		return err
	}
	if ok, err := s.mayChangeHousehold(ctx, a, h); err != nil || !ok {
		if err != nil {
			return err
		}
		return errs.ErrForbidden
	}
	if err := s.erase(ctx, "household", h.ID, h.UserID); err != nil {
		return err
	}
	if err := s.households.delete(ctx, h.ID); err != nil {
		return err
	}
	if h.ContactPhone != "" {
		if err := s.claims.release(ctx, "phone:h:"+h.ContactPhone, h.ID); err != nil {
			return err
		}
	}
	if h.UserID != "" {
		if err := s.users.delete(ctx, h.UserID); err != nil {
			return err
		}
	}
	return s.erased(ctx)
}

// LearnerSet is who a help request is for and what follows from them.
type LearnerSet struct {
	// Members are the learners' indexes among the household's members,
	// ascending: each can be in one open request at a time (matching keeps
	// that rule).
	Members []int
	// Language is the learners' language; Required when a learner with it
	// is elderly or has low literacy (taken to mean they cannot learn in
	// Vietnamese).
	Language string
	Required bool
	Topics   []string // the given ones, or the learners' needs
}

// Learners picks the learners of a help request, by their indexes among
// the members (default: every member with needs). A member with no needs
// is refused: a request is for someone who wants to learn something, and a
// member listed for nothing would count as a learner on every indicator.
func (h Household) Learners(idx []int, topics []string) (LearnerSet, error) {
	var set LearnerSet
	if len(idx) == 0 {
		for i, m := range h.Members {
			if len(m.Needs) > 0 {
				set.Members = append(set.Members, i)
			}
		}
		if len(set.Members) == 0 {
			return LearnerSet{}, &errs.RuleError{Code: "no_member_needs_help", Field: "members"}
		}
	} else {
		seen := map[int]bool{}
		for _, i := range idx {
			if i < 0 || i >= len(h.Members) || seen[i] {
				return LearnerSet{}, &errs.FieldError{Field: "members", Reason: "unknown_member"}
			}
			if len(h.Members[i].Needs) == 0 {
				return LearnerSet{}, &errs.RuleError{Code: "member_has_no_needs", Field: fmt.Sprintf("members[%d]", i)}
			}
			seen[i] = true
			set.Members = append(set.Members, i)
		}
		slices.Sort(set.Members)
	}
	ms := make([]Member, len(set.Members))
	for k, i := range set.Members {
		ms[k] = h.Members[i]
	}
	count := map[string]int{}
	for _, m := range ms {
		count[m.Language]++
		for _, t := range m.Needs {
			if !slices.Contains(set.Topics, t) {
				set.Topics = append(set.Topics, t)
			}
		}
	}
	// The most common language other than Vietnamese, if any; ties go to
	// the first learner's, so the choice does not depend on map order.
	set.Language = "vi"
	for _, m := range ms {
		if l := m.Language; l != "vi" && (set.Language == "vi" || count[l] > count[set.Language]) {
			set.Language = l
		}
	}
	for _, m := range ms {
		if m.Language == set.Language && set.Language != "vi" &&
			(slices.Contains(m.Accessibility, "elderly") || slices.Contains(m.Accessibility, "low_literacy")) {
			set.Required = true
		}
	}
	if len(topics) > 0 {
		set.Topics = nil
		for _, t := range topics {
			if !known(Topics, t) {
				return LearnerSet{}, &errs.FieldError{Field: "topics", Reason: "unknown_code"}
			}
			if !slices.Contains(set.Topics, t) {
				set.Topics = append(set.Topics, t)
			}
		}
	}
	return set, nil
}

// CommuneCount is what the public rankings use of a commune's registry:
// households and the people in them.
type CommuneCount struct {
	Households int
	Residents  int
}

// CountByCommune counts registered households and their members per
// commune: of the given communes, or of all when none is given.
func (s *Service) CountByCommune(ctx context.Context, communes ...string) (map[string]CommuneCount, error) {
	match := store.InFilter("commune_id", communes)
	households, err := store.SumBy(ctx, s.households.coll, match, "$commune_id", 1)
	if err != nil {
		return nil, err
	}
	residents, err := store.SumBy(ctx, s.households.coll, match, "$commune_id", "$member_count")
	if err != nil {
		return nil, err
	}
	out := make(map[string]CommuneCount, len(households))
	for commune, n := range households {
		out[commune] = CommuneCount{Households: n, Residents: residents[commune]}
	}
	return out, nil
}
