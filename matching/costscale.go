package matching

import (
	"errors"
	"math"
)

// errInfeasible: supplies no flow can meet, which the batch solver's
// maximum flows rule out before the cost scaling starts.
var errInfeasible = errors.New("matching: cost scaling on supplies no flow meets")

// csNet is a min-cost flow network solved by cost scaling: Goldberg and
// Tarjan's push-relabel with ε-scaling, with global price updates
// (Goldberg, "An efficient implementation of a scaling minimum-cost flow
// algorithm", 1997). Costs are integers, scaled by the number of nodes
// plus one so that a flow ε-optimal at ε = 1 is optimal; reduced costs
// are c(u,v) + p(u) - p(v), and an arc is admissible when it has room and
// a reduced cost below zero.
//
// Unlike successive shortest paths, whose every search explores all the
// nodes nearer than the deficit it ends at (on a province where every
// mentor's five slots are needed, chains of reassignment run across the
// map and each search floods them again), each step here is local: a node
// with an excess pushes it along admissible arcs or lowers its price.
//
// A mentor group's row holds the reverse arc of every request group in
// its reach, of which only those carrying flow have room. So the reverse
// arcs with room are kept first in the reverse part of each row (live[v]
// of them, moved there as they gain room and out as they lose it), and
// pushes and relabels look at a row's forward arcs and those only: on the
// province that cut the arcs looked at by 30% (clustered) and 42%
// (uniform).
type csNet struct {
	n     int
	scale int64

	edges
	ecost  []int64
	supply []int64

	resNet
	cost []int64
	live []int32

	excess []int64
	pot    []int64
	cur    []int32 // the arc each node's discharge goes on from

	queue   []int32 // active nodes, first in first out
	queued  []bool
	dist    []int32 // the global update's distances, in units of ε
	buckets [][]int32

	relabels int // since the last global update
	stats    csStats
}

// csStats counts the work of a solve, which unlike its time does not
// change with what else the machine is doing (BenchmarkBatchWork).
type csStats struct {
	Refines, Updates, Relabels, Pushes, Scans int
}

// csAlpha is the factor by which ε falls from one refinement to the next;
// csUpdateEvery how many relabels per node come between global updates.
// Both measured on the province instances: with updates after every
// relabel per node they took 59% of the time; after 4, 8 or 16, with α of
// 4 or 8, the arcs looked at stayed within 0.85-1.36 billion, closer than
// this machine's timings of one setting from run to run.
const (
	csAlpha       = 8
	csUpdateEvery = 8
)

func newCSNet(n, edgesHint int) *csNet {
	return &csNet{n: n, supply: make([]int64, n), edges: makeEdges(edgesHint), ecost: make([]int64, 0, edgesHint)}
}

// addEdge adds an edge u->v of the given capacity and cost (at least 0)
// and returns its index.
func (f *csNet) addEdge(u, v int, capacity int32, cost int64) int {
	f.ecost = append(f.ecost, cost)
	return f.edges.add(u, v, capacity)
}

func (f *csNet) build() {
	f.resNet = f.edges.layOut(f.n)
	f.scale = int64(f.n + 1)
	f.cost = make([]int64, len(f.to))
	for e, c := range f.ecost {
		a := f.fwd[e]
		f.cost[a], f.cost[f.rev[a]] = c*f.scale, -c*f.scale
	}
	n := f.n
	f.live = make([]int32, n)
	f.excess = make([]int64, n)
	copy(f.excess, f.supply)
	f.pot = make([]int64, n)
	f.cur = make([]int32, n)
	f.queued = make([]bool, n)
	f.dist = make([]int32, n)
}

// end is where the arcs with room of v's row end.
func (f *csNet) end(v int32) int32 { return f.fwdEnd[v] + f.live[v] }

// swapArcs exchanges the places of two arcs of one row.
func (f *csNet) swapArcs(x, y int32) {
	if x == y {
		return
	}
	f.to[x], f.to[y] = f.to[y], f.to[x]
	f.rcap[x], f.rcap[y] = f.rcap[y], f.rcap[x]
	f.cost[x], f.cost[y] = f.cost[y], f.cost[x]
	f.rev[x], f.rev[y] = f.rev[y], f.rev[x]
	f.rev[f.rev[x]] = x
	f.rev[f.rev[y]] = y
}

// gained is called when arc a of v's row has gained room: a reverse arc
// that had none (one past the live ones; forward arcs are all before)
// joins them. It is not admissible (its twin was, or was saturated as
// such), so it may go after v's current arc.
func (f *csNet) gained(v, a int32) {
	if a >= f.end(v) {
		f.swapArcs(a, f.end(v))
		f.live[v]++
	}
}

// lost is called when arc a of v's row, v's current arc, has no room left:
// a reverse arc leaves the live ones, and the last live arc, not yet
// looked at, takes its place.
func (f *csNet) lost(v, a int32) {
	if a >= f.fwdEnd[v] {
		f.live[v]--
		f.swapArcs(a, f.end(v))
	}
}

// repartition puts each row's reverse arcs with room first.
func (f *csNet) repartition() {
	for v := range int32(f.n) {
		f.live[v] = 0
		for a := f.fwdEnd[v]; a < f.first[v+1]; a++ {
			if f.rcap[a] > 0 {
				f.swapArcs(a, f.end(v))
				f.live[v]++
			}
		}
	}
}

// solve finds a minimum-cost flow; the supplies must be feasible (the
// caller knows a flow that meets them), or it fails with errInfeasible.
// After each refinement, done may end the scaling early (SolveWithin's
// gap).
func (f *csNet) solve(done func() bool) error {
	f.build()
	var maxCost int64
	for _, c := range f.cost {
		maxCost = max(maxCost, c)
	}
	eps := max(maxCost, 1)
	for {
		eps = max(eps/csAlpha, 1)
		if err := f.refine(eps); err != nil {
			return err
		}
		if eps == 1 || (done != nil && done()) {
			return nil
		}
	}
}

// refine turns an αε-optimal flow (any flow, at the start) into an
// ε-optimal one: arcs of negative reduced cost are saturated, which leaves
// every reduced cost on a residual arc at least 0, and the excesses that
// creates are pushed on until none is left.
func (f *csNet) refine(eps int64) error {
	f.stats.Refines++
	for u := range f.n {
		pu := f.pot[u]
		for a := f.first[u]; a < f.first[u+1]; a++ {
			if r := f.rcap[a]; r > 0 && f.cost[a]+pu-f.pot[f.to[a]] < 0 {
				v := f.to[a]
				f.rcap[a] = 0
				f.rcap[f.rev[a]] += r
				f.excess[u] -= int64(r)
				f.excess[v] += int64(r)
			}
		}
	}
	f.repartition()
	f.queue = f.queue[:0]
	for v := range f.n {
		f.cur[v] = f.first[v]
		f.queued[v] = false
		if f.excess[v] > 0 {
			f.queue = append(f.queue, int32(v))
			f.queued[v] = true
		}
	}
	f.globalUpdate(eps)
	f.relabels = 0
	for head := 0; head < len(f.queue); head++ {
		v := f.queue[head]
		f.queued[v] = false
		if !f.discharge(v, eps) {
			return errInfeasible
		}
		if f.relabels > csUpdateEvery*f.n {
			f.relabels = 0
			// The queue's head is spent: keep what is left of it.
			f.queue = append(f.queue[:0], f.queue[head+1:]...)
			head = -1
			f.globalUpdate(eps)
		}
		if head > 1<<16 && head > len(f.queue)/2 {
			f.queue = append(f.queue[:0], f.queue[head+1:]...)
			head = -1
		}
	}
	return nil
}

// discharge pushes v's excess along admissible arcs, lowering v's price
// when none is left, until the excess is gone; false if it cannot move
// (v has no arc with room), which feasible supplies never leave.
func (f *csNet) discharge(v int32, eps int64) bool {
	for f.excess[v] > 0 {
		pv := f.pot[v]
		a, end := f.cur[v], f.end(v)
		for ; a < end; a++ {
			if f.rcap[a] > 0 && f.cost[a]+pv-f.pot[f.to[a]] < 0 {
				break
			}
		}
		f.stats.Scans += int(a - f.cur[v])
		if a == end {
			if !f.relabel(v, eps) {
				return false
			}
			f.cur[v] = f.first[v]
			continue
		}
		f.cur[v] = a
		w, b := f.to[a], f.rev[a]
		if f.excess[w] == 0 && !f.admissibleFrom(w) && f.relabel(w, eps) {
			// Look ahead (Goldberg): w could pass nothing on, so it is
			// relabelled now rather than sent flow to send back. (A node
			// with no arc with room at all is sent the flow: it then has
			// one, back.)
			f.cur[w] = f.first[w]
			continue
		}
		d := min(f.excess[v], int64(f.rcap[a]))
		f.stats.Pushes++
		f.rcap[a] -= int32(d)
		if f.rcap[b] == 0 {
			f.rcap[b] = int32(d)
			f.gained(w, b)
		} else {
			f.rcap[b] += int32(d)
		}
		if f.rcap[a] == 0 {
			f.lost(v, a)
		}
		f.excess[v] -= d
		f.excess[w] += d
		if f.excess[w] > 0 && !f.queued[w] {
			f.queue = append(f.queue, w)
			f.queued[w] = true
		}
	}
	return true
}

// admissibleFrom tells whether w has an admissible arc, moving its
// current arc to the first.
func (f *csNet) admissibleFrom(w int32) bool {
	pw, end := f.pot[w], f.end(w)
	a := f.cur[w]
	for ; a < end; a++ {
		if f.rcap[a] > 0 && f.cost[a]+pw-f.pot[f.to[a]] < 0 {
			break
		}
	}
	f.stats.Scans += int(a - f.cur[w])
	f.cur[w] = a
	return a < end
}

// relabel lowers v's price as far as ε-optimality allows: until its
// cheapest arc with room has reduced cost -ε; false if it has none. A
// price never rises (that could break ε-optimality on the arcs into v):
// were an arc admissible already, the price would stay and the discharge
// look again from the start. No test reaches that: the current arc's rule
// (no admissible arc before it) leaves none when a relabel comes.
func (f *csNet) relabel(v int32, eps int64) bool {
	best := int64(math.MinInt64)
	end := f.end(v)
	for a := f.first[v]; a < end; a++ {
		if f.rcap[a] > 0 {
			best = max(best, f.pot[f.to[a]]-f.cost[a])
		}
	}
	f.stats.Scans += int(end - f.first[v])
	if best == math.MinInt64 {
		return false
	}
	f.pot[v] = min(f.pot[v], best-eps)
	f.relabels++
	f.stats.Relabels++
	return true
}

// globalUpdate lowers each price by ε times the node's distance to a node
// with a deficit in the residual network, an arc (u,v) counting
// ⌊c_p(u,v)/ε⌋+1 (Goldberg's price update), so that admissible arcs lead
// the excesses towards the deficits. Distances are found by buckets from
// the deficits backwards until every node with an excess is settled, and
// no farther than maxBucket; a node not settled then counts as far as the
// level reached, L. That keeps the flow ε-optimal: every node nearer than
// L is settled, so the distances used are min(d, L), and capping never
// breaks d(u) ≤ d(v) + length(u,v).
func (f *csNet) globalUpdate(eps int64) {
	const unset = math.MaxInt32
	active := 0
	for v := range f.n {
		f.dist[v] = unset
		if f.excess[v] > 0 {
			active++
		}
	}
	if active == 0 {
		return
	}
	f.stats.Updates++
	for i := range f.buckets {
		f.buckets[i] = f.buckets[i][:0]
	}
	maxBucket := int32(2*f.n + 16)
	put := func(v int32, d int32) {
		for int(d) >= len(f.buckets) {
			f.buckets = append(f.buckets, nil)
		}
		f.buckets[d] = append(f.buckets[d], v)
		f.dist[v] = d
	}
	for v := range f.n {
		if f.excess[v] < 0 {
			put(int32(v), 0)
		}
	}
	L := int32(-1)
scan:
	for level := int32(0); int(level) < len(f.buckets); level++ {
		for k := 0; k < len(f.buckets[level]); k++ {
			w := f.buckets[level][k]
			if f.dist[w] != level {
				continue // settled nearer since
			}
			if f.excess[w] > 0 {
				if active--; active == 0 {
					L = level
					break scan
				}
			}
			// The arcs into w are the twins of its row's arcs: all of
			// them, those with room being anywhere.
			pw := f.pot[w]
			f.stats.Scans += int(f.first[w+1] - f.first[w])
			for b := f.first[w]; b < f.first[w+1]; b++ {
				a := f.rev[b] // the arc u->w
				if f.rcap[a] <= 0 {
					continue
				}
				u := f.to[b]
				nd := level + int32(floorDiv(f.cost[a]+f.pot[u]-pw, eps)+1)
				if nd < f.dist[u] && nd <= maxBucket {
					put(u, nd)
				}
			}
		}
	}
	if L < 0 {
		L = int32(len(f.buckets))
	}
	for v := range f.n {
		f.pot[v] -= eps * int64(min(f.dist[v], L))
		f.cur[v] = f.first[v]
	}
}

// floorDiv is ⌊a/b⌋ for b > 0, clamped to what a bucket index can hold;
// a is at least -b on a residual arc of an ε-optimal flow.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return min(q, 1<<30)
}

// lowerBound is a lower bound on the cost of any flow that meets the
// supplies, from the prices (LP duality): Σ cap·min(0, c_p) over the
// edges minus Σ p·supply, in unscaled units.
func (f *csNet) lowerBound() float64 {
	var lb int64
	for e := range f.eu {
		a := f.fwd[e]
		if rc := f.cost[a] + f.pot[f.eu[e]] - f.pot[f.ev[e]]; rc < 0 {
			lb += rc * int64(f.ecap[e])
		}
	}
	for v, b := range f.supply {
		lb -= f.pot[v] * b
	}
	return float64(lb) / float64(f.scale)
}

// totalCost is the cost of the flow, unscaled.
func (f *csNet) totalCost() int64 {
	var c int64
	for e := range f.eu {
		c += f.ecost[e] * int64(f.flow(e))
	}
	return c
}
