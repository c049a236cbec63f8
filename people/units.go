package people

import (
	"context"
	"errors"
	"fmt"

	"daisuso/errs"
	"daisuso/geo"
)

// UnionChange is what following a newer list of units did to one union,
// or why it left it alone.
type UnionChange struct {
	UnionID string
	Code    string // the union's code before
	Action  string // renamed, moved, kept
	NewCode string // moved: the code it follows now
	Name    string // the union's name after
	Note    string // kept: why, in words for the operator
}

// FollowUnits brings the unions in line with a newer list of units (the
// changes from geo.DiffUnits of the old list and next): a union whose unit
// was renamed takes the new name and kind; one whose commune was merged
// into another moves to the commune that now covers its area (its code, the
// records of people under it, its claim), unless that commune already has
// a union, which is left for people to merge; one whose unit is gone with
// no successor keeps its old code. Records located in a merged commune
// are located in the one that took it. Running it again changes nothing
// more.
//
// History (points, boards by commune code) stays as it was earned.
func (s *Service) FollowUnits(ctx context.Context, ch geo.UnitChanges, next *geo.Units) ([]UnionChange, error) {
	var out []UnionChange
	for _, c := range ch.Renamed {
		done, err := s.renameUnion(ctx, c, next)
		if err != nil {
			return out, err
		}
		out = append(out, done...)
	}
	for _, c := range ch.Merged {
		if c.Level == "commune" {
			// Where people live follows their commune into the merged one.
			if err := s.relocate(ctx, c.Code, c.Into); err != nil {
				return out, err
			}
		}
		done, err := s.moveUnion(ctx, c, next)
		if err != nil {
			return out, err
		}
		out = append(out, done...)
	}
	for _, c := range ch.Removed {
		id, err := s.claims.owner(ctx, c.Level+":"+c.Code)
		if err != nil {
			return out, err
		}
		if id != "" {
			out = append(out, UnionChange{UnionID: id, Code: c.Code, Action: "kept",
				Note: "the unit is gone from the list and no unit covers its area; the union keeps its old code"})
		}
	}
	return out, nil
}

func (s *Service) renameUnion(ctx context.Context, c geo.UnitChange, next *geo.Units) ([]UnionChange, error) {
	// owner is "" with no error when no union holds the code.
	id, err := s.claims.owner(ctx, c.Level+":"+c.Code)
	if err != nil || id == "" {
		return nil, err
	}
	name, kind := c.After, ""
	if c.Level == "province" {
		p, _ := next.Province(c.Code)
		kind = p.Kind
	} else {
		cm, _ := next.Commune(c.Code)
		kind = cm.Kind
		b, err := s.branches.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.ProvinceCode != cm.ProvinceCode {
			return []UnionChange{{UnionID: id, Code: c.Code, Action: "kept",
				Note: fmt.Sprintf("the commune now belongs to province %s; move its union by hand", cm.ProvinceCode)}}, nil
		}
	}
	if err := s.branches.setUnit(ctx, id, name, kind, ""); err != nil {
		return nil, fmt.Errorf("rename union %s: %w", id, err)
	}
	return []UnionChange{{UnionID: id, Code: c.Code, Action: "renamed", Name: name}}, nil
}

func (s *Service) moveUnion(ctx context.Context, c geo.UnitChange, next *geo.Units) ([]UnionChange, error) {
	if c.Level != "commune" {
		id, err := s.claims.owner(ctx, c.Level+":"+c.Code)
		if err != nil || id == "" {
			return nil, err
		}
		return []UnionChange{{UnionID: id, Code: c.Code, Action: "kept",
			Note: fmt.Sprintf("the province was merged into %s; merge the unions by hand", c.Into)}}, nil
	}
	id, err := s.claims.owner(ctx, "commune:"+c.Code)
	if err != nil || id == "" {
		return nil, err
	}
	into, _ := next.Commune(c.Into)
	union, err := s.branches.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if union.ProvinceCode != into.ProvinceCode {
		return []UnionChange{{UnionID: id, Code: c.Code, Action: "kept",
			Note: fmt.Sprintf("its area is now %s of province %s; move the union by hand", into.FullName, into.ProvinceCode)}}, nil
	}
	if err := s.claims.claim(ctx, "commune:"+into.Code, id); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			holder, _ := s.claims.owner(ctx, "commune:"+into.Code)
			return []UnionChange{{UnionID: id, Code: c.Code, Action: "kept",
				Note: fmt.Sprintf("its area is now %s, which has its own union %s; merge the two by hand", into.FullName, holder)}}, nil
		}
		return nil, err
	}
	if err := s.recodeUnder(ctx, id, into.Code); err != nil {
		return nil, fmt.Errorf("move union %s: %w", id, err)
	}
	// The union itself last: a run stopped half-way finds it still under
	// its old code and does the rest again.
	if err := s.branches.setUnit(ctx, id, into.FullName, into.Kind, into.Code); err != nil {
		return nil, fmt.Errorf("move union %s: %w", id, err)
	}
	if err := s.claims.release(ctx, "commune:"+c.Code, id); err != nil {
		return nil, err
	}
	return []UnionChange{{UnionID: id, Code: c.Code, Action: "moved", NewCode: into.Code, Name: into.FullName}}, nil
}
