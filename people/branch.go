package people

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"daisuso/errs"
	"daisuso/geo"
	"daisuso/store"
)

// BranchKind is a level of the Hồ Chí Minh Communist Youth Union as the
// service sees it, plus the commune's community technology team.
type BranchKind string

// The kinds, from the top.
const (
	KindProvince BranchKind = "province"  // provincial youth union
	KindCommune  BranchKind = "commune"   // commune/ward youth union
	KindBranch   BranchKind = "branch"    // a branch (chi đoàn) of a commune union
	KindTechTeam BranchKind = "tech_team" // Tổ công nghệ số cộng đồng of a commune
)

// parentKind is the kind each kind hangs under.
var parentKind = map[BranchKind]BranchKind{KindCommune: KindProvince, KindBranch: KindCommune, KindTechTeam: KindCommune}

// Branch is a node of the union hierarchy. Ancestors run from the province
// down to the parent, so "X is inside Y's subtree" needs no lookup.
type Branch struct {
	ID           string
	Kind         BranchKind
	Name         string
	ParentID     string
	Ancestors    []string
	ProvinceCode string // 2 digits, e.g. "15" (Lào Cai)
	CommuneCode  string // 5 digits; empty for a province
	// UnitKind is the official kind of a province's or commune's unit
	// ("city", "province"; "xa", "phuong", "dac_khu"), see geo.KindLabel.
	UnitKind  string
	CreatedAt time.Time
	CreatedBy string
}

// CommuneID is the id of the commune this node belongs to ("" for a province).
func (b Branch) CommuneID() string {
	if b.Kind == KindCommune {
		return b.ID
	}
	if b.Kind == KindProvince || len(b.Ancestors) < 2 {
		return ""
	}
	return b.Ancestors[1]
}

// OfficialName is how a node is named to people: a province's or commune's
// union by its unit's official name in the list u (so names follow a newer
// list), any other node by its own name.
func (b Branch) OfficialName(u *geo.Units) string {
	province, commune := u.FullNames(b.ProvinceCode, b.CommuneCode)
	switch {
	case b.Kind == KindCommune && commune != "":
		return commune
	case b.Kind == KindProvince && province != "":
		return province
	}
	return b.Name
}

// Scope is the node and its ancestors: an admin of any of them acts on it.
func (b Branch) Scope() []string { return append(slices.Clone(b.Ancestors), b.ID) }

// NewBranch is what a caller gives to create a node.
type NewBranch struct {
	Kind         BranchKind
	Name         string
	ParentID     string
	ProvinceCode string // provinces only
	CommuneCode  string // communes only
}

var (
	provinceCode = regexp.MustCompile(`^[0-9]{2}$`)
	communeCode  = regexp.MustCompile(`^[0-9]{5}$`)
)

// Actor is who acts: the signed-in user with the role and branch the users
// collection gives them.
type Actor struct {
	UserID   string
	Role     Role
	BranchID string
}

// scopeOf is the node whose subtree the actor administers: their branch, or
// for the staff of a commune's technology team, the commune.
func (s *Service) scopeOf(ctx context.Context, a Actor) (string, error) {
	if a.BranchID == "" {
		return "", nil
	}
	b, err := s.branches.get(ctx, a.BranchID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if b.Kind == KindTechTeam {
		return b.ParentID, nil
	}
	return b.ID, nil
}

// administers reports whether the actor, as admin, branch admin or commune
// staff, acts over a record whose scope (node and ancestors) is given.
func (s *Service) administers(ctx context.Context, a Actor, scope []string) (bool, error) {
	switch a.Role {
	case RoleAdmin:
		return true, nil
	case RoleBranchAdmin, RoleCommuneStaff:
		root, err := s.scopeOf(ctx, a)
		if err != nil || root == "" {
			return false, err
		}
		return slices.Contains(scope, root), nil
	}
	return false, nil
}

// Administers reports whether the actor acts over the node id (and so over
// everything under it): admins everywhere, branch admins and commune staff
// inside their subtree.
func (s *Service) Administers(ctx context.Context, a Actor, id string) (bool, error) {
	b, err := s.Branch(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.administers(ctx, a, b.Scope())
}

// CommunesAdministered lists the communes at or under node (see
// CommunesUnder) when the actor acts over it, and errs.ErrNotFound otherwise, so
// that nodes outside the actor's area look like no node at all.
func (s *Service) CommunesAdministered(ctx context.Context, a Actor, id string) ([]string, error) {
	b, err := s.Branch(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.administers(ctx, a, b.Scope())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.ErrNotFound
	}
	return s.communesUnder(ctx, b)
}

// MaxSubtree bounds the nodes Subtree returns: a province has about a
// hundred communes, each with tens of branches.
const MaxSubtree = 20_000

// Subtree returns the node and every node under it when the actor acts over
// it, and errs.ErrNotFound otherwise (as CommunesAdministered).
func (s *Service) Subtree(ctx context.Context, a Actor, id string) (Branch, []Branch, error) {
	b, err := s.Branch(ctx, id)
	if err != nil {
		return Branch{}, nil, err
	}
	ok, err := s.administers(ctx, a, b.Scope())
	if err != nil {
		return Branch{}, nil, err
	}
	if !ok {
		return Branch{}, nil, errs.ErrNotFound
	}
	under, err := s.branches.subtree(ctx, b.ID, MaxSubtree)
	return b, under, err
}

// CommunesAmong lists the communes at or under b, given the nodes under it
// (as Subtree returns them): as CommunesUnder, without reading the store.
func (b Branch) CommunesAmong(under []Branch) []string {
	if b.Kind != KindProvince {
		return []string{b.CommuneID()}
	}
	var out []string
	for _, n := range under {
		if n.Kind == KindCommune && n.ParentID == b.ID {
			out = append(out, n.ID)
		}
	}
	return out
}

// CommunesUnder lists the communes at or under a node: the node itself if it
// is a commune, a branch's or team's commune, or a province's communes.
func (s *Service) CommunesUnder(ctx context.Context, id string) ([]string, error) {
	b, err := s.Branch(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.communesUnder(ctx, b)
}

func (s *Service) communesUnder(ctx context.Context, b Branch) ([]string, error) {
	if b.Kind != KindProvince {
		return []string{b.CommuneID()}, nil
	}
	var out []string
	after := ""
	for {
		page, err := s.branches.children(ctx, b.ID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if c.Kind == KindCommune {
				out = append(out, c.ID)
			}
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// CreateBranch adds a node under its parent. Admins create provinces; a
// branch admin creates nodes inside their own subtree.
//
// A province or commune union is named by its unit's official name, from
// the code; a name given with it is not used.
func (s *Service) CreateBranch(ctx context.Context, a Actor, in NewBranch) (Branch, error) {
	var name string
	if in.Kind != KindProvince && in.Kind != KindCommune {
		var err error
		if name, err = CleanText("name", in.Name, 120); err != nil {
			return Branch{}, err
		}
	}
	b := Branch{Kind: in.Kind, Name: name, CreatedAt: s.now().UTC().Truncate(time.Millisecond), CreatedBy: a.UserID}
	var claim string
	var err error
	switch in.Kind {
	case KindProvince:
		claim, err = s.placeProvince(a, in, &b)
	case KindCommune, KindBranch, KindTechTeam:
		claim, err = s.placeUnder(ctx, a, in, &b)
	default:
		err = &errs.FieldError{Field: "kind", Reason: "unknown_code"}
	}
	if err != nil {
		return Branch{}, err
	}
	if claim != "" {
		if err := s.claims.claim(ctx, claim, b.ID); err != nil {
			if errors.Is(err, errs.ErrConflict) {
				// The union's tree is public to signed-in users: the unit
				// holding the code is named, so a script run again can
				// go on with it.
				holder, _ := s.claims.owner(ctx, claim)
				return Branch{}, &errs.ConflictError{Reason: "code_taken", Field: string(in.Kind) + "_code", ID: holder}
			}
			return Branch{}, err
		}
	}
	if err := s.branches.insert(ctx, b); err != nil {
		if claim != "" {
			_ = s.claims.release(context.WithoutCancel(ctx), claim, b.ID)
		}
		if errors.Is(err, errs.ErrConflict) {
			return Branch{}, &errs.ConflictError{Reason: "already_exists", Field: "kind"}
		}
		return Branch{}, fmt.Errorf("create branch: %w", err)
	}
	return b, nil
}

// placeProvince makes b a province's union (admins only) and returns the
// claim on its official code.
func (s *Service) placeProvince(a Actor, in NewBranch, b *Branch) (string, error) {
	if a.Role != RoleAdmin {
		return "", errs.ErrForbidden
	}
	if in.ParentID != "" {
		return "", &errs.RuleError{Code: "province_has_no_parent", Field: "parent_id"}
	}
	if !provinceCode.MatchString(in.ProvinceCode) {
		return "", &errs.FieldError{Field: "province_code", Reason: "invalid_code"}
	}
	unit, ok := s.Units().Province(in.ProvinceCode)
	if !ok {
		return "", &errs.RuleError{Code: "unknown_province_code", Field: "province_code"}
	}
	b.ID, b.ProvinceCode, b.Name, b.UnitKind = store.NewID("pv_"), unit.Code, unit.FullName, unit.Kind
	return "province:" + unit.Code, nil
}

// placeUnder places b under its parent, which the actor administers, and
// returns the claim a commune's union takes on its official code ("" for
// the other kinds).
func (s *Service) placeUnder(ctx context.Context, a Actor, in NewBranch, b *Branch) (string, error) {
	if !ValidID(in.ParentID) {
		return "", &errs.FieldError{Field: "parent_id", Reason: "required"}
	}
	parent, err := s.branches.get(ctx, in.ParentID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", &errs.RuleError{Code: "unknown_parent", Field: "parent_id"}
	}
	if err != nil {
		return "", err
	}
	if ok, err := s.administers(ctx, a, parent.Scope()); err != nil || !ok || a.Role == RoleCommuneStaff {
		if err != nil {
			return "", err
		}
		return "", errs.ErrForbidden
	}
	if parent.Kind != parentKind[in.Kind] {
		return "", &errs.RuleError{Code: "wrong_parent_kind", Field: "parent_id"}
	}
	b.ParentID, b.Ancestors, b.ProvinceCode, b.CommuneCode = parent.ID, parent.Scope(), parent.ProvinceCode, parent.CommuneCode
	switch in.Kind {
	case KindCommune:
		unit, err := s.officialCommune(in.CommuneCode, parent.ProvinceCode)
		if err != nil {
			return "", err
		}
		b.ID, b.CommuneCode, b.Name, b.UnitKind = store.NewID("cm_"), unit.Code, unit.FullName, unit.Kind
		return "commune:" + unit.Code, nil
	case KindBranch:
		b.ID = store.NewID("br_")
	case KindTechTeam:
		// One team per commune: its id is fixed, so a second insert fails.
		b.ID = parent.ID + "-team"
	}
	return "", nil
}

// officialCommune checks a commune code against the official list: it must
// exist and belong to the province the union is created under, so that no
// province can hold (and so block) another's commune.
func (s *Service) officialCommune(code, province string) (geo.Commune, error) {
	if !communeCode.MatchString(code) {
		return geo.Commune{}, &errs.FieldError{Field: "commune_code", Reason: "invalid_code"}
	}
	unit, ok := s.Units().Commune(code)
	switch {
	case !ok:
		return geo.Commune{}, &errs.RuleError{Code: "unknown_commune_code", Field: "commune_code"}
	case unit.ProvinceCode != province:
		return geo.Commune{}, &errs.RuleError{Code: "commune_of_other_province", Field: "commune_code"}
	}
	return unit, nil
}

// Branch returns a node. The union hierarchy is not personal data: any
// signed-in user may read it (a volunteer picks their branch from it).
func (s *Service) Branch(ctx context.Context, id string) (Branch, error) {
	if !ValidID(id) {
		return Branch{}, errs.ErrNotFound
	}
	return s.branches.get(ctx, id)
}

// Children lists a node's children by id, limit at a time after the id
// after ("" from the start).
func (s *Service) Children(ctx context.Context, id, after string, limit int) ([]Branch, error) {
	if _, err := s.Branch(ctx, id); err != nil {
		return nil, err
	}
	return s.branches.children(ctx, id, after, limit)
}

// CommuneByCode returns the id of the commune union of an official commune
// code (errs.ErrNotFound when none has been made).
func (s *Service) CommuneByCode(ctx context.Context, code string) (string, error) {
	id, err := s.claims.owner(ctx, "commune:"+code)
	if err == nil && id == "" {
		err = errs.ErrNotFound
	}
	return id, err
}
