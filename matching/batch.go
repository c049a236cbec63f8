package matching

import (
	"math"
	"slices"
	"sort"
	"time"

	"daisuso/geo"
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
	Took              time.Duration
}

// Why a mentor stays under five.
const (
	WhyNoLearnerInReach = "no_learner_in_reach"
	WhyTooFewInReach    = "too_few_learners_in_reach"
)

// quotaWeight makes one learner more for a mentor below five worth more
// than any saving of distance: it exceeds the largest possible total
// distance in metres (15 km for each of up to 10^5 learners would be
// 1.5·10^9). Costs are in metres.
const quotaWeight = 2_000_000_000

// unservedCost is the cost of the arc that leaves a learner unserved: more
// than any augmenting path can cost or save (one quota arc, 2e9, plus
// distances of at most 3e9 along a simple path), and small enough that
// 10^5 of them fit in an int64.
const unservedCost = 1_000_000_000_000

// Solve computes an assignment optimal for the rule: the most learners
// served, then the fewest missing slots below five, then the least total
// distance (in whole metres), over requests and mentors' free capacity
// (used: slots in use per mentor). A request goes whole to one mentor; a
// request of several learners that the flow splits is given to the mentor
// that carries most of it if that mentor has the room, otherwise to any
// candidate with room, otherwise it stays unserved, so the optimum is exact
// for single-learner requests and nearly so otherwise.
//
// The network: request (supplying its learners) -> mentor (each mentor in
// reach: within the mentor's radius and MaxRadiusKm, not paused, speaking
// the language if required) -> sink, by two arcs: the slots missing to five
// at cost -quotaWeight, and the rest of the free capacity at cost 0. A
// minimum-cost maximum flow of it is the rule's optimum; successive
// shortest paths from each request in turn find one (a request that cannot
// reach the sink when its turn comes never could later: what it reaches is
// closed under residual arcs and no other augmentation enters it).
func Solve(reqs []Request, mentors []Mentor, used map[string]int) ([]Pair, Summary) {
	start := time.Now()
	sum := Summary{Requests: len(reqs), UnservedLearners: map[string]int{}, UnderQuotaWhy: map[string]int{}}
	var active []Mentor
	for _, m := range mentors {
		if !m.Paused {
			active = append(active, m)
		}
	}
	sum.Mentors = len(active)
	// In-memory index of mentors by cell, at the resolution that suits the
	// widest reach among them; the disk walked is that reach's.
	reachKm := 0.0
	for _, m := range active {
		reachKm = max(reachKm, min(m.RadiusKm, MaxRadiusKm))
	}
	res := geo.IndexResolution(reachKm)
	k := geo.RingsFor(reachKm, res)
	byCell := map[geo.Cell][]int{}
	centres := make([]geo.Point, len(active))
	for j, m := range active {
		c, _ := m.Cell.Parent(res)
		byCell[c] = append(byCell[c], j)
		centres[j] = m.Cell.Center()
	}
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
	net.pot = make([]int64, nR+nM+1)
	for i, r := range reqs {
		for x := range cands[i] {
			cands[i][x].arc = net.addArc(i, nR+cands[i][x].j, int32(r.Learners), int64(math.Round(cands[i][x].dist*1000)))
		}
		if len(cands[i]) > 0 {
			// Leaving a learner unserved costs more than any real path (at
			// most one quota arc and 2·10^5 hops of 15 km), so every
			// supply is routed and the cheapest routing serves the most.
			net.addArc(i, sink, int32(r.Learners), unservedCost)
		}
	}
	free := make([]int, nM)
	deficit := make([]int, nM)
	for j, m := range active {
		free[j] = max(0, m.Capacity-used[m.ID])
		deficit[j] = min(free[j], max(0, Quota-used[m.ID]))
		if deficit[j] > 0 {
			net.addArc(nR+j, sink, int32(deficit[j]), -quotaWeight)
		}
		if free[j]-deficit[j] > 0 {
			net.addArc(nR+j, sink, int32(free[j]-deficit[j]), 0)
		}
	}
	// Feasible potentials for the negative quota arcs: every path to the
	// sink may go through one, so the sink starts at -quotaWeight.
	net.pot[sink] = -quotaWeight
	net.prepare()
	// The order of requests changes only the work, not the optimum (either
	// way round by the number of mentors in reach measured within 10% of
	// this on the benchmark instances).
	for i, r := range reqs {
		if len(cands[i]) > 0 {
			net.augmentFrom(i, sink, int32(r.Learners))
		}
	}

	// Read the flow back, one mentor per request.
	load := make([]int, nM)
	assigned := make([]int, nR)
	for i := range assigned {
		assigned[i] = -1
	}
	var split []int
	for i, r := range reqs {
		best, bestFlow, total := -1, int32(0), int32(0)
		for _, c := range cands[i] {
			fl := net.flow(c.arc)
			total += fl
			if fl > bestFlow {
				best, bestFlow = c.j, fl
			}
		}
		switch {
		case total == 0:
		case int(bestFlow) == r.Learners:
			assigned[i] = best
			load[best] += r.Learners
		default:
			split = append(split, i)
		}
	}
	for _, i := range split {
		r := reqs[i]
		sort.SliceStable(cands[i], func(a, b int) bool { return net.flow(cands[i][a].arc) > net.flow(cands[i][b].arc) })
		for _, c := range cands[i] {
			if free[c.j]-load[c.j] >= r.Learners {
				assigned[i] = c.j
				load[c.j] += r.Learners
				break
			}
		}
	}
	var pairs []Pair
	for i, r := range reqs {
		j := assigned[i]
		if j < 0 {
			if len(cands[i]) > 0 {
				sum.UnservedLearners[ReasonAllFull] += r.Learners
			}
			continue
		}
		var d float64
		for _, c := range cands[i] {
			if c.j == j {
				d = c.dist
			}
		}
		pairs = append(pairs, Pair{RequestID: r.ID, MentorID: active[j].ID, Learners: r.Learners, DistanceKm: d})
		sum.ServedRequests++
		sum.ServedLearners += r.Learners
		sum.TotalDistanceKm += d * float64(r.Learners)
	}
	for j, m := range active {
		if have := used[m.ID] + load[j]; have < Quota {
			sum.MentorsUnderQuota++
			sum.MissingSlots += Quota - have
			if reach[j] {
				sum.UnderQuotaWhy[WhyTooFewInReach]++
			} else {
				sum.UnderQuotaWhy[WhyNoLearnerInReach]++
			}
		}
	}
	if sum.ServedLearners > 0 {
		sum.MeanDistanceKm = sum.TotalDistanceKm / float64(sum.ServedLearners)
	}
	sum.Took = time.Since(start)
	return pairs, sum
}
