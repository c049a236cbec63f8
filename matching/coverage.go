package matching

import (
	"context"
	"time"

	"daisuso/geo"
)

// CellCounts is what matching knows of one map cell.
type CellCounts struct {
	LearnersWaiting int
	Mentors         int
	FreeCapacity    int
}

// Coverage counts, per cell at resolution res, the learners waiting and the
// mentors (not paused) with their free capacity, in the given communes.
func (s *Service) Coverage(ctx context.Context, communeIDs []string, res int) (map[geo.Cell]*CellCounts, error) {
	out := map[geo.Cell]*CellCounts{}
	at := func(c geo.Cell) *CellCounts {
		p, err := c.Parent(res)
		if err != nil {
			return &CellCounts{}
		}
		if out[p] == nil {
			out[p] = &CellCounts{}
		}
		return out[p]
	}
	waiting, err := s.waiting(ctx, Area{CommuneIDs: communeIDs})
	if err != nil {
		return nil, err
	}
	for _, r := range waiting {
		at(r.Cell).LearnersWaiting += r.Learners
	}
	ms, used, err := s.activeMentors(ctx, communeIDs)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		c := at(m.Cell)
		c.Mentors++
		c.FreeCapacity += max(0, m.Capacity-len(used[m.ID]))
	}
	return out, nil
}

// UnitCounts is what matching knows of a commune or a branch, for the
// dashboard: active (not paused) mentors, those with five learners or more,
// and the requests waiting, with when the oldest came in. Requests belong to
// communes only.
type UnitCounts struct {
	Mentors       int
	MentorsAtFive int
	// Learners and Households served by the unit's mentors (paused ones
	// too: their learners are still theirs).
	Learners        int
	Households      int
	RequestsWaiting int
	LearnersWaiting int
	OldestWaiting   time.Time
}

// Units counts mentors and waiting requests of the communes, per commune
// and per mentor's branch.
func (s *Service) Units(ctx context.Context, communeIDs []string) (byCommune, byBranch map[string]*UnitCounts, err error) {
	byCommune, byBranch = map[string]*UnitCounts{}, map[string]*UnitCounts{}
	of := func(m map[string]*UnitCounts, id string) *UnitCounts {
		if m[id] == nil {
			m[id] = &UnitCounts{}
		}
		return m[id]
	}
	waiting, err := s.waiting(ctx, Area{CommuneIDs: communeIDs})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range waiting {
		u := of(byCommune, r.CommuneID)
		u.RequestsWaiting++
		u.LearnersWaiting += r.Learners
		if u.OldestWaiting.IsZero() || r.CreatedAt.Before(u.OldestWaiting) {
			u.OldestWaiting = r.CreatedAt
		}
	}
	ms, used, err := s.mentorsWithSlots(ctx, where{Communes: only(communeIDs)})
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	as, err := s.st.findAssignments(ctx, where{MentorIDs: only(ids)})
	if err != nil {
		return nil, nil, err
	}
	households := map[string][]string{} // mentor -> households served
	for _, a := range as {
		households[a.MentorID] = append(households[a.MentorID], a.HouseholdID)
	}
	seen := map[*UnitCounts]map[string]bool{}
	for _, m := range ms {
		five := 0
		if len(used[m.ID]) >= Quota {
			five = 1
		}
		for _, u := range []*UnitCounts{of(byCommune, m.CommuneID), of(byBranch, m.BranchID)} {
			if !m.Paused {
				u.Mentors++
				u.MentorsAtFive += five
			}
			u.Learners += len(used[m.ID])
			if seen[u] == nil {
				seen[u] = map[string]bool{}
			}
			for _, h := range households[m.ID] {
				if !seen[u][h] {
					seen[u][h] = true
					u.Households++
				}
			}
		}
	}
	return byCommune, byBranch, nil
}

// activeMentors loads the mentors (not paused) of the communes with the
// slots each holds.
func (s *Service) activeMentors(ctx context.Context, communeIDs []string) ([]Mentor, map[string][]int, error) {
	return s.mentorsWithSlots(ctx, where{Communes: only(communeIDs), Paused: new(bool)})
}

// mentorsWithSlots loads the mentors w selects with the slots each holds.
func (s *Service) mentorsWithSlots(ctx context.Context, w where) ([]Mentor, map[string][]int, error) {
	ms, err := s.st.findMentors(ctx, w)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	used, err := s.st.usedSlots(ctx, ids)
	return ms, used, err
}
