package people

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"daisuso/errs"
)

// TeamTargetKinds are what a commune's technology team (Tổ công nghệ số
// cộng đồng) is given targets for, as the plan monitors them. How each is
// counted is sessions.TeamProgress's.
var TeamTargetKinds = []Code{
	{"people_supported", "Người được hỗ trợ", "People supported"},
	{"sessions", "Buổi hướng dẫn", "Sessions held"},
	{"problems_solved", "Việc đã giải quyết", "Problems solved"},
	{"vneid_activated", "Tài khoản VNeID được kích hoạt", "VNeID accounts activated"},
	{"epayment_setup", "Người cài đặt thanh toán điện tử", "Cashless payment set up"},
}

// Periods a team's targets run over.
const (
	TargetPerMonth    = "month"    // each calendar month (Asia/Ho_Chi_Minh)
	TargetPerCampaign = "campaign" // a campaign's window
)

const maxTeamTarget = 1_000_000

// TeamTargets are a team's targets over a period.
type TeamTargets struct {
	TeamID     string
	Period     string
	CampaignID string // with TargetPerCampaign
	Values     map[string]int
	SetBy      string
	SetAt      time.Time
}

// CheckTeamTargets checks targets as an admin gives them.
func CheckTeamTargets(t TeamTargets) error {
	switch t.Period {
	case TargetPerMonth:
		if t.CampaignID != "" {
			return &errs.FieldError{Field: "campaign_id", Reason: "only_with_campaign_period"}
		}
	case TargetPerCampaign:
		if t.CampaignID == "" {
			return &errs.FieldError{Field: "campaign_id", Reason: "required"}
		}
	default:
		return &errs.FieldError{Field: "period", Reason: "unknown_code"}
	}
	if len(t.Values) == 0 {
		return &errs.FieldError{Field: "targets", Reason: "required"}
	}
	for k, v := range t.Values {
		if !known(TeamTargetKinds, k) {
			return &errs.FieldError{Field: "targets." + k, Reason: "unknown_code"}
		}
		if v < 0 || v > maxTeamTarget {
			return &errs.FieldError{Field: "targets." + k, Reason: "out_of_range"}
		}
	}
	return nil
}

// SetTeamTargets gives a technology team its targets, replacing those it
// had. Its commune union's admins and the province union's admins set them
// (a branch's admin does not: the team serves the whole commune).
func (s *Service) SetTeamTargets(ctx context.Context, a Actor, t TeamTargets) (TeamTargets, error) {
	if err := CheckTeamTargets(t); err != nil {
		return TeamTargets{}, err
	}
	team, err := s.Branch(ctx, t.TeamID)
	if err != nil {
		return TeamTargets{}, err
	}
	if team.Kind != KindTechTeam {
		return TeamTargets{}, &errs.RuleError{Code: "not_a_tech_team", Field: "id"}
	}
	if err := s.unionAdmin(ctx, a, team.Scope()); err != nil {
		return TeamTargets{}, err
	}
	t.SetBy, t.SetAt = a.UserID, s.now().UTC().Truncate(time.Second)
	d := teamTargetsDoc{ID: t.TeamID, Period: t.Period, CampaignID: t.CampaignID, Values: t.Values, SetBy: t.SetBy, SetAt: t.SetAt}
	if err := putDoc(ctx, s.targets, t.TeamID, d); err != nil {
		return TeamTargets{}, fmt.Errorf("set team targets: %w", err)
	}
	return t, nil
}

// unionAdmin checks that the actor is an admin, or the admin of a commune
// or province union over the scope: what a commune is given (targets,
// population) is set at that level, not by a branch or the desk.
// errs.ErrNotFound outside the actor's area, errs.ErrForbidden inside it.
func (s *Service) unionAdmin(ctx context.Context, a Actor, scope []string) error {
	ok, err := s.administers(ctx, a, scope)
	if err != nil {
		return err
	}
	if !ok {
		return errs.ErrNotFound
	}
	if a.Role != RoleAdmin {
		own, err := s.Branch(ctx, a.BranchID)
		if err != nil || a.Role != RoleBranchAdmin || (own.Kind != KindCommune && own.Kind != KindProvince) {
			return errs.ErrForbidden
		}
	}
	return nil
}

// TargetsOf returns the targets of those of the teams that have some.
func (s *Service) TargetsOf(ctx context.Context, teamIDs []string) ([]TeamTargets, error) {
	if len(teamIDs) == 0 {
		return nil, nil
	}
	docs, err := docsByID[teamTargetsDoc](ctx, s.targets, teamIDs)
	if err != nil {
		return nil, err
	}
	out := make([]TeamTargets, len(docs))
	for i, d := range docs {
		out[i] = TeamTargets{TeamID: d.ID, Period: d.Period, CampaignID: d.CampaignID, Values: d.Values, SetBy: d.SetBy, SetAt: d.SetAt}
	}
	slices.SortFunc(out, func(a, b TeamTargets) int { return strings.Compare(a.TeamID, b.TeamID) })
	return out, nil
}
