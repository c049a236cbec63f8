package sessions

import (
	"context"
	"time"
)

// UnitWork is what a commune's or a branch's confirmed sessions held in a
// window did: the figures a technology team's targets are measured by and
// the outcomes the plan monitors.
type UnitWork struct {
	Sessions int // confirmed sessions held
	People   int // distinct learners in them ("people supported")
	// Outcomes are the learners with each outcome recorded, by code: an
	// account is activated once, however often a session records it.
	Outcomes map[string]int
}

// Problems is how many problems the sessions solved: each outcome of a
// learner is one thing they can now do on their own phone (VNeID
// activated, e-payment set up, a first online service, a scam lesson),
// counted once per learner.
func (w UnitWork) Problems() int {
	n := 0
	for _, c := range w.Outcomes {
		n += c
	}
	return n
}

// Value is the figure of a team target kind (people.TeamTargetKinds).
func (w UnitWork) Value(kind string) int {
	switch kind {
	case "people_supported":
		return w.People
	case "sessions":
		return w.Sessions
	case "problems_solved":
		return w.Problems()
	}
	return w.Outcomes[kind] // vneid_activated, epayment_setup
}

// WorkByUnit sums the confirmed sessions of the communes held in [from,
// to) (to zero: up to now), per commune and per mentor's branch.
func (s *Service) WorkByUnit(ctx context.Context, communes []string, from, to time.Time) (byCommune, byBranch map[string]*UnitWork, err error) {
	byCommune, byBranch = map[string]*UnitWork{}, map[string]*UnitWork{}
	if len(communes) == 0 {
		return byCommune, byBranch, nil
	}
	list, err := s.st.confirmedIn(ctx, communes, from, to, true)
	if err != nil {
		return nil, nil, err
	}
	people, done := map[*UnitWork]map[string]bool{}, map[*UnitWork]map[string]bool{}
	of := func(m map[string]*UnitWork, id string) *UnitWork {
		if m[id] == nil {
			m[id] = &UnitWork{Outcomes: map[string]int{}}
			people[m[id]], done[m[id]] = map[string]bool{}, map[string]bool{}
		}
		return m[id]
	}
	for _, sess := range list {
		if sess.CheckIn == nil {
			continue
		}
		for _, w := range []*UnitWork{of(byCommune, sess.CommuneID), of(byBranch, sess.BranchID)} {
			w.Sessions++
			for _, r := range sess.CheckIn.Results {
				l := Learner{HouseholdID: r.HouseholdID, Member: r.Member}.Key()
				people[w][l] = true
				for _, o := range r.Outcomes {
					if !done[w][l+"#"+o] {
						done[w][l+"#"+o] = true
						w.Outcomes[o]++
					}
				}
			}
		}
	}
	for w, seen := range people {
		w.People = len(seen)
	}
	return byCommune, byBranch, nil
}
