package programme

import (
	"context"
	"sort"

	"daisuso/geo"
	"daisuso/matching"
	"daisuso/people"
)

// PublicMinHouseholds: the public map hides cells with fewer households,
// so that no count points at a family.
const PublicMinHouseholds = 5

// PublicRes is the one resolution of the public map (H3 7, about 5 km²).
const PublicRes = 7

// CoverageCell is one cell of a coverage map: who lives there and who can
// help, named by the commune holding its centre.
type CoverageCell struct {
	Cell            geo.Cell
	Households      int
	Certified       int // households that are Gia đình số
	LearnersWaiting int
	Mentors         int
	FreeCapacity    int
	CommuneCode     string // the official commune holding the cell's centre
	CommuneName     string
}

// Coverage maps the communes' cells at res, for those who administer them.
func (s *Services) Coverage(ctx context.Context, communes []string, res int) ([]CoverageCell, error) {
	return s.coverage(ctx, communes, res, false, nil)
}

// PublicCoverage maps the cells of a commune's or province's union node
// for anyone: at PublicRes, without cells of fewer than
// PublicMinHouseholds households. A cell's figures are the same whichever
// area asks for it: counted over the whole province, then only the area's
// cells kept. Counted over the area alone, a cell across a commune border
// showed the commune's part in one map and the whole in the province's,
// and one minus the other gave away a part of fewer than five households.
func (s *Services) PublicCoverage(ctx context.Context, node string) ([]CoverageCell, error) {
	communes, err := s.People.CommunesUnder(ctx, node)
	if err != nil {
		return nil, err
	}
	b, err := s.People.Branch(ctx, node)
	if err != nil {
		return nil, err
	}
	if b.Kind == people.KindProvince || len(b.Ancestors) == 0 {
		return s.coverage(ctx, communes, PublicRes, true, nil)
	}
	all, err := s.People.CommunesUnder(ctx, b.Ancestors[0])
	if err != nil {
		return nil, err
	}
	area, err := s.cellsOf(ctx, communes, PublicRes)
	if err != nil {
		return nil, err
	}
	return s.coverage(ctx, all, PublicRes, true, area)
}

// coverage counts the communes' cells at res; public leaves out cells of
// too few households, only (when set) keeps the cells it holds.
func (s *Services) coverage(ctx context.Context, communes []string, res int, public bool, only map[geo.Cell]bool) ([]CoverageCell, error) {
	hh, err := s.People.HouseholdCells(ctx, communes)
	if err != nil {
		return nil, err
	}
	counts, err := s.Matching.Coverage(ctx, communes, res)
	if err != nil {
		return nil, err
	}
	families, err := s.Sessions.FamiliesIn(ctx, communes)
	if err != nil {
		return nil, err
	}
	households, certified := map[geo.Cell]int{}, map[geo.Cell]int{}
	for id, cell := range hh {
		if p, err := cell.Parent(res); err == nil {
			households[p]++
			if families[id] {
				certified[p]++
			}
			if counts[p] == nil {
				counts[p] = &matching.CellCounts{}
			}
		}
	}
	units := s.People.Units()
	out := []CoverageCell{}
	for cell, cc := range counts {
		if public && households[cell] < PublicMinHouseholds || only != nil && !only[cell] {
			continue
		}
		c := CoverageCell{Cell: cell, Households: households[cell], Certified: certified[cell], LearnersWaiting: cc.LearnersWaiting,
			Mentors: cc.Mentors, FreeCapacity: cc.FreeCapacity}
		if pl, ok := units.Placed(cell.Center()); ok {
			c.CommuneCode = pl.CommuneCode
			_, c.CommuneName = units.FullNames("", pl.CommuneCode)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cell.String() < out[j].Cell.String() })
	return out, nil
}

// cellsOf are the cells at res where the communes have households, mentors
// or waiting requests.
func (s *Services) cellsOf(ctx context.Context, communes []string, res int) (map[geo.Cell]bool, error) {
	out := map[geo.Cell]bool{}
	hh, err := s.People.HouseholdCells(ctx, communes)
	if err != nil {
		return nil, err
	}
	for _, cell := range hh {
		if p, err := cell.Parent(res); err == nil {
			out[p] = true
		}
	}
	counts, err := s.Matching.Coverage(ctx, communes, res)
	if err != nil {
		return nil, err
	}
	for cell := range counts {
		out[cell] = true
	}
	return out, nil
}
