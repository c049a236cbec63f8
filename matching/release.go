package matching

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"daisuso/geo"
)

// Outcome returns a request with its assignment or why it waits.
func (s *Service) Outcome(ctx context.Context, requestID string) (Outcome, error) {
	r, u, err := s.st.request(ctx, requestID)
	if err != nil {
		return Outcome{}, err
	}
	as, err := s.st.findAssignments(ctx, where{IDs: []string{requestID}})
	if err != nil {
		return Outcome{}, err
	}
	if len(as) == 1 {
		return Outcome{Request: r, State: StateMatched, Assignment: &as[0]}, nil
	}
	if u == nil {
		u = &Unserved{Reason: ReasonNoMentor, NextStep: NextStepCommune}
	}
	return Outcome{Request: r, State: StateWaiting, Unserved: u}, nil
}

// MaxOfHousehold bounds the requests OfHousehold returns.
const MaxOfHousehold = 10

// OfHousehold returns a household's requests with their outcomes, newest
// first: what the family's app shows (the mentor found, or why it waits).
func (s *Service) OfHousehold(ctx context.Context, householdID string) ([]Outcome, error) {
	reqs, err := s.st.findRequests(ctx, where{Households: []string{householdID}})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(reqs, func(a, b Request) int { return b.CreatedAt.Compare(a.CreatedAt) })
	out := make([]Outcome, 0, min(len(reqs), MaxOfHousehold))
	for _, r := range reqs[:min(len(reqs), MaxOfHousehold)] {
		o, err := s.Outcome(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Queue returns the waiting requests of some communes, oldest first: the
// commune technology team's queue.
func (s *Service) Queue(ctx context.Context, communeIDs []string) ([]Outcome, error) {
	reqs, err := s.waiting(ctx, Area{CommuneIDs: communeIDs})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	docs, err := s.st.findRequestDocs(ctx, where{IDs: only(ids)})
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, 0, len(docs))
	for _, d := range docs {
		u := &Unserved{Reason: d.UnservedReason, NextStep: NextStepCommune, TriedRadiiKm: d.TriedRadiiKm, MentorsInReach: d.MentorsInReach}
		out = append(out, Outcome{Request: d.request(), State: StateWaiting, Unserved: u})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Request, out[j].Request
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// MentorOfHousehold lists the mentors serving a household's requests: the
// people who may see its phone number.
func (s *Service) MentorsOfHousehold(ctx context.Context, householdID string) ([]string, error) {
	as, err := s.st.findAssignments(ctx, where{Households: []string{householdID}})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.MentorID)
	}
	return out, nil
}

// Mentees returns a mentor's assignments.
func (s *Service) Mentees(ctx context.Context, mentorID string) ([]Assignment, error) {
	return s.st.findAssignments(ctx, where{MentorIDs: []string{mentorID}})
}

// Why an assignment was ended and its request matched again.
const (
	ReleasedOutOfReach   = "out_of_reach"    // the mentor moved or shortened their radius
	ReleasedOverCapacity = "over_capacity"   // the mentor lowered their capacity below their learners
	ReleasedPaused       = "paused_too_long" // paused for longer than PauseRelease
	ReleasedMentorLeft   = "mentor_left"     // the mentor's data was erased
)

// OnReleased registers f to be told of every assignment ended for a
// reason above, before its request is matched again (the notice to the
// household and the mentor). Call it before serving.
func (s *Service) OnReleased(f func(ctx context.Context, a Assignment, reason string)) {
	s.released = append(s.released, f)
}

// releaseMentor ends every assignment of a mentor and matches their
// requests again. It returns how many requests went back to matching.
func (s *Service) releaseMentor(ctx context.Context, mentorID, reason string) (int, error) {
	as, err := s.st.findAssignments(ctx, where{MentorIDs: []string{mentorID}})
	if err != nil {
		return 0, err
	}
	for i, a := range as {
		if err := s.release(ctx, a, reason); err != nil {
			return i, err
		}
	}
	return len(as), nil
}

// release ends one assignment, tells OnReleased, and matches its request
// again. The assignment goes first, then its slots: a crash in between
// leaves slots that hold capacity nobody uses (SweepSlots frees them),
// never a match without its slots.
func (s *Service) release(ctx context.Context, a Assignment, reason string) error {
	if err := s.st.deleteAssignments(ctx, where{IDs: []string{a.RequestID}, MentorIDs: []string{a.MentorID}}); err != nil {
		return err
	}
	if err := s.st.releaseSlots(ctx, where{RequestIDs: []string{a.RequestID}, MentorIDs: []string{a.MentorID}}); err != nil {
		return err
	}
	for _, f := range s.released {
		f(ctx, a, reason)
	}
	r, _, err := s.st.request(ctx, a.RequestID)
	if errors.Is(err, ErrNotFound) {
		return nil // the request was withdrawn meanwhile
	}
	if err != nil {
		return err
	}
	_, err = s.match(ctx, r)
	return err
}

// keepPromises ends the assignments a mentor's saved profile can no longer
// keep: learners now beyond the mentor's radius (a move, a shorter
// radius), and, when the capacity went below the learners, the newest
// assignments until the rest fit. Their requests are matched again.
func (s *Service) keepPromises(ctx context.Context, m Mentor) (int, error) {
	as, err := s.st.findAssignments(ctx, where{MentorIDs: []string{m.ID}})
	if err != nil || len(as) == 0 {
		return 0, err
	}
	slices.SortFunc(as, func(a, b Assignment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	ids := make([]string, len(as))
	for k, a := range as {
		ids[k] = a.RequestID
	}
	reqs, err := s.st.findRequests(ctx, where{IDs: only(ids)})
	if err != nil {
		return 0, err
	}
	byID := make(map[string]Request, len(reqs))
	for _, r := range reqs {
		byID[r.ID] = r
	}
	type ending struct {
		a      Assignment
		reason string
	}
	var end []ending
	used := 0
	for _, a := range as {
		r, ok := byID[a.RequestID]
		if !ok {
			continue // the request was withdrawn meanwhile
		}
		switch {
		case geo.DistanceKm(r.Cell.Center(), m.Cell.Center()) > m.RadiusKm:
			end = append(end, ending{a, ReleasedOutOfReach})
		case used+a.Learners > m.Capacity:
			end = append(end, ending{a, ReleasedOverCapacity})
		default:
			used += a.Learners
		}
	}
	for i, e := range end {
		if err := s.release(ctx, e.a, e.reason); err != nil {
			return i, err
		}
	}
	return len(end), nil
}

// PauseRelease is how long a pause lasts before a mentor's learners go to
// someone else.
const PauseRelease = 14 * 24 * time.Hour

// ReleasePaused gives the learners of mentors paused for longer than
// PauseRelease back to matching. A background loop calls it.
func (s *Service) ReleasePaused(ctx context.Context) (int, error) {
	paused := true
	ms, err := s.st.findMentors(ctx, where{Paused: &paused, PausedSince: s.now().Add(-PauseRelease)})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, m := range ms {
		n, err := s.releaseMentor(ctx, m.ID, ReleasedPaused)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Name, ExportPerson and ErasePerson make the matcher a data holder of the
// registry: what it keeps about a person goes with their export and erasure.
func (s *Service) Name() string { return "matching" }

// ExportPerson returns a volunteer's assignments, or a household's
// requests and assignments.
func (s *Service) ExportPerson(ctx context.Context, kind, id, _ string) (any, error) {
	switch kind {
	case "volunteer":
		return s.st.findAssignments(ctx, where{MentorIDs: []string{id}})
	case "household":
		rs, err := s.st.findRequests(ctx, where{Households: []string{id}})
		if err != nil {
			return nil, err
		}
		as, err := s.st.findAssignments(ctx, where{Households: []string{id}})
		return map[string]any{"requests": rs, "assignments": as}, err
	}
	return nil, nil
}

// ErasePerson removes a volunteer from the index and frees their learners
// (who are matched again), or a household's requests with their matches.
func (s *Service) ErasePerson(ctx context.Context, kind, id, _ string) error {
	switch kind {
	case "volunteer":
		if err := s.st.deleteMentor(ctx, id); err != nil {
			return err
		}
		_, err := s.releaseMentor(ctx, id, ReleasedMentorLeft)
		return err
	case "household":
		rs, err := s.st.findRequests(ctx, where{Households: []string{id}})
		if err != nil {
			return err
		}
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		freed, err := s.st.findAssignments(ctx, where{IDs: only(ids)})
		if err != nil {
			return err
		}
		if err := s.st.deleteAssignments(ctx, where{IDs: only(ids)}); err != nil {
			return err
		}
		if err := s.st.releaseSlots(ctx, where{RequestIDs: only(ids)}); err != nil {
			return err
		}
		if err := s.st.deleteRequests(ctx, where{IDs: only(ids)}); err != nil {
			return err
		}
		if err := s.st.releaseClaims(ctx, where{Households: []string{id}}); err != nil {
			return err
		}
		// The household's mentors have room again for someone waiting;
		// the erasure is done whether or not that works out now.
		for _, a := range freed {
			_, _ = s.ServeWaiting(ctx, a.MentorID)
		}
		return nil
	}
	return nil
}
