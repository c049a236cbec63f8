package matching

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/geo"
	"daisuso/store"
)

// Service matches requests with mentors.
type Service struct {
	st       *mongoStore
	now      func() time.Time
	assigned []func(context.Context, Assignment)
	queued   []func(context.Context, Request)
	released []func(context.Context, Assignment, string)
}

// OnAssigned registers f to be told of every assignment made, online or by
// an applied run (new-match reminders). Call it before serving.
func (s *Service) OnAssigned(f func(context.Context, Assignment)) { s.assigned = append(s.assigned, f) }

// OnQueued registers f to be told of every request that went to the
// commune queue unserved. Call it before serving.
func (s *Service) OnQueued(f func(context.Context, Request)) { s.queued = append(s.queued, f) }

// New returns a Service keeping its data in cfg.DB.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: newMongoStore(cfg.DB, newView(viewTTL, slotsTTL)), now: now}
}

// Config is what matching is built on.
type Config struct {
	DB  *mongo.Database
	Now func() time.Time // nil: time.Now
}

// EnsureIndexes creates matching's indexes.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.st.ensureIndexes(ctx) }

// SaveMentor puts a volunteer into the index, or updates it. A mentor who
// is paused stays in the index (their learners stay theirs until the pause
// has lasted long enough; see ReleasePaused) but takes no one new. A
// change that breaks promises made (learners now out of reach, a capacity
// below the learners) releases those learners for a new match, with
// notice (keepPromises, OnReleased).
func (s *Service) SaveMentor(ctx context.Context, m Mentor) error {
	if !m.Cell.Valid() || m.ID == "" {
		return fmt.Errorf("save mentor: %w", ErrInvalid)
	}
	prev, err := s.st.mentor(ctx, m.ID)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return err
	}
	if err := s.st.upsertMentor(ctx, m); err != nil {
		return err
	}
	moved := prev.Cell != m.Cell
	if !isNew && (moved || m.RadiusKm < prev.RadiusKm || m.Capacity < prev.Capacity) {
		if _, err := s.keepPromises(ctx, m); err != nil {
			return err
		}
	}
	// A new, resumed, moved or larger mentor, or one who speaks more, may
	// have room for someone waiting nearby; an edit of anything else
	// (a name, topics) changes nothing for them.
	if !m.Paused && (isNew || prev.Paused || moved || m.RadiusKm > prev.RadiusKm || m.Capacity > prev.Capacity ||
		!slices.Equal(m.Languages, prev.Languages)) {
		if _, err := s.ServeWaiting(ctx, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// candidate is a mentor within reach of a request, with what ranking needs.
type candidate struct {
	m        Mentor
	distKm   float64
	used     []int
	language bool // speaks the request's language
}

func (c candidate) free() int { return c.m.Capacity - len(c.used) }

// Submit stores a request and matches it at once. Each learner is in one
// open request at a time: when all of r's learners are in an open request
// of the household already, that one is returned (Existing) and nothing is
// written; when some are, an *OpenRequestError names it.
func (s *Service) Submit(ctx context.Context, r Request) (Outcome, error) {
	if len(r.Members) == 0 {
		for i := range r.Learners {
			r.Members = append(r.Members, i)
		}
	}
	r.Members = slices.Clone(r.Members)
	slices.Sort(r.Members)
	r.Learners = len(r.Members)
	if r.Learners < 1 || r.Learners > 20 || r.Members[0] < 0 || len(slices.Compact(slices.Clone(r.Members))) != r.Learners ||
		r.HouseholdID == "" || !r.Cell.Valid() || r.RadiusKm <= 0 || r.RadiusKm > MaxRadiusKm {
		return Outcome{}, ErrInvalid
	}
	if r.ID == "" {
		r.ID = store.NewID("rq_")
	}
	r.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	if prior, err := s.claim(ctx, r); prior != nil || err != nil {
		if prior != nil {
			return *prior, nil
		}
		return Outcome{}, err
	}
	err := s.st.insertRequest(ctx, r)
	if errors.Is(err, store.ErrDuplicate) {
		return s.resume(ctx, r)
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("submit request: %w", err)
	}
	return s.match(ctx, r)
}

// claimGrace is how old a claim whose request was never written must be
// before it is taken to be left by a try that died between the two writes
// (a write takes milliseconds; a retry with the same id takes it over at
// once).
const claimGrace = time.Minute

// claim takes r's members for r before r is written, one at a time in
// ascending order: two requests for overlapping members meet on the first
// member they share, so one of them holds them all, never each a part. A
// member held by another request ends it: the claims taken here are given
// back, and the other request is returned when it is the household's open
// request for all of r's members, else named in an *OpenRequestError.
func (s *Service) claim(ctx context.Context, r Request) (*Outcome, error) {
	var held []int
	giveBack := func() error {
		ids := make([]string, len(held))
		for k, i := range held {
			ids[k] = claimID(r.HouseholdID, i)
		}
		return s.st.releaseClaims(context.WithoutCancel(ctx),
			where{IDs: only(ids), RequestIDs: []string{r.ID}})
	}
	for _, i := range r.Members {
		c, err := s.st.claimMember(ctx, r.HouseholdID, i, r.ID, r.CreatedAt)
		if err == nil && c.RequestID != r.ID {
			var prior *Outcome
			prior, err = s.heldBy(ctx, r, c)
			if err == nil && prior == nil {
				c, err = s.st.claimMember(ctx, r.HouseholdID, i, r.ID, r.CreatedAt)
				if err == nil && c.RequestID != r.ID {
					err = &OpenRequestError{RequestID: c.RequestID, Members: []int{i}}
				}
			} else if prior != nil {
				if gerr := giveBack(); gerr != nil {
					return nil, gerr
				}
				return prior, nil
			}
		}
		if err != nil {
			if gerr := giveBack(); gerr != nil {
				return nil, errors.Join(err, gerr)
			}
			return nil, err
		}
		held = append(held, i)
	}
	return nil, nil
}

// heldBy says what to answer r with when claim c of another request holds
// one of its members: that request when it is open for all of r's members,
// an *OpenRequestError naming it when it is open for some, and nil (with
// the claim removed) when the claim is a dead try's.
func (s *Service) heldBy(ctx context.Context, r Request, c claimDoc) (*Outcome, error) {
	prior, err := s.Outcome(ctx, c.RequestID)
	if errors.Is(err, ErrNotFound) {
		if s.now().Sub(c.CreatedAt) < claimGrace {
			return nil, &OpenRequestError{RequestID: c.RequestID, Members: r.Members}
		}
		return nil, s.st.releaseClaims(ctx, where{IDs: []string{c.ID}, RequestIDs: []string{c.RequestID}})
	}
	if err != nil {
		return nil, err
	}
	var shared []int
	for _, i := range r.Members {
		if slices.Contains(prior.Request.Members, i) {
			shared = append(shared, i)
		}
	}
	if prior.Request.HouseholdID == r.HouseholdID && len(shared) == len(r.Members) {
		prior.Existing = true
		return &prior, nil
	}
	return nil, &OpenRequestError{RequestID: c.RequestID, Members: shared}
}

// resume answers a request submitted again under the id it was given the
// first time (a retry whose first try was cut off, say by a store outage
// after the request was written): the request is not written twice, and
// one that was never matched nor noted unserved is matched now.
func (s *Service) resume(ctx context.Context, r Request) (Outcome, error) {
	prior, err := s.Outcome(ctx, r.ID)
	if err != nil {
		return Outcome{}, err
	}
	if prior.Request.HouseholdID != r.HouseholdID {
		return Outcome{}, ErrIDReused
	}
	if prior.State == StateMatched || prior.Unserved.TriedRadiiKm != nil {
		return prior, nil
	}
	// The first try may have died holding slots it could not give back.
	if err := s.st.releaseSlots(ctx, where{RequestIDs: []string{r.ID}}); err != nil {
		return Outcome{}, err
	}
	return s.match(ctx, prior.Request)
}

// SweepSlots frees capacity slots taken more than grace ago by a request
// that has no assignment to that mentor: a reservation that died between
// taking its slots and writing its assignment (a store outage, a crash)
// and was never retried. grace must be longer than any reservation takes.
func (s *Service) SweepSlots(ctx context.Context, grace time.Duration) (int, error) {
	old, err := s.st.slotsTakenBefore(ctx, s.now().Add(-grace))
	if err != nil {
		return 0, err
	}
	byRequest := map[string][]slotDoc{}
	for _, d := range old {
		byRequest[d.RequestID] = append(byRequest[d.RequestID], d)
	}
	freed := 0
	for req, slots := range byRequest {
		as, err := s.st.findAssignments(ctx, where{IDs: []string{req}})
		if err != nil {
			return freed, err
		}
		var ids []string
		for _, d := range slots {
			if len(as) == 0 || as[0].MentorID != d.MentorID || !slices.Contains(as[0].Slots, d.Index) {
				ids = append(ids, d.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if err := s.st.releaseSlots(ctx, where{IDs: only(ids), RequestIDs: []string{req}}); err != nil {
			return freed, err
		}
		freed += len(ids)
	}
	return freed, nil
}

// match serves r online: it widens the search radius in steps up to 15 km
// and takes, at the first radius where anyone can serve, the best mentor by
// the rule: one below five learners first (fewer missing slots), then the
// nearest; shared language and topics break ties. Capacity is reserved by
// inserting slot documents, so concurrent requests never over-assign.
func (s *Service) match(ctx context.Context, r Request) (Outcome, error) {
	var tried []float64
	var last Unserved
	// From the view first; the request is given up only after a pass on a
	// fresh read.
	for _, fresh := range []bool{false, true} {
		tried = tried[:0]
		for _, radius := range radii(r.RadiusKm) {
			tried = append(tried, radius)
			cands, err := s.candidates(ctx, r, radius, fresh)
			if err != nil {
				return Outcome{}, err
			}
			last = unservedOf(r, cands)
			a, ok, err := s.serve(ctx, r, cands, radius, !fresh)
			if err != nil {
				return Outcome{}, err
			}
			if ok {
				return Outcome{Request: r, State: StateMatched, Assignment: &a}, nil
			}
		}
	}
	last.TriedRadiiKm, last.NextStep = tried, NextStepCommune
	if err := s.st.noteUnserved(ctx, r.ID, last); err != nil {
		return Outcome{}, err
	}
	for _, f := range s.queued {
		f(ctx, r)
	}
	return Outcome{Request: r, State: StateWaiting, Unserved: &last}, nil
}

// serve gives r to the best of cands that has room, checking each against
// the store first when they come from the view.
func (s *Service) serve(ctx context.Context, r Request, cands []candidate, radius float64, fromView bool) (Assignment, bool, error) {
	for _, c := range rankOnline(r, cands) {
		if fromView {
			now, ok, err := s.current(ctx, c)
			if err != nil {
				return Assignment{}, false, err
			}
			if !ok || now.free() < r.Learners {
				continue
			}
			c = now
		}
		a, ok, err := s.reserve(ctx, r, c, radius, "online")
		if err != nil || ok {
			return a, ok, err
		}
	}
	return Assignment{}, false, nil
}

// radii is the request's own radius, then the wider steps up to 15 km.
func radii(own float64) []float64 {
	out := []float64{own}
	for _, w := range WideningKm {
		if w > own {
			out = append(out, w)
		}
	}
	return out
}

// candidates finds the mentors who could serve r within radius: the disk of
// rings around r's cell from the index, then the exact rule (within both
// radii, not paused). Capacity in use is read with them, the slots being
// taken here counted as in use. Unless fresh, both come from the view
// where it holds them (see view).
func (s *Service) candidates(ctx context.Context, r Request, radius float64, fresh bool) ([]candidate, error) {
	res := geo.IndexResolution(radius)
	centre, err := r.Cell.Parent(res)
	if err != nil {
		return nil, err
	}
	v := s.st.view
	disk := centre.Disk(geo.RingsFor(radius, res))
	var ms []Mentor
	missing := disk
	if !fresh {
		ms, missing = v.mentorsOf(res, disk, time.Now())
	}
	if len(missing) > 0 {
		mEpoch, _ := v.epochs()
		read, err := s.st.mentorsIn(ctx, res, missing)
		if err != nil {
			return nil, err
		}
		v.putMentors(res, missing, read, mEpoch, time.Now())
		ms = append(ms, read...)
	}
	var out []candidate
	rc := r.Cell.Center()
	for _, m := range ms {
		d := geo.DistanceKm(rc, m.Cell.Center())
		if m.Paused || d > radius || d > m.RadiusKm {
			continue
		}
		out = append(out, candidate{m: m, distKm: d, language: slices.Contains(m.Languages, r.Language)})
	}
	ids := make([]string, len(out))
	for i, c := range out {
		ids[i] = c.m.ID
	}
	used := map[string][]int{}
	ask := ids
	if !fresh {
		ask = v.usedOf(ids, used, time.Now())
	}
	if len(ask) > 0 {
		_, sEpoch := v.epochs()
		read, err := s.st.usedSlots(ctx, ask)
		if err != nil {
			return nil, err
		}
		for _, id := range ask {
			used[id] = read[id]
		}
		v.putUsed(ask, used, sEpoch, time.Now())
	}
	for i := range out {
		out[i].used = used[out[i].m.ID]
	}
	return out, nil
}

// current checks a mentor the view offered against the store: false if
// they are gone, paused, moved, or changed their radius or languages since
// (the view is then emptied of mentors), else c with their capacity as it
// is now.
func (s *Service) current(ctx context.Context, c candidate) (candidate, bool, error) {
	m, err := s.st.mentor(ctx, c.m.ID)
	if errors.Is(err, ErrNotFound) {
		s.st.view.forgetMentors()
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if m.Paused || m.Cell != c.m.Cell || m.RadiusKm != c.m.RadiusKm || !slices.Equal(m.Languages, c.m.Languages) {
		s.st.view.forgetMentors()
		return c, false, nil
	}
	c.m = m
	return c, true, nil
}

// unservedOf says why none of cands can serve r.
func unservedOf(r Request, cands []candidate) Unserved {
	u := Unserved{MentorsInReach: len(cands), Reason: ReasonNoMentor}
	if len(cands) == 0 {
		return u
	}
	u.Reason = ReasonAllFull
	if r.LanguageRequired && !slices.ContainsFunc(cands, func(c candidate) bool { return c.language }) {
		u.Reason = ReasonNoLanguage
	}
	return u
}

// rankOnline orders the mentors who can serve r, best first.
func rankOnline(r Request, cands []candidate) []candidate {
	var ok []candidate
	for _, c := range cands {
		if c.free() >= r.Learners && (!r.LanguageRequired || c.language) {
			ok = append(ok, c)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		a, b := ok[i], ok[j]
		if under(a) != under(b) {
			return under(a)
		}
		// Within 500 m, prefer a shared language, then more topics.
		if math.Abs(a.distKm-b.distKm) > 0.5 {
			return a.distKm < b.distKm
		}
		if a.language != b.language {
			return a.language
		}
		if ca, cb := len(covered(r.Topics, a.m.Topics)), len(covered(r.Topics, b.m.Topics)); ca != cb {
			return ca > cb
		}
		if a.distKm != b.distKm {
			return a.distKm < b.distKm
		}
		return a.m.ID < b.m.ID
	})
	return ok
}

func under(c candidate) bool { return len(c.used) < Quota }

func covered(want, has []string) []string {
	var out []string
	for _, t := range want {
		if slices.Contains(has, t) {
			out = append(out, t)
		}
	}
	return out
}

// reserve takes r.Learners free slots of c's mentor and records the
// assignment. It reports false when the places went to someone else first;
// slots it took are then given back.
func (s *Service) reserve(ctx context.Context, r Request, c candidate, radius float64, source string) (Assignment, bool, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	var taken, tried []int
	giveBack := func() {
		if len(tried) == 0 {
			return
		}
		ids := make([]string, len(tried))
		for i, t := range tried {
			ids[i] = slotID(c.m.ID, t)
		}
		// Only this request's own are deleted; the view learns that those
		// it got are free again, and keeps the rest of what it holds.
		err := s.st.deleteSlots(context.WithoutCancel(ctx), where{IDs: only(ids), RequestIDs: []string{r.ID}})
		if err != nil {
			s.st.view.forgetSlots()
			return
		}
		s.st.view.freed(c.m.ID, taken)
	}
	// The slots a request needs go in one insert; those another request
	// got first are refused one by one, and the next free ones are tried.
	for i := 0; i < c.m.Capacity && len(taken) < r.Learners; {
		var try []int
		for ; i < c.m.Capacity && len(taken)+len(try) < r.Learners; i++ {
			// A slot another request here is taking is skipped like one in use.
			if !slices.Contains(c.used, i) && s.st.view.hold(c.m.ID, i) {
				try = append(try, i)
			}
		}
		if len(try) == 0 {
			break
		}
		tried = append(tried, try...)
		got, err := s.st.takeSlots(ctx, c.m.ID, try, r.ID, now)
		for k, i := range try {
			s.st.view.settle(c.m.ID, i, err == nil)
			if err == nil && got[k] {
				taken = append(taken, i)
			}
		}
		if err != nil {
			// Which of them were written is not known: give back all tried.
			giveBack()
			return Assignment{}, false, err
		}
	}
	if len(taken) < r.Learners {
		giveBack()
		return Assignment{}, false, nil
	}
	a := Assignment{RequestID: r.ID, MentorID: c.m.ID, HouseholdID: r.HouseholdID, CommuneID: r.CommuneID,
		Learners: r.Learners, DistanceKm: c.distKm, Slots: taken, Source: source, CreatedAt: now,
		Explanation: explain(r, c, radius)}
	if err := s.st.insertAssignment(ctx, a); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			// Served meanwhile (a retry, or a batch applied): keep that one.
			giveBack()
			return Assignment{}, false, nil
		}
		// Whether the store wrote the assignment is not known, so its
		// slots stay: given back, they could go to another request while
		// this one holds the assignment. A retry of the request finds the
		// assignment or frees them (resume); SweepSlots frees those of a
		// request never retried.
		return Assignment{}, false, err
	}
	for _, f := range s.assigned {
		f(ctx, a)
	}
	return a, true, nil
}

func explain(r Request, c candidate, radius float64) Explanation {
	e := Explanation{DistanceKm: math.Round(c.distKm*10) / 10, SearchRadiusKm: radius,
		LanguageRequired: r.LanguageRequired, TopicsCovered: covered(r.Topics, c.m.Topics),
		MentorNeededLearners: max(0, Quota-len(c.used))}
	if a, err := r.Cell.Parent(8); err == nil {
		if b, err := c.m.Cell.Parent(8); err == nil {
			e.Rings = a.Rings(b)
		}
	}
	for _, t := range r.Topics {
		if !slices.Contains(e.TopicsCovered, t) {
			e.TopicsMissing = append(e.TopicsMissing, t)
		}
	}
	if c.language {
		e.SharedLanguage = r.Language
	} else if slices.Contains(c.m.Languages, "vi") && !r.LanguageRequired {
		e.SharedLanguage = "vi"
	}
	return e
}
