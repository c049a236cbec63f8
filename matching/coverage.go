package matching

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	ms, err := s.st.findMentors(ctx, bson.D{{Key: "commune_id", Value: bson.D{{Key: "$in", Value: communeIDs}}}, {Key: "paused", Value: false}})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	used, err := s.st.usedSlots(ctx, ids)
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
