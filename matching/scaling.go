package matching

import "slices"

// Cost scaling (Goldberg and Tarjan's push-relabel method for minimum-cost
// flow) on the same residual network as the successive shortest paths of
// flowNet.
//
// Successive shortest paths settle one unit of surplus at a time, each by
// a search to the nearest deficit. On the province, where every mentor's
// five slots are wanted and the requests just fill them, the last searches
// cross most of the province. Cost scaling moves all surpluses at once by
// local pushes, first with coarse prices that settle who is served and
// which slots are filled, then with finer and finer ones that settle the
// distances: no search crosses the province.
//
// Costs are multiplied by n+1 (n nodes) and potentials kept in those
// units, so that a flow with no residual arc of reduced cost below -1 is
// (1/(n+1))-optimal in the original costs, hence optimal: every cycle of
// the residual network, at most n arcs, then costs more than -1, so not
// less than zero.

// scalingAlpha is the factor by which each phase refines the prices
// (16, as LEMON's CostScaling uses by default).
const scalingAlpha = 16

// maxScaledPot bounds the magnitude of a potential during cost scaling;
// beyond it the arithmetic could overflow, and costScale gives up. The
// potentials the solver needs are far smaller (the costs, at most about
// 2·10^9 metres-equivalent, times n+1), so this is a guard, not a limit
// met in practice.
const maxScaledPot = 1 << 61

// scale is what the caller multiplies costs by for cost scaling to end
// at the optimum: the number of nodes plus one.
func (f *flowNet) scale() int64 { return int64(len(f.pot)) + 1 }

// rc is the reduced cost of residual arc a out of u.
func (f *flowNet) rc(u int32, a int32) int64 {
	return f.cost[a] + f.pot[u] - f.pot[f.to[a]]
}

// costScale turns the flow into one that meets every balance with no
// residual arc of reduced cost below -1, optimal if the costs are
// multiples of scale(), by refine phases from eps0 down to 1. The flow
// and potentials it starts from must be eps0-optimal: no residual arc of
// reduced cost below -eps0. It returns false if a surplus can reach no
// deficit or a potential leaves the safe range; the flow is then not
// optimal and the caller must not use it.
func (f *flowNet) costScale(eps0 int64) bool {
	cur := make([]int32, len(f.pot))
	for eps := max(eps0, 1); ; {
		eps = max(eps/scalingAlpha, 1)
		if !f.refine(eps, cur) {
			return false
		}
		if eps == 1 {
			return true
		}
	}
}

// refine makes an eps-optimal flow with no surplus or deficit from an
// (alpha·eps)-optimal one: it saturates every residual arc of negative
// reduced cost (the pseudoflow is then 0-optimal) and discharges the
// surpluses this leaves in FIFO order, pushing on arcs of negative reduced
// cost and relabelling a node that has none by the least step that gives it
// one, which keeps every residual arc at -eps or above.
func (f *flowNet) refine(eps int64, cur []int32) bool {
	nodes := int32(len(f.pot))
	for u := range nodes {
		for a := f.first[u]; a < f.first[u+1]; a++ {
			if c := f.rcap[a]; c > 0 && f.rc(u, a) < 0 {
				f.rcap[a] = 0
				f.rcap[f.rev[a]] += c
				f.balance[u] -= int64(c)
				f.balance[f.to[a]] += int64(c)
			}
		}
	}
	queue := f.touched[:0]
	for u := range nodes {
		cur[u] = f.first[u]
		if f.balance[u] > 0 {
			queue = append(queue, u)
		}
	}
	if !f.priceUpdate(eps, cur) {
		return false
	}
	relabels := 0
	for head := 0; head < len(queue); head++ {
		if relabels > len(f.pot) {
			if !f.priceUpdate(eps, cur) {
				f.touched = queue[:0]
				return false
			}
			relabels = 0
		}
		u := queue[head]
		for f.balance[u] > 0 {
			a, end := cur[u], f.first[u+1]
			pu := f.pot[u]
			for ; a < end; a++ {
				if f.rcap[a] <= 0 || f.cost[a]+pu-f.pot[f.to[a]] >= 0 {
					continue
				}
				v := f.to[a]
				d := min(f.balance[u], int64(f.rcap[a]))
				f.rcap[a] -= int32(d)
				f.rcap[f.rev[a]] += int32(d)
				f.balance[u] -= d
				if f.balance[v] <= 0 && f.balance[v]+d > 0 {
					queue = append(queue, v)
				}
				f.balance[v] += d
				if f.balance[u] == 0 {
					break
				}
			}
			cur[u] = a
			if f.balance[u] > 0 {
				if !f.relabel(u, eps, cur) {
					f.touched = queue[:0]
					return false
				}
				relabels++
			}
		}
		// The queue can hold a node many times over a phase; compact it
		// when the part already served is large.
		if head > 1<<16 && head > len(queue)/2 {
			queue = append(queue[:0], queue[head+1:]...)
			head = -1
		}
	}
	f.touched = queue[:0]
	return true
}

// relabel lowers u's potential by the least amount that gives it a residual
// arc of reduced cost -eps, and rewinds its current arc.
func (f *flowNet) relabel(u int32, eps int64, cur []int32) bool {
	best, found := int64(0), false
	for a := f.first[u]; a < f.first[u+1]; a++ {
		if f.rcap[a] > 0 {
			if p := f.pot[f.to[a]] - f.cost[a]; !found || p > best {
				best, found = p, true
			}
		}
	}
	if !found || best-eps < -maxScaledPot {
		return false
	}
	f.pot[u] = best - eps
	cur[u] = f.first[u]
	return true
}

// raiseRequest raises the potential of request node i (whose arcs are its
// candidates' and the unserved one, and which no arc enters) as far as the
// flow allows: until an arc that carries flow has reduced cost slack. Its
// arcs' reduced costs all grow by the same amount, so pricing then takes
// only pairs that no choice of i's potential could leave at -slack or
// above. Any flow pays at least b(i) times the least reduced cost of i's
// arcs, and this one pays at most b(i)·slack.
func (f *flowNet) raiseRequest(i int, cands []candArc, unserved int32, slack int64) {
	most, seen := int64(0), false
	see := func(e int32) {
		if f.flow(int(e)) > 0 {
			if rc := f.edgeRC(int(e)); !seen || rc > most {
				most, seen = rc, true
			}
		}
	}
	see(unserved)
	for _, c := range cands {
		see(c.arc)
	}
	if seen {
		f.pot[i] += slack - most
	}
}

// edgeRC is the reduced cost of edge e.
func (f *flowNet) edgeRC(e int) int64 {
	x := f.edges[e]
	return x.cost + f.pot[x.from] - f.pot[x.to]
}

// gapOffRequests bounds, for the edges that do not leave a request node
// (from >= nR), how much cheaper any flow can be on them than this one
// against the potentials: an edge of reduced cost rc > 0 saves at most
// rc·flow by carrying none, one of rc < 0 at most -rc·(capacity - flow) by
// being full. On an eps-optimal flow only edges with |rc| <= eps count.
func (f *flowNet) gapOffRequests(nR int) int64 {
	var gap int64
	for e, x := range f.edges {
		if int(x.from) < nR {
			continue
		}
		rc, fl := f.edgeRC(e), int64(f.flow(e))
		switch {
		case rc > 0:
			gap += rc * fl
		case rc < 0:
			gap += -rc * (int64(x.cap) - fl)
		}
	}
	return gap
}

// netStart is a flow network's balances and potentials before any flow.
type netStart struct{ balance, pot []int64 }

func (f *flowNet) snapshot() netStart {
	return netStart{balance: slices.Clone(f.balance), pot: slices.Clone(f.pot)}
}

// restore empties every edge and puts back the balances and potentials of
// s, taken when no edge carried flow.
func (f *flowNet) restore(s netStart) {
	for e := range f.edges {
		f.edges[e].flow = 0
		if e < f.built {
			a := f.fwd[e]
			f.rcap[a] = f.edges[e].cap
			f.rcap[f.rev[a]] = 0
		}
	}
	copy(f.balance, s.balance)
	copy(f.pot, s.pot)
}

// useScaling chooses cost scaling for the batch solver; the tests turn it
// off to check the successive shortest paths it falls back on.
var useScaling = true

// priceUpdate is the global price update of cost scaling: it lowers every
// potential by as many steps of eps as the node is from the nearest
// deficit, counting for each residual arc the steps that would make it
// admissible (a Dijkstra search backwards from the deficits, stopped once
// every node with a surplus is reached). Every surplus then has an
// admissible path to a deficit, and no residual arc drops below -eps. It
// returns false if some surplus can reach no deficit.
func (f *flowNet) priceUpdate(eps int64, cur []int32) bool {
	n := len(f.pot)
	if len(f.rank) != n {
		f.rank, f.done = make([]int64, n), make([]bool, n)
	}
	surpluses := 0
	f.heap = f.heap[:0]
	for v := range n {
		f.rank[v], f.done[v] = inf, false
		switch b := f.balance[v]; {
		case b > 0:
			surpluses++
		case b < 0:
			f.rank[v] = 0
			f.heap.push(pqItem{int32(v), 0})
		}
	}
	var reached int64
	for len(f.heap) > 0 && surpluses > 0 {
		it := f.heap.pop()
		v := it.node
		if f.done[v] || it.d > f.rank[v] {
			continue
		}
		f.done[v], reached = true, it.d
		if f.balance[v] > 0 {
			surpluses--
		}
		pv := f.pot[v]
		for b := f.first[v]; b < f.first[v+1]; b++ {
			a := f.rev[b]
			if f.rcap[a] <= 0 {
				continue
			}
			u := f.to[b]
			steps := int64(0)
			if rc := f.cost[a] + f.pot[u] - pv; rc >= 0 {
				steps = rc/eps + 1
			}
			if d := it.d + steps; d < f.rank[u] {
				f.rank[u] = d
				f.heap.push(pqItem{u, d})
			}
		}
	}
	if surpluses > 0 || reached > maxScaledPot/eps {
		return false
	}
	for v := range n {
		d := reached
		if f.done[v] {
			d = f.rank[v]
		}
		f.pot[v] -= eps * d
		cur[v] = f.first[v]
	}
	return true
}
