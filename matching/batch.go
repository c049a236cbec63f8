package matching

import (
	"slices"
	"time"
)

// Pair is one match of a batch solution.
type Pair struct {
	RequestID  string
	MentorID   string
	Learners   int
	DistanceKm float64
}

// Summary describes a batch solution.
type Summary struct {
	Requests, Learners             int
	ServedRequests, ServedLearners int
	// UnservedLearners by reason: no mentor in reach, none speaking the
	// language, or all in reach full.
	UnservedLearners map[string]int
	Mentors          int
	// MentorsUnderQuota are mentors left below five learners, with the
	// slots missing to five, and why: no learner in reach at all, or too
	// few learners in reach.
	MentorsUnderQuota int
	MissingSlots      int
	UnderQuotaWhy     map[string]int
	TotalDistanceKm   float64
	MeanDistanceKm    float64
	// GapBoundKm bounds how much shorter in total the optimum's distance
	// can be than this solution's (0: this is the optimum); see SolveWithin.
	GapBoundKm float64
	Took       time.Duration
}

// Why a mentor stays under five.
const (
	WhyNoLearnerInReach = "no_learner_in_reach"
	WhyTooFewInReach    = "too_few_learners_in_reach"
)

// Solve computes an assignment optimal for the rule: the most learners
// served, then the fewest missing slots below five, then the least total
// distance (in whole metres), over requests and mentors' free capacity
// (used: slots in use per mentor). A request goes whole to one mentor; a
// request of several learners that the flow splits is given to the mentor
// that carries most of it if that mentor has the room, otherwise to any
// candidate with room, otherwise it stays unserved, so the optimum is exact
// for single-learner requests and nearly so otherwise.
//
// The network is built between groups of requests and of mentors that
// the rule cannot tell apart (see problem), with every pair in reach
// (within the mentor's radius and MaxRadiusKm, the mentor not paused and
// speaking the language if it is required): a province's 100,000 requests
// and 20,000 mentors give one to two million pairs. Its flow is shared
// out to the groups' members afterwards (readBack). The rule is solved in
// its order:
//
//  1. The most learners served (S) and, first, the most slots missing to
//     five that can be filled (Q) are maximum flows, request group ->
//     mentor group -> sink, with the mentors' slots missing to five, then
//     also the rest of their free capacity, into the sink (maxFlow). No
//     augmenting path takes flow off a slot missing to five, so the flow
//     that serves S still fills Q: both are the rule's optimum.
//  2. The distance is then a minimum-cost flow with costs in metres and
//     nothing else: mentor groups send their slots missing to five to a
//     node that takes exactly Q, the rest of their room to one that takes
//     S - Q, and requests send what is left unserved to one that takes
//     the rest. Every flow of that network serves S and fills Q, and every
//     assignment that does maps to one of its flows, so its cheapest flow
//     is the rule's optimum (csNet, by cost scaling).
//
// No weight stands for "more important than any distance", so the costs
// span 0-15,000 and the scaling takes few rounds.
func Solve(reqs []Request, mentors []Mentor, used map[string]int) ([]Pair, Summary, error) {
	return SolveWithin(reqs, mentors, used, 0)
}

// SolveWithin is Solve allowed to stop the cost scaling early, once the
// duality gap proves the distance within tol (a fraction: 0.005 is 0.5%)
// of the optimum's; the bound is reported as Summary.GapBoundKm. Learners
// served and slots missing are the optimum's whatever tol (they are fixed
// before the distance is), and every flow the scaling holds between its
// rounds meets them.
//
// The gap: for any prices p, every flow y that meets the supplies costs
// Σ c_p(e)·y(e) - Σ p(v)·b(v), which is at least Σ cap(e)·min(0, c_p(e))
// - Σ p(v)·b(v) (LP duality); the flow found costs that bound plus the gap.
//
// An error means a defect of the solver (supplies its maximum flows found
// feasible that the cost scaling could not meet), not of the input.
func SolveWithin(reqs []Request, mentors []Mentor, used map[string]int, tol float64) ([]Pair, Summary, error) {
	start := time.Now()
	sum, active := startSummary(reqs, mentors)
	p := group(reqs, active, used)
	flows, reach, gapMetres, _, err := p.solve(tol, &sum)
	if err != nil {
		return nil, Summary{}, err
	}
	pairs := p.readBack(flows, reach, &sum)
	if tol > 0 {
		sum.GapBoundKm = gapMetres / 1000
	}
	sum.Took = time.Since(start)
	return pairs, sum, nil
}

// solve computes the flow between groups (see Solve), counts the learners
// no mentor can reach or speaks to in sum, and returns the flow of each
// request group to each mentor group in reach, whether any request was in
// each mentor group's reach, the gap bound in metres (when tol > 0) and
// the cost scaling's work.
func (p *problem) solve(tol float64, sum *Summary) ([][]candFlow, []bool, float64, csStats, error) {
	rg, mg := p.rg, p.mg
	idx := newReachIndex(mg)
	nR, nM := len(rg), len(mg)

	// Every pair in reach, request group by request group.
	type pair struct {
		j      int32
		metres int64
	}
	cands := make([][]pair, nR)
	reach := make([]bool, nM)
	var total int64 // learners with some mentor in reach
	npairs := 0
	for i := range rg {
		r := &rg[i]
		c := r.cell.Center()
		anyInReach, speaks := false, false
		idx.visit(c, func(j int32, _ float64) {
			anyInReach = true
			reach[j] = true
			if r.language != "" && !slices.Contains(mg[j].languages, r.language) {
				return
			}
			speaks = true
			if mg[j].free > 0 {
				cands[i] = append(cands[i], pair{j: j, metres: idx.metres(c, j)})
			}
		})
		sum.Learners += r.supply()
		switch {
		case len(cands[i]) > 0:
			total += int64(r.supply())
			npairs += len(cands[i])
		case speaks:
			sum.UnservedLearners[ReasonAllFull] += r.supply()
		case anyInReach:
			sum.UnservedLearners[ReasonNoLanguage] += r.supply()
		default:
			sum.UnservedLearners[ReasonNoMentor] += r.supply()
		}
	}
	flows := make([][]candFlow, nR)
	if total == 0 {
		return flows, reach, 0, csStats{}, nil
	}

	// 1. The most slots missing to five filled, then the most learners
	// served: request groups 0..nR-1, mentor groups nR..nR+nM-1, s, t.
	s, t := nR+nM, nR+nM+1
	es := makeEdges(nR + npairs + 2*nM)
	for i := range rg {
		if len(cands[i]) > 0 {
			es.add(s, i, int32(rg[i].supply()))
			for _, c := range cands[i] {
				es.add(i, nR+int(c.j), int32(rg[i].supply()))
			}
		}
	}
	rest := make([]int, nM) // each mentor group's edge of room beyond five
	for j, m := range mg {
		es.add(nR+j, t, int32(m.deficit))
		rest[j] = es.add(nR+j, t, 0)
	}
	mf := newMaxFlow(es.layOut(t + 1))
	quota := mf.run(int32(s), int32(t))
	for j, m := range mg {
		mf.rcap[mf.fwd[rest[j]]] = int32(m.free - m.deficit)
	}
	served := quota + mf.run(int32(s), int32(t))

	// 2. The least distance that serves as many and fills as many: the
	// three nodes after the mentor groups take the slots missing to five,
	// the rest of the room and the learners left unserved.
	toQuota, toRest, toUnserved := nR+nM, nR+nM+1, nR+nM+2
	g := newCSNet(nR+nM+3, npairs+2*nM+nR)
	firstEdge := make([]int, nR) // a request group's pairs are edges firstEdge[i]+k
	for i := range rg {
		if len(cands[i]) == 0 {
			continue
		}
		sup := rg[i].supply()
		g.supply[i] = int64(sup)
		firstEdge[i] = len(g.ecost)
		for _, c := range cands[i] {
			g.addEdge(i, nR+int(c.j), int32(sup), c.metres)
		}
		if served < total {
			g.addEdge(i, toUnserved, int32(sup), 0)
		}
	}
	for j, m := range mg {
		if m.deficit > 0 && quota > 0 {
			g.addEdge(nR+j, toQuota, int32(m.deficit), 0)
		}
		if m.free > m.deficit && served > quota {
			g.addEdge(nR+j, toRest, int32(m.free-m.deficit), 0)
		}
	}
	g.supply[toQuota] = -quota
	g.supply[toRest] = -(served - quota)
	g.supply[toUnserved] = -(total - served)
	var gap float64
	var done func() bool
	if tol > 0 {
		done = func() bool {
			c := g.totalCost()
			gap = float64(c) - g.lowerBound()
			return gap <= tol*float64(c)
		}
	}
	if err := g.solve(done); err != nil {
		return nil, nil, 0, g.stats, err
	}

	// The pairs with flow; households keep the others too, for readBack to
	// try when the flow split one.
	for i := range rg {
		if len(cands[i]) == 0 {
			continue // nil: counted unserved above
		}
		flows[i] = []candFlow{}
		for k, c := range cands[i] {
			if fl := g.flow(firstEdge[i] + k); fl > 0 || rg[i].learners > 1 {
				flows[i] = append(flows[i], candFlow{j: int(c.j), km: float64(c.metres) / 1000, flow: int(fl)})
			}
		}
	}
	return flows, reach, gap, g.stats, nil
}

// startSummary begins the summary of a solve and returns the mentors who
// are not paused, the only ones a solve considers.
func startSummary(reqs []Request, mentors []Mentor) (Summary, []Mentor) {
	sum := Summary{Requests: len(reqs), UnservedLearners: map[string]int{}, UnderQuotaWhy: map[string]int{}}
	var active []Mentor
	for _, m := range mentors {
		if !m.Paused {
			active = append(active, m)
		}
	}
	sum.Mentors = len(active)
	return sum, active
}
