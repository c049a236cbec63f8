package matching

import (
	"cmp"
	"slices"
	"strings"

	"daisuso/geo"
)

// problem is a batch instance as the rule sees it. Locations are cells and
// distances run between cell centres, so requests of one cell with as many
// learners each and the same language requirement are interchangeable, and
// so are mentors of one cell with the same radius and the same languages
// among those some request requires. Each such group is one node of the
// network: a province's 100,000 requests and 20,000 mentors make some
// 10,000-22,000 request groups and 10,000-13,000 mentor groups, and the
// pairs in reach fall from tens of millions to under two million. The
// flow between groups is then shared out to their members (readBack),
// which loses nothing the rule counts: a mentor group's learners fill its
// members' slots missing to five first.
type problem struct {
	reqs   []Request
	active []Mentor
	used   map[string]int
	rg     []reqGroup
	mg     []mentorGroup
	rgOf   []int32 // each request's group
}

// reqGroup is the requests of one cell with as many learners each and the
// same language requirement (language is "" when they speak Vietnamese).
type reqGroup struct {
	cell     geo.Cell
	learners int
	language string
	members  []int32 // indexes into reqs, in order
}

func (g *reqGroup) supply() int { return g.learners * len(g.members) }

// mentorGroup is the mentors of one cell with the same radius, speaking the
// same of the languages some request requires (languages).
type mentorGroup struct {
	cell      geo.Cell
	radiusKm  float64
	languages []string
	members   []int32 // indexes into active, in order
	// The members' free capacity and, of it, the slots missing to five.
	free, deficit int
}

// freeOf is how many more learners a mentor can take; deficitOf how many
// of them are missing to five.
func freeOf(m Mentor, used map[string]int) int { return max(0, m.Capacity-used[m.ID]) }

func deficitOf(m Mentor, used map[string]int) int {
	return min(freeOf(m, used), max(0, Quota-used[m.ID]))
}

// group builds the problem, its groups in cell order.
func group(reqs []Request, active []Mentor, used map[string]int) *problem {
	p := &problem{reqs: reqs, active: active, used: used}
	required := map[string]bool{}
	type rk struct {
		cell     geo.Cell
		learners int
		language string
	}
	byReq := map[rk]int{}
	for i, r := range reqs {
		k := rk{cell: r.Cell, learners: r.Learners}
		if r.LanguageRequired {
			k.language = r.Language
			required[r.Language] = true
		}
		g, ok := byReq[k]
		if !ok {
			g = len(p.rg)
			byReq[k] = g
			p.rg = append(p.rg, reqGroup{cell: k.cell, learners: k.learners, language: k.language})
		}
		p.rg[g].members = append(p.rg[g].members, int32(i))
	}
	type mk struct {
		cell      geo.Cell
		radiusKm  float64
		languages string
	}
	byMentor := map[mk]int{}
	for j, m := range active {
		var langs []string
		for _, l := range m.Languages {
			if required[l] && !slices.Contains(langs, l) {
				langs = append(langs, l)
			}
		}
		slices.Sort(langs)
		k := mk{cell: m.Cell, radiusKm: max(0, min(m.RadiusKm, MaxRadiusKm)), languages: strings.Join(langs, ",")}
		g, ok := byMentor[k]
		if !ok {
			g = len(p.mg)
			byMentor[k] = g
			p.mg = append(p.mg, mentorGroup{cell: k.cell, radiusKm: k.radiusKm, languages: langs})
		}
		p.mg[g].members = append(p.mg[g].members, int32(j))
		p.mg[g].free += freeOf(m, used)
		p.mg[g].deficit += deficitOf(m, used)
	}
	slices.SortStableFunc(p.rg, func(a, b reqGroup) int { return cmp.Compare(a.cell, b.cell) })
	slices.SortStableFunc(p.mg, func(a, b mentorGroup) int { return cmp.Compare(a.cell, b.cell) })
	p.index()
	return p
}

// index notes each request's group.
func (p *problem) index() {
	p.rgOf = make([]int32, len(p.reqs))
	for g, rg := range p.rg {
		for _, i := range rg.members {
			p.rgOf[i] = int32(g)
		}
	}
}

// singletons is the problem with every request and every mentor a group
// of its own, as the reference solver in the tests builds its network.
func singletons(reqs []Request, active []Mentor, used map[string]int) *problem {
	p := &problem{reqs: reqs, active: active, used: used}
	for i, r := range reqs {
		g := reqGroup{cell: r.Cell, learners: r.Learners, members: []int32{int32(i)}}
		if r.LanguageRequired {
			g.language = r.Language
		}
		p.rg = append(p.rg, g)
	}
	for j, m := range active {
		p.mg = append(p.mg, mentorGroup{cell: m.Cell, radiusKm: m.RadiusKm, languages: m.Languages, members: []int32{int32(j)},
			free: freeOf(m, used), deficit: deficitOf(m, used)})
	}
	p.index()
	return p
}

// candFlow is what a solver carried from a request group to one mentor
// group.
type candFlow struct {
	j    int
	km   float64
	flow int
}

// readBack shares the flow between groups (flows[i]: request group i's to
// each mentor group, which it sorts; nil when the solver found no mentor
// who could take them and counted them unserved) out to requests and
// mentors, one mentor per request, and completes the summary. reach tells whether any request
// was in each mentor group's reach.
//
// A request group's requests go to its mentor groups in turn, as many as
// each one's flow carries whole; within a mentor group, households
// largest first, each request goes to the member with room whose slots
// missing to five it fills most, then to the one with the most room, so
// the slots missing to five are the flow's and the learners are shared out
// evenly beyond. Single learners always fit (a group's flow is within its
// members' room): the optimum is exact for them. A household that the
// flow split, or that found no member of its group with room, goes to the
// candidate with room that the flow gave most, otherwise it stays
// unserved.
func (p *problem) readBack(flows [][]candFlow, reach []bool, sum *Summary) []Pair {
	reqs, active := p.reqs, p.active
	load := make([]int, len(active))
	assigned := make([]int32, len(reqs))
	km := make([]float64, len(reqs))
	for i := range assigned {
		assigned[i] = -1
	}
	// place gives request i to the member of mentor group h that the
	// rule prefers, if one has room.
	place := func(i int32, h int, d float64) bool {
		L := reqs[i].Learners
		best, bestFill, bestRoom := int32(-1), -1, -1
		for _, j := range p.mg[h].members {
			m := active[j]
			room := freeOf(m, p.used) - load[j]
			if room < L {
				continue
			}
			fill := min(L, max(0, deficitOf(m, p.used)-load[j]))
			if fill > bestFill || fill == bestFill && room > bestRoom {
				best, bestFill, bestRoom = j, fill, room
			}
		}
		if best < 0 {
			return false
		}
		assigned[i], km[i] = best, d
		load[best] += L
		return true
	}
	given := make([][]int32, len(p.mg)) // requests each mentor group is given
	givenKm := make([][]float64, len(p.mg))
	var left []int32 // requests not placed whole in a mentor group
	for i, g := range p.rg {
		// Most flow first, then nearest: the order leftovers try too.
		slices.SortStableFunc(flows[i], func(a, b candFlow) int { return cmp.Or(cmp.Compare(b.flow, a.flow), cmp.Compare(a.km, b.km)) })
		k, total := 0, 0
		for _, f := range flows[i] {
			total += f.flow
			for n := f.flow / g.learners; n > 0 && k < len(g.members); n-- {
				given[f.j] = append(given[f.j], g.members[k])
				givenKm[f.j] = append(givenKm[f.j], f.km)
				k++
			}
		}
		// Learners the flow served but not whole: a household split
		// between mentors.
		for served := k * g.learners; k < len(g.members) && served < total; served += g.learners {
			left = append(left, g.members[k])
			k++
		}
	}
	for h := range p.mg {
		order := make([]int, len(given[h]))
		for x := range order {
			order[x] = x
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(reqs[given[h][b]].Learners, reqs[given[h][a]].Learners)
		})
		for _, x := range order {
			i := given[h][x]
			if !place(i, h, givenKm[h][x]) {
				left = append(left, i)
			}
		}
	}
	for _, i := range left {
		for _, f := range flows[p.rgOf[i]] {
			if place(i, f.j, f.km) {
				break
			}
		}
	}

	return p.pairs(assigned, km, load, flows, reach, sum)
}

// pairs lists the requests placed (assigned, with the distance km) and
// sums up the run: what was served, what was not and why, the mentors left
// under the quota with their load.
func (p *problem) pairs(assigned []int32, km []float64, load []int, flows [][]candFlow, reach []bool, sum *Summary) []Pair {
	reqs, active := p.reqs, p.active
	var pairs []Pair
	for i, r := range reqs {
		j := assigned[i]
		if j < 0 {
			continue
		}
		pairs = append(pairs, Pair{RequestID: r.ID, MentorID: active[j].ID, Learners: r.Learners, DistanceKm: km[i]})
		sum.ServedRequests++
		sum.ServedLearners += r.Learners
		sum.TotalDistanceKm += km[i] * float64(r.Learners)
	}
	for i, g := range p.rg {
		if flows[i] == nil {
			continue // no mentor can take them: counted by the solver
		}
		for _, r := range g.members {
			if assigned[r] < 0 {
				sum.UnservedLearners[ReasonAllFull] += reqs[r].Learners
			}
		}
	}
	for h, g := range p.mg {
		for _, j := range g.members {
			m := active[j]
			have := p.used[m.ID] + load[j]
			if have >= Quota {
				continue
			}
			sum.MentorsUnderQuota++
			sum.MissingSlots += Quota - have
			if reach[h] {
				sum.UnderQuotaWhy[WhyTooFewInReach]++
			} else {
				sum.UnderQuotaWhy[WhyNoLearnerInReach]++
			}
		}
	}
	if sum.ServedLearners > 0 {
		sum.MeanDistanceKm = sum.TotalDistanceKm / float64(sum.ServedLearners)
	}
	return pairs
}
