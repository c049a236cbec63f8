package matching

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"daisuso/geo"
	"daisuso/store"
)

// MaxRunRequests bounds one batch run (its proposal is one document).
const MaxRunRequests = 20_000

// Area is what a batch run covers: the waiting requests of some communes,
// or of some cells (of any resolution up to geo.HomeResolution).
type Area struct {
	ScopeID    string // the union node the run was asked for (for access checks)
	CommuneIDs []string
	Cells      []geo.Cell
}

// Run states before a decision.
const (
	RunComputing = "computing"
	RunProposed  = "proposed"
	RunFailed    = "failed"
)

// ErrNotReady: the run is still being computed (or failed).
var ErrNotReady = errors.New("run not ready")

// Run is a batch proposal and what became of it.
type Run struct {
	ID        string
	Area      Area
	CreatedBy string
	CreatedAt time.Time
	Status    string // computing, proposed or failed
	Pairs     []Pair
	Summary   Summary
	Decision  string // "", "applied" or "discarded"
	DecidedBy string
	DecidedAt time.Time
	Applied   int // pairs that became assignments
	Skipped   int // pairs no longer possible when applied (served or full meanwhile)
}

// runTimeout bounds the computation of one proposal.
const runTimeout = 30 * time.Minute

// Propose stores a run of the area as "computing" and computes the optimal
// assignment for its waiting requests in the background (a province can
// take minutes, far past a request's deadline). It waits up to wait for the
// result and returns the run as it then is. Nothing is assigned until Apply.
func (s *Service) Propose(ctx context.Context, area Area, by string, wait time.Duration) (Run, error) {
	if len(area.CommuneIDs) == 0 && len(area.Cells) == 0 {
		return Run{}, fmt.Errorf("propose: empty area: %w", ErrInvalid)
	}
	run := Run{ID: store.NewID("run_"), Area: area, CreatedBy: by, CreatedAt: s.now().UTC().Truncate(time.Millisecond), Status: RunComputing}
	if err := s.st.insertRun(ctx, run); err != nil {
		return Run{}, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), runTimeout)
		defer cancel()
		pairs, sum, err := s.solveArea(bg, area)
		status := RunProposed
		if err != nil {
			status = RunFailed
		}
		if err := s.st.completeRun(bg, run.ID, status, pairs, sum); err != nil {
			return // the run stays "computing"; the admin asks again
		}
	}()
	select {
	case <-done:
	case <-time.After(wait):
	case <-ctx.Done():
	}
	return s.st.run(context.WithoutCancel(ctx), run.ID)
}

// solveArea gathers an area's waiting requests and the mentors who can
// reach them, and solves.
func (s *Service) solveArea(ctx context.Context, area Area) ([]Pair, Summary, error) {
	reqs, err := s.waiting(ctx, area)
	if err != nil {
		return nil, Summary{}, err
	}
	if len(reqs) > MaxRunRequests {
		return nil, Summary{}, fmt.Errorf("propose: %d waiting requests, more than %d: %w", len(reqs), MaxRunRequests, ErrInvalid)
	}
	// Mentors who can reach any of them: the index walk around each
	// request's resolution-7 cell, merged.
	k := geo.RingsFor(MaxRadiusKm, 7)
	centres, seen := map[geo.Cell]bool{}, map[geo.Cell]bool{}
	var cells []geo.Cell
	for _, r := range reqs {
		c, _ := r.Cell.Parent(7)
		if centres[c] {
			continue
		}
		centres[c] = true
		for _, d := range c.Disk(k) {
			if !seen[d] {
				seen[d] = true
				cells = append(cells, d)
			}
		}
	}
	var ms []Mentor
	if len(cells) > 0 {
		if ms, err = s.st.mentorsIn(ctx, 7, cells); err != nil {
			return nil, Summary{}, err
		}
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	slots, err := s.st.usedSlots(ctx, ids)
	if err != nil {
		return nil, Summary{}, err
	}
	used := map[string]int{}
	for id, sl := range slots {
		used[id] = len(sl)
	}
	pairs, sum, err := Solve(reqs, ms, used)
	if err != nil {
		return nil, Summary{}, fmt.Errorf("propose: %w", err)
	}
	if len(area.CommuneIDs) > 0 {
		areaMentors(&sum, area.CommuneIDs, reqs, ms, used, pairs)
	}
	return pairs, sum, nil
}

// areaMentors counts the mentor figures of a summary over the area's own
// mentors: those of neighbouring communes may serve its requests, but a
// commune's report of who is under five is about its volunteers.
func areaMentors(sum *Summary, communes []string, reqs []Request, ms []Mentor, used map[string]int, pairs []Pair) {
	given := map[string]int{}
	for _, p := range pairs {
		given[p.MentorID] += p.Learners
	}
	sum.Mentors, sum.MentorsUnderQuota, sum.MissingSlots = 0, 0, 0
	sum.UnderQuotaWhy = map[string]int{}
	for _, m := range ms {
		if m.Paused || !slices.Contains(communes, m.CommuneID) {
			continue
		}
		sum.Mentors++
		have := used[m.ID] + given[m.ID]
		if have >= Quota {
			continue
		}
		sum.MentorsUnderQuota++
		sum.MissingSlots += Quota - have
		reach := min(m.RadiusKm, MaxRadiusKm)
		if slices.ContainsFunc(reqs, func(r Request) bool { return geo.DistanceKm(r.Cell.Center(), m.Cell.Center()) <= reach }) {
			sum.UnderQuotaWhy[WhyTooFewInReach]++
		} else {
			sum.UnderQuotaWhy[WhyNoLearnerInReach]++
		}
	}
}

// waiting returns the requests of an area that have no assignment.
func (s *Service) waiting(ctx context.Context, area Area) ([]Request, error) {
	var filter where
	if len(area.CommuneIDs) > 0 {
		filter = where{Communes: area.CommuneIDs}
	} else {
		var c7 []string
		for _, c := range area.Cells {
			p, err := c.Parent(min(7, c.Resolution()))
			if err != nil {
				return nil, err
			}
			c7 = append(c7, p.String())
		}
		filter = where{Cell7s: only(c7)}
	}
	all, err := s.st.findRequests(ctx, filter)
	if err != nil {
		return nil, err
	}
	if len(area.Cells) > 0 {
		all = inCells(all, area.Cells)
	}
	return s.unserved(ctx, all)
}

// unserved keeps the requests of all that have no assignment.
func (s *Service) unserved(ctx context.Context, all []Request) ([]Request, error) {
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	served, err := s.st.findAssignments(ctx, where{IDs: only(ids)})
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, a := range served {
		done[a.RequestID] = true
	}
	var out []Request
	for _, r := range all {
		if !done[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

func inCells(reqs []Request, cells []geo.Cell) []Request {
	var out []Request
	for _, r := range reqs {
		for _, c := range cells {
			if p, err := r.Cell.Parent(c.Resolution()); err == nil && p == c {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Run returns a run with its decision.
func (s *Service) Run(ctx context.Context, id string) (Run, error) { return s.st.run(ctx, id) }

// Apply turns a proposal into assignments. The decision is an insert-only
// document (first decision wins); each pair is reserved like an online
// match, so pairs that online matching made impossible meanwhile are
// skipped, never over-assigned. Applying twice returns the first result;
// an apply cut short is finished by the next one.
func (s *Service) Apply(ctx context.Context, id, by string) (Run, error) {
	run, err := s.st.run(ctx, id)
	if err != nil {
		return Run{}, err
	}
	if run.Status != RunProposed {
		return Run{}, ErrNotReady
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.st.decide(ctx, id, "applied", by, now); err != nil {
		if !errors.Is(err, ErrDecided) {
			return Run{}, err
		}
		if run.Decision != "applied" {
			return Run{}, ErrDecided
		}
		if run.Applied+run.Skipped == len(run.Pairs) {
			return run, nil
		}
	}
	st, err := s.runState(ctx, run)
	if err != nil {
		return Run{}, err
	}
	byID, mentors, source, used := st.requests, st.mentors, st.source, st.used
	applied, skipped := 0, 0
	for _, p := range run.Pairs {
		r, okR := byID[p.RequestID]
		m, okM := mentors[p.MentorID]
		if !okR || !okM || m.Paused {
			skipped++
			continue
		}
		if src, ok := source[r.ID]; ok {
			if src == "run:"+id {
				applied++ // done by an earlier apply of this run
			} else {
				skipped++
			}
			continue
		}
		c := candidate{m: m, distKm: p.DistanceKm, used: used[m.ID], language: r.Language != "" && slices.Contains(m.Languages, r.Language)}
		if c.free() < r.Learners {
			skipped++
			continue
		}
		a, ok, err := s.reserve(ctx, r, c, MaxRadiusKm, "run:"+id)
		if err != nil {
			return Run{}, err
		}
		if ok {
			used[m.ID] = append(used[m.ID], a.Slots...)
			applied++
		} else {
			skipped++
		}
	}
	if err := s.st.recordApply(ctx, id, applied, skipped); err != nil {
		return Run{}, err
	}
	return s.st.run(ctx, id)
}

// runState is what applying a run reads once: its requests and mentors,
// the requests served already (by their source) and the slots in use.
type runState struct {
	requests map[string]Request
	mentors  map[string]Mentor
	source   map[string]string
	used     map[string][]int
}

func (s *Service) runState(ctx context.Context, run Run) (runState, error) {
	st := runState{requests: map[string]Request{}, mentors: map[string]Mentor{}, source: map[string]string{}}
	reqIDs := make([]string, len(run.Pairs))
	mentorIDs := make([]string, 0, len(run.Pairs))
	for i, p := range run.Pairs {
		reqIDs[i] = p.RequestID
		mentorIDs = append(mentorIDs, p.MentorID)
	}
	reqs, err := s.st.findRequests(ctx, where{IDs: only(reqIDs)})
	if err != nil {
		return runState{}, err
	}
	for _, r := range reqs {
		st.requests[r.ID] = r
	}
	ms, err := s.st.findMentors(ctx, where{IDs: only(mentorIDs)})
	if err != nil {
		return runState{}, err
	}
	for _, m := range ms {
		st.mentors[m.ID] = m
	}
	// What is served and which slots are taken, read once: a slot an online
	// match takes meanwhile is still refused by its unique _id in reserve.
	served, err := s.st.findAssignments(ctx, where{IDs: only(reqIDs)})
	if err != nil {
		return runState{}, err
	}
	for _, a := range served {
		st.source[a.RequestID] = a.Source
	}
	st.used, err = s.st.usedSlots(ctx, mentorIDs)
	if err != nil {
		return runState{}, err
	}
	return st, nil
}

// Discard drops a proposal; a run applied already cannot be discarded.
func (s *Service) Discard(ctx context.Context, id, by string) (Run, error) {
	run, err := s.st.run(ctx, id)
	if err != nil {
		return Run{}, err
	}
	if err := s.st.decide(ctx, id, "discarded", by, s.now().UTC().Truncate(time.Millisecond)); err != nil {
		if errors.Is(err, ErrDecided) && run.Decision == "discarded" {
			return run, nil
		}
		return Run{}, err
	}
	return s.st.run(ctx, id)
}
