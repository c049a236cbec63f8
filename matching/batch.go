package matching

import (
	"math"
	"slices"
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
// the rule cannot tell apart (see problem), and its flow is shared out to
// them afterwards: request group (supplying its learners) -> mentor group
// (each in reach: within the mentor's radius and MaxRadiusKm, not paused,
// speaking the language if required) -> sink, by two arcs: the members'
// slots missing to five at cost -W, and the rest of their free capacity
// at cost 0; and request group -> sink at cost U for learners left
// unserved. Distances are whole metres. W exceeds the distance of any
// simple cycle of the network, so no saving of distance can outweigh a
// slot missing to five, and U exceeds W, so none outweighs a learner
// served: a minimum-cost flow is the rule's optimum.
//
// Even between groups a province has a million or two pairs in reach, so
// the network is grown as it is solved (column generation). It starts
// with each request group's nearestK nearest mentor groups and is solved
// by successive shortest paths (flowNet). Then every pair in reach is
// priced against the solution's potentials: each request group takes up
// to pricedPerRound pairs of negative reduced cost, those arcs are
// saturated, which keeps the potentials valid, and the surpluses that
// leaves are sent on. When a pass finds no such pair, the potentials prove
// the flow optimal over all pairs, not only those held. Mentor groups
// reach the sink through hubs of hubSize, so that no node has an arc per
// mentor.
func Solve(reqs []Request, mentors []Mentor, used map[string]int) ([]Pair, Summary) {
	return SolveWithin(reqs, mentors, used, 0)
}

// SolveWithin is Solve allowed to stop pricing early: once the flow
// serves every learner some mentor can reach, leaves no more slots missing
// than the mentors' reach forces (so both first parts of the rule are at
// their optimum, which no other assignment can beat), and the duality gap
// proves its distance within tol (a fraction: 0.005 is 0.5%) of the
// optimum's. The bound is reported as Summary.GapBoundKm.
//
// The gap: for potentials π, any flow y costs Σ c^π(e)·y(e) plus a
// constant, and a request i sends all its b(i) learners out, so it pays
// at least b(i) times the least reduced cost among all its pairs in reach.
// The flow found, optimal on the pairs held, pays exactly the least among
// those held (an arc with flow has c^π ≤ 0, one without c^π ≥ 0), so it
// is within Σ b(i)·max(0, least held - least of all) of every flow, which
// the pricing pass computes as it goes.
func SolveWithin(reqs []Request, mentors []Mentor, used map[string]int, tol float64) ([]Pair, Summary) {
	start := time.Now()
	sum, active := startSummary(reqs, mentors)
	p := group(reqs, active, used)
	flows, reach, gapMetres := p.solve(tol, &sum)
	pairs := p.readBack(flows, reach, &sum)
	if tol > 0 {
		sum.GapBoundKm = float64(gapMetres) / 1000
	}
	sum.Took = time.Since(start)
	return pairs, sum
}

// solve computes the flow between groups (see Solve), counts the learners
// no mentor can reach or speaks to in sum, and returns the flow of each
// request group to each mentor group it holds, whether any request was in
// each mentor group's reach, and the gap bound in metres.
func (p *problem) solve(tol float64, sum *Summary) ([][]candFlow, []bool, int64) {
	rg, mg := p.rg, p.mg
	idx := newReachIndex(mg)
	nR, nM := len(rg), len(mg)
	// Mentor groups go through hubs of hubSize neighbours (in cell order,
	// as the groups are) to the sink, so that no node has an arc per
	// mentor: a search that passes the sink looks at a few hundred arcs,
	// not all of them.
	nH := (nM + hubSize - 1) / hubSize
	hubOf := func(j int) int32 { return int32(nR + nM + j/hubSize) }
	// The learners a request leaves unserved go to the sink through hubs
	// of their own, which no search needs to look into.
	sink := nR + nM + 2*nH
	g := newFlowNet(sink+1, nR*(nearestK+1)+2*nM+2*nH)
	hubCap := make([]int64, sink+1)
	quotaW := int64(maxArcMetres)*int64(2*nM+2) + 1
	unservedU := 2 * quotaW

	// The mentor groups each request group starts with: its nearestK in
	// reach.
	centres := make([]geo.Point, nR)
	cands := make([][]candArc, nR)
	reach := make([]bool, nM)
	inReach := make([]int, nM) // learners who could go to each mentor group
	unservedArc := make([]int32, nR)
	servable := 0 // learners with some mentor in reach
	var near nearest
	for i := range rg {
		r := &rg[i]
		supply := r.supply()
		sum.Learners += supply
		centres[i] = r.cell.Center()
		anyInReach := false
		near.reset()
		idx.visit(centres[i], func(j int32, c2 float64) {
			anyInReach = true
			reach[j] = true
			if r.language != "" && !slices.Contains(mg[j].languages, r.language) {
				return
			}
			inReach[j] += supply
			near.offer(j, c2)
		})
		switch {
		case near.n > 0:
			servable += supply
			g.balance[i] = int64(supply)
			g.balance[sink] -= int64(supply)
			for _, j := range near.js[:near.n] {
				d := idx.metres(centres[i], j)
				cands[i] = append(cands[i], candArc{j: j, metres: d, arc: int32(g.addArc(i, nR+int(j), int32(supply), d))})
			}
			h := hubOf(int(near.js[0])) + int32(nH)
			unservedArc[i] = int32(g.addArc(i, int(h), int32(supply), unservedU))
			hubCap[h] += int64(supply)
		case anyInReach:
			sum.UnservedLearners[ReasonNoLanguage] += supply
		default:
			sum.UnservedLearners[ReasonNoMentor] += supply
		}
	}
	// Each mentor group short of five also starts with the nearestK
	// nearest request groups that could go to it, so that one outside a
	// village (whom no request counts among its nearest) can be filled
	// without waiting for the pricing to find them.
	p.seedMentors(centres, cands, idx, g)
	var quotaArcs []int
	deficits, forcedMissing := 0, 0 // slots missing to five; those no one in reach can fill
	for j, m := range mg {
		deficits += m.deficit
		forcedMissing += max(0, m.deficit-inReach[j])
		if m.deficit > 0 {
			quotaArcs = append(quotaArcs, g.addArc(nR+j, int(hubOf(j)), int32(m.deficit), -quotaW))
		}
		if m.free-m.deficit > 0 {
			g.addArc(nR+j, int(hubOf(j)), int32(m.free-m.deficit), 0)
		}
		hubCap[hubOf(j)] += int64(m.free)
	}
	for h := nR + nM; h < sink; h++ {
		g.addArc(h, sink, int32(min(hubCap[h], math.MaxInt32)), 0)
		// Every path to the sink may pass one quota arc, so the hubs and
		// the sink start at -W and every reduced cost is non-negative.
		g.pot[h] = -quotaW
	}
	g.pot[sink] = -quotaW

	// Successive shortest paths, request groups in cell order so that
	// searches in turn stay near each other. A request always reaches the
	// sink (its learners may stay unserved), so none is left with a
	// surplus.
	order := make([]int, 0, nR)
	for i := range rg {
		if len(cands[i]) > 0 {
			order = append(order, i)
		}
	}
	g.build()
	for _, i := range order {
		g.augment(i)
	}

	// Price every pair in reach against the potentials; a request group
	// takes up to pricedPerRound of those whose reduced cost is below the
	// least of the pairs it holds (which is never above zero), the lowest
	// first, which are saturated, and the surpluses that leaves are sent
	// on. Until no pair is left to take: the gap (see SolveWithin) is then
	// zero and the flow optimal. A pair below zero but not below what the
	// request holds could not make the flow cheaper, so it is not taken.
	var worst nearest
	var gapMetres int64
	for {
		var added []int
		gapMetres = 0
		for _, i := range order {
			r := &rg[i]
			pi := g.pot[i]
			// The least reduced cost among the pairs held.
			ua := g.edges[unservedArc[i]]
			held := ua.cost + pi - g.pot[ua.to]
			for _, c := range cands[i] {
				held = min(held, c.metres+pi-g.pot[nR+int(c.j)])
			}
			worst.reset()
			idx.visit(centres[i], func(j int32, c2 float64) {
				pj := g.pot[nR+int(j)]
				// The chord is never longer than the arc, so its metres
				// bound the cost from below.
				if int64(math.Sqrt(c2)*1000)+pi-pj >= held {
					return
				}
				d := idx.metres(centres[i], j)
				if rc := d + pi - pj; rc < held && !slices.ContainsFunc(cands[i], func(c candArc) bool { return c.j == j }) &&
					(r.language == "" || slices.Contains(mg[j].languages, r.language)) {
					worst.offer(j, float64(rc))
				}
			})
			if worst.n > 0 {
				gapMetres += int64(r.supply()) * (held - int64(worst.c2[0]))
			}
			for _, j := range worst.js[:min(worst.n, pricedPerRound)] {
				d := idx.metres(centres[i], j)
				a := g.addArc(i, nR+int(j), int32(r.supply()), d)
				cands[i] = append(cands[i], candArc{j: j, metres: d, arc: int32(a)})
				added = append(added, a)
			}
		}
		if len(added) == 0 {
			break
		}
		if tol > 0 && settled(g, unservedArc, order, quotaArcs, servable, deficits-forcedMissing) &&
			float64(gapMetres) <= tol*float64(flowMetres(g, cands)) {
			// The arcs just added carry no flow: the flow is the one the
			// gap was computed for.
			break
		}
		for _, a := range added {
			g.saturate(a)
		}
		g.build()
		for _, a := range added {
			g.augment(int(g.edges[a].to))
		}
	}

	flows := make([][]candFlow, nR)
	for i := range rg {
		for _, c := range cands[i] {
			flows[i] = append(flows[i], candFlow{j: int(c.j), km: float64(c.metres) / 1000, flow: int(g.flow(int(c.arc)))})
		}
	}
	return flows, reach, gapMetres
}

// seedMentors adds, for each mentor group short of five, arcs from the
// nearestK nearest request groups in reach that do not hold it yet.
func (p *problem) seedMentors(centres []geo.Point, cands [][]candArc, idx *reachIndex, g *flowNet) {
	var with []int32
	for i := range p.rg {
		if len(cands[i]) > 0 {
			with = append(with, int32(i))
		}
	}
	if len(with) == 0 {
		return
	}
	nR := len(p.rg)
	xyz := make([]vec3, nR)
	for _, i := range with {
		xyz[i] = toVec3(centres[i])
	}
	byCell := newGrid(centres, with, 1)
	var near nearest
	for j, m := range p.mg {
		if m.deficit <= 0 {
			continue
		}
		near.reset()
		byCell.window(idx.centres[j], idx.radius[j], func(members []int32) {
			for _, i := range members {
				if l := p.rg[i].language; l != "" && !slices.Contains(m.languages, l) {
					continue
				}
				if c2, ok := idx.covers(xyz[i], centres[i], int32(j)); ok {
					near.offer(i, c2)
				}
			}
		})
		for _, i := range near.js[:near.n] {
			if slices.ContainsFunc(cands[i], func(c candArc) bool { return c.j == int32(j) }) {
				continue
			}
			d := idx.metres(centres[i], int32(j))
			cands[i] = append(cands[i], candArc{j: int32(j), metres: d, arc: int32(g.addArc(int(i), nR+j, int32(p.rg[i].supply()), d))})
		}
	}
}

// settled reports whether the flow serves every learner some mentor can
// reach and fills every slot missing to five that someone in reach could
// fill: then nothing serves more or leaves fewer slots missing.
func settled(g *flowNet, unservedArc []int32, order []int, quotaArcs []int, servable, fillable int) bool {
	served := servable
	for _, i := range order {
		served -= int(g.flow(int(unservedArc[i])))
	}
	filled := 0
	for _, a := range quotaArcs {
		filled += int(g.flow(a))
	}
	return served == servable && filled == fillable
}

// flowMetres is the distance the flow travels, in metres.
func flowMetres(g *flowNet, cands [][]candArc) int64 {
	var m int64
	for _, cs := range cands {
		for _, c := range cs {
			m += int64(g.flow(int(c.arc))) * c.metres
		}
	}
	return m
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

// maxArcMetres bounds the cost of a request-mentor arc.
const maxArcMetres = int(MaxRadiusKm * 1000)

type candArc struct {
	j      int32
	metres int64
	arc    int32
}

// nearestK is how many of its nearest mentors in reach a request starts
// with in the batch network; pricedPerRound how many more it may take
// after each solve.
const (
	nearestK       = 8
	pricedPerRound = 2
)

// nearest keeps the nearestK smallest offers.
type nearest struct {
	n  int
	js [nearestK]int32
	c2 [nearestK]float64
}

func (s *nearest) reset() { s.n = 0 }

func (s *nearest) offer(j int32, c2 float64) {
	if s.n == nearestK && c2 >= s.c2[s.n-1] {
		return
	}
	k := min(s.n, nearestK-1)
	for k > 0 && s.c2[k-1] > c2 {
		s.js[k], s.c2[k] = s.js[k-1], s.c2[k-1]
		k--
	}
	s.js[k], s.c2[k] = j, c2
	s.n = min(s.n+1, nearestK)
}

// hubSize is how many mentors share a hub on their way to the sink.
const hubSize = 64
