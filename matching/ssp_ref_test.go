package matching

import (
	"math"
	"slices"
	"time"

	"daisuso/geo"
)

// A successive-shortest-paths solver over every pair in reach at once,
// without the reach index, hubs or pricing of Solve, kept as an
// independent reference for the tests.

// refQuotaWeight makes one learner more for a mentor below five worth more
// than any saving of distance: it exceeds the largest possible total
// distance in metres (15 km for each of up to 10^5 learners would be
// 1.5·10^9). Costs are in metres.
const refQuotaWeight = 2_000_000_000

// refUnservedCost is the cost of the arc that leaves a learner unserved: more
// than any augmenting path can cost or save (one quota arc, 2e9, plus
// distances of at most 3e9 along a simple path), and small enough that
// 10^5 of them fit in an int64.
const refUnservedCost = 1_000_000_000_000

// solveSSP is the rule's optimum by successive shortest paths over every
// pair in reach at once, found through the H3 disk as the online matcher
// does: no reach index, no hubs, no pricing.
func solveSSP(reqs []Request, mentors []Mentor, used map[string]int) ([]Pair, Summary) {
	start := time.Now()
	sum, active := startSummary(reqs, mentors)
	res, k, byCell, centres := h3Index(active)
	nR, nM := len(reqs), len(active)
	sink := nR + nM
	type cand struct {
		j    int
		dist float64
		arc  int
	}
	cands := make([][]cand, nR)
	reach := make([]bool, nM)
	arcs := 0
	for i, r := range reqs {
		sum.Learners += r.Learners
		c, _ := r.Cell.Parent(res)
		anyInReach := false
		rc := r.Cell.Center()
		for _, cell := range c.Disk(k) {
			for _, j := range byCell[cell] {
				m := active[j]
				d := geo.DistanceKm(rc, centres[j])
				if d > m.RadiusKm || d > MaxRadiusKm {
					continue
				}
				anyInReach = true
				reach[j] = true
				if r.LanguageRequired && !slices.Contains(m.Languages, r.Language) {
					continue
				}
				cands[i] = append(cands[i], cand{j: j, dist: d})
				arcs++
			}
		}
		switch {
		case len(cands[i]) > 0:
		case anyInReach:
			sum.UnservedLearners[ReasonNoLanguage] += r.Learners
		default:
			sum.UnservedLearners[ReasonNoMentor] += r.Learners
		}
	}
	net := newFlowNet(nR+nM+1, arcs+2*nM+nR)
	for i, r := range reqs {
		for x := range cands[i] {
			cands[i][x].arc = net.addArc(i, nR+cands[i][x].j, int32(r.Learners), int64(math.Round(cands[i][x].dist*1000)))
		}
		if len(cands[i]) > 0 {
			// Leaving a learner unserved costs more than any real path (at
			// most one quota arc and 2·10^5 hops of 15 km), so every
			// supply is routed and the cheapest routing serves the most.
			net.addArc(i, sink, int32(r.Learners), refUnservedCost)
		}
	}
	free := make([]int, nM)
	deficit := make([]int, nM)
	for j, m := range active {
		free[j] = max(0, m.Capacity-used[m.ID])
		deficit[j] = min(free[j], max(0, Quota-used[m.ID]))
		if deficit[j] > 0 {
			net.addArc(nR+j, sink, int32(deficit[j]), -refQuotaWeight)
		}
		if free[j]-deficit[j] > 0 {
			net.addArc(nR+j, sink, int32(free[j]-deficit[j]), 0)
		}
	}
	// Feasible potentials for the negative quota arcs: every path to the
	// sink may go through one, so the sink starts at -refQuotaWeight.
	net.pot[sink] = -refQuotaWeight
	// The order of requests changes only the work, not the optimum (either
	// way round by the number of mentors in reach measured within 10% of
	// this on the benchmark instances).
	net.build()
	for i, r := range reqs {
		if len(cands[i]) > 0 {
			net.balance[i] = int64(r.Learners)
			net.balance[sink] -= int64(r.Learners)
			net.augment(i)
		}
	}

	flows := make([][]candFlow, nR)
	for i := range reqs {
		for _, c := range cands[i] {
			flows[i] = append(flows[i], candFlow{j: c.j, km: c.dist, flow: int(net.flow(c.arc))})
		}
	}
	pairs := singletons(reqs, active, used).readBack(flows, reach, &sum)
	sum.Took = time.Since(start)
	return pairs, sum
}

// h3Index puts mentors in an in-memory index by H3 cell, at the resolution
// that suits the widest reach among them, and returns it with that
// resolution, the disk (in rings) that covers the reach, and each mentor's
// cell centre.
func h3Index(mentors []Mentor) (int, int, map[geo.Cell][]int, []geo.Point) {
	reachKm := 0.0
	for _, m := range mentors {
		reachKm = max(reachKm, min(m.RadiusKm, MaxRadiusKm))
	}
	res := geo.IndexResolution(reachKm)
	byCell := map[geo.Cell][]int{}
	centres := make([]geo.Point, len(mentors))
	for j, m := range mentors {
		c, _ := m.Cell.Parent(res)
		byCell[c] = append(byCell[c], j)
		centres[j] = m.Cell.Center()
	}
	return res, geo.RingsFor(reachKm, res), byCell, centres
}
