package matching

import "math"

const inf = math.MaxInt64 / 4

// flowNet is a min-cost flow network with integer capacities and costs,
// solved by successive shortest paths: a node with a surplus sends it, one
// shortest augmenting path at a time, to the nearest node with a deficit
// (balance below zero). Reduced costs c(u,v) + pot(u) - pot(v) of residual
// arcs stay non-negative throughout; the caller sets pot so at the start
// (arcs into the sink may cost less than zero). It was the batch solver's
// until cost scaling replaced it, and stays as the reference solver's
// (ssp_ref_test.go), by an algorithm of its own.
type flowNet struct {
	edges   []edge
	balance []int64 // supply not yet sent (>0) or demand not yet met (<0)
	pot     []int64

	// The residual network: the arcs out of v are first[v]..first[v+1]-1;
	// rev is an arc's twin, fwd[e] edge e's forward arc.
	first, to, rev, rcap []int32
	cost                 []int64
	fwd                  []int32
	built                int // edges laid out

	dist    []int64
	pred    []int32 // arc by which the search reached each node
	touched []int32
	heap    pq
}

type edge struct {
	from, to  int32
	cap, flow int32
	cost      int64
}

func newFlowNet(nodes, edgesHint int) *flowNet {
	f := &flowNet{pot: make([]int64, nodes), balance: make([]int64, nodes), edges: make([]edge, 0, edgesHint)}
	f.dist = make([]int64, nodes)
	for i := range f.dist {
		f.dist[i] = inf
	}
	f.pred = make([]int32, nodes)
	return f
}

// addArc adds an edge u->v and returns its index; build must run before
// the next augment.
func (f *flowNet) addArc(u, v int, capacity int32, cost int64) int {
	f.edges = append(f.edges, edge{from: int32(u), to: int32(v), cap: capacity, cost: cost})
	return len(f.edges) - 1
}

// flow is the flow on edge e.
func (f *flowNet) flow(e int) int32 {
	if e < f.built {
		return f.rcap[f.rev[f.fwd[e]]]
	}
	return f.edges[e].flow
}

// build lays out the residual network of every edge with its flow.
func (f *flowNet) build() {
	for e := range f.built {
		f.edges[e].flow = f.rcap[f.rev[f.fwd[e]]]
	}
	n, m := len(f.pot), len(f.edges)
	f.first = make([]int32, n+1)
	for _, e := range f.edges {
		f.first[e.from+1]++
		f.first[e.to+1]++
	}
	for v := range n {
		f.first[v+1] += f.first[v]
	}
	pos := make([]int32, n)
	copy(pos, f.first[:n])
	f.to, f.rev, f.rcap = make([]int32, 2*m), make([]int32, 2*m), make([]int32, 2*m)
	f.cost, f.fwd = make([]int64, 2*m), make([]int32, m)
	for i, e := range f.edges {
		a, b := pos[e.from], pos[e.to]
		pos[e.from]++
		pos[e.to]++
		f.to[a], f.to[b] = e.to, e.from
		f.rev[a], f.rev[b] = b, a
		f.rcap[a], f.rcap[b] = e.cap-e.flow, e.flow
		f.cost[a], f.cost[b] = e.cost, -e.cost
		f.fwd[i] = a
	}
	f.built = m
}

// augment sends node src's surplus away, one shortest augmenting path at a
// time, each to the nearest node with a deficit (as Ahuja, Magnanti and
// Orlin present successive shortest paths). Each Dijkstra stops when it
// settles a node with a deficit, at reduced distance D, and only the nodes
// it settled get new potentials, π(v) -= D - d(v), which keeps every
// reduced cost non-negative; so the work stays near src on a spatial
// network. It returns false if some surplus can reach no deficit.
func (f *flowNet) augment(src int) bool {
	for f.balance[src] > 0 {
		t, D, ok := f.shortest(src)
		if !ok {
			f.reset()
			return false
		}
		for _, v := range f.touched {
			if d := f.dist[v]; d < D {
				f.pot[v] -= D - d
			}
		}
		push := min(f.balance[src], -f.balance[t])
		for v := t; v != int32(src); v = f.to[f.rev[f.pred[v]]] {
			push = min(push, int64(f.rcap[f.pred[v]]))
		}
		for v := t; v != int32(src); v = f.to[f.rev[f.pred[v]]] {
			a := f.pred[v]
			f.rcap[a] -= int32(push)
			f.rcap[f.rev[a]] += int32(push)
		}
		f.balance[src] -= push
		f.balance[t] += push
		f.reset()
	}
	return true
}

// shortest runs Dijkstra on reduced costs from src until it settles a node
// with a deficit, which it returns with its distance.
func (f *flowNet) shortest(src int) (int32, int64, bool) {
	f.dist[src] = 0
	f.touched = append(f.touched, int32(src))
	f.heap = append(f.heap[:0], pqItem{int32(src), 0})
	for len(f.heap) > 0 {
		it := f.heap.pop()
		u := it.node
		if it.d > f.dist[u] {
			continue
		}
		if f.balance[u] < 0 {
			return u, it.d, true
		}
		pu := f.pot[u]
		for a := f.first[u]; a < f.first[u+1]; a++ {
			if f.rcap[a] <= 0 {
				continue
			}
			v := f.to[a]
			nd := it.d + f.cost[a] + pu - f.pot[v]
			if nd < f.dist[v] {
				if f.dist[v] == inf {
					f.touched = append(f.touched, v)
				}
				f.dist[v] = nd
				f.pred[v] = a
				f.heap.push(pqItem{v, nd})
			}
		}
	}
	return 0, 0, false
}

// reset forgets the distances of the last search, touching only the nodes
// it reached.
func (f *flowNet) reset() {
	for _, v := range f.touched {
		f.dist[v] = inf
	}
	f.touched = f.touched[:0]
}

type pqItem struct {
	node int32
	d    int64
}

// pq is a binary min-heap by d, typed so that pushes do not allocate (the
// container/heap interface boxes every item).
type pq []pqItem

func (p *pq) push(it pqItem) {
	h := append(*p, it)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].d <= h[i].d {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	*p = h
}

func (p *pq) pop() pqItem {
	h := *p
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < n && h[l].d < h[small].d {
			small = l
		}
		if r < n && h[r].d < h[small].d {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*p = h
	return top
}
