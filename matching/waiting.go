package matching

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"daisuso/geo"
)

// maxServeWaiting bounds the waiting requests one new place looks at.
const maxServeWaiting = 500

// ServeWaiting gives a mentor's free places to the requests waiting in
// their reach, oldest first: called when capacity appears (a mentor
// registers, resumes, raises their capacity or moves, or a learner of
// theirs is released), so that a request does not wait for an admin's
// batch run while a mentor nearby has room. It returns how many it served.
func (s *Service) ServeWaiting(ctx context.Context, mentorID string) (int, error) {
	m, err := s.st.mentor(ctx, mentorID)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil || m.Paused || m.Capacity <= 0 {
		return 0, err
	}
	used, err := s.st.usedSlots(ctx, []string{m.ID})
	if err != nil || len(used[m.ID]) >= m.Capacity {
		return 0, err
	}
	reach := min(m.RadiusKm, MaxRadiusKm)
	res := geo.IndexResolution(reach)
	centre, err := m.Cell.Parent(res)
	if err != nil {
		return 0, err
	}
	reqs, err := s.waiting(ctx, Area{Cells: centre.Disk(geo.RingsFor(reach, res))})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(reqs, func(a, b Request) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	served := 0
	for i, r := range reqs {
		if i == maxServeWaiting {
			break
		}
		c := candidate{m: m, distKm: geo.DistanceKm(r.Cell.Center(), m.Cell.Center()), used: used[m.ID],
			language: slices.Contains(m.Languages, r.Language)}
		if c.distKm > reach || (r.LanguageRequired && !c.language) || c.free() < r.Learners {
			continue
		}
		a, ok, err := s.reserve(ctx, r, c, reach, "online")
		if err != nil {
			return served, err
		}
		if !ok {
			// Another request took the places meanwhile: look again.
			if used, err = s.st.usedSlots(ctx, []string{m.ID}); err != nil {
				return served, err
			}
			continue
		}
		served++
		if used[m.ID] = append(used[m.ID], a.Slots...); len(used[m.ID]) >= m.Capacity {
			return served, nil
		}
	}
	return served, nil
}

// EscalateAfter is how long a request waits before it goes up to the
// province union's admins: a week, the span of a mentor's weekly rounds,
// after which the commune has shown it cannot serve it alone.
const EscalateAfter = 7 * 24 * time.Hour

// escalateWindow is how far back past EscalateAfter Overdue looks: a
// service down for longer than this would not escalate what crossed the
// line meanwhile.
const escalateWindow = 30 * 24 * time.Hour

// Overdue returns the requests waiting longer than EscalateAfter that were
// never escalated, and marks them escalated (insert-only, one mark per
// request), so each goes up once even when two instances run this at the
// same time.
func (s *Service) Overdue(ctx context.Context) ([]Request, error) {
	// Requests that crossed the line in the last escalateWindow: the job
	// runs far more often, and older ones went up when they crossed it.
	due := s.now().Add(-EscalateAfter)
	old, err := s.st.findRequests(ctx, where{CreatedSince: due.Add(-escalateWindow), CreatedBefore: due})
	if err != nil || len(old) == 0 {
		return nil, err
	}
	waiting, err := s.unserved(ctx, old)
	if err != nil || len(waiting) == 0 {
		return nil, err
	}
	ids := make([]string, len(waiting))
	for i, r := range waiting {
		ids[i] = r.ID
	}
	// Those that went up at an earlier run are read, not written again.
	before, err := s.st.escalated(ctx, ids)
	if err != nil {
		return nil, err
	}
	var fresh []Request
	var marks []string
	for _, r := range waiting {
		if !before[r.ID] {
			fresh = append(fresh, r)
			marks = append(marks, r.ID)
		}
	}
	// The mark is what makes a request go up once: of two instances marking
	// it at the same time, one inserts it.
	won, err := s.st.markEscalated(ctx, marks, s.now().UTC())
	if err != nil {
		return nil, err
	}
	var out []Request
	for i, r := range fresh {
		if won[i] {
			out = append(out, r)
		}
	}
	return out, nil
}
